//! nosey: tails Moodle's event log and delivers each change as a signed webhook.
//!
//! The pipeline, one module per stage: [`moodle`] reads `logstore_standard_log` with a
//! gap-aware cursor and decodes each row into an [`event::Event`]; `route` matches events to
//! receivers; [`payload`] builds the bodies; `store` keeps the outbox and the cursor in one
//! transaction; `deliver` signs, sends and retries; [`service`] runs them together. Beside the
//! pipeline, [`init`] writes a first configuration from Moodle's `config.php`, [`check`]
//! verifies everything nosey needs, and [`sim`] simulates a busy Moodle for the demo and
//! benchmarks.

pub mod check;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod event;
pub mod init;
pub mod moodle;
pub mod outbox;
pub mod payload;
pub mod pipeline;
pub mod route;
pub mod server;
pub mod service;
pub mod sim;
pub mod store;
