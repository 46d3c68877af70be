//! The body of every delivery: the platform's event envelope as JSON,
//! `{id, tenant, kind, subject, occurred_at, payload}`, with `occurred_at` in RFC 3339 (UTC)
//! and `payload` the event's JSON object itself (not a string holding JSON).

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Envelope {
    pub id: String,
    pub tenant: String,
    pub kind: String,
    pub subject: String,
    pub occurred_at: String,
    pub payload: Value,
}

impl Envelope {
    /// The envelope of an event as the outbox stores it: `occurred_at` in unix seconds,
    /// `payload` as JSON text (kept as a string if it somehow is not JSON, rather than lost).
    pub fn of_event(
        id: &str,
        tenant: &str,
        kind: &str,
        subject: &str,
        occurred_at_unix: i64,
        payload_json: &str,
    ) -> Envelope {
        Envelope {
            id: id.to_string(),
            tenant: tenant.to_string(),
            kind: kind.to_string(),
            subject: subject.to_string(),
            occurred_at: rfc3339(occurred_at_unix),
            payload: serde_json::from_str(payload_json)
                .unwrap_or_else(|_| Value::String(payload_json.to_string())),
        }
    }

    /// The exact bytes posted (and signed).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| unreachable!("an envelope is plain JSON"))
    }
}

/// `2026-12-05T10:00:00Z`.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// At most `max` bytes of `bytes` as text (invalid UTF-8 replaced), cut on a character
/// boundary, with `…` when something was cut: what is kept of a receiver's answer.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= max {
        return text.into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_has_the_fixed_fields_and_an_object_payload() {
        let e = Envelope::of_event(
            "evt",
            "default",
            "quiz.finished",
            "s1",
            0,
            r#"{"score": 7}"#,
        );
        assert_eq!(
            e.to_json(),
            r#"{"id":"evt","tenant":"default","kind":"quiz.finished","subject":"s1","occurred_at":"1970-01-01T00:00:00Z","payload":{"score":7}}"#
        );
        let odd = Envelope::of_event("e", "t", "a.b", "s", 0, "not json");
        assert_eq!(odd.payload, Value::String("not json".into()));
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt(b"short", 10), "short");
        assert_eq!(excerpt("aé".as_bytes(), 2), "a…");
        assert_eq!(excerpt(b"abcdef", 3), "abc…");
        assert_eq!(excerpt(&[0xff, b'a'], 10), "\u{fffd}a");
    }
}
