//! Outgoing webhooks: staff register URLs for event kinds, and every matching event of their
//! tenant is POSTed there, signed per Standard Webhooks, retried, and logged.
//!
//! How an event becomes a delivery:
//!
//! 1. a module appends an event to the outbox in its own transaction (`quiz.finished`);
//! 2. the `webhooks` consumer ([`fanout`]) inserts one `pending` row per enabled, matching
//!    endpoint of the event's tenant, in the transaction that moves its cursor (so exactly
//!    once per event), and kicks this instance's sender;
//! 3. the sender ([`sender`], a task on every instance) claims due rows with a compare-and-set
//!    lease (each attempt made once across instances), POSTs the envelope through
//!    [`outbound`] (addresses checked after resolution; no private networks unless
//!    `ALLOW_PRIVATE_NETWORK_TARGETS=true`), and records the outcome: delivered on a 2xx,
//!    else the next attempt per the retry schedule (5 s, 20 s, 60 s), else failed;
//! 4. staff read deliveries and replay failed ones ([`api`], [`panel`]); an hourly job
//!    ([`jobs`]) purges finished deliveries after `WEBHOOK_RETENTION_DAYS`.
//!
//! Delivery is at-least-once: a receiver may see the same `webhook-id` twice (see [`sender`])
//! and should deduplicate by it.

pub mod api;
pub mod config;
pub mod error;
pub mod fanout;
pub mod jobs;
pub mod outbound;
pub mod panel;
pub mod sender;
pub mod service;
pub mod state;
pub mod store;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;

pub use config::WebhooksConfig;
pub use error::WebhooksError;
pub use state::Webhooks;

/// The module's tables (`webhook_endpoints`, `webhook_deliveries`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// Webhooks as the binary lists them: platform plumbing, always on.
pub fn module() -> Module {
    Module {
        name: "webhooks",
        optional: false,
        api_keys: true,
        keys: config::KEYS,
        secret_keys: &[],
        check: |settings| WebhooksConfig::from_settings(settings).map(drop),
        migrations: &MIGRATIONS,
        nav: panel::NAV,
        mount: |core, settings| {
            let cfg = WebhooksConfig::from_settings(settings)?;
            let retention_days = cfg.retention_days;
            let paused = cfg.paused;
            let wh = Webhooks::new(core.clone(), cfg);
            let mut mounted = Mounted::new(api::router(wh.clone()), panel::router(wh.clone()));
            mounted.consumers.push(fanout::consumer(wh.kick.clone()));
            mounted.jobs.push(jobs::purge_job(retention_days));
            if paused {
                tracing::warn!("WEBHOOK_DELIVERY=paused: webhook deliveries are queued, not sent");
            } else {
                mounted.tasks.push(sender::task(wh));
            }
            Ok(mounted)
        },
        demo: None,
        cli: None,
        sealed: &[service::SECRET_COLUMN],
    }
}
