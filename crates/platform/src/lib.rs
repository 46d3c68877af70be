//! The platform module: staff accounts and signing in (the JSON login and the panel's sign-in
//! pages), the scheduler's and event consumers' status (`GET /api/v1/admin/jobs`), and the
//! kept causes of server errors (`/api/v1/admin/errors`, `/admin/errors`), and the hourly purge
//! of handled events. It is always mounted, whichever modules are switched on, and it is where
//! tenants, end users and API keys grow. Its tables are the storage layer's foundation migration
//! (`tenants`, `users`), which every module's tables refer to.

pub mod accounts;
pub mod errors;
pub mod jobs;
pub mod signin;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The platform's own migrations beyond the storage layer's foundation (none yet).
pub static MIGRATIONS: Migrator = Migrator::DEFAULT;

/// The platform's links in the panel's navigation (after the modules' own).
const NAV: &[faro_http::NavLink] = &[faro_http::NavLink {
    section: "errors",
    label: "Errors",
    href: "/admin/errors",
    admins_only: true,
}];

/// The platform as the binary lists it.
pub fn module() -> Module {
    Module {
        name: "platform",
        optional: false,
        keys: jobs::KEYS,
        secret_keys: &[],
        check: |settings| jobs::retention_days(settings).map(drop),
        migrations: &MIGRATIONS,
        nav: NAV,
        mount: |core, settings| {
            let retention_days = jobs::retention_days(settings)?;
            let api = OpenApiRouter::new()
                .routes(routes!(accounts::login))
                .routes(routes!(accounts::logout))
                .routes(routes!(accounts::me))
                .routes(routes!(jobs::list_jobs))
                .routes(routes!(errors::list_errors))
                .with_state(core.clone());
            let pages = signin::router(core.clone()).merge(
                axum::Router::new()
                    .route("/admin/errors", axum::routing::get(errors::page))
                    .with_state(core.clone()),
            );
            let mut mounted = Mounted::new(api, pages);
            mounted.jobs.push(errors::trim_job());
            mounted.jobs.push(jobs::purge_events_job(retention_days));
            Ok(mounted)
        },
        demo: None,
        cli: None,
    }
}
