//! The simulator's main loop: which kind of request comes next, and the read requests (the
//! views that make up most of a real Moodle log).
//!
//! Reads versus writes is steered by log rows, not requests: a course deletion writes dozens
//! of rows and a view one or two, so the chance of a read request is derived from the rows
//! each kind has produced so far, with a feedback term that pulls the running share back to
//! `read_share`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::builder::{At, Logged, RequestBuilder};
use super::events::{self, Ev};
use super::names;
use super::request::{LogEntry, Request};
use super::site::{Enrolment, GUEST, SITE_COURSE, Site, system_context};
use super::{SimOptions, rows};

/// Requests between two cron runs (for `cron_every` = 1000), drawn uniformly from ±20 %:
/// about a minute of a site serving 15 to 20 requests a second, Moodle's default interval.
fn cron_every(opts: &SimOptions) -> std::ops::Range<u64> {
    let n = opts.cron_every.max(5);
    n - n / 5..n + n / 5
}

/// How hard the running read share is pulled towards the target.
const FEEDBACK_GAIN: f64 = 5.0;

/// A simulated Moodle site. See the [module documentation](super).
pub struct Simulator {
    pub(super) opts: SimOptions,
    pub(super) rng: StdRng,
    pub(super) site: Site,
    requests: u64,
    next_cron: u64,
    mix: Mix,
}

/// Rows produced so far, per kind of request, for steering the read share.
#[derive(Debug, Default)]
struct Mix {
    read_requests: u64,
    /// Read and write rows written by read requests (views can complete activities).
    read_request_rows: (u64, u64),
    write_requests: u64,
    write_request_rows: u64,
    /// Rows of cron runs, which come on top of web requests.
    cron_rows: u64,
    reads: u64,
    writes: u64,
}

impl Mix {
    fn add(&mut self, req: &Request, was_read: Option<bool>) {
        let reads = req.log.iter().filter(|e| e.is_read()).count() as u64;
        let writes = req.log.len() as u64 - reads;
        self.reads += reads;
        self.writes += writes;
        match was_read {
            Some(true) => {
                self.read_requests += 1;
                self.read_request_rows.0 += reads;
                self.read_request_rows.1 += writes;
            }
            Some(false) => {
                self.write_requests += 1;
                self.write_request_rows += reads + writes;
            }
            None => self.cron_rows += reads + writes,
        }
    }

    /// The chance that the next web request is a read, so that reads make up `share` of rows.
    fn read_chance(&self, share: f64) -> f64 {
        let share = share.clamp(0.0, 1.0);
        let avg = |sum: u64, n: u64, prior: f64| {
            if n == 0 { prior } else { sum as f64 / n as f64 }
        };
        // Until there are measurements, what long runs measure.
        let a_r = avg(self.read_request_rows.0, self.read_requests, 1.05);
        let a_w = avg(self.read_request_rows.1, self.read_requests, 0.05);
        let b_w = avg(self.write_request_rows, self.write_requests, 2.5);
        let c = avg(
            self.cron_rows,
            self.read_requests + self.write_requests,
            0.035,
        );
        // Solve p·a_r / (p·(a_r + a_w) + (1 − p)·b_w + c) = share for p, where c is the cron
        // rows that come with each web request on average.
        let denominator = a_r * (1.0 - share) - share * a_w + share * b_w;
        let base = if denominator <= 0.0 {
            1.0
        } else {
            share * (b_w + c) / denominator
        };
        let total = self.reads + self.writes;
        let current = if total == 0 {
            share
        } else {
            self.reads as f64 / total as f64
        };
        (base + FEEDBACK_GAIN * (share - current)).clamp(0.0, 1.0)
    }
}

impl Simulator {
    /// A fresh site. A `read_share` outside 0..=1 is clamped; NaN means the default.
    pub fn new(mut opts: SimOptions) -> Self {
        opts.read_share = if opts.read_share.is_nan() {
            SimOptions::default().read_share
        } else {
            opts.read_share.clamp(0.0, 1.0)
        };
        let mut rng = StdRng::seed_from_u64(opts.seed);
        let next_cron = rng.random_range(cron_every(&opts));
        Simulator {
            opts,
            rng,
            site: Site::fresh(),
            requests: 0,
            next_cron,
            mix: Mix::default(),
        }
    }

    /// The next user request: the rows it changes and the log rows it writes, as Moodle does
    /// it. `now_unix` becomes `timecreated` (a cron run's earlier events get earlier times).
    pub fn next_request(&mut self, now_unix: i64) -> Request {
        self.requests += 1;
        if self.requests >= self.next_cron {
            self.next_cron = self.requests + self.rng.random_range(cron_every(&self.opts));
            let req = self.cron(now_unix);
            if !req.log.is_empty() {
                self.mix.add(&req, None);
                return req;
            }
        }
        let read = self
            .rng
            .random_bool(self.mix.read_chance(self.opts.read_share));
        let req = if read {
            self.read_request(now_unix)
        } else {
            self.write_request(now_unix)
        };
        self.mix.add(&req, Some(read));
        req
    }

    /// The log rows of request after request, `per_second` requests a second from
    /// `start_unix` on, without their row changes: the feed of [`bulk_log_only`].
    ///
    /// [`bulk_log_only`]: super::bulk_log_only
    pub fn into_log_rows(
        mut self,
        start_unix: i64,
        per_second: u32,
    ) -> impl Iterator<Item = LogEntry> {
        let per_second = u64::from(per_second.max(1));
        let mut n = 0u64;
        std::iter::from_fn(move || {
            let now = start_unix + (n / per_second) as i64;
            n += 1;
            Some(self.next_request(now).log)
        })
        .flatten()
    }

    /// Rows written so far: (read rows, other rows).
    pub fn rows_written(&self) -> (u64, u64) {
        (self.mix.reads, self.mix.writes)
    }

    /// How many categories, courses, users, enrolments and activities the site has now.
    pub fn population(&self) -> [(&'static str, usize); 5] {
        [
            ("categories", self.site.categories.len()),
            ("courses", self.site.courses.len()),
            ("users", self.site.users.len()),
            ("enrolments", self.site.enrolments.len()),
            ("activities", self.site.modules.len()),
        ]
    }

    /// A web request by `userid` from a random address.
    pub(super) fn web(&mut self, userid: i64, now: i64) -> RequestBuilder {
        let ip = names::ip(&mut self.rng);
        RequestBuilder::new("web", Some(ip), userid, now, self.opts.other_format)
    }

    fn read_request(&mut self, now: i64) -> Request {
        let Some(ue) = self.site.enrolments.pick(&mut self.rng).cloned() else {
            return self.site_view(now);
        };
        match self.rng.random_range(0..100) {
            0..40 => self.activity_view(&ue, now),
            40..65 => self.course_view(&ue, now, &events::COURSE_VIEWED),
            65..70 => self.course_view(&ue, now, &events::USER_LIST_VIEWED),
            70..75 => self.course_view(&ue, now, &events::GRADE_REPORT_VIEWED),
            _ => self.site_view(now),
        }
    }

    /// Views outside courses: dashboards (after a login, sometimes), profiles, the front page.
    fn site_view(&mut self, now: i64) -> Request {
        match self.rng.random_range(0..100) {
            0..50 => self.dashboard(now),
            50..75 => self.profile_view(now),
            _ => self.front_page(now),
        }
    }

    fn dashboard(&mut self, now: i64) -> Request {
        let user = self.site.users.pick(&mut self.rng).cloned();
        let Some(user) = user.filter(|u| u.id != GUEST) else {
            return self.front_page(now);
        };
        let mut req = self.web(user.id, now);
        if self.rng.random_bool(0.3) {
            // Logging in happens in the system context.
            let other = json!({"username": user.username});
            let system = At::new(&system_context(), 0);
            let login = Logged::at(system).object(user.id).other(other);
            req.log(&events::USER_LOGGEDIN, login);
        }
        let at = At::new(&user.ctx, 0);
        req.log(&events::DASHBOARD_VIEWED, Logged::at(at).related(user.id));
        req.finish()
    }

    fn profile_view(&mut self, now: i64) -> Request {
        let viewer = self
            .site
            .users
            .pick_where(&mut self.rng, 4, |u| u.id != GUEST)
            .map(|u| u.id);
        let viewed = self.site.users.pick(&mut self.rng).cloned();
        let (Some(viewer), Some(viewed)) = (viewer, viewed) else {
            return self.front_page(now);
        };
        let mut req = self.web(viewer, now);
        let seen = Logged::at(At::new(&viewed.ctx, 0))
            .object(viewed.id)
            .related(viewed.id);
        req.log(&events::USER_PROFILE_VIEWED, seen);
        req.finish()
    }

    /// The front page, by the guest user or someone not logged in (`logguests` is on).
    fn front_page(&mut self, now: i64) -> Request {
        let user = if self.rng.random_bool(0.5) { GUEST } else { 0 };
        let mut req = self.web(user, now);
        let at = At::new(&Site::site_context(), SITE_COURSE);
        req.log(&events::COURSE_VIEWED, Logged::at(at));
        req.finish()
    }

    /// A student's view of their course page, participants list or grade report.
    fn course_view(&mut self, ue: &Enrolment, now: i64, ev: &Ev) -> Request {
        let Some(course) = self.site.courses.get(ue.courseid).cloned() else {
            return self.site_view(now);
        };
        let mut req = self.student(ue.userid, now);
        let at = At::new(&course.ctx, course.id);
        let logged = if ev == &events::USER_LIST_VIEWED {
            let other =
                json!({"courseshortname": course.shortname, "coursefullname": course.fullname});
            Logged::at(at).object(course.id).other(other)
        } else if ev == &events::GRADE_REPORT_VIEWED {
            Logged::at(at).related(ue.userid)
        } else {
            Logged::at(at)
        };
        req.log(ev, logged);
        req.finish()
    }

    /// A student opens an activity; the first view completes it (completion on view), in the
    /// same request, as `completion_info::set_module_viewed()` does.
    fn activity_view(&mut self, ue: &Enrolment, now: i64) -> Request {
        let course = self.site.courses.get(ue.courseid);
        let cm = course.and_then(|c| {
            let n = c.modules.len();
            (n > 0).then(|| c.modules[self.rng.random_range(0..n)])
        });
        let Some(module) = cm.and_then(|id| self.site.modules.get(id)).cloned() else {
            return self.course_view(ue, now, &events::COURSE_VIEWED);
        };
        let mut req = self.student(ue.userid, now);
        let at = At::new(&module.ctx, module.course);
        let viewed = Logged::at(at).object(module.instance);
        req.log(&events::module_viewed(module.modname), viewed);
        self.complete_module(&mut req, module.id, ue.userid, None);
        req.finish()
    }

    /// A web request by a student; now and then an administrator is "logged in as" them.
    fn student(&mut self, userid: i64, now: i64) -> RequestBuilder {
        let mut req = self.web(userid, now);
        if self.rng.random_bool(0.01) {
            req.logged_in_as(super::site::ADMIN);
        }
        req
    }

    /// Marks `cm` complete (state 1) for `user` unless it already is: inserts or updates the
    /// completion row and logs `course_module_completion_updated`.
    pub(super) fn complete_module(
        &mut self,
        req: &mut RequestBuilder,
        cm: i64,
        user: i64,
        overrideby: Option<i64>,
    ) {
        self.set_completion(req, cm, user, 1, overrideby);
    }

    pub(super) fn set_completion(
        &mut self,
        req: &mut RequestBuilder,
        cm: i64,
        user: i64,
        state: i64,
        overrideby: Option<i64>,
    ) {
        let Some(module) = self.site.modules.get(cm).cloned() else {
            return;
        };
        let now = req.time();
        let id = match self.site.module_completions.get(&(cm, user)).copied() {
            Some(c) if c.state == state => return,
            Some(c) => {
                let set = vec![
                    ("completionstate", state.into()),
                    ("overrideby", overrideby.into()),
                    ("timemodified", now.into()),
                ];
                req.update("course_modules_completion", c.id, set);
                c.id
            }
            None => {
                let id = self.site.seq.next("course_modules_completion");
                req.push(rows::module_completion(id, cm, user, state, now));
                id
            }
        };
        let completion = super::site::ModuleCompletion { id, state };
        self.site.module_completions.insert((cm, user), completion);
        let other =
            json!({"relateduserid": user, "overrideby": overrideby, "completionstate": state});
        let logged = Logged::at(At::new(&module.ctx, module.course))
            .object(id)
            .related(user)
            .other(other);
        req.log(&events::MODULE_COMPLETION_UPDATED, logged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_chance_corrects_a_shortfall() {
        let mut mix = Mix::default();
        let neutral = mix.read_chance(0.9);
        assert!(neutral > 0.9 && neutral < 1.0, "{neutral}");
        mix.reads = 50;
        mix.writes = 50;
        assert_eq!(mix.read_chance(0.9), 1.0);
        mix.reads = 99;
        mix.writes = 1;
        assert!(mix.read_chance(0.9) < neutral);
        assert_eq!(mix.read_chance(0.0), 0.0);
    }

    #[test]
    fn every_request_writes_a_log_row() {
        let mut sim = Simulator::new(SimOptions::default());
        for i in 0..3000 {
            let req = sim.next_request(1_800_000_000 + i);
            assert!(!req.log.is_empty(), "request {i} wrote nothing");
        }
    }
}
