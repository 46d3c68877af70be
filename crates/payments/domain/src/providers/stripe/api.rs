//! The Stripe REST calls the module makes, as [`Request`]s, and the objects it reads back.
//! Bodies are form-encoded with bracketed keys ([`crate::providers::form`]); every POST
//! carries an `Idempotency-Key` derived from Faro's own id, so a retry after a timeout
//! returns the first attempt's object instead of charging or refunding twice.
//!
//! | call | request |
//! |---|---|
//! | [`create_intent`] | `POST /v1/payment_intents`: `amount`, `currency` (lowercase), `metadata[faro_intent]`, `automatic_payment_methods[enabled]=true` |
//! | [`retrieve_intent`] | `GET /v1/payment_intents/{id}` |
//! | [`cancel_intent`] | `POST /v1/payment_intents/{id}/cancel` |
//! | [`create_refund`] | `POST /v1/refunds`: `payment_intent`, `amount`, `metadata[faro_refund]` |
//!
//! Amounts are in the currency's minor unit, as the domain's `amount_cents`: right for
//! two-decimal currencies (EUR, USD, BRL...); Stripe's zero-decimal ones (JPY, CLP...) would
//! need the domain to say so first.
//!
//! Refunds carry Faro's refund id in `metadata[faro_refund]`: the domain knows a refund by
//! the id it was asked under, and Stripe's refund events bring that id back
//! ([`RefundObject::refund_id`]). Refunds made in Stripe's dashboard have no such metadata
//! and are known by Stripe's `re_...` id.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::intent::Event;
use crate::providers::request::{self, Body, Method, Request, RequestError, ResponseError};

/// The header a POST's idempotency key travels in.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The metadata key carrying Faro's intent id on a PaymentIntent.
pub const METADATA_INTENT: &str = "faro_intent";
/// The metadata key carrying Faro's refund id on a Refund.
pub const METADATA_REFUND: &str = "faro_refund";
/// Stripe's largest amount: eight digits in the minor unit.
pub const MAX_AMOUNT: i64 = 99_999_999;

fn valid_amount(amount_cents: i64) -> Result<i64, RequestError> {
    if (1..=MAX_AMOUNT).contains(&amount_cents) {
        Ok(amount_cents)
    } else {
        Err(RequestError::InvalidAmount(amount_cents))
    }
}

fn pair(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_owned(), value.into())
}

/// Creates the PaymentIntent for Faro's intent `faro_intent` (its id; also the idempotency
/// key's root, so creating twice returns the same PaymentIntent). `automatic_payment_methods`
/// lets the checkout offer whatever the account has enabled.
pub fn create_intent(
    faro_intent: &str,
    amount_cents: i64,
    currency: &str,
) -> Result<Request, RequestError> {
    let faro_intent = request::valid_id(faro_intent)?;
    let amount = valid_amount(amount_cents)?;
    let currency = request::valid_currency(currency)?.to_ascii_lowercase();
    Ok(Request {
        method: Method::Post,
        path: "/v1/payment_intents".to_owned(),
        idempotency_key: Some(format!("faro-intent-{faro_intent}")),
        body: Body::Form(vec![
            pair("amount", amount.to_string()),
            pair("currency", currency),
            pair(&format!("metadata[{METADATA_INTENT}]"), faro_intent),
            pair("automatic_payment_methods[enabled]", "true"),
        ]),
    })
}

/// Reads a PaymentIntent (to reconcile when a webhook was missed).
pub fn retrieve_intent(id: &str) -> Result<Request, RequestError> {
    let id = request::valid_id(id)?;
    Ok(Request {
        method: Method::Get,
        path: format!("/v1/payment_intents/{id}"),
        idempotency_key: None,
        body: Body::None,
    })
}

/// Cancels a PaymentIntent that has not succeeded. Stripe answers 400
/// (`payment_intent_unexpected_state`) once it is final: read it again then.
pub fn cancel_intent(id: &str) -> Result<Request, RequestError> {
    let id = request::valid_id(id)?;
    Ok(Request {
        method: Method::Post,
        path: format!("/v1/payment_intents/{id}/cancel"),
        idempotency_key: Some(format!("faro-cancel-{id}")),
        body: Body::Form(Vec::new()),
    })
}

/// Refunds `amount_cents` of PaymentIntent `intent_id` under Faro's refund id (the
/// domain's `RefundRequested.refund_id`): the idempotency key and `metadata[faro_refund]`.
pub fn create_refund(
    intent_id: &str,
    refund_id: &str,
    amount_cents: i64,
) -> Result<Request, RequestError> {
    let intent_id = request::valid_id(intent_id)?;
    let refund_id = request::valid_id(refund_id)?;
    let amount = valid_amount(amount_cents)?;
    Ok(Request {
        method: Method::Post,
        path: "/v1/refunds".to_owned(),
        idempotency_key: Some(format!("faro-refund-{refund_id}")),
        body: Body::Form(vec![
            pair("payment_intent", intent_id),
            pair("amount", amount.to_string()),
            pair(&format!("metadata[{METADATA_REFUND}]"), refund_id),
        ]),
    })
}

/// A PaymentIntent's status at Stripe; statuses Stripe adds later read as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
    #[serde(other)]
    Other,
}

/// Why the last attempt failed (`last_payment_error`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PaymentError {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl PaymentError {
    /// The reason the domain keeps (`Intent.last_error`): the most specific code, then
    /// Stripe's message meant for the customer (`card_declined: Your card was declined.`).
    pub fn reason(&self) -> String {
        let code = self.decline_code.as_ref().or(self.code.as_ref());
        match (code, &self.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "the payment failed".to_owned(),
        }
    }
}

/// The `client_secret` the browser confirms the payment with: not logged (it lets anyone
/// holding it see and confirm this payment).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// A PaymentIntent as Stripe returns it (and as its events carry it), with the fields the
/// module uses; others are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    pub amount: i64,
    /// What was captured; 0 until it succeeds.
    #[serde(default)]
    pub amount_received: i64,
    /// Lowercase, as Stripe writes it.
    pub currency: String,
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub livemode: bool,
}

impl PaymentIntent {
    /// Faro's intent id, as [`create_intent`] set it.
    pub fn faro_intent(&self) -> Option<&str> {
        self.metadata.get(METADATA_INTENT).map(String::as_str)
    }

    /// What was captured: `amount_received` (0 on objects older than the success, where
    /// `amount` is what will be).
    pub fn captured_cents(&self) -> i64 {
        if self.amount_received > 0 {
            self.amount_received
        } else {
            self.amount
        }
    }

    /// The domain event this status stands for, at provider time `at`: the event's
    /// `created` for a webhook, the caller's `now` for a retrieve (reconciliation).
    /// `None` where the domain has nothing to learn: not yet attempted
    /// (`requires_payment_method` with no error, `requires_confirmation`), or a status Faro
    /// does not create (`requires_capture`: it never asks for manual capture) or not known.
    pub fn event(&self, at: i64) -> Option<Event> {
        match self.status {
            IntentStatus::RequiresAction => Some(Event::RequiresAction { at }),
            IntentStatus::Processing => Some(Event::Processing { at }),
            IntentStatus::Succeeded => Some(Event::Succeeded {
                at,
                amount_cents: self.captured_cents(),
            }),
            IntentStatus::Canceled => Some(Event::Canceled { at }),
            IntentStatus::RequiresPaymentMethod => {
                self.last_payment_error
                    .as_ref()
                    .map(|e| Event::PaymentFailed {
                        at,
                        reason: e.reason(),
                    })
            }
            IntentStatus::RequiresConfirmation
            | IntentStatus::RequiresCapture
            | IntentStatus::Other => None,
        }
    }
}

/// A Refund's status at Stripe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
    #[serde(other)]
    Other,
}

/// An id Stripe sends as a string, or as the object when expanded.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum IdOrObject {
    Id(String),
    Object { id: String },
}

fn id_or_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<IdOrObject>::deserialize(d)?.map(|v| match v {
        IdOrObject::Id(id) | IdOrObject::Object { id } => id,
    }))
}

/// A Refund as Stripe returns it and as `refund.*` events carry it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RefundObject {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: RefundStatus,
    /// `None` for a refund of a charge made without a PaymentIntent (not Faro's).
    #[serde(default, deserialize_with = "id_or_object")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl RefundObject {
    /// The id the domain knows this refund by: Faro's (`metadata[faro_refund]`) when Faro
    /// asked for it, Stripe's `re_...` for one made in the dashboard.
    pub fn refund_id(&self) -> &str {
        self.metadata
            .get(METADATA_REFUND)
            .map_or(self.id.as_str(), String::as_str)
    }

    /// The domain event of this status: settled, or failed (`failed`, `canceled`); `None`
    /// while it is still under way (`pending`, `requires_action`).
    pub fn event(&self) -> Option<Event> {
        let refund_id = self.refund_id().to_owned();
        let amount_cents = self.amount;
        match self.status {
            RefundStatus::Succeeded => Some(Event::RefundSucceeded {
                refund_id,
                amount_cents,
            }),
            RefundStatus::Failed | RefundStatus::Canceled => Some(Event::RefundFailed {
                refund_id,
                amount_cents,
            }),
            RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Other => None,
        }
    }
}

/// A 2xx body of [`create_intent`], [`retrieve_intent`] or [`cancel_intent`].
pub fn parse_intent(body: &[u8]) -> Result<PaymentIntent, ResponseError> {
    serde_json::from_slice(body).map_err(|e| ResponseError::from_json(&e))
}

/// A 2xx body of [`create_refund`].
pub fn parse_refund(body: &[u8]) -> Result<RefundObject, ResponseError> {
    serde_json::from_slice(body).map_err(|e| ResponseError::from_json(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(v: serde_json::Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn create_intent_is_the_documented_form() {
        let r = create_intent("0190a1b2-c3d4", 1999, "EUR").expect("valid");
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "/v1/payment_intents");
        assert_eq!(
            r.idempotency_key.as_deref(),
            Some("faro-intent-0190a1b2-c3d4")
        );
        assert_eq!(r.form_value("amount"), Some("1999"));
        assert_eq!(r.form_value("currency"), Some("eur"));
        assert_eq!(r.form_value("metadata[faro_intent]"), Some("0190a1b2-c3d4"));
        assert_eq!(
            r.form_value("automatic_payment_methods[enabled]"),
            Some("true")
        );
        assert_eq!(
            String::from_utf8(r.body_bytes()).expect("utf-8"),
            "amount=1999&currency=eur&metadata%5Bfaro_intent%5D=0190a1b2-c3d4\
             &automatic_payment_methods%5Benabled%5D=true"
        );
        assert_eq!(r.content_type(), Some("application/x-www-form-urlencoded"));
    }

    #[test]
    fn bad_arguments_are_refused_before_anything_is_sent() {
        let code = |r: Result<Request, RequestError>| r.map_err(|e| e.code());
        assert_eq!(code(create_intent("i", 0, "EUR")), Err("invalid_amount"));
        assert_eq!(code(create_intent("i", -5, "EUR")), Err("invalid_amount"));
        assert_eq!(
            code(create_intent("i", MAX_AMOUNT + 1, "EUR")),
            Err("invalid_amount")
        );
        assert!(create_intent("i", MAX_AMOUNT, "EUR").is_ok());
        assert_eq!(
            code(create_intent("i", 100, "euro")),
            Err("invalid_currency")
        );
        assert_eq!(code(create_intent("a/b", 100, "EUR")), Err("invalid_id"));
        assert_eq!(code(retrieve_intent("pi_1/../x")), Err("invalid_id"));
        assert_eq!(code(cancel_intent("")), Err("invalid_id"));
        assert_eq!(code(create_refund("pi_1", "r?1", 10)), Err("invalid_id"));
        assert_eq!(code(create_refund("pi_1", "r1", 0)), Err("invalid_amount"));
    }

    #[test]
    fn retrieve_cancel_and_refund() {
        let r = retrieve_intent("pi_123").expect("valid");
        assert_eq!(
            (r.method, r.path.as_str()),
            (Method::Get, "/v1/payment_intents/pi_123")
        );
        assert_eq!((r.idempotency_key, r.body), (None, Body::None));
        let c = cancel_intent("pi_123").expect("valid");
        assert_eq!(c.method, Method::Post);
        assert_eq!(c.path, "/v1/payment_intents/pi_123/cancel");
        assert!(c.form().is_empty());
        let f = create_refund("pi_123", "rf_9", 500).expect("valid");
        assert_eq!((f.method, f.path.as_str()), (Method::Post, "/v1/refunds"));
        assert_eq!(f.idempotency_key.as_deref(), Some("faro-refund-rf_9"));
        assert_eq!(f.form_value("payment_intent"), Some("pi_123"));
        assert_eq!(f.form_value("amount"), Some("500"));
        assert_eq!(f.form_value("metadata[faro_refund]"), Some("rf_9"));
    }

    fn intent_json(status: &str) -> serde_json::Value {
        json!({
            "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "object": "payment_intent",
            "amount": 2000,
            "amount_received": 0,
            "currency": "eur",
            "status": status,
            "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
            "last_payment_error": null,
            "metadata": {"faro_intent": "int_1"},
            "livemode": false,
            "automatic_payment_methods": {"enabled": true}
        })
    }

    #[test]
    fn reads_a_payment_intent() {
        let pi = parse_intent(&bytes(intent_json("requires_payment_method"))).expect("parses");
        assert_eq!(pi.id, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
        assert_eq!(pi.status, IntentStatus::RequiresPaymentMethod);
        assert_eq!((pi.amount, pi.currency.as_str()), (2000, "eur"));
        assert_eq!(pi.faro_intent(), Some("int_1"));
        let secret = pi.client_secret.as_ref().expect("secret");
        assert!(secret.expose().contains("_secret_"));
        assert!(
            !format!("{pi:?}").contains("_secret_"),
            "the secret is not logged"
        );
        assert_eq!(pi.event(5), None, "nothing attempted yet");
        let mut future = intent_json("requires_something_new");
        future["client_secret"] = json!(null);
        let pi = parse_intent(&bytes(future)).expect("parses");
        assert_eq!((pi.status, pi.event(5)), (IntentStatus::Other, None));
    }

    #[test]
    fn each_status_is_its_domain_event() {
        let at = 1_700_000_000;
        let event = |status: &str| {
            let mut v = intent_json(status);
            v["amount_received"] = json!(if status == "succeeded" { 2000 } else { 0 });
            parse_intent(&bytes(v)).expect("parses").event(at)
        };
        assert_eq!(event("requires_action"), Some(Event::RequiresAction { at }));
        assert_eq!(event("processing"), Some(Event::Processing { at }));
        assert_eq!(event("canceled"), Some(Event::Canceled { at }));
        assert_eq!(
            event("succeeded"),
            Some(Event::Succeeded {
                at,
                amount_cents: 2000
            })
        );
        assert_eq!(event("requires_confirmation"), None);
        assert_eq!(event("requires_capture"), None);
        let mut failed = intent_json("requires_payment_method");
        failed["last_payment_error"] = json!({
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."
        });
        assert_eq!(
            parse_intent(&bytes(failed)).expect("parses").event(at),
            Some(Event::PaymentFailed {
                at,
                reason: "insufficient_funds: Your card has insufficient funds.".into()
            })
        );
    }

    #[test]
    fn payment_error_reasons() {
        let e = |code: Option<&str>, message: Option<&str>| PaymentError {
            code: code.map(Into::into),
            message: message.map(Into::into),
            ..PaymentError::default()
        };
        assert_eq!(e(Some("card_declined"), None).reason(), "card_declined");
        assert_eq!(e(None, Some("Declined.")).reason(), "Declined.");
        assert_eq!(e(None, None).reason(), "the payment failed");
    }

    #[test]
    fn malformed_responses_are_refused() {
        for body in [
            &b"not json"[..],
            b"{}",
            br#"{"id":"pi_1","status":"succeeded"}"#,
            br#"{"id":"pi_1","status":"succeeded","amount":"10","currency":"eur"}"#,
        ] {
            let e = parse_intent(body).expect_err("refused");
            assert_eq!(e.code(), "malformed_response");
            assert!(!e.to_string().is_empty());
        }
        assert!(parse_refund(b"[]").is_err());
    }

    #[test]
    fn reads_refunds_and_knows_them_by_faros_id() {
        let body = json!({
            "id": "re_1", "object": "refund", "amount": 500, "currency": "eur",
            "status": "succeeded", "payment_intent": "pi_1",
            "metadata": {"faro_refund": "rf_9"}
        });
        let r = parse_refund(&bytes(body)).expect("parses");
        assert_eq!(r.refund_id(), "rf_9");
        assert_eq!(r.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(
            r.event(),
            Some(Event::RefundSucceeded {
                refund_id: "rf_9".into(),
                amount_cents: 500
            })
        );
        let dashboard = json!({
            "id": "re_2", "amount": 300, "currency": "eur", "status": "failed",
            "payment_intent": {"id": "pi_1", "object": "payment_intent"},
            "failure_reason": "expired_or_canceled_card"
        });
        let r = parse_refund(&bytes(dashboard)).expect("parses");
        assert_eq!(r.refund_id(), "re_2");
        assert_eq!(r.payment_intent.as_deref(), Some("pi_1"), "expanded");
        assert_eq!(
            r.event(),
            Some(Event::RefundFailed {
                refund_id: "re_2".into(),
                amount_cents: 300
            })
        );
        for (status, event) in [
            ("pending", false),
            ("requires_action", false),
            ("canceled", true),
            ("new_thing", false),
        ] {
            let r = parse_refund(&bytes(json!({
                "id": "re_3", "amount": 1, "currency": "eur", "status": status,
                "payment_intent": null
            })))
            .expect("parses");
            assert_eq!(r.event().is_some(), event, "{status}");
            assert_eq!(r.payment_intent, None);
        }
    }
}
