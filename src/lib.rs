//! nosey: tails Moodle's event log and delivers each change as a signed webhook.
//!
//! The pipeline, one module per stage: [`moodle`] reads `logstore_standard_log` with a
//! gap-aware cursor and decodes each row into an [`event::Event`]; `route` matches events to
//! receivers; [`payload`] builds the bodies; `store` keeps the outbox and the cursor in one
//! transaction; `deliver` signs, sends and retries. [`sim`] simulates a busy Moodle site for
//! the demo and benchmarks.

pub mod cli;
pub mod config;
pub mod deliver;
pub mod event;
pub mod moodle;
pub mod outbox;
pub mod payload;
pub mod pipeline;
pub mod route;
pub mod server;
pub mod sim;
pub mod store;
