//! The payments module's pure core: the pricing engine (quotes in integer micro-units) and the
//! payment intent's state machine. No I/O, no async, no clock: every function takes the time
//! (unix seconds) and the state it needs, so the module crate can call it inside a transaction
//! and tests can walk every edge, including webhooks that arrive late, twice or out of order.
//!
//! | file | decides |
//! |---|---|
//! | [`decimal`] | money in micro-units, factors in ten-thousandths, sizes in thousandths of a MB; their decimal text |
//! | [`exact`] | exact arithmetic on large naturals, so a price is rounded once, at the end |
//! | [`config`] | a tenant's pricing tables and every problem with them |
//! | [`routes`] | which conversion type (and base price) a pair of formats has |
//! | [`load`] | the load factor of a queue depth |
//! | [`estimate`] | a request's price, factor by factor, and why a request cannot be priced |
//! | [`quote`] | a priced request that an intent may charge until it expires |
//! | [`intent`] | a payment intent's status under the provider's events, and fulfilment |
//! | [`refund`] | full and partial refunds, never more than was captured |
//! | [`providers`] | Stripe's and Mercado Pago's wire formats and webhook signatures, as the domain's events |
//! | [`demo`] | the converter's price tables (seed 002), as the demo tenant's data |

pub mod config;
pub mod decimal;
pub mod demo;
pub mod estimate;
pub mod exact;
pub mod intent;
pub mod load;
pub mod providers;
pub mod quote;
pub mod refund;
pub mod routes;

pub use config::{Pricing, PricingConfig};
pub use decimal::{Factor, Megabytes, Money};
pub use estimate::{Breakdown, EstimateRequest, PricingError, breakdown, estimate};
pub use intent::{Effect, Event, Intent, Refusal, Status, transition};
pub use quote::Quote;

/// One problem of a pricing configuration, with the path of the field it is about
/// (`size_tiers[1].max_mb`), as the other modules' validations report them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem under `prefix` (`size_tiers[2]` + `multiplier`).
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        Problem { path, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_nest() {
        let p = Problem::new("multiplier", "more than 0").under("size_tiers[1]");
        assert_eq!(p.path, "size_tiers[1].multiplier");
        assert_eq!(Problem::new("", "x").under("load").path, "load");
        assert_eq!(Problem::new("[2]", "x").under("routes").path, "routes[2]");
    }
}
