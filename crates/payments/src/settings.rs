//! A tenant's payment settings: the pricing tables (`faro-payments-domain`'s configuration)
//! and the price of a credit for wallet top-ups, one JSON document edited through the admin
//! API and checked whole, every problem named by its path. Also the queue depth the tenant's
//! workers report, which sets the load factor of new quotes.

use faro_http::FieldProblem;
use faro_payments_domain::{Pricing, PricingConfig};
use faro_store::{Db, TenantId, unix_now};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::PaymentsError;
use crate::store;

/// A reported queue depth older than this is not trusted (the workers stopped reporting):
/// quotes are priced as if the queue were empty rather than at a stale surcharge.
pub const QUEUE_REPORT_TTL_SECS: i64 = 300;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentsSettings {
    /// The pricing tables (currency, formats, conversion types with base prices, size tiers,
    /// qualities, features, load curve, quote validity). Without them estimates are refused
    /// with 409 `payments_not_configured`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub pricing: Option<PricingConfig>,
    /// What a credit costs when bought (`POST /api/v1/wallet/topup`); absent: no top-ups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup: Option<TopupSettings>,
    /// Payments go through the built-in test provider, which anyone can make succeed or fail
    /// (`POST /api/v1/payments/test/intents/{id}/confirm`): for development and demos only,
    /// never on a live site.
    #[serde(default)]
    pub test_provider: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupSettings {
    /// ISO 4217, three capital letters.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The price of one credit in cents (1 to 100,000).
    #[schema(example = 10)]
    pub credit_price_cents: i64,
    /// The fewest credits one top-up buys (at least 1).
    #[schema(example = 10)]
    pub min_credits: i64,
    /// The most credits one top-up buys (at most 1,000,000).
    #[schema(example = 10000)]
    pub max_credits: i64,
}

/// The settings as checked: the pricing ready to price.
#[derive(Clone, Debug)]
pub struct Checked {
    pub pricing: Option<Pricing>,
    pub topup: Option<TopupSettings>,
    pub test_provider: bool,
}

fn problem(path: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The settings, or every problem with them.
pub fn check(settings: &PaymentsSettings) -> Result<Checked, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let pricing = match settings.pricing.clone().map(Pricing::new) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(list)) => {
            problems.extend(
                list.into_iter()
                    .map(|p| p.under("pricing"))
                    .map(|p| problem(&p.path, p.message)),
            );
            None
        }
    };
    if let Some(t) = &settings.topup {
        if t.currency.len() != 3 || !t.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            problems.push(problem(
                "topup.currency",
                "an ISO 4217 code: three capital letters, like EUR",
            ));
        }
        if !(1..=100_000).contains(&t.credit_price_cents) {
            problems.push(problem(
                "topup.credit_price_cents",
                "the price of one credit in cents: 1 to 100000",
            ));
        }
        if !(1..=1_000_000).contains(&t.min_credits) {
            problems.push(problem("topup.min_credits", "1 to 1000000 credits"));
        }
        if !(1..=1_000_000).contains(&t.max_credits) {
            problems.push(problem("topup.max_credits", "1 to 1000000 credits"));
        } else if t.max_credits < t.min_credits {
            problems.push(problem(
                "topup.max_credits",
                "at least min_credits: the smallest top-up must be allowed",
            ));
        }
    }
    if problems.is_empty() {
        Ok(Checked {
            pricing,
            topup: settings.topup.clone(),
            test_provider: settings.test_provider,
        })
    } else {
        Err(problems)
    }
}

/// The tenant's settings, checked, with the queue depth to price at now (0 when stale).
pub async fn load(db: &Db, tenant: &TenantId) -> Result<(Checked, u64), PaymentsError> {
    let Some(row) = store::settings(db, tenant).await? else {
        return Ok((
            Checked {
                pricing: None,
                topup: None,
                test_provider: false,
            },
            0,
        ));
    };
    let settings: PaymentsSettings =
        serde_json::from_str(&row.settings).map_err(PaymentsError::corrupt)?;
    let checked = check(&settings).map_err(|p| {
        PaymentsError::corrupt(format!("stored payment settings have {} problems", p.len()))
    })?;
    let fresh = row
        .queue_reported_at
        .is_some_and(|at| unix_now() - at <= QUEUE_REPORT_TTL_SECS);
    let depth = if fresh {
        u64::try_from(row.queue_depth).unwrap_or(0)
    } else {
        0
    };
    Ok((checked, depth))
}

/// The tenant's settings document (empty when never saved).
pub async fn get(db: &Db, tenant: &TenantId) -> Result<PaymentsSettings, PaymentsError> {
    match store::settings(db, tenant).await? {
        None => Ok(PaymentsSettings::default()),
        Some(row) => serde_json::from_str(&row.settings).map_err(PaymentsError::corrupt),
    }
}

/// Replaces the tenant's settings after checking them whole.
pub async fn put(
    db: &Db,
    tenant: &TenantId,
    settings: &PaymentsSettings,
) -> Result<(), PaymentsError> {
    check(settings).map_err(PaymentsError::Invalid)?;
    let text = serde_json::to_string(settings).map_err(PaymentsError::corrupt)?;
    store::put_settings(db, tenant, &text, unix_now()).await?;
    Ok(())
}

/// Records the queue depth the tenant's workers report (0 to 1,000,000 jobs).
pub async fn report_queue(db: &Db, tenant: &TenantId, depth: i64) -> Result<(), PaymentsError> {
    if !(0..=1_000_000).contains(&depth) {
        return Err(PaymentsError::invalid(
            "depth",
            "the conversions queued and running: 0 to 1000000",
        ));
    }
    store::put_queue(db, tenant, depth, unix_now()).await?;
    Ok(())
}

/// The demo: the converter's price tables, credits at €0.10 (10 to 10,000 per top-up), and
/// the test provider, so a newcomer can buy credits end to end without a provider account.
pub fn demo() -> PaymentsSettings {
    PaymentsSettings {
        pricing: Some(faro_payments_domain::demo::config()),
        topup: Some(TopupSettings {
            currency: "EUR".into(),
            credit_price_cents: 10,
            min_credits: 10,
            max_credits: 10_000,
        }),
        test_provider: true,
    }
}

/// Seeds the demo settings for `tenant` unless it has some; whether it did.
pub async fn seed_demo(db: &Db, tenant: &TenantId) -> Result<bool, PaymentsError> {
    if store::settings(db, tenant).await?.is_some() {
        return Ok(false);
    }
    put(db, tenant, &demo()).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_valid() {
        let c = check(&demo()).expect("demo settings");
        assert!(c.pricing.is_some() && c.topup.is_some());
    }

    #[test]
    fn every_topup_problem_is_named() {
        let s = PaymentsSettings {
            pricing: None,
            topup: Some(TopupSettings {
                currency: "eur".into(),
                credit_price_cents: 0,
                min_credits: 50,
                max_credits: 10,
            }),
            test_provider: false,
        };
        let paths: Vec<String> = check(&s)
            .expect_err("problems")
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "topup.currency",
                "topup.credit_price_cents",
                "topup.max_credits"
            ]
        );
    }

    #[test]
    fn pricing_problems_carry_their_path() {
        let mut pricing = faro_payments_domain::demo::config();
        pricing.quote_validity_secs = 1;
        let s = PaymentsSettings {
            pricing: Some(pricing),
            topup: None,
            test_provider: false,
        };
        let problems = check(&s).expect_err("problems");
        assert!(
            problems
                .iter()
                .any(|p| p.path == "pricing.quote_validity_secs"),
            "{problems:?}"
        );
    }
}
