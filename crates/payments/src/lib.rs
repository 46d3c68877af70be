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
//! | [`jobs`] | purging expired quotes |
//! | [`store`] | every SQL statement |
//! | [`api`] | the HTTP handlers |

pub mod api;
pub mod error;
pub mod estimate;
pub mod events;
pub mod intents;
pub mod jobs;
pub mod refunds;
pub mod settings;
pub mod state;
pub mod store;
pub mod testprovider;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;

pub use error::PaymentsError;
pub use state::Payments;

/// The module's tables (`payments_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub fn module() -> Module {
    Module {
        name: "payments",
        optional: true,
        api_keys: true,
        keys: &[],
        secret_keys: &[],
        check: |_| Ok(()),
        migrations: &MIGRATIONS,
        nav: &[],
        mount: |core, _settings| {
            let p = Payments::new(core.clone());
            let mut mounted = Mounted::new(api::router(p.clone()), axum::Router::new());
            mounted.jobs.push(jobs::purge_quotes());
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
        sealed: &[],
    }
}
