//! A Mercado Pago webhook notification's body, after its signature verified:
//! `{"id": 12345, "type": "payment", "action": "payment.updated", "live_mode": true,
//! "date_created": "...", "data": {"id": "999"}}`. It says only *which* payment changed:
//! the module reads the payment ([`super::api::get_payment`]) and applies
//! [`super::payment::Payment::events`]. Reading the payment is also what makes a replayed
//! or out-of-order notification harmless: the state applied is always MP's latest.
//!
//! Other topics (`merchant_order`, `subscription_preapproval`, `point_integration_wh`...)
//! are [`Notification::Unknown`]: acknowledge with 200 and ignore.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// What a notification asks of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// Read payment `payment_id` and apply its status.
    Payment {
        /// The notification's own id (for de-duplication; MP retries unacknowledged ones).
        id: String,
        payment_id: String,
        /// `payment.created` or `payment.updated` (informative: the payment's status decides).
        action: String,
        /// False for test credentials' notifications, which a live endpoint refuses.
        live_mode: bool,
    },
    Unknown {
        id: String,
        kind: String,
    },
}

/// Why a notification body cannot be read (the module answers 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotificationError {
    MalformedJson(String),
    /// JSON, but without `id`, `type`, or (for a payment) `data.id`.
    MalformedNotification(String),
}

impl NotificationError {
    pub fn code(&self) -> &'static str {
        match self {
            NotificationError::MalformedJson(_) => "malformed_json",
            NotificationError::MalformedNotification(_) => "malformed_event",
        }
    }
}

impl fmt::Display for NotificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotificationError::MalformedJson(why) => write!(f, "the body is not JSON: {why}"),
            NotificationError::MalformedNotification(why) => {
                write!(f, "the body is not a Mercado Pago notification: {why}")
            }
        }
    }
}

impl std::error::Error for NotificationError {}

/// An id MP writes as a number or a string (`12345` or `"12345"`).
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Body {
    id: Value,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    live_mode: bool,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    id: Value,
}

/// Reads a verified notification body.
pub fn parse_notification(body: &[u8]) -> Result<Notification, NotificationError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| NotificationError::MalformedJson(e.to_string()))?;
    let b: Body = serde_json::from_value(value)
        .map_err(|e| NotificationError::MalformedNotification(e.to_string()))?;
    let id = id_text(&b.id)
        .ok_or_else(|| NotificationError::MalformedNotification("`id` is not an id".to_owned()))?;
    if b.kind != "payment" {
        return Ok(Notification::Unknown { id, kind: b.kind });
    }
    let payment_id = b
        .data
        .as_ref()
        .and_then(|d| id_text(&d.id))
        .ok_or_else(|| {
            NotificationError::MalformedNotification("`data.id` is missing".to_owned())
        })?;
    Ok(Notification::Payment {
        id,
        payment_id,
        action: b.action,
        live_mode: b.live_mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_payment_notification() {
        // As in MP's documentation.
        let body = br#"{"id": 12345, "live_mode": true, "type": "payment",
            "date_created": "2015-03-25T10:04:58.396-04:00", "user_id": 44444,
            "api_version": "v1", "action": "payment.created", "data": {"id": "999999999"}}"#;
        assert_eq!(
            parse_notification(body),
            Ok(Notification::Payment {
                id: "12345".into(),
                payment_id: "999999999".into(),
                action: "payment.created".into(),
                live_mode: true,
            })
        );
        let numeric = br#"{"id": "n-1", "type": "payment", "action": "payment.updated",
            "data": {"id": 777}}"#;
        assert!(matches!(parse_notification(numeric),
            Ok(Notification::Payment { payment_id, live_mode: false, .. }) if payment_id == "777"));
    }

    #[test]
    fn other_topics_are_acknowledged() {
        let body = br#"{"id": 5, "type": "merchant_order", "data": {"id": "1"}}"#;
        assert_eq!(
            parse_notification(body),
            Ok(Notification::Unknown {
                id: "5".into(),
                kind: "merchant_order".into()
            })
        );
    }

    #[test]
    fn malformed_bodies_have_their_codes() {
        let code = |b: &[u8]| parse_notification(b).map(|_| ()).map_err(|e| e.code());
        assert_eq!(code(b"nope"), Err("malformed_json"));
        assert_eq!(code(b"[]"), Err("malformed_event"));
        assert_eq!(code(br#"{"type": "payment"}"#), Err("malformed_event"));
        assert_eq!(
            code(br#"{"id": null, "type": "payment"}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id": -3, "type": "payment", "data": {"id": "1"}}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id": 1, "type": "payment"}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id": 1, "type": "payment", "data": {"id": ""}}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id": 1, "type": "payment", "data": {"id": 1.5}}"#),
            Err("malformed_event")
        );
        let e = parse_notification(b"{").expect_err("refused");
        assert!(e.to_string().starts_with("the body is not JSON"));
    }
}
