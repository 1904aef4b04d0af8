//! A simulated busy Moodle site: the rows it changes and the log rows it writes, request by
//! request, deterministic from a seed.
//!
//! One component serves two uses:
//! - `nosey demo`: a fake Moodle in an embedded SQLite database ([`schema`] creates Moodle's
//!   tables there) that nosey's real tailer reads through the same code path as PostgreSQL
//!   and MySQL;
//! - benchmarks: millions of realistic log rows written into real PostgreSQL or MariaDB
//!   databases that hold Moodle's schema ([`writer::apply`], [`writer::bulk_log_only`]).
//!
//! [`Simulator::next_request`] yields what one PHP request does: row changes first, then the
//! log rows Moodle's buffered log store writes when the request ends. About `read_share` of
//! the log rows are views; the rest create, update and delete categories, courses, users,
//! enrolments, activities, completions and grades, keeping the site in a plausible steady
//! state. Every few hundred requests a cron run (origin `cli`) writes a batch of completions,
//! enrolment syncs and grades at once.

mod activity;
mod admin;
mod builder;
mod courses;
mod cron;
mod error;
mod events;
mod names;
mod php;
mod plan;
mod registry;
mod request;
mod rows;
pub mod schema;
mod site;
mod sql;
pub mod writer;

pub use activity::Simulator;
pub use error::SimError;
pub use php::OtherFormat;
pub use request::{Change, LogEntry, Request, SqlValue};
pub use rows::base_rows;
pub use writer::{ApplyStats, SimTarget, apply, bulk_log_only, install_base};

/// How the simulated site behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Same seed, same requests.
    pub seed: u64,
    /// How `other` is stored: JSON (Moodle 3.7+) or PHP `serialize()` (sites upgraded from
    /// before 3.7 keep it).
    pub other_format: OtherFormat,
    /// The share of log rows that are read events (views), between 0 and 1.
    pub read_share: f64,
    /// Requests between two cron runs, on average (cron completes courses).
    pub cron_every: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            other_format: OtherFormat::Json,
            read_share: 0.9,
            cron_every: 1000,
        }
    }
}
