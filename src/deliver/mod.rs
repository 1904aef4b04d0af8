//! Delivering webhooks: signing, the HTTP client, the retry policy, and the dispatcher that
//! runs one lane per route.

pub mod client;
pub mod dispatcher;
pub mod handoff;
mod lane;
pub mod request;
pub mod retry;
pub mod sign;
pub(crate) mod tls;
