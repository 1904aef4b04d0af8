//! Presets: named sets of events, one for each endpoint of the 2016
//! `local_nosey` plugin, so a receiver written for it can be pointed at nosey
//! by route without learning Moodle's event names.

use serde::Deserialize;

/// A named set of events (`preset = "enrolled"` in a route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Enrolled,
    Unenrolled,
    ActivityCompleted,
    CourseCompleted,
    CourseCrud,
    CategoryCrud,
}

impl Preset {
    pub const ALL: [Preset; 6] = [
        Preset::Enrolled,
        Preset::Unenrolled,
        Preset::ActivityCompleted,
        Preset::CourseCompleted,
        Preset::CourseCrud,
        Preset::CategoryCrud,
    ];

    /// The Moodle event names the preset stands for.
    pub fn events(&self) -> &'static [&'static str] {
        match self {
            Preset::Enrolled => &[r"\core\event\user_enrolment_created"],
            Preset::Unenrolled => &[r"\core\event\user_enrolment_deleted"],
            Preset::ActivityCompleted => &[r"\core\event\course_module_completion_updated"],
            Preset::CourseCompleted => &[r"\core\event\course_completed"],
            Preset::CourseCrud => &[
                r"\core\event\course_created",
                r"\core\event\course_updated",
                r"\core\event\course_deleted",
            ],
            Preset::CategoryCrud => &[
                r"\core\event\course_category_created",
                r"\core\event\course_category_updated",
                r"\core\event\course_category_deleted",
            ],
        }
    }

    /// The URL path the 2016 plugin posted this kind of event to.
    pub fn path(&self) -> &'static str {
        match self {
            Preset::Enrolled => "/enrolled",
            Preset::Unenrolled => "/unenrolled",
            Preset::ActivityCompleted => "/module/completed",
            Preset::CourseCompleted => "/course/completed",
            Preset::CourseCrud => "/coursecrud",
            Preset::CategoryCrud => "/categorycrud",
        }
    }

    /// The name used in `nosey.toml`.
    pub fn name(&self) -> &'static str {
        match self {
            Preset::Enrolled => "enrolled",
            Preset::Unenrolled => "unenrolled",
            Preset::ActivityCompleted => "activity_completed",
            Preset::CourseCompleted => "course_completed",
            Preset::CourseCrud => "course_crud",
            Preset::CategoryCrud => "category_crud",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde() {
        for p in Preset::ALL {
            let v: Preset = Preset::deserialize(serde::de::value::StrDeserializer::<
                serde::de::value::Error,
            >::new(p.name()))
            .unwrap();
            assert_eq!(v, p);
            assert!(p.events().iter().all(|e| e.starts_with(r"\core\event\")));
            assert!(p.path().starts_with('/'));
        }
    }
}
