//! Whole courses and categories coming and going, in the order Moodle's own code changes
//! rows and triggers events.
//!
//! Deleting a course runs `remove_course_contents()` first: activities go, every enrolment
//! is ended (`role_unassigned`, `user_enrolment_deleted`), the enrolment instance goes, then
//! `course_content_deleted` and finally `course_deleted`. Deleting a category moves its
//! courses to the parent category first (`course_updated` with `updatedfields.category`).
//! The front page course and the default category are never deleted.

use rand::Rng;
use serde_json::json;

use super::activity::Simulator;
use super::builder::{At, Logged, RequestBuilder};
use super::events;
use super::names;
use super::request::Request;
use super::rows;
use super::site::{CONTEXT_COURSE, Course, Ctx, DEFAULT_CATEGORY};

/// The year courses are named after.
fn year_of(now: i64) -> i64 {
    1970 + now / 31_556_952
}

impl Simulator {
    pub(super) fn create_course(&mut self, now: i64) -> Request {
        let category = self
            .site
            .categories
            .pick(&mut self.rng)
            .cloned()
            .expect("the default category always exists");
        let id = self.site.seq.next("course");
        let ctx_id = self.site.seq.next("context");
        let (fullname, shortname, idnumber) = names::course(&mut self.rng, id, year_of(now));
        let course = Course {
            id,
            category: category.id,
            fullname,
            shortname,
            idnumber,
            summary: names::summary(&mut self.rng),
            ctx: category.ctx.child(ctx_id, CONTEXT_COURSE, id),
            enrol_id: self.site.seq.next("enrol"),
            modules: Vec::new(),
            enrolments: Vec::new(),
        };
        let mut req = self.web(super::site::ADMIN, now);
        req.push(rows::course(
            &course,
            "topics",
            10_000 * category.id + id,
            now,
        ));
        req.push(rows::context(&course.ctx));
        let at = At::new(&course.ctx, id);
        let other = json!({"shortname": course.shortname, "fullname": course.fullname});
        req.log(
            &events::COURSE_CREATED,
            Logged::at(at.clone()).object(id).other(other),
        );
        req.push(rows::enrol_instance(course.enrol_id, id, now));
        let instance = Logged::at(at)
            .object(course.enrol_id)
            .other(json!({"enrol": "manual"}));
        req.log(&events::ENROL_INSTANCE_CREATED, instance);
        self.site.courses.insert(course);
        self.count_courses(&mut req, category.id);
        req.finish()
    }

    /// Keeps `course_categories.coursecount` right, as Moodle does (no event).
    fn count_courses(&self, req: &mut RequestBuilder, category: i64) {
        let n = self
            .site
            .courses
            .iter()
            .filter(|c| c.category == category)
            .count() as i64;
        req.update(
            "course_categories",
            category,
            vec![("coursecount", n.into())],
        );
    }

    pub(super) fn update_course(&mut self, now: i64) -> Option<Request> {
        let id = self.site.courses.pick(&mut self.rng)?.id;
        let summary = names::summary(&mut self.rng);
        let (fullname, _, _) = names::course(&mut self.rng, id, year_of(now));
        let rename = self.rng.random_bool(0.5);
        let mut req = self.web(super::site::ADMIN, now);
        let course = self.site.courses.get_mut(id)?;
        let (set, updated) = if rename {
            course.fullname = fullname.clone();
            (
                vec![("fullname", fullname.clone().into())],
                json!({"fullname": fullname}),
            )
        } else {
            course.summary = summary.clone();
            (
                vec![("summary", summary.clone().into())],
                json!({"summary": summary}),
            )
        };
        let mut set = set;
        set.push(("timemodified", now.into()));
        set.push(("cacherev", now.into()));
        req.update("course", id, set);
        let other = json!({
            "shortname": course.shortname, "fullname": course.fullname, "updatedfields": updated,
        });
        let logged = Logged::at(At::new(&course.ctx, id)).object(id).other(other);
        req.log(&events::COURSE_UPDATED, logged);
        Some(req.finish())
    }

    pub(super) fn delete_course(&mut self, now: i64) -> Option<Request> {
        let id = self.site.courses.pick(&mut self.rng)?.id;
        let mut req = self.web(super::site::ADMIN, now);
        self.remove_course_contents(&mut req, id);
        let course = self.site.courses.remove(id)?;
        let at = At::new(&course.ctx, id);
        req.delete("course", id);
        req.delete("context", course.ctx.id);
        let other = json!({
            "shortname": course.shortname, "fullname": course.fullname, "idnumber": course.idnumber,
        });
        req.log(
            &events::COURSE_DELETED,
            Logged::at(at).object(id).other(other),
        );
        self.count_courses(&mut req, course.category);
        Some(req.finish())
    }

    /// Everything inside a course, removed in Moodle's order; the course row stays.
    fn remove_course_contents(&mut self, req: &mut RequestBuilder, id: i64) {
        let Some(course) = self.site.courses.get(id).cloned() else {
            return;
        };
        let at = At::new(&course.ctx, id);
        for cm in &course.modules {
            self.delete_module(req, *cm);
        }
        for ue in &course.enrolments {
            self.unenrol(req, *ue);
        }
        req.delete("enrol", course.enrol_id);
        let instance = Logged::at(at.clone())
            .object(course.enrol_id)
            .other(json!({"enrol": "manual"}));
        req.log(&events::ENROL_INSTANCE_DELETED, instance);
        for (user, cc) in self.site.completions_of_course(id) {
            req.delete("course_completions", cc);
            self.site.course_completions.remove(&(id, user));
        }
        let graded: Vec<_> = self
            .site
            .grades
            .range((id, i64::MIN)..=(id, i64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in graded {
            self.site.grades.remove(&key);
        }
        let other =
            json!({"shortname": course.shortname, "fullname": course.fullname, "options": []});
        req.log(
            &events::COURSE_CONTENT_DELETED,
            Logged::at(at).object(id).other(other),
        );
    }

    /// An activity with its completion rows and context.
    fn delete_module(&mut self, req: &mut RequestBuilder, cm: i64) {
        let Some(module) = self.site.modules.remove(cm) else {
            return;
        };
        for (user, c) in self.site.completions_of_module(cm) {
            req.delete("course_modules_completion", c.id);
            self.site.module_completions.remove(&(cm, user));
        }
        req.delete("course_modules", cm);
        req.delete("context", module.ctx.id);
        let other = json!({"modulename": module.modname, "instanceid": module.instance});
        let logged = Logged::at(At::new(&module.ctx, module.course))
            .object(cm)
            .other(other);
        req.log(&events::MODULE_DELETED, logged);
    }

    /// Deletes a category without subcategories (never the default one), moving its courses
    /// to its parent first.
    pub(super) fn delete_category(&mut self, now: i64) -> Option<Request> {
        let site = &self.site;
        let cat = site
            .categories
            .pick_where(&mut self.rng, 6, |c| {
                c.id != DEFAULT_CATEGORY && !site.has_children(c.id)
            })?
            .clone();
        let heir = self.heir_of(&cat);
        let mut req = self.web(super::site::ADMIN, now);
        let courses: Vec<i64> = self
            .site
            .courses
            .iter()
            .filter(|c| c.category == cat.id)
            .map(|c| c.id)
            .collect();
        for course in &courses {
            self.move_course(&mut req, *course, heir);
        }
        if !courses.is_empty() {
            self.count_courses(&mut req, heir);
        }
        self.site.categories.remove(cat.id);
        req.delete("course_categories", cat.id);
        req.delete("context", cat.ctx.id);
        let other = if courses.is_empty() {
            json!({"name": cat.name})
        } else {
            json!({"name": cat.name, "contentmovedcategoryid": heir})
        };
        let logged = Logged::at(At::new(&cat.ctx, 0)).object(cat.id).other(other);
        req.log(&events::CATEGORY_DELETED, logged);
        Some(req.finish())
    }

    /// `move_courses()`: the course and its contexts move under the new category.
    fn move_course(&mut self, req: &mut RequestBuilder, id: i64, to: i64) {
        let Some(parent) = self.site.categories.get(to).map(|c| c.ctx.clone()) else {
            return;
        };
        let now = req.time();
        let Some(course) = self.site.courses.get_mut(id) else {
            return;
        };
        course.category = to;
        course.ctx = parent.child(course.ctx.id, CONTEXT_COURSE, id);
        let course = course.clone();
        req.update(
            "course",
            id,
            vec![("category", to.into()), ("timemodified", now.into())],
        );
        move_context(req, &course.ctx);
        for cm in &course.modules {
            if let Some(m) = self.site.modules.get_mut(*cm) {
                m.ctx = course.ctx.child(m.ctx.id, m.ctx.level, m.ctx.instance);
                move_context(req, &m.ctx);
            }
        }
        let other = json!({
            "shortname": course.shortname, "fullname": course.fullname,
            "updatedfields": {"category": to},
        });
        let logged = Logged::at(At::new(&course.ctx, id)).object(id).other(other);
        req.log(&events::COURSE_UPDATED, logged);
    }
}

fn move_context(req: &mut RequestBuilder, ctx: &Ctx) {
    let set = vec![
        ("path", ctx.path.clone().into()),
        ("depth", ctx.depth().into()),
    ];
    req.update("context", ctx.id, set);
}
