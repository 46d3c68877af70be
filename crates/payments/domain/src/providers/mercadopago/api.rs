//! The Mercado Pago REST calls the module makes, as [`Request`]s (JSON bodies), and MP's
//! error bodies.
//!
//! A server-side intent is a **Checkout Pro preference** (`POST /checkout/preferences`), not
//! `POST /v1/payments`: a payment can only be created with the customer's payment data
//! already in hand (a card token from MP's front-end, a payer), which is the checkout's
//! job, whereas a preference is what Stripe's PaymentIntent is: the amount to charge, made by
//! the server before the customer chooses how to pay, and tied to Faro's intent by
//! `external_reference`. The customer pays at its `init_point`; each attempt is a payment
//! that carries the same `external_reference`, read with [`get_payment`].
//!
//! | call | request |
//! |---|---|
//! | [`create_preference`] | `POST /checkout/preferences`: one item at the intent's price, `external_reference`, optional expiry and `notification_url` |
//! | [`get_payment`] | `GET /v1/payments/{id}` |
//! | [`search_payments`] | `GET /v1/payments/search?external_reference=...`: reconcile an intent whose notification was missed |
//! | [`create_refund`] | `POST /v1/payments/{id}/refunds`: `{"amount"}` |
//!
//! Every POST carries `X-Idempotency-Key` derived from Faro's id, so a retry does not
//! create a second preference or refund twice.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::providers::mercadopago::amount::from_cents;
use crate::providers::mercadopago::events::id_text;
use crate::providers::request::{self, Body, Method, Request, RequestError, ResponseError};

/// The header a POST's idempotency key travels in.
pub const IDEMPOTENCY_HEADER: &str = "X-Idempotency-Key";

/// What a preference is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPreference<'a> {
    /// Faro's intent id: `external_reference`, the item's id and the idempotency key.
    pub faro_intent: &'a str,
    /// What the customer sees on MP's checkout.
    pub title: &'a str,
    pub amount_cents: i64,
    /// ISO 4217 (`BRL`); sent uppercase, as MP writes it.
    pub currency: &'a str,
    /// The quote's expiry (unix seconds): MP refuses to pay the preference after it.
    pub expires_at: Option<i64>,
    /// Where MP notifies this preference's payments (else the application's webhook URL).
    pub notification_url: Option<&'a str>,
}

/// MP's dates: `2024-01-10T12:00:00.000+00:00` (milliseconds and a numeric offset).
fn mp_date(unix: i64) -> Result<String, RequestError> {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00"
    );
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .ok_or(RequestError::InvalidAmount(unix))
}

/// Creates the preference for a Faro intent.
pub fn create_preference(p: &NewPreference<'_>) -> Result<Request, RequestError> {
    let faro_intent = request::valid_id(p.faro_intent)?;
    if p.amount_cents <= 0 {
        return Err(RequestError::InvalidAmount(p.amount_cents));
    }
    let price = from_cents(p.amount_cents).ok_or(RequestError::InvalidAmount(p.amount_cents))?;
    let currency = request::valid_currency(p.currency)?.to_ascii_uppercase();
    let mut body = Map::new();
    body.insert(
        "items".into(),
        json!([{
            "id": faro_intent,
            "title": p.title,
            "quantity": 1,
            "unit_price": price,
            "currency_id": currency,
        }]),
    );
    body.insert("external_reference".into(), json!(faro_intent));
    body.insert("metadata".into(), json!({ "faro_intent": faro_intent }));
    if let Some(expires_at) = p.expires_at {
        body.insert("expires".into(), json!(true));
        body.insert("expiration_date_to".into(), json!(mp_date(expires_at)?));
    }
    if let Some(url) = p.notification_url {
        body.insert("notification_url".into(), json!(url));
    }
    Ok(Request {
        method: Method::Post,
        path: "/checkout/preferences".to_owned(),
        idempotency_key: Some(format!("faro-intent-{faro_intent}")),
        body: Body::Json(Value::Object(body)),
    })
}

/// Reads a payment (after a notification, or to reconcile).
pub fn get_payment(payment_id: &str) -> Result<Request, RequestError> {
    let id = request::valid_id(payment_id)?;
    Ok(Request {
        method: Method::Get,
        path: format!("/v1/payments/{id}"),
        idempotency_key: None,
        body: Body::None,
    })
}

/// The payments of a Faro intent, newest first (`{"results": [payment...]}`).
pub fn search_payments(faro_intent: &str) -> Result<Request, RequestError> {
    let id = request::valid_id(faro_intent)?;
    Ok(Request {
        method: Method::Get,
        path: format!(
            "/v1/payments/search?external_reference={id}&sort=date_created&criteria=desc"
        ),
        idempotency_key: None,
        body: Body::None,
    })
}

/// Refunds `amount_cents` of a payment under Faro's refund id (the idempotency key). The
/// answer's `id` is MP's refund id: the module stores it beside Faro's, to map it back in
/// [`super::payment::Payment::events`].
pub fn create_refund(
    payment_id: &str,
    refund_id: &str,
    amount_cents: i64,
) -> Result<Request, RequestError> {
    let payment_id = request::valid_id(payment_id)?;
    let refund_id = request::valid_id(refund_id)?;
    if amount_cents <= 0 {
        return Err(RequestError::InvalidAmount(amount_cents));
    }
    let amount = from_cents(amount_cents).ok_or(RequestError::InvalidAmount(amount_cents))?;
    Ok(Request {
        method: Method::Post,
        path: format!("/v1/payments/{payment_id}/refunds"),
        idempotency_key: Some(format!("faro-refund-{refund_id}")),
        body: Body::Json(json!({ "amount": amount })),
    })
}

/// A created preference.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Preference {
    pub id: String,
    /// Where the customer pays (live credentials).
    pub init_point: String,
    /// The same with test credentials.
    #[serde(default)]
    pub sandbox_init_point: Option<String>,
    #[serde(default)]
    pub external_reference: Option<String>,
}

pub fn parse_preference(body: &[u8]) -> Result<Preference, ResponseError> {
    serde_json::from_slice(body).map_err(|e| ResponseError::from_json(&e))
}

/// A created refund: MP's id, to store beside Faro's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedRefund {
    pub id: String,
    pub status: Option<String>,
}

pub fn parse_refund(body: &[u8]) -> Result<CreatedRefund, ResponseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ResponseError::from_json(&e))?;
    let id = v.get("id").and_then(id_text).ok_or_else(|| ResponseError {
        reason: "the refund has no id".to_owned(),
    })?;
    let status = v.get("status").and_then(Value::as_str).map(str::to_owned);
    Ok(CreatedRefund { id, status })
}

/// A failed MP call: `{"message", "error", "status", "cause": [{"code", "description"}]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MercadoPagoError {
    pub status: u16,
    /// MP's `error` (`bad_request`, `not_found`), or `unreadable`.
    pub error: String,
    pub message: Option<String>,
    /// `(code, description)` of each cause; codes are numbers or strings at MP.
    pub causes: Vec<(String, String)>,
}

/// Reads a non-2xx answer; never fails (an unreadable body keeps the status).
pub fn parse_error(status: u16, body: &[u8]) -> MercadoPagoError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let causes = v
        .get("cause")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| {
                    (
                        text(c.get("code")).unwrap_or_default(),
                        text(c.get("description")).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    MercadoPagoError {
        status,
        error: text(v.get("error")).unwrap_or_else(|| "unreadable".to_owned()),
        message: text(v.get("message")),
        causes,
    }
}

impl MercadoPagoError {
    /// Whether the same request (same idempotency key) may succeed later: MP's faults and
    /// rate limits.
    pub fn retryable(&self) -> bool {
        self.status == 429 || self.status >= 500
    }

    pub fn code(&self) -> &str {
        &self.error
    }
}

impl fmt::Display for MercadoPagoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mercado Pago answered {} ({})", self.status, self.error)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MercadoPagoError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn preference() -> NewPreference<'static> {
        NewPreference {
            faro_intent: "int_7",
            title: "Conversão de arquivo",
            amount_cents: 1999,
            currency: "brl",
            expires_at: None,
            notification_url: None,
        }
    }

    #[test]
    fn a_preference_is_one_item_at_the_intents_price() {
        let r = create_preference(&preference()).expect("valid");
        assert_eq!(
            (r.method, r.path.as_str()),
            (Method::Post, "/checkout/preferences")
        );
        assert_eq!(r.idempotency_key.as_deref(), Some("faro-intent-int_7"));
        assert_eq!(r.content_type(), Some("application/json"));
        let Body::Json(body) = &r.body else {
            panic!("json")
        };
        assert_eq!(
            body,
            &json!({
                "items": [{"id": "int_7", "title": "Conversão de arquivo", "quantity": 1,
                           "unit_price": 19.99, "currency_id": "BRL"}],
                "external_reference": "int_7",
                "metadata": {"faro_intent": "int_7"}
            })
        );
        assert!(
            String::from_utf8(r.body_bytes())
                .expect("utf-8")
                .contains("\"unit_price\":19.99")
        );
    }

    #[test]
    fn a_preference_can_expire_with_the_quote_and_name_its_webhook() {
        let r = create_preference(&NewPreference {
            expires_at: Some(1_704_902_400),
            notification_url: Some("https://faro.example/hooks/mercadopago"),
            ..preference()
        })
        .expect("valid");
        let Body::Json(body) = &r.body else {
            panic!("json")
        };
        assert_eq!(body["expires"], json!(true));
        assert_eq!(
            body["expiration_date_to"],
            json!("2024-01-10T16:00:00.000+00:00")
        );
        assert_eq!(
            body["notification_url"],
            json!("https://faro.example/hooks/mercadopago")
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        let code = |r: Result<Request, RequestError>| r.map_err(|e| e.code());
        assert_eq!(
            code(create_preference(&NewPreference {
                amount_cents: 0,
                ..preference()
            })),
            Err("invalid_amount")
        );
        assert_eq!(
            code(create_preference(&NewPreference {
                currency: "R$",
                ..preference()
            })),
            Err("invalid_currency")
        );
        assert_eq!(
            code(create_preference(&NewPreference {
                faro_intent: "a/b",
                ..preference()
            })),
            Err("invalid_id")
        );
        assert!(
            create_preference(&NewPreference {
                expires_at: Some(i64::MAX),
                ..preference()
            })
            .is_err()
        );
        assert_eq!(code(get_payment("1/../2")), Err("invalid_id"));
        assert_eq!(code(search_payments("a&b=c")), Err("invalid_id"));
        assert_eq!(code(create_refund("1", "rf", -1)), Err("invalid_amount"));
        assert_eq!(code(create_refund("1", "r f", 1)), Err("invalid_id"));
    }

    #[test]
    fn payment_and_refund_calls() {
        let g = get_payment("1234567890").expect("valid");
        assert_eq!(
            (g.method, g.path.as_str(), &g.body),
            (Method::Get, "/v1/payments/1234567890", &Body::None)
        );
        let s = search_payments("int_7").expect("valid");
        assert_eq!(
            s.path,
            "/v1/payments/search?external_reference=int_7&sort=date_created&criteria=desc"
        );
        let r = create_refund("1234567890", "rf_1", 550).expect("valid");
        assert_eq!(
            (r.method, r.path.as_str()),
            (Method::Post, "/v1/payments/1234567890/refunds")
        );
        assert_eq!(r.idempotency_key.as_deref(), Some("faro-refund-rf_1"));
        assert_eq!(r.body_bytes(), br#"{"amount":5.5}"#);
    }

    #[test]
    fn reads_answers() {
        let p = parse_preference(
            br#"{"id": "202809963-920c288b", "init_point":
            "https://www.mercadopago.com/checkout/v1/redirect?pref_id=202809963-920c288b",
            "sandbox_init_point": null, "external_reference": "int_7", "items": []}"#,
        )
        .expect("parses");
        assert_eq!(p.id, "202809963-920c288b");
        assert!(p.init_point.contains("pref_id="));
        assert!(parse_preference(br#"{"id": "x"}"#).is_err());
        let r = parse_refund(
            br#"{"id": 1009042015, "payment_id": 18552260055, "amount": 5.5,
            "status": "approved"}"#,
        )
        .expect("parses");
        assert_eq!(
            (r.id.as_str(), r.status.as_deref()),
            ("1009042015", Some("approved"))
        );
        assert!(parse_refund(b"{}").is_err());
        assert!(parse_refund(b"nope").is_err());
    }

    #[test]
    fn reads_errors() {
        let e = parse_error(
            400,
            br#"{"message": "invalid payment_method_id", "error": "bad_request",
            "status": 400, "cause": [{"code": 2034, "description": "Invalid users involved"},
            {"code": "x", "description": "y"}]}"#,
        );
        assert_eq!(e.code(), "bad_request");
        assert_eq!(
            e.causes,
            vec![
                ("2034".into(), "Invalid users involved".into()),
                ("x".into(), "y".into())
            ]
        );
        assert!(!e.retryable());
        assert_eq!(
            e.to_string(),
            "Mercado Pago answered 400 (bad_request): invalid payment_method_id"
        );
        let e = parse_error(503, b"<html>");
        assert_eq!((e.code(), e.retryable()), ("unreadable", true));
        assert!(parse_error(429, b"{}").retryable());
    }
}
