//! Payments: prices and quotes (`faro-payments-domain`'s engine on the tenant's tables),
//! payment intents through a provider, and fulfilment exactly once through the outbox. Other
//! modules never call it: the wallet credits a top-up when `payments.intent_succeeded` says so.
//!
//! | file | does |
//! |---|---|
//! | [`settings`] | the tenant's pricing tables, credit price, test provider switch, queue depth |
//! | [`estimate`] | a request priced and frozen as a quote |
//! | [`intents`] | intents for a quote or a wallet top-up, once per `Idempotency-Key` and per quote |
//! | [`events`] | a provider's event applied to an intent: de-duplicated, locked, published |
//! | [`refunds`] | staff refunding a payment, fully or partly |
//! | [`testprovider`] | the built-in provider for development and demos |
//! | [`stripe`] | the Stripe adapter: PaymentIntents over HTTPS, the signed webhook |
//! | [`credentials`] | a tenant's provider keys, sealed at rest, shown masked |
//! | [`http`] | the providers' HTTPS client |
//! | [`jobs`] | purging expired quotes, reconciling open Stripe payments |
//! | [`store`] | every SQL statement |
//! | [`api`] | the HTTP handlers |

pub mod api;
pub mod credentials;
pub mod error;
pub mod estimate;
pub mod events;
pub mod http;
pub mod intents;
pub mod jobs;
pub mod refunds;
pub mod settings;
pub mod state;
pub mod store;
pub mod stripe;
pub mod testprovider;

use faro_http::module::{ConfigError, Module, Mounted, Settings};
use faro_store::Migrator;

pub use error::PaymentsError;
pub use state::Payments;

/// The module's tables (`payments_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The module's settings: where Stripe's API is (tests point it at a local fake).
pub const KEYS: &[(&str, Option<&str>)] =
    &[("PAYMENTS_STRIPE_API", Some("https://api.stripe.com"))];

/// `PAYMENTS_STRIPE_API`, checked: an `https://` URL (or `http://` for a local fake).
fn stripe_api(settings: &Settings) -> Result<String, ConfigError> {
    let url = settings.required("PAYMENTS_STRIPE_API")?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::new("PAYMENTS_STRIPE_API", "an https:// URL"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(ConfigError::new("PAYMENTS_STRIPE_API", "an https:// URL"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

pub fn module() -> Module {
    Module {
        name: "payments",
        optional: true,
        api_keys: true,
        keys: KEYS,
        secret_keys: &[],
        check: |settings| stripe_api(settings).map(drop),
        migrations: &MIGRATIONS,
        nav: &[],
        mount: |core, settings| {
            let client = http::ProviderClient::new()
                .map_err(|e| ConfigError::new("PAYMENTS_STRIPE_API", e))?;
            let p = Payments::new(core.clone(), client, stripe_api(settings)?);
            let mut mounted = Mounted::new(api::router(p.clone()), axum::Router::new());
            mounted.jobs.push(jobs::purge_quotes());
            mounted.jobs.push(jobs::reconcile(p.clone()));
            Ok(mounted)
        },
        demo: Some(|db| {
            Box::pin(async move {
                settings::seed_demo(&db, &faro_http::TenantId::default_tenant())
                    .await
                    .map(|made| {
                        made.then(|| {
                            "the converter's price tables, credits at EUR 0.10 and the test \
                             payment provider"
                                .to_owned()
                        })
                    })
                    .map_err(|e| format!("seeding the payment settings failed: {e}"))
            })
        }),
        cli: None,
        sealed: &[
            credentials::SECRET_KEY_COLUMN,
            credentials::WEBHOOK_SECRETS_COLUMN,
        ],
    }
}
