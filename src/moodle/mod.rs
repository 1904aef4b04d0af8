//! Everything that knows Moodle's schema and habits: connecting to its database, reading the
//! log store with a gap-aware cursor, decoding `other`, looking up changed rows, the event
//! catalogue, and reading Moodle's own `config.php`.

pub mod catalog;
pub mod config_php;
pub mod cursor;
pub mod db;
pub mod error;
pub mod logstore;
pub mod other;
pub mod phpserialize;
pub mod privileges;
pub mod record;
pub mod settings;
pub mod tailer;

pub use cursor::Cursor;
pub use db::MoodleDb;
pub use error::MoodleError;
pub use logstore::LogRow;
pub use tailer::{Batch, BatchSink, Follow, Tailer, TailerOptions};
