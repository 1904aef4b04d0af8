//! A cron run (`admin/cli/cron.php`, origin `cli`): one PHP process that works through
//! scheduled tasks and writes its buffered log rows in one go when it ends.
//!
//! Its rows are the ones that make a log reader's life hard: they arrive together, with
//! `timecreated` spread over the run (so older than rows other requests wrote meanwhile), and
//! the rows they name may have changed since. It runs as the admin, with no IP address.

use rand::Rng;
use serde_json::json;

use super::OtherFormat;
use super::activity::Simulator;
use super::builder::{At, Logged, RequestBuilder};
use super::events;
use super::request::Request;
use super::rows;
use super::site::ADMIN;

/// Log rows a cron run aims for.
const ROWS: std::ops::RangeInclusive<usize> = 20..=50;

/// Rows a cron run writes per second of its run.
const ROWS_PER_SECOND: i64 = 4;

/// Students an enrolment sync (cohort or external database) adds at most.
const SYNC_BATCH: usize = 10;

impl Simulator {
    pub(super) fn cron(&mut self, now: i64) -> Request {
        let target = self.rng.random_range(ROWS);
        let start = now - target as i64 / ROWS_PER_SECOND;
        let format: OtherFormat = self.opts.other_format;
        let mut req = RequestBuilder::new("cli", None, ADMIN, start, format);
        self.complete_courses(&mut req, start, target);
        if self.rng.random_bool(0.4) && self.below_enrolment_target() {
            self.sync_enrolments(&mut req, start, target);
        }
        for _ in 0..target {
            if req.log_len() >= target {
                break;
            }
            let Some(ue) = self.site.enrolments.pick(&mut self.rng).cloned() else {
                break;
            };
            tick(&mut req, start);
            self.log_grade(&mut req, ue.courseid, ue.userid);
        }
        req.finish()
    }

    /// `\core\task\completion_regular_task`: students who completed every activity of their
    /// course get a course completion.
    fn complete_courses(&mut self, req: &mut RequestBuilder, start: i64, limit: usize) {
        let due: Vec<(i64, i64, i64)> = self
            .site
            .enrolments
            .iter()
            .filter(|ue| {
                !self
                    .site
                    .course_completions
                    .contains_key(&(ue.courseid, ue.userid))
                    && self
                        .site
                        .courses
                        .get(ue.courseid)
                        .is_some_and(|c| self.site.completed_all_modules(c, ue.userid))
            })
            .map(|ue| (ue.courseid, ue.userid, ue.timestart))
            .take(limit)
            .collect();
        for (course, user, enrolled_at) in due {
            let Some(ctx) = self.site.courses.get(course).map(|c| c.ctx.clone()) else {
                continue;
            };
            tick(req, start);
            let id = self.site.seq.next("course_completions");
            req.push(rows::course_completion(
                id,
                course,
                user,
                enrolled_at,
                req.time(),
            ));
            self.site.course_completions.insert((course, user), id);
            let logged = Logged::at(At::new(&ctx, course))
                .object(id)
                .related(user)
                .other(json!({"relateduserid": user}));
            req.log(&events::COURSE_COMPLETED, logged);
        }
    }

    /// An enrolment sync task (cohorts, an external database) enrolling a handful of users.
    fn sync_enrolments(&mut self, req: &mut RequestBuilder, start: i64, target: usize) {
        let room = target.saturating_sub(req.log_len()) / 2;
        for _ in 0..room.min(SYNC_BATCH) {
            if let Some((course, user)) = self.unenrolled_pair() {
                tick(req, start);
                self.enrol(req, course, user);
            }
        }
    }
}

/// Moves the run's clock on: later events of a run have later times, up to about now.
fn tick(req: &mut RequestBuilder, start: i64) {
    req.set_time(start + req.log_len() as i64 / ROWS_PER_SECOND);
}
