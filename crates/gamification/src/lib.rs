//! Gamification: points, levels, badges and streaks that keep people coming back. A tenant
//! designs its rules ("a finished conversion: 10 points; the first: 50 more, once"), levels,
//! badges and weekly challenges; its apps and Faro's other modules send events; the module
//! turns each event into awards, exactly once, in one transaction with the event.
//!
//! | file | does |
//! |---|---|
//! | [`design`] | the tenant's design document: load (cached), check, save |
//! | [`ingest`] | checks an event and queues it for its batch (group commit) |
//! | [`sheets`] | a batch of events: recorded, its players read and locked, written back, in a few statements |
//! | [`engine`] | one event on its player's sheet, in memory: streak, rule awards, streak bonus, challenges, badges, level, outbox events |
//! | [`challenges`] | the week's challenges: created once per week, progress, completion |
//! | [`profile`] | a player's profile and the leaderboards |
//! | [`people`] | GDPR: the export's part, erasure on `user.deleted` |
//! | [`bridge`] | other modules' events (a quiz finished by a user or a visitor) taken in through the outbox |
//! | [`merge`] | a visitor's player moving into the account's on `visitor.merged` |
//! | [`spend`] | points going out: redemption into credits, staff reversals |
//! | [`store`] | every SQL statement |
//! | [`api`] | the HTTP handlers |
//! | [`stats`] | what the design produces (awards per day, levels, badges, challenges), for the panel |
//! | [`panel`] | the admin pages: overview, design, players and reversals |
//! | [`widget`] | the embeddable script (leaderboard, progress, badge toasts) and its demo page |
//!
//! The rules themselves (what an event is worth, when a badge unlocks, levels, streaks by
//! the tenant's calendar) are the pure crate `faro-gamification-domain`.

pub mod api;
pub mod bridge;
pub mod challenges;
pub mod design;
pub mod engine;
pub mod error;
pub mod ingest;
pub mod merge;
pub mod panel;
pub mod people;
pub mod profile;
pub mod ranks;
pub mod sheets;
pub mod spend;
pub mod state;
pub mod stats;
pub mod store;
pub mod widget;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;

pub use error::GamificationError;
pub use state::Gamification;

/// The module's tables (`gamification_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub fn module() -> Module {
    Module {
        name: "gamification",
        optional: true,
        api_keys: true,
        keys: &[],
        secret_keys: &[],
        check: |_| Ok(()),
        migrations: &MIGRATIONS,
        nav: panel::NAV,
        mount: |core, settings| {
            let g = Gamification::new(core.clone());
            let mut mounted = Mounted::new(api::router(g.clone()), panel::router(g.clone()));
            mounted.pages = mounted.pages.merge(widget::router(settings)?);
            mounted.jobs.push(challenges::job(g.clone()));
            mounted.consumers.push(bridge::consumer(g));
            mounted.personal = Some(people::exporter());
            Ok(mounted)
        },
        demo: Some(|db| {
            Box::pin(async move {
                design::seed_demo(&db, &faro_http::TenantId::default_tenant())
                    .await
                    .map(|made| made.then(|| "the converter's reward design".to_owned()))
                    .map_err(|e| format!("seeding the gamification design failed: {e}"))
            })
        }),
        cli: None,
        sealed: &[],
    }
}
