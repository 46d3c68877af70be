//! Stripe's error answers (`{"error": {"type", "code", "message", ...}}` with a 4xx or 5xx)
//! as a typed value, and whether trying again can help: the module retries only what may
//! succeed later, always with the same idempotency key, so a retry never charges twice.
//!
//! Stripe's `Stripe-Should-Retry` response header, when present, is its own answer to the
//! same question and beats [`StripeError::retryable`].

use std::fmt;

use serde::Deserialize;

/// Stripe's `error.type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// Stripe's own fault (5xx): retry.
    ApiError,
    /// The card was declined or cannot be charged: the customer must act.
    CardError,
    /// The idempotency key was reused with other parameters: a bug of ours.
    IdempotencyError,
    /// The request was wrong (a missing parameter, an intent in the wrong state).
    InvalidRequestError,
    /// A type Stripe added later, or a body that is not Stripe's error (then `unreadable`).
    Other(String),
}

impl ErrorType {
    fn from_wire(kind: &str) -> ErrorType {
        match kind {
            "api_error" => ErrorType::ApiError,
            "card_error" => ErrorType::CardError,
            "idempotency_error" => ErrorType::IdempotencyError,
            "invalid_request_error" => ErrorType::InvalidRequestError,
            other => ErrorType::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorType::ApiError => "api_error",
            ErrorType::CardError => "card_error",
            ErrorType::IdempotencyError => "idempotency_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::Other(s) => s,
        }
    }
}

/// A failed Stripe call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeError {
    /// The HTTP status Stripe answered.
    pub status: u16,
    pub kind: ErrorType,
    /// Stripe's code (`card_declined`, `resource_missing`, `payment_intent_unexpected_state`).
    pub code: Option<String>,
    pub decline_code: Option<String>,
    /// Stripe's explanation; for `card_error`, fit to show the customer.
    pub message: Option<String>,
    /// The parameter at fault, if one is.
    pub param: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

/// Reads a non-2xx answer. Never fails: a body that is not Stripe's error (a proxy's HTML
/// page, nothing at all) is kept as type `unreadable` with the status alone, which still
/// says whether to retry.
pub fn parse_error(status: u16, body: &[u8]) -> StripeError {
    match serde_json::from_slice::<Wire>(body) {
        Ok(Wire { error: e }) => StripeError {
            status,
            kind: ErrorType::from_wire(&e.kind),
            code: e.code,
            decline_code: e.decline_code,
            message: e.message,
            param: e.param,
        },
        Err(_) => StripeError {
            status,
            kind: ErrorType::Other("unreadable".to_owned()),
            code: None,
            decline_code: None,
            message: None,
            param: None,
        },
    }
}

impl StripeError {
    /// Whether the same request (same idempotency key) may succeed later: Stripe's own
    /// faults, rate limits (429) and lock conflicts (409 `lock_timeout`, or a concurrent
    /// request under the same key). Never a decline, a bad request or a key reused.
    pub fn retryable(&self) -> bool {
        match self.kind {
            ErrorType::CardError | ErrorType::IdempotencyError | ErrorType::InvalidRequestError => {
                self.status == 429 || self.status == 409
            }
            ErrorType::ApiError | ErrorType::Other(_) => {
                self.status == 429 || self.status == 409 || self.status >= 500
            }
        }
    }

    /// Whether the intent is already final at Stripe (a cancel of a succeeded one): read it
    /// again instead of failing.
    pub fn unexpected_state(&self) -> bool {
        self.code.as_deref() == Some("payment_intent_unexpected_state")
    }

    /// The most specific stable code: Stripe's `code`, else its `type`.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or(self.kind.as_str())
    }
}

impl fmt::Display for StripeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stripe answered {} ({})", self.status, self.code())?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StripeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_decline() {
        let body = br#"{"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "generic_decline", "message": "Your card was declined.",
            "param": "", "doc_url": "https://stripe.com/docs/error-codes/card-declined"}}"#;
        let e = parse_error(402, body);
        assert_eq!(e.kind, ErrorType::CardError);
        assert_eq!(e.code(), "card_declined");
        assert_eq!(e.decline_code.as_deref(), Some("generic_decline"));
        assert!(!e.retryable());
        assert_eq!(
            e.to_string(),
            "Stripe answered 402 (card_declined): Your card was declined."
        );
    }

    #[test]
    fn what_is_retried() {
        let e = |status, kind: &str, code: Option<&str>| {
            let code = code.map_or(String::new(), |c| format!(r#","code":"{c}""#));
            parse_error(
                status,
                format!(r#"{{"error":{{"type":"{kind}"{code}}}}}"#).as_bytes(),
            )
        };
        assert!(e(500, "api_error", None).retryable());
        assert!(e(429, "invalid_request_error", Some("rate_limit")).retryable());
        assert!(e(409, "invalid_request_error", Some("lock_timeout")).retryable());
        assert!(!e(400, "invalid_request_error", Some("parameter_missing")).retryable());
        assert!(!e(400, "idempotency_error", None).retryable());
        assert!(!e(404, "invalid_request_error", Some("resource_missing")).retryable());
        let state = e(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
        );
        assert!(state.unexpected_state() && !state.retryable());
        let new = e(400, "brand_new_error", None);
        assert_eq!(
            (new.kind.as_str(), new.code()),
            ("brand_new_error", "brand_new_error")
        );
        assert!(!new.retryable());
    }

    #[test]
    fn unreadable_bodies_keep_the_status() {
        for body in [
            &b""[..],
            b"<html>502 Bad Gateway</html>",
            b"{}",
            br#"{"error":{}}"#,
        ] {
            let e = parse_error(502, body);
            assert_eq!(e.code(), "unreadable");
            assert!(e.retryable());
            assert_eq!(e.to_string(), "Stripe answered 502 (unreadable)");
            assert!(!parse_error(400, body).retryable());
        }
    }
}
