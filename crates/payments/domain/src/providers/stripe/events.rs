//! A Stripe webhook event (`{id, type, created, livemode, data: {object}}`), after its
//! signature verified, read as the domain's [`Event`]s for one PaymentIntent.
//!
//! | `type` | `data.object` | domain events |
//! |---|---|---|
//! | `payment_intent.succeeded` | PaymentIntent | `Succeeded { amount_cents: amount_received }` |
//! | `payment_intent.processing` | PaymentIntent | `Processing` |
//! | `payment_intent.requires_action` | PaymentIntent | `RequiresAction` |
//! | `payment_intent.payment_failed` | PaymentIntent | `PaymentFailed { reason: last_payment_error }` |
//! | `payment_intent.canceled` | PaymentIntent | `Canceled` |
//! | `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated` | Refund | `RefundSucceeded` / `RefundFailed`, none while pending |
//! | `charge.refunded` | Charge | one per refund in `refunds.data` (none since API 2022-11-15, which stopped including them: the `refund.*` events carry each refund) |
//! | anything else | | [`Notification::Unknown`]: acknowledge (200) and ignore |
//!
//! The provider time of every status event is the event's `created`: the domain orders
//! non-final statuses by it. The event's `type`, not the object's `status`, decides, as the
//! object is a snapshot that later changes may already have moved on.
//!
//! Applying the same refund twice, through `charge.refunded` and `refund.updated`, is safe:
//! the domain knows refunds by id and ignores a duplicate.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::intent::Event;
use crate::providers::stripe::api::{PaymentIntent, RefundObject};

/// An event about one of Faro's PaymentIntents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeEvent {
    /// `evt_...`: Stripe may deliver an event more than once; store it to skip duplicates.
    pub id: String,
    /// `type`, as Stripe wrote it.
    pub kind: String,
    /// Unix seconds, Stripe's clock.
    pub created: i64,
    /// False for test-mode events, which a live endpoint refuses.
    pub livemode: bool,
    /// The PaymentIntent (`pi_...`): the object's `id`, or a refund's `payment_intent`.
    pub intent_id: String,
    /// Faro's intent id from the PaymentIntent's metadata (payment_intent.* events only).
    pub faro_intent: Option<String>,
    /// The object's currency, lowercase: the module checks it is the intent's.
    pub currency: String,
    /// To apply in order; empty when the event changes nothing yet (a pending refund).
    pub events: Vec<Event>,
}

/// What an event means for Faro.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    Intent(StripeEvent),
    /// A type Faro does not act on, or a refund of a charge with no PaymentIntent (not
    /// Faro's): acknowledge with 200 so Stripe stops sending it.
    Unknown {
        id: String,
        kind: String,
    },
}

/// Why an event body cannot be read. The module answers 400: Stripe retries, and the
/// failure shows in its dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON at all.
    MalformedJson(String),
    /// JSON, but not an event: `id`, `type`, `created` or `data.object` missing or mistyped.
    MalformedEvent(String),
    /// A known type whose object lacks what that type promises.
    MalformedObject { kind: String, reason: String },
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            EventError::MalformedJson(_) => "malformed_json",
            EventError::MalformedEvent(_) => "malformed_event",
            EventError::MalformedObject { .. } => "malformed_object",
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::MalformedJson(why) => write!(f, "the body is not JSON: {why}"),
            EventError::MalformedEvent(why) => write!(f, "the body is not a Stripe event: {why}"),
            EventError::MalformedObject { kind, reason } => {
                write!(f, "the object of a {kind} event cannot be read: {reason}")
            }
        }
    }
}

impl std::error::Error for EventError {}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    #[serde(default)]
    livemode: bool,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Value,
}

/// A charge, as far as `charge.refunded` is read.
#[derive(Deserialize)]
struct Charge {
    #[serde(default)]
    payment_intent: Option<String>,
    currency: String,
    #[serde(default)]
    refunds: Option<RefundList>,
}

#[derive(Deserialize)]
struct RefundList {
    data: Vec<RefundObject>,
}

/// Reads a verified webhook body (the same raw bytes the signature covered).
pub fn parse_event(body: &[u8]) -> Result<Notification, EventError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| EventError::MalformedJson(e.to_string()))?;
    let envelope: Envelope =
        serde_json::from_value(value).map_err(|e| EventError::MalformedEvent(e.to_string()))?;
    let Envelope {
        id,
        kind,
        created,
        livemode,
        data,
    } = envelope;
    let at = created;
    let object = data.object;
    let malformed = |e: serde_json::Error| EventError::MalformedObject {
        kind: kind.clone(),
        reason: e.to_string(),
    };
    let (intent_id, faro_intent, currency, events) = match kind.as_str() {
        "payment_intent.succeeded"
        | "payment_intent.processing"
        | "payment_intent.requires_action"
        | "payment_intent.payment_failed"
        | "payment_intent.canceled" => {
            let pi: PaymentIntent = serde_json::from_value(object).map_err(malformed)?;
            let event = match kind.as_str() {
                "payment_intent.succeeded" => Event::Succeeded {
                    at,
                    amount_cents: pi.captured_cents(),
                },
                "payment_intent.processing" => Event::Processing { at },
                "payment_intent.requires_action" => Event::RequiresAction { at },
                "payment_intent.payment_failed" => Event::PaymentFailed {
                    at,
                    reason: pi.last_payment_error.clone().unwrap_or_default().reason(),
                },
                _ => Event::Canceled { at },
            };
            let faro_intent = pi.faro_intent().map(str::to_owned);
            (pi.id, faro_intent, pi.currency, vec![event])
        }
        "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
            let refund: RefundObject = serde_json::from_value(object).map_err(malformed)?;
            let Some(intent_id) = refund.payment_intent.clone() else {
                return Ok(Notification::Unknown { id, kind });
            };
            (
                intent_id,
                None,
                refund.currency.clone(),
                refund.event().into_iter().collect(),
            )
        }
        "charge.refunded" => {
            let charge: Charge = serde_json::from_value(object).map_err(malformed)?;
            let Some(intent_id) = charge.payment_intent else {
                return Ok(Notification::Unknown { id, kind });
            };
            let events = charge
                .refunds
                .map(|list| list.data.iter().filter_map(RefundObject::event).collect())
                .unwrap_or_default();
            (intent_id, None, charge.currency, events)
        }
        _ => return Ok(Notification::Unknown { id, kind }),
    };
    Ok(Notification::Intent(StripeEvent {
        id,
        kind,
        created,
        livemode,
        intent_id,
        faro_intent,
        currency,
        events,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CREATED: i64 = 1_700_000_100;

    fn event(kind: &str, object: Value) -> Vec<u8> {
        json!({
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "api_version": "2024-06-20",
            "created": CREATED,
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind,
            "data": {"object": object}
        })
        .to_string()
        .into_bytes()
    }

    fn intent(status: &str, received: i64, error: Value) -> Value {
        json!({
            "id": "pi_1", "object": "payment_intent", "amount": 1999,
            "amount_received": received, "currency": "eur", "status": status,
            "client_secret": "pi_1_secret_x", "last_payment_error": error,
            "metadata": {"faro_intent": "int_7"}, "livemode": false
        })
    }

    fn parsed(body: &[u8]) -> StripeEvent {
        match parse_event(body).expect("parses") {
            Notification::Intent(e) => e,
            other => panic!("not an intent event: {other:?}"),
        }
    }

    #[test]
    fn payment_intent_events() {
        let at = CREATED;
        let cases = [
            (
                "payment_intent.succeeded",
                "succeeded",
                1999,
                Event::Succeeded {
                    at,
                    amount_cents: 1999,
                },
            ),
            (
                "payment_intent.processing",
                "processing",
                0,
                Event::Processing { at },
            ),
            (
                "payment_intent.requires_action",
                "requires_action",
                0,
                Event::RequiresAction { at },
            ),
            (
                "payment_intent.canceled",
                "canceled",
                0,
                Event::Canceled { at },
            ),
        ];
        for (kind, status, received, expected) in cases {
            let e = parsed(&event(kind, intent(status, received, Value::Null)));
            assert_eq!(e.id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
            assert_eq!(e.kind, kind);
            assert_eq!((e.created, e.livemode), (CREATED, false));
            assert_eq!(e.intent_id, "pi_1");
            assert_eq!(e.faro_intent.as_deref(), Some("int_7"));
            assert_eq!(e.currency, "eur");
            assert_eq!(e.events, vec![expected], "{kind}");
        }
    }

    #[test]
    fn a_failure_carries_stripes_reason() {
        let error = json!({"type": "card_error", "code": "card_declined",
                           "message": "Your card was declined."});
        let e = parsed(&event(
            "payment_intent.payment_failed",
            intent("requires_payment_method", 0, error),
        ));
        assert_eq!(
            e.events,
            vec![Event::PaymentFailed {
                at: CREATED,
                reason: "card_declined: Your card was declined.".into()
            }]
        );
        let e = parsed(&event(
            "payment_intent.payment_failed",
            intent("requires_payment_method", 0, Value::Null),
        ));
        assert_eq!(
            e.events,
            vec![Event::PaymentFailed {
                at: CREATED,
                reason: "the payment failed".into()
            }]
        );
    }

    #[test]
    fn the_type_decides_not_the_snapshot() {
        // A processing event whose object already moved on (Stripe sends the object as it
        // was when the event was made; a later fetch may show more).
        let e = parsed(&event(
            "payment_intent.processing",
            intent("succeeded", 1999, Value::Null),
        ));
        assert_eq!(e.events, vec![Event::Processing { at: CREATED }]);
    }

    fn refund(status: &str, pi: Value, metadata: Value) -> Value {
        json!({"id": "re_1", "object": "refund", "amount": 500, "currency": "eur",
               "status": status, "payment_intent": pi, "metadata": metadata})
    }

    #[test]
    fn refund_events() {
        let ours = json!({"faro_refund": "rf_1"});
        for kind in [
            "refund.created",
            "refund.updated",
            "refund.failed",
            "charge.refund.updated",
        ] {
            let e = parsed(&event(
                kind,
                refund("succeeded", json!("pi_1"), ours.clone()),
            ));
            assert_eq!(e.intent_id, "pi_1");
            assert_eq!(e.faro_intent, None);
            assert_eq!(
                e.events,
                vec![Event::RefundSucceeded {
                    refund_id: "rf_1".into(),
                    amount_cents: 500
                }]
            );
        }
        let e = parsed(&event(
            "refund.failed",
            refund("failed", json!("pi_1"), json!({})),
        ));
        assert_eq!(
            e.events,
            vec![Event::RefundFailed {
                refund_id: "re_1".into(),
                amount_cents: 500
            }],
            "a dashboard refund is known by Stripe's id"
        );
        let e = parsed(&event(
            "refund.created",
            refund("pending", json!("pi_1"), ours),
        ));
        assert!(e.events.is_empty(), "nothing settled yet");
        assert_eq!(
            parse_event(&event(
                "refund.updated",
                refund("succeeded", Value::Null, json!({}))
            ))
            .expect("parses"),
            Notification::Unknown {
                id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                kind: "refund.updated".into()
            },
            "a refund of a charge without a PaymentIntent is not Faro's"
        );
    }

    #[test]
    fn charge_refunded_with_and_without_its_refunds() {
        let charge = json!({
            "id": "ch_1", "object": "charge", "amount": 1999, "amount_refunded": 800,
            "currency": "eur", "payment_intent": "pi_1", "refunded": false,
            "refunds": {"object": "list", "data": [
                refund("succeeded", json!("pi_1"), json!({"faro_refund": "rf_1"})),
                {"id": "re_2", "amount": 300, "currency": "eur", "status": "pending",
                 "payment_intent": "pi_1", "metadata": {}}
            ], "has_more": false}
        });
        let e = parsed(&event("charge.refunded", charge));
        assert_eq!(e.intent_id, "pi_1");
        assert_eq!(
            e.events,
            vec![Event::RefundSucceeded {
                refund_id: "rf_1".into(),
                amount_cents: 500
            }]
        );
        let newer_api = json!({"id": "ch_1", "object": "charge", "currency": "eur",
                               "payment_intent": "pi_1", "amount_refunded": 800});
        assert!(
            parsed(&event("charge.refunded", newer_api))
                .events
                .is_empty()
        );
        let no_pi = json!({"id": "ch_1", "currency": "eur", "payment_intent": null});
        assert!(matches!(
            parse_event(&event("charge.refunded", no_pi)),
            Ok(Notification::Unknown { .. })
        ));
    }

    #[test]
    fn unknown_types_are_acknowledged() {
        for kind in [
            "customer.created",
            "payment_intent.created",
            "payment_intent.amount_capturable_updated",
            "",
        ] {
            assert_eq!(
                parse_event(&event(kind, json!({"id": "x"}))).expect("parses"),
                Notification::Unknown {
                    id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                    kind: kind.into()
                }
            );
        }
    }

    #[test]
    fn malformed_bodies_have_their_codes() {
        let code = |body: &[u8]| parse_event(body).map(|_| ()).map_err(|e| e.code());
        assert_eq!(code(b""), Err("malformed_json"));
        assert_eq!(code(b"{\"id\":"), Err("malformed_json"));
        assert_eq!(code(b"[1,2]"), Err("malformed_event"));
        assert_eq!(
            code(br#"{"id":"evt_1","type":"x","created":1}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id":"evt_1","type":"x","created":"1","data":{"object":{}}}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(br#"{"id":1,"type":"x","created":1,"data":{"object":{}}}"#),
            Err("malformed_event")
        );
        assert_eq!(
            code(&event("payment_intent.succeeded", json!({"id": "pi_1"}))),
            Err("malformed_object")
        );
        assert_eq!(
            code(&event(
                "refund.updated",
                json!({"id": "re_1", "amount": "5"})
            )),
            Err("malformed_object")
        );
        let e = parse_event(&event("charge.refunded", json!([]))).expect_err("refused");
        assert!(e.to_string().contains("charge.refunded"));
    }
}
