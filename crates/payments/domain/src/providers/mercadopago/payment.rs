//! A payment as `GET /v1/payments/{id}` returns it, and the domain events its state means.
//!
//! | MP `status` | domain events |
//! |---|---|
//! | `pending` (the customer has not finished: a ticket, a bank transfer to pay) | `RequiresAction` |
//! | `in_process` (under review), `authorized` (not captured yet) | `Processing` |
//! | `approved` | `Succeeded { amount_cents: transaction_amount }` |
//! | `rejected` | `PaymentFailed { reason: status_detail }` (the preference can be paid again) |
//! | `cancelled` | `Canceled` |
//! | `refunded`, `charged_back`, `in_mediation` | `Succeeded` (it was approved first), then its refunds |
//! | anything else | none |
//!
//! Each refund in `refunds` is then `RefundSucceeded` (`approved`) or `RefundFailed`
//! (`rejected`, `cancelled`), others none yet; they follow the success, which the domain
//! needs first. The time of every status event is `date_last_updated`: MP's clock, the time
//! of the state read, which is what the domain orders non-final statuses by.
//!
//! The domain has no chargeback: `charged_back` and `in_mediation` still mean the payment
//! succeeded (fulfilment stands), and [`Payment::disputed`] tells the module to flag it for
//! staff. Amounts are read exactly ([`super::amount`]).

use serde::Deserialize;
use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::intent::Event;
use crate::providers::mercadopago::amount::to_cents;
use crate::providers::mercadopago::events::id_text;
use crate::providers::request::ResponseError;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Refund {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub amount: Number,
    #[serde(default)]
    pub status: Option<String>,
}

/// A payment, with the fields the module uses.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Payment {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub status_detail: Option<String>,
    pub transaction_amount: Number,
    /// Uppercase (`BRL`, `ARS`).
    pub currency_id: String,
    /// Faro's intent id, as the preference set it.
    #[serde(default)]
    pub external_reference: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_last_updated: Option<String>,
    #[serde(default)]
    pub live_mode: bool,
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

fn id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    id_text(&v).ok_or_else(|| serde::de::Error::custom("an id is a number or a string"))
}

/// Reads a 2xx body of `GET /v1/payments/{id}`.
pub fn parse_payment(body: &[u8]) -> Result<Payment, ResponseError> {
    serde_json::from_slice(body).map_err(|e| ResponseError::from_json(&e))
}

impl Payment {
    /// A dispute or chargeback: the money went back to the customer's bank without a refund.
    pub fn disputed(&self) -> bool {
        matches!(self.status.as_str(), "charged_back" | "in_mediation")
    }

    /// The provider time of this state: `date_last_updated`, else `date_created`, as unix
    /// seconds.
    pub fn updated_at(&self) -> Result<i64, ResponseError> {
        let text = self
            .date_last_updated
            .as_deref()
            .or(self.date_created.as_deref())
            .ok_or_else(|| ResponseError {
                reason: "the payment has no date_last_updated".to_owned(),
            })?;
        OffsetDateTime::parse(text, &Rfc3339)
            .map(OffsetDateTime::unix_timestamp)
            .map_err(|e| ResponseError {
                reason: format!("date {text:?}: {e}"),
            })
    }

    /// The domain events of this state, in the order to apply them. `refund_id` maps MP's
    /// refund id to the id the domain knows the refund by: Faro's, which the module stored
    /// when MP answered its refund call; MP's own for a refund made in MP's panel.
    pub fn events(&self, refund_id: impl Fn(&str) -> String) -> Result<Vec<Event>, ResponseError> {
        let at = self.updated_at()?;
        let amount_cents = to_cents(&self.transaction_amount).map_err(|e| ResponseError {
            reason: e.to_string(),
        })?;
        let mut events = match self.status.as_str() {
            "pending" => vec![Event::RequiresAction { at }],
            "in_process" | "authorized" => vec![Event::Processing { at }],
            "approved" | "refunded" | "charged_back" | "in_mediation" => {
                vec![Event::Succeeded { at, amount_cents }]
            }
            "rejected" => vec![Event::PaymentFailed {
                at,
                reason: self
                    .status_detail
                    .clone()
                    .unwrap_or_else(|| "rejected".to_owned()),
            }],
            "cancelled" => vec![Event::Canceled { at }],
            _ => Vec::new(),
        };
        for r in &self.refunds {
            let amount_cents = to_cents(&r.amount).map_err(|e| ResponseError {
                reason: e.to_string(),
            })?;
            let refund_id = refund_id(&r.id);
            match r.status.as_deref() {
                Some("approved") => events.push(Event::RefundSucceeded {
                    refund_id,
                    amount_cents,
                }),
                Some("rejected" | "cancelled") => events.push(Event::RefundFailed {
                    refund_id,
                    amount_cents,
                }),
                _ => {}
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // 2024-01-10T12:00:00.000-04:00
    const AT: i64 = 1_704_902_400;

    fn payment(status: &str, refunds: Value) -> Vec<u8> {
        json!({
            "id": 1_234_567_890_u64,
            "date_created": "2024-01-10T11:59:00.000-04:00",
            "date_approved": "2024-01-10T12:00:00.000-04:00",
            "date_last_updated": "2024-01-10T12:00:00.000-04:00",
            "status": status,
            "status_detail": if status == "rejected" { "cc_rejected_insufficient_amount" } else { "accredited" },
            "currency_id": "BRL",
            "transaction_amount": 19.99,
            "transaction_amount_refunded": 0,
            "external_reference": "int_7",
            "live_mode": false,
            "payer": {"email": "test@example.com"},
            "refunds": refunds
        })
        .to_string()
        .into_bytes()
    }

    fn events(status: &str, refunds: Value) -> Vec<Event> {
        parse_payment(&payment(status, refunds))
            .expect("parses")
            .events(|id| format!("mp-{id}"))
            .expect("maps")
    }

    #[test]
    fn reads_a_payment() {
        let p = parse_payment(&payment("approved", json!([]))).expect("parses");
        assert_eq!(p.id, "1234567890");
        assert_eq!(p.external_reference.as_deref(), Some("int_7"));
        assert_eq!(p.currency_id, "BRL");
        assert_eq!(p.updated_at(), Ok(AT));
        assert!(!p.disputed());
    }

    #[test]
    fn each_status_is_its_domain_event() {
        let at = AT;
        assert_eq!(
            events("pending", json!([])),
            vec![Event::RequiresAction { at }]
        );
        assert_eq!(
            events("in_process", json!([])),
            vec![Event::Processing { at }]
        );
        assert_eq!(
            events("authorized", json!([])),
            vec![Event::Processing { at }]
        );
        assert_eq!(
            events("approved", json!([])),
            vec![Event::Succeeded {
                at,
                amount_cents: 1999
            }]
        );
        assert_eq!(
            events("rejected", json!([])),
            vec![Event::PaymentFailed {
                at,
                reason: "cc_rejected_insufficient_amount".into()
            }]
        );
        assert_eq!(events("cancelled", json!([])), vec![Event::Canceled { at }]);
        assert_eq!(events("something_new", json!([])), vec![]);
    }

    #[test]
    fn refunds_follow_the_success() {
        let refunds = json!([
            {"id": 11, "payment_id": 1_234_567_890_u64, "amount": 5.5, "status": "approved"},
            {"id": "12", "amount": 2, "status": "in_process"},
            {"id": 13, "amount": 1.25, "status": "rejected"}
        ]);
        assert_eq!(
            events("refunded", refunds),
            vec![
                Event::Succeeded {
                    at: AT,
                    amount_cents: 1999
                },
                Event::RefundSucceeded {
                    refund_id: "mp-11".into(),
                    amount_cents: 550
                },
                Event::RefundFailed {
                    refund_id: "mp-13".into(),
                    amount_cents: 125
                },
            ]
        );
    }

    #[test]
    fn a_chargeback_still_succeeded_but_is_flagged() {
        for status in ["charged_back", "in_mediation"] {
            let p = parse_payment(&payment(status, json!([]))).expect("parses");
            assert!(p.disputed());
            assert_eq!(
                p.events(str::to_owned).expect("maps"),
                vec![Event::Succeeded {
                    at: AT,
                    amount_cents: 1999
                }]
            );
        }
    }

    #[test]
    fn unreadable_payments_are_refused() {
        assert!(parse_payment(b"{}").is_err());
        assert!(parse_payment(br#"{"id": null, "status": "approved", "transaction_amount": 1, "currency_id": "BRL"}"#).is_err());
        let mut p = parse_payment(&payment("approved", json!([]))).expect("parses");
        p.transaction_amount = serde_json::from_str("19.999").expect("number");
        assert_eq!(
            p.events(str::to_owned).map_err(|e| e.code()),
            Err("malformed_response")
        );
        let mut p = parse_payment(&payment("approved", json!([]))).expect("parses");
        p.date_last_updated = Some("yesterday".into());
        assert!(p.events(str::to_owned).is_err());
        p.date_last_updated = None;
        assert_eq!(p.updated_at(), Ok(AT - 60), "falls back to date_created");
        p.date_created = None;
        assert!(p.updated_at().is_err());
        let bad_refund = payment(
            "refunded",
            json!([{"id": 1, "amount": 0.001, "status": "approved"}]),
        );
        assert!(
            parse_payment(&bad_refund)
                .expect("parses")
                .events(str::to_owned)
                .is_err()
        );
    }
}
