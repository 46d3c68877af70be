//! The quiz module ("smart test / profile evaluator"): a vertical slice with its pure domain
//! in `faro-quiz-domain` (definitions, validation, flow, scoring) and here its storage, caches,
//! visitor API, admin API, analytics, share page and jobs.
//!
//! Where does a finished quiz get scored? `public::complete` (behind the API's `finish` and the
//! page flow alike) calls `faro_quiz_domain::score`.

pub mod admin;
pub mod analytics;
pub mod api;
pub mod cache;
pub mod cli;
pub mod config;
mod counters;
pub mod jobs;
pub mod live;
pub mod pages;
pub mod panel;
pub mod people;
pub mod public;
pub mod seed;
pub mod service;
pub mod state;
pub mod store;
pub mod views;
pub mod visit;

use faro_http::module::{Module, ModuleCli, Mounted};
use faro_store::Migrator;

pub use config::QuizConfig;
pub use state::{Quiz, QuizState};

/// The quiz's tables (`quiz_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The quiz as the binary lists it.
pub fn module() -> Module {
    Module {
        name: "quiz",
        optional: true,
        api_keys: true,
        keys: config::KEYS,
        secret_keys: &[],
        check: |settings| QuizConfig::from_settings(settings).map(drop),
        migrations: &MIGRATIONS,
        nav: panel::NAV,
        mount: |core, settings| {
            let quiz = Quiz::new(core.clone(), QuizConfig::from_settings(settings)?);
            let base = core.web.public_base_url.clone();
            let pages = pages::router(quiz.clone()).merge(panel::router(quiz.clone()));
            let mut mounted = Mounted::new(api::router(quiz.clone()), pages);
            mounted.jobs.push(jobs::purge_job());
            // Results finished by known people are theirs: merged, erased and exported.
            mounted.consumers.push(people::consumer(quiz.clone()));
            mounted.personal = Some(people::exporter(base));
            // Its tests list is the panel's home.
            mounted.panel_home = true;
            Ok(mounted)
        },
        demo: Some(|db| {
            Box::pin(async move {
                seed::seed_demo(&db, &faro_http::TenantId::default_tenant())
                    .await
                    .map(|slug| slug.map(|s| format!("demo test {s} published")))
                    .map_err(|e| format!("seeding the demo test failed: {e}"))
            })
        }),
        cli: Some(ModuleCli {
            command: cli::command,
            aliases: &["import", "export", "purge"],
            run: cli::run,
        }),
        sealed: &[],
    }
}
