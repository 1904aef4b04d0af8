//! Request bodies, one module per format: the `nosey` body, the 2016 plugin's exact `seed`
//! bytes, and CloudEvents 1.0 structured JSON.

pub mod cloudevents;
pub mod nosey;
pub mod php_json;
pub mod seed;

use crate::config::Format;
use crate::pipeline::Envelope;

/// What a body needs beyond the envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyContext<'a> {
    /// The delivery id (`webhook-id`); `None` outside a delivery (`nosey tail`).
    pub delivery_id: Option<&'a str>,
    /// The route's name; `None` outside a delivery.
    pub route: Option<&'a str>,
    /// `[site] url`, the CloudEvents `source`.
    pub site_url: Option<&'a str>,
}

/// The exact bytes a route of `format` POSTs for `env`.
pub fn render(format: Format, env: &Envelope, ctx: &BodyContext<'_>) -> Vec<u8> {
    match format {
        Format::Nosey => nosey::render(env, ctx),
        Format::Seed => seed::render(env),
        Format::CloudEvents => cloudevents::render(env, ctx),
    }
}
