//! The events the simulator logs, with the fixed columns Moodle's event classes give them
//! (`eventname`, `component`, `action`, `target`, `objecttable`, `crud`, `edulevel`), as
//! checked against a Moodle 4.5.6 site's log (tests/fixtures/moodle-4.5.6).

/// An event class's fixed columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ev {
    pub name: &'static str,
    pub component: &'static str,
    pub action: &'static str,
    pub target: &'static str,
    pub objecttable: Option<&'static str>,
    pub crud: &'static str,
    pub edulevel: i64,
}

/// `\core\event\<target>_<action>` with the given object table, crud and level.
const fn core(
    name: &'static str,
    target: &'static str,
    action: &'static str,
    objecttable: Option<&'static str>,
    crud: &'static str,
    edulevel: i64,
) -> Ev {
    Ev {
        name,
        component: "core",
        action,
        target,
        objecttable,
        crud,
        edulevel,
    }
}

// Moodle's educational levels.
const OTHER: i64 = 0;
const TEACHING: i64 = 1;
const PARTICIPATING: i64 = 2;

// Reads.
pub const COURSE_VIEWED: Ev = core(
    r"\core\event\course_viewed",
    "course",
    "viewed",
    None,
    "r",
    PARTICIPATING,
);
pub const DASHBOARD_VIEWED: Ev = core(
    r"\core\event\dashboard_viewed",
    "dashboard",
    "viewed",
    None,
    "r",
    PARTICIPATING,
);
pub const USER_PROFILE_VIEWED: Ev = core(
    r"\core\event\user_profile_viewed",
    "user_profile",
    "viewed",
    Some("user"),
    "r",
    OTHER,
);
pub const USER_LOGGEDIN: Ev = core(
    r"\core\event\user_loggedin",
    "user",
    "loggedin",
    Some("user"),
    "r",
    OTHER,
);
pub const USER_LIST_VIEWED: Ev = core(
    r"\core\event\user_list_viewed",
    "user_list",
    "viewed",
    Some("course"),
    "r",
    OTHER,
);
pub const GRADE_REPORT_VIEWED: Ev = Ev {
    name: r"\gradereport_user\event\grade_report_viewed",
    component: "gradereport_user",
    action: "viewed",
    target: "grade_report",
    objecttable: None,
    crud: "r",
    edulevel: TEACHING,
};
pub const PAGE_VIEWED: Ev = Ev {
    name: r"\mod_page\event\course_module_viewed",
    component: "mod_page",
    action: "viewed",
    target: "course_module",
    objecttable: Some("page"),
    crud: "r",
    edulevel: PARTICIPATING,
};
pub const URL_VIEWED: Ev = Ev {
    name: r"\mod_url\event\course_module_viewed",
    component: "mod_url",
    action: "viewed",
    target: "course_module",
    objecttable: Some("url"),
    crud: "r",
    edulevel: PARTICIPATING,
};

/// The `course_module_viewed` event of an activity module.
pub fn module_viewed(modname: &str) -> Ev {
    if modname == "url" {
        URL_VIEWED
    } else {
        PAGE_VIEWED
    }
}

// Categories.
const CATEGORIES: Option<&str> = Some("course_categories");
pub const CATEGORY_CREATED: Ev = core(
    r"\core\event\course_category_created",
    "course_category",
    "created",
    CATEGORIES,
    "c",
    OTHER,
);
pub const CATEGORY_UPDATED: Ev = core(
    r"\core\event\course_category_updated",
    "course_category",
    "updated",
    CATEGORIES,
    "u",
    OTHER,
);
pub const CATEGORY_DELETED: Ev = core(
    r"\core\event\course_category_deleted",
    "course_category",
    "deleted",
    CATEGORIES,
    "d",
    OTHER,
);

// Courses.
pub const COURSE_CREATED: Ev = core(
    r"\core\event\course_created",
    "course",
    "created",
    Some("course"),
    "c",
    TEACHING,
);
pub const COURSE_UPDATED: Ev = core(
    r"\core\event\course_updated",
    "course",
    "updated",
    Some("course"),
    "u",
    TEACHING,
);
pub const COURSE_CONTENT_DELETED: Ev = core(
    r"\core\event\course_content_deleted",
    "course_content",
    "deleted",
    Some("course"),
    "d",
    TEACHING,
);
pub const COURSE_DELETED: Ev = core(
    r"\core\event\course_deleted",
    "course",
    "deleted",
    Some("course"),
    "d",
    TEACHING,
);
pub const ENROL_INSTANCE_CREATED: Ev = core(
    r"\core\event\enrol_instance_created",
    "enrol_instance",
    "created",
    Some("enrol"),
    "c",
    OTHER,
);
pub const ENROL_INSTANCE_DELETED: Ev = core(
    r"\core\event\enrol_instance_deleted",
    "enrol_instance",
    "deleted",
    Some("enrol"),
    "d",
    OTHER,
);

// Users.
pub const USER_CREATED: Ev = core(
    r"\core\event\user_created",
    "user",
    "created",
    Some("user"),
    "c",
    OTHER,
);
pub const USER_UPDATED: Ev = core(
    r"\core\event\user_updated",
    "user",
    "updated",
    Some("user"),
    "u",
    OTHER,
);

// Enrolments and roles.
pub const USER_ENROLMENT_CREATED: Ev = core(
    r"\core\event\user_enrolment_created",
    "user_enrolment",
    "created",
    Some("user_enrolments"),
    "c",
    OTHER,
);
pub const USER_ENROLMENT_DELETED: Ev = core(
    r"\core\event\user_enrolment_deleted",
    "user_enrolment",
    "deleted",
    Some("user_enrolments"),
    "d",
    OTHER,
);
pub const ROLE_ASSIGNED: Ev = core(
    r"\core\event\role_assigned",
    "role",
    "assigned",
    Some("role"),
    "c",
    OTHER,
);
pub const ROLE_UNASSIGNED: Ev = core(
    r"\core\event\role_unassigned",
    "role",
    "unassigned",
    Some("role"),
    "d",
    OTHER,
);

// Activities, completion and grades.
pub const MODULE_CREATED: Ev = core(
    r"\core\event\course_module_created",
    "course_module",
    "created",
    Some("course_modules"),
    "c",
    TEACHING,
);
pub const MODULE_DELETED: Ev = core(
    r"\core\event\course_module_deleted",
    "course_module",
    "deleted",
    Some("course_modules"),
    "d",
    TEACHING,
);
pub const MODULE_COMPLETION_UPDATED: Ev = core(
    r"\core\event\course_module_completion_updated",
    "course_module_completion",
    "updated",
    Some("course_modules_completion"),
    "u",
    PARTICIPATING,
);
pub const COURSE_COMPLETED: Ev = core(
    r"\core\event\course_completed",
    "course",
    "completed",
    Some("course_completions"),
    "u",
    PARTICIPATING,
);
pub const USER_GRADED: Ev = core(
    r"\core\event\user_graded",
    "user",
    "graded",
    Some("grade_grades"),
    "u",
    TEACHING,
);
