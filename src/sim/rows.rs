//! The table rows Moodle writes for each thing the simulator creates, with the columns and
//! values Moodle's own code sets, plus the rows of a fresh install.
//!
//! Each table's inserts always carry the same column list, so the writer can put many of them
//! into one multi-row statement.

use super::request::{Change, SqlValue};
use super::site::{
    ADMIN, Category, Course, Ctx, DEFAULT_CATEGORY, Enrolment, GUEST, Module, SITE_COURSE, Site,
    User, system_context,
};

type Row = Vec<(&'static str, SqlValue)>;

fn insert(table: &'static str, values: Row) -> Change {
    Change::Insert { table, values }
}

fn int(v: i64) -> SqlValue {
    SqlValue::Int(v)
}

fn text(v: &str) -> SqlValue {
    SqlValue::Text(v.to_string())
}

pub fn context(ctx: &Ctx) -> Change {
    insert(
        "context",
        vec![
            ("id", int(ctx.id)),
            ("contextlevel", int(ctx.level)),
            ("instanceid", int(ctx.instance)),
            ("path", text(&ctx.path)),
            ("depth", int(ctx.depth())),
            ("locked", int(0)),
        ],
    )
}

pub fn category(cat: &Category, sortorder: i64, now: i64) -> Change {
    insert(
        "course_categories",
        vec![
            ("id", int(cat.id)),
            ("name", text(&cat.name)),
            ("idnumber", text(&cat.idnumber)),
            ("description", text(&cat.description)),
            ("descriptionformat", int(1)),
            ("parent", int(cat.parent)),
            ("sortorder", int(sortorder)),
            ("coursecount", int(0)),
            ("visible", int(1)),
            ("visibleold", int(1)),
            ("timemodified", int(now)),
            ("depth", int(cat.path.matches('/').count() as i64)),
            ("path", text(&cat.path)),
            ("theme", SqlValue::Null),
        ],
    )
}

/// A course as `create_course()` stores it. `format` is `site` only for the front page.
pub fn course(c: &Course, format: &str, sortorder: i64, now: i64) -> Change {
    let site = format == "site";
    insert(
        "course",
        vec![
            ("id", int(c.id)),
            ("category", int(c.category)),
            ("sortorder", int(sortorder)),
            ("fullname", text(&c.fullname)),
            ("shortname", text(&c.shortname)),
            ("idnumber", text(&c.idnumber)),
            ("summary", text(&c.summary)),
            ("summaryformat", int(1)),
            ("format", text(format)),
            ("showgrades", int(1)),
            ("newsitems", int(if site { 3 } else { 5 })),
            ("startdate", int(if site { 0 } else { now })),
            ("enddate", int(if site { 0 } else { now + 365 * 86_400 })),
            ("visible", int(1)),
            ("visibleold", int(1)),
            ("downloadcontent", SqlValue::Null),
            ("lang", text("")),
            ("timecreated", int(now)),
            ("timemodified", int(now)),
            ("enablecompletion", int(i64::from(!site))),
            ("cacherev", int(now)),
            ("originalcourseid", SqlValue::Null),
            ("showactivitydates", int(i64::from(!site))),
            ("showcompletionconditions", int(i64::from(!site))),
            ("pdfexportfont", SqlValue::Null),
        ],
    )
}

/// A user as `user_create_user()` stores it. The password is a fixed bcrypt-shaped string:
/// nosey must never send it, whatever it holds.
pub fn user(u: &User, email: &str, now: i64) -> Change {
    insert(
        "user",
        vec![
            ("id", int(u.id)),
            ("auth", text("manual")),
            ("confirmed", int(1)),
            ("mnethostid", int(1)),
            ("username", text(&u.username)),
            (
                "password",
                text("$2y$10$simulatedsimulatedsimuOq3mMiJ6TQfpZ8lMOPFm1P5Zn7dhh6"),
            ),
            ("idnumber", text(&idnumber_of(u.id))),
            ("firstname", text(&u.firstname)),
            ("lastname", text(&u.lastname)),
            ("email", text(email)),
            ("city", text("")),
            ("country", text("")),
            ("lang", text("en")),
            ("timezone", text("99")),
            ("secret", text("")),
            ("description", SqlValue::Null),
            ("timecreated", int(now)),
            ("timemodified", int(now)),
        ],
    )
}

/// Student numbers: every third user has one, so `portalid` shows up in `seed` bodies.
pub fn idnumber_of(user: i64) -> String {
    if user > ADMIN && user % 3 == 0 {
        format!("{}", 100_000 + user)
    } else {
        String::new()
    }
}

pub fn enrol_instance(id: i64, course: i64, now: i64) -> Change {
    insert(
        "enrol",
        vec![
            ("id", int(id)),
            ("enrol", text("manual")),
            ("status", int(0)),
            ("courseid", int(course)),
            ("sortorder", int(0)),
            ("expirythreshold", int(86_400)),
            ("roleid", int(super::site::STUDENT_ROLE)),
            ("timecreated", int(now)),
            ("timemodified", int(now)),
        ],
    )
}

/// The columns of a `user_enrolments` row, in table order.
pub fn user_enrolment_values(ue: &Enrolment) -> Row {
    vec![
        ("id", int(ue.id)),
        ("status", int(ue.status)),
        ("enrolid", int(ue.enrolid)),
        ("userid", int(ue.userid)),
        ("timestart", int(ue.timestart)),
        ("timeend", int(ue.timeend)),
        ("modifierid", int(ue.modifierid)),
        ("timecreated", int(ue.timecreated)),
        ("timemodified", int(ue.timemodified)),
    ]
}

pub fn user_enrolment(ue: &Enrolment) -> Change {
    insert("user_enrolments", user_enrolment_values(ue))
}

pub fn course_module(m: &Module, module_id: i64, now: i64) -> Change {
    insert(
        "course_modules",
        vec![
            ("id", int(m.id)),
            ("course", int(m.course)),
            ("module", int(module_id)),
            ("instance", int(m.instance)),
            ("section", int(0)),
            ("idnumber", text("")),
            ("added", int(now)),
            ("visible", int(1)),
            ("visibleoncoursepage", int(1)),
            ("visibleold", int(1)),
            // Completion when viewed, as the fixtures' page and url had it.
            ("completion", int(2)),
            ("completionview", int(1)),
            ("deletioninprogress", int(0)),
        ],
    )
}

pub fn module_completion(id: i64, cm: i64, user: i64, state: i64, now: i64) -> Change {
    insert(
        "course_modules_completion",
        vec![
            ("id", int(id)),
            ("coursemoduleid", int(cm)),
            ("userid", int(user)),
            ("completionstate", int(state)),
            ("overrideby", SqlValue::Null),
            ("timemodified", int(now)),
        ],
    )
}

pub fn course_completion(id: i64, course: i64, user: i64, enrolled_at: i64, now: i64) -> Change {
    insert(
        "course_completions",
        vec![
            ("id", int(id)),
            ("userid", int(user)),
            ("course", int(course)),
            ("timeenrolled", int(enrolled_at)),
            ("timestarted", int(enrolled_at)),
            ("timecompleted", int(now)),
            ("reaggregate", int(0)),
        ],
    )
}

/// `config_plugins` rows of a site whose standard log store nosey can read at once.
const SETTINGS: [(&str, &str, &str); 5] = [
    ("tool_log", "enabled_stores", "logstore_standard"),
    ("logstore_standard", "jsonformat", "1"),
    ("logstore_standard", "buffersize", "1"),
    ("logstore_standard", "loglifetime", "0"),
    ("logstore_standard", "logguests", "1"),
];

/// The rows of a fresh install that the simulator starts from: settings, the system, front
/// page, default category and user contexts, the front page course, the default category,
/// the guest and the admin. Ids match the state a new `Simulator` starts from.
pub fn base_rows(installed_at: i64) -> Vec<Change> {
    let mut out: Vec<Change> = SETTINGS
        .iter()
        .zip(1..)
        .map(|(&(plugin, name, value), id)| {
            insert(
                "config_plugins",
                vec![
                    ("id", int(id)),
                    ("plugin", text(plugin)),
                    ("name", text(name)),
                    ("value", text(value)),
                ],
            )
        })
        .collect();
    let site = Site::fresh();
    out.push(context(&system_context()));
    out.push(context(&Site::site_context()));
    let default = site.categories.get(DEFAULT_CATEGORY).expect("fresh site");
    out.push(context(&default.ctx));
    for id in [GUEST, ADMIN] {
        out.push(context(&site.users.get(id).expect("fresh site").ctx));
    }
    out.push(category(default, 10_000, installed_at));
    out.push(front_page(installed_at));
    for (id, email) in [(GUEST, "root@localhost"), (ADMIN, "admin@example.org")] {
        out.push(user(
            site.users.get(id).expect("fresh site"),
            email,
            installed_at,
        ));
    }
    out
}

fn front_page(now: i64) -> Change {
    let front = Course {
        id: SITE_COURSE,
        category: 0,
        fullname: "Nosey Demo Moodle".into(),
        shortname: "nosey".into(),
        idnumber: String::new(),
        summary: "A simulated Moodle site, busy for nosey's demo.".into(),
        ctx: Site::site_context(),
        enrol_id: 0,
        modules: Vec::new(),
        enrolments: Vec::new(),
    };
    course(&front, "site", 1, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_install_has_the_rows_moodle_starts_with() {
        let rows = base_rows(1_700_000_000);
        let count = |t: &str| rows.iter().filter(|c| c.table() == t).count();
        assert_eq!(count("config_plugins"), 5);
        assert_eq!(count("context"), 5);
        assert_eq!(count("course"), 1);
        assert_eq!(count("course_categories"), 1);
        assert_eq!(count("user"), 2);
        let ids: Vec<_> = rows
            .iter()
            .filter(|c| c.table() == "user")
            .map(|c| c.id())
            .collect();
        assert_eq!(ids, [Some(GUEST), Some(ADMIN)]);
    }
}
