//! Promotions: a tenant's promotions (`faro-promotions-domain`'s documents: scope,
//! conditions, reward, window, budget), their coupon codes, the promotions running now and
//! whether one applies to a customer with every reason why not, and `promotion.started` /
//! `promotion.ended` once per boundary. Checkout (spending budgets on the wallet's ledger) and
//! loyalty tiers come later.
//!
//! | file | does |
//! |---|---|
//! | [`manage`] | staff creating, reading, replacing and deleting promotions |
//! | [`coupons`] | hand-written codes, generated batches unique in the tenant, the list with uses |
//! | [`eligibility`](mod@eligibility) | the promotions running now, and one judged for a customer and cart |
//! | [`orders`] | paid orders from the outbox, for "first purchase"; erasure on `user.deleted` |
//! | [`people`] | the module's part of a GDPR export |
//! | [`windows`] | the job publishing `promotion.started` / `promotion.ended` exactly once |
//! | [`demo`] | the demo promotions and `WELCOME10` on a fresh install |
//! | [`store`] | every SQL statement |
//! | [`api`] | the HTTP handlers |

pub mod api;
pub mod coupons;
pub mod demo;
pub mod eligibility;
pub mod error;
pub mod manage;
pub mod orders;
pub mod people;
pub mod state;
pub mod store;
pub mod windows;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;

pub use error::PromotionsError;
pub use state::Promotions;

/// The module's tables (`promotions_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub fn module() -> Module {
    Module {
        name: "promotions",
        optional: true,
        api_keys: true,
        keys: &[],
        secret_keys: &[],
        check: |_| Ok(()),
        migrations: &MIGRATIONS,
        nav: &[],
        mount: |core, _settings| {
            let p = Promotions::new(core.clone());
            let mut mounted = Mounted::new(api::router(p), axum::Router::new());
            mounted.consumers.push(orders::consumer());
            mounted.jobs.push(windows::job(core.wake.clone()));
            mounted.personal = Some(people::exporter());
            Ok(mounted)
        },
        demo: Some(|db| {
            Box::pin(async move {
                demo::seed(&db, &faro_http::TenantId::default_tenant())
                    .await
                    .map(|made| {
                        made.then(|| {
                            "four promotions (welcome, summer 2x1, bonus credits, Gold members) \
                             and the coupon WELCOME10"
                                .to_owned()
                        })
                    })
                    .map_err(|e| format!("seeding the demo promotions failed: {e}"))
            })
        }),
        cli: None,
        sealed: &[],
    }
}
