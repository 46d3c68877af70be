//! A call to a provider as data, so the module's HTTP client is one small function and every
//! call's exact wire format is tested here: the method, the path under the provider's base
//! URL, the idempotency key (a retried POST must not charge or refund twice) and the body.

use std::fmt;

use serde_json::Value;

use crate::providers::form;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    None,
    /// Stripe: `application/x-www-form-urlencoded`, pairs in order (see [`form`]).
    Form(Vec<(String, String)>),
    /// Mercado Pago: `application/json`.
    Json(Value),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    /// Under the provider's base URL, starting with `/`; ids in it are checked (see
    /// `valid_id` in each provider), so a path can never climb out of the resource.
    pub path: String,
    /// Sent in the provider's idempotency header (Stripe's `Idempotency-Key`, Mercado
    /// Pago's `X-Idempotency-Key`: each provider's `IDEMPOTENCY_HEADER`).
    pub idempotency_key: Option<String>,
    pub body: Body,
}

impl Request {
    /// The `Content-Type` of the body, if there is one.
    pub fn content_type(&self) -> Option<&'static str> {
        match self.body {
            Body::None => None,
            Body::Form(_) => Some("application/x-www-form-urlencoded"),
            Body::Json(_) => Some("application/json"),
        }
    }

    /// The body's bytes as they go on the wire (empty for none).
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::None => Vec::new(),
            Body::Form(pairs) => form::encode(pairs).into_bytes(),
            Body::Json(v) => v.to_string().into_bytes(),
        }
    }

    /// The form pairs, if the body is a form (for tests and logs).
    pub fn form(&self) -> &[(String, String)] {
        match &self.body {
            Body::Form(pairs) => pairs,
            _ => &[],
        }
    }

    /// The value of a form key (for tests and logs).
    pub fn form_value(&self, key: &str) -> Option<&str> {
        self.form()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a call cannot be built: the caller passed something the provider would refuse, or
/// that must never reach a URL. Nothing is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// An amount of 0 or less, or beyond what the provider takes.
    InvalidAmount(i64),
    /// Not a three-letter ISO 4217 code.
    InvalidCurrency(String),
    /// An id that is empty, too long, or has characters other than `A-Z a-z 0-9 _ -`.
    InvalidId(String),
}

impl RequestError {
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::InvalidAmount(_) => "invalid_amount",
            RequestError::InvalidCurrency(_) => "invalid_currency",
            RequestError::InvalidId(_) => "invalid_id",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidAmount(a) => {
                write!(f, "{a} is not an amount the provider can charge")
            }
            RequestError::InvalidCurrency(c) => {
                write!(f, "{c:?} is not a three-letter currency code")
            }
            RequestError::InvalidId(id) => write!(f, "{id:?} is not a valid id"),
        }
    }
}

impl std::error::Error for RequestError {}

/// A response body that is not what the provider documents (not JSON, or a field missing
/// or of another type): the call's outcome is unknown, so the module retries it (with the
/// same idempotency key) or reconciles later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseError {
    pub reason: String,
}

impl ResponseError {
    pub fn code(&self) -> &'static str {
        "malformed_response"
    }

    pub(crate) fn from_json(e: &serde_json::Error) -> Self {
        ResponseError {
            reason: e.to_string(),
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the provider's response cannot be read: {}", self.reason)
    }
}

impl std::error::Error for ResponseError {}

/// An id that may go into a URL path or an idempotency key: 1 to 255 of `A-Z a-z 0-9 _ -`
/// (Stripe's `pi_...`, Mercado Pago's digits, Faro's UUIDs). Anything else (`/`, `..`,
/// `?`, `%`) could change which resource a path names, so it is refused, not escaped.
pub(crate) fn valid_id(id: &str) -> Result<&str, RequestError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(RequestError::InvalidId(id.to_owned()))
    }
}

/// A three-letter currency code (`EUR`, `eur`), in the case the provider wants.
pub(crate) fn valid_currency(currency: &str) -> Result<&str, RequestError> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(currency)
    } else {
        Err(RequestError::InvalidCurrency(currency.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_know_their_type_and_bytes() {
        let form = Request {
            method: Method::Post,
            path: "/v1/x".into(),
            idempotency_key: None,
            body: Body::Form(vec![("a".into(), "b c".into())]),
        };
        assert_eq!(
            form.content_type(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(form.body_bytes(), b"a=b+c");
        assert_eq!(form.form_value("a"), Some("b c"));
        assert_eq!(form.form_value("z"), None);
        let json = Request {
            body: Body::Json(serde_json::json!({"a": 1})),
            ..form.clone()
        };
        assert_eq!(json.content_type(), Some("application/json"));
        assert_eq!(json.body_bytes(), br#"{"a":1}"#);
        assert!(json.form().is_empty());
        let none = Request {
            method: Method::Get,
            body: Body::None,
            ..form
        };
        assert_eq!(none.content_type(), None);
        assert!(none.body_bytes().is_empty());
        assert_eq!(Method::Get.as_str(), "GET");
        assert_eq!(Method::Post.as_str(), "POST");
    }

    #[test]
    fn ids_that_could_leave_the_path_are_refused() {
        for good in [
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "123456789",
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ] {
            assert_eq!(valid_id(good), Ok(good));
        }
        let long = "a".repeat(256);
        for bad in [
            "",
            "../x",
            "pi_1/cancel",
            "a?b",
            "a%2Fb",
            "a b",
            "é",
            long.as_str(),
        ] {
            assert_eq!(
                valid_id(bad).map_err(|e| e.code()),
                Err("invalid_id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn currencies_are_three_letters() {
        assert!(valid_currency("EUR").is_ok());
        assert!(valid_currency("brl").is_ok());
        for bad in ["", "EU", "EURO", "E1R", "€", "eü"] {
            assert_eq!(
                valid_currency(bad).map_err(|e| e.code()),
                Err("invalid_currency")
            );
        }
        for e in [
            RequestError::InvalidAmount(0),
            RequestError::InvalidCurrency("x".into()),
            RequestError::InvalidId("/".into()),
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
