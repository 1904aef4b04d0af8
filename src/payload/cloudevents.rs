//! CloudEvents 1.0 structured JSON, for receivers and brokers that speak it (Knative, Azure
//! Event Grid, Google Eventarc …). `data` is the `nosey` body.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use super::BodyContext;
use super::nosey::{NoseyBody, body};
use crate::pipeline::Envelope;

#[derive(Serialize)]
struct CloudEvent<'a> {
    specversion: &'static str,
    id: String,
    source: &'a str,
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    time: String,
    datacontenttype: &'static str,
    data: NoseyBody<'a>,
}

/// Without `[site] url`, the source is still a valid URI-reference.
const DEFAULT_SOURCE: &str = "/moodle";

/// `\core\event\course_created` → `moodle.core.event.course_created`.
pub fn event_type(eventname: &str) -> String {
    format!(
        "moodle.{}",
        eventname.trim_start_matches('\\').replace('\\', ".")
    )
}

pub fn render(env: &Envelope, ctx: &BodyContext<'_>) -> Vec<u8> {
    let e = &env.event;
    let ce = CloudEvent {
        specversion: "1.0",
        id: ctx
            .delivery_id
            .map_or_else(|| format!("log_{}", env.log_id), str::to_string),
        source: ctx.site_url.unwrap_or(DEFAULT_SOURCE),
        kind: event_type(&e.eventname),
        subject: e
            .objecttable
            .as_ref()
            .zip(e.objectid)
            .map(|(t, id)| format!("{t}/{id}")),
        time: rfc3339(e.timecreated),
        datacontenttype: "application/json",
        data: body(env, ctx),
    };
    serde_json::to_vec(&ce).expect("cloudevent serializes")
}

fn rfc3339(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_times_follow_the_spec() {
        assert_eq!(
            event_type(r"\core\event\course_created"),
            "moodle.core.event.course_created"
        );
        assert_eq!(
            event_type(r"\mod_forum\event\post_created"),
            "moodle.mod_forum.event.post_created"
        );
        assert_eq!(rfc3339(1_795_624_491), "2026-11-25T16:34:51Z");
    }
}
