//! Write requests other than whole courses: categories, users, enrolments, activities,
//! grading and completion overrides, and the choice between all write requests.
//!
//! The choice is weighted by how far the site is from its steady state (about 8 categories,
//! 40 courses, 25 students per course, 6 activities per course), so creations and deletions
//! balance out and a long run neither empties the site nor grows it without bound. Users are
//! never deleted; they only accumulate, as on real sites.

use rand::Rng;
use serde_json::json;

use super::activity::Simulator;
use super::builder::{At, Logged, RequestBuilder};
use super::events;
use super::names;
use super::request::Request;
use super::rows;
use super::site::{
    ADMIN, CONTEXT_COURSECAT, CONTEXT_MODULE, CONTEXT_USER, Category, DEFAULT_CATEGORY, Enrolment,
    GUEST, Module, STUDENT_ROLE, User, system_context,
};

/// Steady-state targets.
const TARGET_CATEGORIES: usize = 8;
const TARGET_COURSES: usize = 40;
const TARGET_USERS: usize = 400;
const STUDENTS_PER_COURSE: usize = 25;
/// No course grows beyond this, so deleting one stays a request of a few dozen rows.
const MAX_STUDENTS: usize = 2 * STUDENTS_PER_COURSE;
const MAX_ACTIVITIES: usize = 8;

/// `modules.id` of the page and url activity types on a standard install.
const PAGE_MODULE: i64 = 15;
const URL_MODULE: i64 = 20;

/// Where web-service calls come from: one integration server.
const WS_IP: &str = "198.51.100.7";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    CategoryCreate,
    CategoryUpdate,
    CategoryDelete,
    CourseCreate,
    CourseUpdate,
    CourseDelete,
    UserCreate,
    UserUpdate,
    Enrol,
    Unenrol,
    ModuleCreate,
    Grade,
    CompletionOverride,
}

/// Weight `above` when `n` is at or above `target`, else `below`.
fn by_target(n: usize, target: usize, below: f64, above: f64) -> f64 {
    if n < target { below } else { above }
}

impl Simulator {
    fn weights(&self) -> [(Action, f64); 13] {
        let s = &self.site;
        let (cats, courses, users) = (s.categories.len(), s.courses.len(), s.users.len());
        let students = s.enrolments.len();
        let target_students = courses.max(1) * STUDENTS_PER_COURSE;
        let deletable_cats = if cats > 1 { 1.0 } else { 0.0 };
        let deletable_courses = if courses > 5 { 1.0 } else { 0.0 };
        [
            (
                Action::CategoryCreate,
                by_target(cats, TARGET_CATEGORIES, 3.0, 1.0),
            ),
            (Action::CategoryUpdate, 2.0),
            (
                Action::CategoryDelete,
                deletable_cats * by_target(cats, TARGET_CATEGORIES + 1, 0.5, 3.0),
            ),
            (
                Action::CourseCreate,
                by_target(courses, TARGET_COURSES, 6.0, 1.0),
            ),
            (Action::CourseUpdate, 3.0),
            (
                Action::CourseDelete,
                deletable_courses * by_target(courses, TARGET_COURSES + 1, 0.5, 2.0),
            ),
            (Action::UserCreate, by_target(users, TARGET_USERS, 8.0, 2.0)),
            (Action::UserUpdate, 3.0),
            (
                Action::Enrol,
                by_target(students, target_students, 20.0, 4.0),
            ),
            (
                Action::Unenrol,
                by_target(students, target_students, 3.0, 12.0),
            ),
            (
                Action::ModuleCreate,
                by_target(s.modules.len(), courses * 6, 6.0, 0.5),
            ),
            (Action::Grade, 3.0),
            (Action::CompletionOverride, 2.0),
        ]
    }

    /// Whether courses hold fewer students than the steady state.
    pub(super) fn below_enrolment_target(&self) -> bool {
        self.site.enrolments.len() < self.site.courses.len().max(1) * STUDENTS_PER_COURSE
    }

    fn choose_action(&mut self) -> Action {
        let weights = self.weights();
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.random_range(0.0..total);
        for (action, w) in weights {
            if x < w {
                return action;
            }
            x -= w;
        }
        Action::UserCreate
    }

    /// A request that changes the site. Actions that find nothing to act on (no course to
    /// delete yet) give way to another; creating a user always works.
    pub(super) fn write_request(&mut self, now: i64) -> Request {
        for _ in 0..8 {
            let action = self.choose_action();
            if let Some(req) = self.perform(action, now) {
                return req;
            }
        }
        self.create_user(now)
    }

    fn perform(&mut self, action: Action, now: i64) -> Option<Request> {
        match action {
            Action::CategoryCreate => Some(self.create_category(now)),
            Action::CategoryUpdate => self.update_category(now),
            Action::CategoryDelete => self.delete_category(now),
            Action::CourseCreate => Some(self.create_course(now)),
            Action::CourseUpdate => self.update_course(now),
            Action::CourseDelete => self.delete_course(now),
            Action::UserCreate => Some(self.create_user(now)),
            Action::UserUpdate => self.update_user(now),
            Action::Enrol => self.enrol_someone(now),
            Action::Unenrol => self.unenrol_someone(now),
            Action::ModuleCreate => self.create_module(now),
            Action::Grade => self.grade(now),
            Action::CompletionOverride => self.override_completion(now),
        }
    }

    /// An administrator's web request, or now and then the same change through web
    /// services (an integration syncing users and enrolments).
    fn admin(&mut self, now: i64, ws_share: f64) -> RequestBuilder {
        if self.rng.random_bool(ws_share) {
            let f = self.opts.other_format;
            RequestBuilder::new("ws", Some(WS_IP.into()), ADMIN, now, f)
        } else {
            self.web(ADMIN, now)
        }
    }

    fn create_category(&mut self, now: i64) -> Request {
        let id = self.site.seq.next("course_categories");
        let parent = self
            .site
            .categories
            .pick_where(&mut self.rng, 3, |c| c.parent == 0)
            .filter(|_| self.rng.random_bool(0.3))
            .cloned();
        let ctx_id = self.site.seq.next("context");
        let (parent_id, path, ctx) = match &parent {
            Some(p) => (
                p.id,
                format!("{}/{id}", p.path),
                p.ctx.child(ctx_id, CONTEXT_COURSECAT, id),
            ),
            None => (
                0,
                format!("/{id}"),
                system_context().child(ctx_id, CONTEXT_COURSECAT, id),
            ),
        };
        let (name, idnumber) = names::category(&mut self.rng, id);
        let cat = Category {
            id,
            name,
            idnumber,
            parent: parent_id,
            path,
            ctx,
            description: String::new(),
        };
        let mut req = self.admin(now, 0.0);
        req.push(rows::category(&cat, 10_000 * id, now));
        req.push(rows::context(&cat.ctx));
        let logged = Logged::at(At::new(&cat.ctx, 0)).object(id);
        req.log(&events::CATEGORY_CREATED, logged);
        self.site.categories.insert(cat);
        req.finish()
    }

    fn update_category(&mut self, now: i64) -> Option<Request> {
        let id = self.site.categories.pick(&mut self.rng)?.id;
        let description = format!("<p>Updated {now}</p>");
        let mut req = self.admin(now, 0.0);
        let set = vec![
            ("description", description.clone().into()),
            ("timemodified", now.into()),
        ];
        req.update("course_categories", id, set);
        let cat = self.site.categories.get_mut(id)?;
        cat.description = description;
        let logged = Logged::at(At::new(&cat.ctx, 0)).object(id);
        req.log(&events::CATEGORY_UPDATED, logged);
        Some(req.finish())
    }

    fn create_user(&mut self, now: i64) -> Request {
        let id = self.site.seq.next("user");
        let ctx_id = self.site.seq.next("context");
        let (firstname, lastname) = names::person(&mut self.rng);
        let user = User {
            id,
            username: names::username(id),
            firstname,
            lastname,
            ctx: system_context().child(ctx_id, CONTEXT_USER, id),
        };
        let mut req = self.admin(now, 0.3);
        req.push(rows::user(&user, &names::email(&user.username), now));
        req.push(rows::context(&user.ctx));
        let logged = Logged::at(At::new(&user.ctx, 0)).object(id).related(id);
        req.log(&events::USER_CREATED, logged);
        self.site.users.insert(user);
        req.finish()
    }

    fn update_user(&mut self, now: i64) -> Option<Request> {
        let user = self
            .site
            .users
            .pick_where(&mut self.rng, 4, |u| u.id != GUEST)?
            .clone();
        let (_, lastname) = names::person(&mut self.rng);
        let mut req = self.admin(now, 0.3);
        let set = vec![
            ("lastname", lastname.clone().into()),
            ("timemodified", now.into()),
        ];
        req.update("user", user.id, set);
        let logged = Logged::at(At::new(&user.ctx, 0))
            .object(user.id)
            .related(user.id);
        req.log(&events::USER_UPDATED, logged);
        self.site.users.get_mut(user.id)?.lastname = lastname;
        Some(req.finish())
    }

    /// Enrols a user who is not yet in a course (manual enrolment, student role).
    fn enrol_someone(&mut self, now: i64) -> Option<Request> {
        let (course, user) = self.unenrolled_pair()?;
        let mut req = self.admin(now, 0.3);
        self.enrol(&mut req, course, user);
        Some(req.finish())
    }

    /// A course and a user (never the guest) not enrolled in it, if a few tries find one.
    pub(super) fn unenrolled_pair(&mut self) -> Option<(i64, i64)> {
        for _ in 0..6 {
            let course = self.site.courses.pick(&mut self.rng)?;
            let (course, full) = (course.id, course.enrolments.len() >= MAX_STUDENTS);
            let user = self.site.users.pick(&mut self.rng)?.id;
            if !full && user != GUEST && !self.site.is_enrolled(course, user) {
                return Some((course, user));
            }
        }
        None
    }

    /// `enrol_manual::enrol_user()`: the enrolment row, `user_enrolment_created`, then the
    /// role assignment and `role_assigned`.
    pub(super) fn enrol(&mut self, req: &mut RequestBuilder, course: i64, user: i64) {
        let Some(c) = self.site.courses.get(course) else {
            return;
        };
        let (ctx, enrolid) = (c.ctx.clone(), c.enrol_id);
        let now = req.time();
        let ue = Enrolment {
            id: self.site.seq.next("user_enrolments"),
            enrolid,
            userid: user,
            courseid: course,
            status: 0,
            timestart: now,
            timeend: 0,
            modifierid: req.userid(),
            timecreated: now,
            timemodified: now,
            role_assignment: self.site.seq.next("role_assignments"),
        };
        req.push(rows::user_enrolment(&ue));
        let at = At::new(&ctx, course);
        let created = Logged::at(at.clone())
            .object(ue.id)
            .related(user)
            .other(json!({"enrol": "manual"}));
        req.log(&events::USER_ENROLMENT_CREATED, created);
        let other = json!({"id": ue.role_assignment, "component": "", "itemid": 0});
        let assigned = Logged::at(at)
            .object(STUDENT_ROLE)
            .related(user)
            .other(other);
        req.log(&events::ROLE_ASSIGNED, assigned);
        self.site.add_enrolment(ue);
    }

    fn unenrol_someone(&mut self, now: i64) -> Option<Request> {
        let id = self.site.enrolments.pick(&mut self.rng)?.id;
        let mut req = self.admin(now, 0.3);
        self.unenrol(&mut req, id);
        Some(req.finish())
    }

    /// `enrol_plugin::unenrol_user()`: the role goes (`role_unassigned`), the row is deleted,
    /// and `user_enrolment_deleted` carries the whole deleted row, as PHP strings.
    pub(super) fn unenrol(&mut self, req: &mut RequestBuilder, ue_id: i64) {
        let Some(ue) = self.site.remove_enrolment(ue_id) else {
            return;
        };
        let Some(course) = self.site.courses.get(ue.courseid) else {
            return;
        };
        let at = At::new(&course.ctx, ue.courseid);
        let other = json!({"id": ue.role_assignment.to_string(), "component": "", "itemid": "0"});
        let unassigned = Logged::at(at.clone())
            .object(STUDENT_ROLE)
            .related(ue.userid)
            .other(other);
        req.log(&events::ROLE_UNASSIGNED, unassigned);
        req.delete("user_enrolments", ue.id);
        let mut row = serde_json::Map::new();
        for (column, value) in rows::user_enrolment_values(&ue) {
            row.insert(column.into(), value.to_php_string().into());
        }
        row.insert("courseid".into(), ue.courseid.to_string().into());
        row.insert("enrol".into(), "manual".into());
        row.insert("lastenrol".into(), true.into());
        let other = json!({"userenrolment": row, "enrol": "manual"});
        let deleted = Logged::at(at).object(ue.id).related(ue.userid).other(other);
        req.log(&events::USER_ENROLMENT_DELETED, deleted);
    }

    /// A teacher adds a page or a link, completed when viewed.
    fn create_module(&mut self, now: i64) -> Option<Request> {
        let course = self
            .site
            .courses
            .pick_where(&mut self.rng, 4, |c| c.modules.len() < MAX_ACTIVITIES)?
            .clone();
        let id = self.site.seq.next("course_modules");
        let (modname, module_id) = if self.rng.random_bool(0.6) {
            ("page", PAGE_MODULE)
        } else {
            ("url", URL_MODULE)
        };
        let module = Module {
            id,
            course: course.id,
            modname,
            instance: self.site.seq.next(modname),
            name: names::activity(&mut self.rng, modname),
            ctx: course
                .ctx
                .child(self.site.seq.next("context"), CONTEXT_MODULE, id),
        };
        let mut req = self.admin(now, 0.0);
        req.push(rows::course_module(&module, module_id, now));
        req.push(rows::context(&module.ctx));
        let other =
            json!({"modulename": modname, "instanceid": module.instance, "name": module.name});
        let logged = Logged::at(At::new(&module.ctx, course.id))
            .object(id)
            .other(other);
        req.log(&events::MODULE_CREATED, logged);
        self.site.courses.get_mut(course.id)?.modules.push(id);
        self.site.modules.insert(module);
        Some(req.finish())
    }

    fn grade(&mut self, now: i64) -> Option<Request> {
        let ue = self.site.enrolments.pick(&mut self.rng)?.clone();
        let mut req = self.web(ADMIN, now);
        self.log_grade(&mut req, ue.courseid, ue.userid);
        Some(req.finish())
    }

    /// `user_graded` for a student's course total. `grade_grades` is not simulated, so the
    /// record lookup finds nothing, as for any table the database lacks.
    pub(super) fn log_grade(&mut self, req: &mut RequestBuilder, course: i64, user: i64) {
        let Some(c) = self.site.courses.get(course) else {
            return;
        };
        let ctx = c.ctx.clone();
        let item = course * 10;
        let id = match self.site.grades.get(&(course, user)) {
            Some(&id) => id,
            None => {
                let id = self.site.seq.next("grade_grades");
                self.site.grades.insert((course, user), id);
                id
            }
        };
        let grade = format!("{}.{:05}", self.rng.random_range(40..=100), 0);
        let other = json!({"itemid": item, "overridden": false, "finalgrade": grade});
        let logged = Logged::at(At::new(&ctx, course))
            .object(id)
            .related(user)
            .other(other);
        req.log(&events::USER_GRADED, logged);
    }

    /// A teacher marks a student's completed activity incomplete again.
    fn override_completion(&mut self, now: i64) -> Option<Request> {
        for _ in 0..4 {
            let ue = self.site.enrolments.pick(&mut self.rng)?.clone();
            let course = self.site.courses.get(ue.courseid)?;
            let done = course.modules.iter().copied().find(|cm| {
                self.site
                    .module_completions
                    .get(&(*cm, ue.userid))
                    .is_some_and(|c| c.state > 0)
            });
            if let Some(cm) = done {
                let mut req = self.web(ADMIN, now);
                self.set_completion(&mut req, cm, ue.userid, 0, Some(ADMIN));
                return Some(req.finish());
            }
        }
        None
    }

    /// The category that takes a deleted category's courses: its parent, else the default.
    pub(super) fn heir_of(&self, cat: &Category) -> i64 {
        if cat.parent != 0 && self.site.categories.contains(cat.parent) {
            cat.parent
        } else {
            DEFAULT_CATEGORY
        }
    }
}
