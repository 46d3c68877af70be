//! A quote: a priced request, frozen. A payment intent charges a quote's amount, never a
//! price computed again (the queue, and so the load factor, moves between the estimate and
//! the payment; the tenant may change its tables). A quote lasts the tenant's validity
//! (minutes) from the moment it was given; its id is the caller's, which stores it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::estimate::{Breakdown, EstimateRequest};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The request as priced (normalized: lowercase, formats without their dot).
    pub request: EstimateRequest,
    pub breakdown: Breakdown,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; the quote is no longer valid from this second on.
    pub expires_at: i64,
}

/// A quote that can no longer be charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteExpired {
    pub expired_at: i64,
}

impl fmt::Display for QuoteExpired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the quote expired at {}: ask for a new one",
            self.expired_at
        )
    }
}

impl std::error::Error for QuoteExpired {}

impl Quote {
    /// What a payment for this quote charges, in cents.
    pub fn amount_cents(&self) -> i64 {
        self.breakdown.total_cents
    }

    pub fn currency(&self) -> &str {
        &self.breakdown.currency
    }

    /// Whether it may still be charged at `now` (unix seconds).
    pub fn is_valid_at(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// The same, as a result for `?`.
    pub fn check(&self, now: i64) -> Result<(), QuoteExpired> {
        if self.is_valid_at(now) {
            Ok(())
        } else {
            Err(QuoteExpired {
                expired_at: self.expires_at,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{demo, estimate};
    use serde_json::json;

    const NOW: i64 = 1_780_000_000;

    fn quote() -> Quote {
        let request = serde_json::from_value(json!({
            "source_format": "PDF", "target_format": ".docx", "file_size_mb": 15,
            "quality": "High", "server_load_factor": 1.1
        }))
        .expect("a request");
        estimate(&demo::pricing(), &request, 0, NOW).expect("a quote")
    }

    #[test]
    fn a_quote_lasts_the_tenants_validity() {
        let q = quote();
        assert_eq!(q.amount_cents(), 30);
        assert_eq!(q.currency(), "EUR");
        assert_eq!(q.issued_at, NOW);
        assert_eq!(q.expires_at, NOW + 600);
        assert!(q.is_valid_at(NOW) && q.is_valid_at(NOW + 599));
        assert!(!q.is_valid_at(NOW + 600));
        assert_eq!(
            q.check(NOW + 601),
            Err(QuoteExpired {
                expired_at: NOW + 600
            })
        );
    }

    #[test]
    fn a_quote_keeps_its_normalized_inputs_and_round_trips_through_json() {
        let q = quote();
        assert_eq!(q.request.source_format, "pdf");
        assert_eq!(q.request.target_format, "docx");
        assert_eq!(q.request.quality, "high");
        let v = serde_json::to_value(&q).expect("json");
        assert_eq!(v["breakdown"]["total_price"], json!("0.30"));
        assert_eq!(v["breakdown"]["server_load_factor"], json!(1.1));
        let back: Quote = serde_json::from_value(v).expect("a quote back");
        assert_eq!(back, q);
    }
}
