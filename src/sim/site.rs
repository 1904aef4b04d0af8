//! The simulated site's state: what exists right now, and the next id of every table.
//!
//! The simulator only ever refers to rows it holds here, so a log row never names a row
//! that is already gone (except in a delete's `other`, as Moodle does). Lookups go through
//! hash maps, but every choice and every iteration follows insertion-ordered vectors or
//! ordered maps, so a seed always gives the same run.

use std::collections::{BTreeMap, HashMap};

use super::registry::{Keyed, Registry};

/// Moodle's context levels.
pub const CONTEXT_SYSTEM: i64 = 10;
pub const CONTEXT_USER: i64 = 30;
pub const CONTEXT_COURSECAT: i64 = 40;
pub const CONTEXT_COURSE: i64 = 50;
pub const CONTEXT_MODULE: i64 = 70;

/// The rows every Moodle site starts with.
pub const SITE_COURSE: i64 = 1;
pub const DEFAULT_CATEGORY: i64 = 1;
pub const GUEST: i64 = 1;
pub const ADMIN: i64 = 2;
/// The student role of a standard install.
pub const STUDENT_ROLE: i64 = 5;

/// A `context` row: where an event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    pub id: i64,
    pub level: i64,
    pub instance: i64,
    pub path: String,
}

impl Ctx {
    pub fn depth(&self) -> i64 {
        self.path.matches('/').count() as i64
    }

    /// A context below this one.
    pub fn child(&self, id: i64, level: i64, instance: i64) -> Ctx {
        Ctx {
            id,
            level,
            instance,
            path: format!("{}/{id}", self.path),
        }
    }
}

/// The system context, id 1, parent of everything.
pub fn system_context() -> Ctx {
    Ctx {
        id: 1,
        level: CONTEXT_SYSTEM,
        instance: 0,
        path: "/1".into(),
    }
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub idnumber: String,
    pub parent: i64,
    pub path: String,
    pub ctx: Ctx,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Course {
    pub id: i64,
    pub category: i64,
    pub fullname: String,
    pub shortname: String,
    pub idnumber: String,
    pub summary: String,
    pub ctx: Ctx,
    /// The manual enrolment instance every course gets.
    pub enrol_id: i64,
    pub modules: Vec<i64>,
    /// Ids of `user_enrolments` rows on this course.
    pub enrolments: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub ctx: Ctx,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub id: i64,
    pub enrolid: i64,
    pub userid: i64,
    pub courseid: i64,
    pub status: i64,
    pub timestart: i64,
    pub timeend: i64,
    pub modifierid: i64,
    pub timecreated: i64,
    pub timemodified: i64,
    /// The `role_assignments` id given with it (that table is not simulated).
    pub role_assignment: i64,
}

#[derive(Debug, Clone)]
pub struct Module {
    pub id: i64,
    pub course: i64,
    /// `page` or `url`.
    pub modname: &'static str,
    pub instance: i64,
    pub name: String,
    pub ctx: Ctx,
}

/// A `course_modules_completion` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleCompletion {
    pub id: i64,
    pub state: i64,
}

macro_rules! keyed {
    ($($t:ty),*) => {$(impl Keyed for $t { fn id(&self) -> i64 { self.id } })*};
}
keyed!(Category, Course, User, Enrolment, Module);

/// Next ids, one sequence per table like Moodle's (`mdl_course_id_seq`, …).
#[derive(Debug, Clone, Default)]
pub struct Sequences(BTreeMap<&'static str, i64>);

impl Sequences {
    /// Hands out the next id of `table` (tables without a row yet start at 1).
    pub fn next(&mut self, table: &'static str) -> i64 {
        let next = self.0.entry(table).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// The next id of `table` will be at least `id`.
    pub fn start_at(&mut self, table: &'static str, id: i64) {
        let next = self.0.entry(table).or_insert(1);
        *next = (*next).max(id);
    }
}

/// Everything alive on the site.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub categories: Registry<Category>,
    pub courses: Registry<Course>,
    pub users: Registry<User>,
    pub enrolments: Registry<Enrolment>,
    pub modules: Registry<Module>,
    /// (course, user) → `user_enrolments.id`.
    pub enrolled: HashMap<(i64, i64), i64>,
    /// (course module, user) → its completion row.
    pub module_completions: BTreeMap<(i64, i64), ModuleCompletion>,
    /// (course, user) → `course_completions.id`.
    pub course_completions: BTreeMap<(i64, i64), i64>,
    /// (course, user) → `grade_grades.id` of the course total (that table is not simulated).
    pub grades: BTreeMap<(i64, i64), i64>,
    pub seq: Sequences,
}

impl Site {
    /// The state of a fresh install: the default category, the guest and the admin (the site
    /// course is not in `courses`: nobody enrols in it and it is never deleted).
    pub fn fresh() -> Site {
        let mut site = Site::default();
        let system = system_context();
        site.categories.insert(Category {
            id: DEFAULT_CATEGORY,
            name: "Category 1".into(),
            idnumber: String::new(),
            parent: 0,
            path: "/1".into(),
            ctx: system.child(3, CONTEXT_COURSECAT, DEFAULT_CATEGORY),
            description: String::new(),
        });
        for (id, ctx, username, first, last) in [
            (GUEST, 4, "guest", "Guest user", " "),
            (ADMIN, 5, "admin", "Admin", "User"),
        ] {
            site.users.insert(User {
                id,
                username: username.into(),
                firstname: first.into(),
                lastname: last.into(),
                ctx: system.child(ctx, CONTEXT_USER, id),
            });
        }
        site.seq.start_at("context", 6);
        site.seq.start_at("course", 2);
        site.seq.start_at("course_categories", 2);
        site.seq.start_at("user", 3);
        site.seq.start_at("config_plugins", 6);
        site
    }

    /// The site course's context (the front page).
    pub fn site_context() -> Ctx {
        system_context().child(2, CONTEXT_COURSE, SITE_COURSE)
    }

    pub fn add_enrolment(&mut self, ue: Enrolment) {
        self.enrolled.insert((ue.courseid, ue.userid), ue.id);
        if let Some(course) = self.courses.get_mut(ue.courseid) {
            course.enrolments.push(ue.id);
        }
        self.enrolments.insert(ue);
    }

    pub fn remove_enrolment(&mut self, id: i64) -> Option<Enrolment> {
        let ue = self.enrolments.remove(id)?;
        self.enrolled.remove(&(ue.courseid, ue.userid));
        if let Some(course) = self.courses.get_mut(ue.courseid) {
            course.enrolments.retain(|&e| e != id);
        }
        Some(ue)
    }

    pub fn is_enrolled(&self, course: i64, user: i64) -> bool {
        self.enrolled.contains_key(&(course, user))
    }

    /// Completion rows of one course module, in (module, user) order.
    pub fn completions_of_module(&self, cm: i64) -> Vec<(i64, ModuleCompletion)> {
        self.module_completions
            .range((cm, i64::MIN)..=(cm, i64::MAX))
            .map(|(&(_, user), &c)| (user, c))
            .collect()
    }

    /// Course completion rows of one course.
    pub fn completions_of_course(&self, course: i64) -> Vec<(i64, i64)> {
        self.course_completions
            .range((course, i64::MIN)..=(course, i64::MAX))
            .map(|(&(_, user), &id)| (user, id))
            .collect()
    }

    /// Whether `user` has completed every activity of `course` (and there is one).
    pub fn completed_all_modules(&self, course: &Course, user: i64) -> bool {
        !course.modules.is_empty()
            && course.modules.iter().all(|cm| {
                self.module_completions
                    .get(&(*cm, user))
                    .is_some_and(|c| c.state > 0)
            })
    }

    /// Categories holding `category` as their parent.
    pub fn has_children(&self, category: i64) -> bool {
        self.categories.iter().any(|c| c.parent == category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_nest() {
        let cat = system_context().child(7, CONTEXT_COURSECAT, 2);
        let course = cat.child(9, CONTEXT_COURSE, 4);
        assert_eq!(course.path, "/1/7/9");
        assert_eq!(course.depth(), 3);
    }

    #[test]
    fn sequences_never_go_back() {
        let mut s = Sequences::default();
        assert_eq!(s.next("course"), 1);
        s.start_at("course", 10);
        assert_eq!(s.next("course"), 10);
        s.start_at("course", 3);
        assert_eq!(s.next("course"), 11);
    }

    #[test]
    fn enrolments_are_indexed_both_ways() {
        let mut site = Site::fresh();
        let ue = Enrolment {
            id: 1,
            enrolid: 1,
            userid: 2,
            courseid: 5,
            status: 0,
            timestart: 0,
            timeend: 0,
            modifierid: 2,
            timecreated: 0,
            timemodified: 0,
            role_assignment: 1,
        };
        site.add_enrolment(ue.clone());
        assert!(site.is_enrolled(5, 2));
        assert_eq!(site.remove_enrolment(1), Some(ue));
        assert!(!site.is_enrolled(5, 2));
    }
}
