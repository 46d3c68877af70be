//! The platform module: staff accounts and signing in (the JSON login and the panel's sign-in
//! pages), the scheduler's and event consumers' status (`GET /api/v1/admin/jobs`), and the
//! kept causes of server errors (`/api/v1/admin/errors`, `/admin/errors`), and the hourly purge
//! of handled events. It is always mounted, whichever modules are switched on, and it is where
//! tenants, end users and API keys grow. Its tables are the storage layer's foundation migration
//! (`tenants`, `users`), which every module's tables refer to.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod audit_api;
pub mod audit_page;
pub mod email;
pub mod errors;
pub mod gdpr;
pub mod jobs;
pub mod lockout;
pub mod plans;
pub mod refresh;
pub mod retention;
pub mod security_page;
pub mod settings;
pub mod signin;
pub mod staff;
pub mod staff_sessions;
pub mod tenants;
pub mod totp;
pub mod user_fields;
pub mod users;
pub mod visitors;
pub mod visitors_page;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The platform's own tables beyond the storage layer's foundation: the audit log and the
/// tenants' settings history.
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The platform's links in the panel's navigation (after the modules' own).
const NAV: &[faro_http::NavLink] = &[
    visitors_page::NAV,
    staff::panel::NAV,
    api_keys::panel::NAV,
    settings::panel::NAV,
    audit_page::NAV,
    faro_http::NavLink {
        section: "errors",
        label: "Errors",
        href: "/admin/errors",
        admins_only: true,
    },
];

/// The platform's configuration keys, with their defaults.
const KEYS: &[(&str, Option<&str>)] = &[
    ("EVENT_RETENTION_DAYS", Some("7")),
    // Where end users' mail goes: smtp://user:pass@host:587?tls=required, smtps://…, or a
    // directory for development (see faro-mail).
    ("MAIL_URL", Some("file://data/mail")),
    ("MAIL_FROM", Some("Faro <no-reply@localhost>")),
];

/// The mail settings, checked at start.
fn postbox(
    s: &faro_http::module::Settings,
) -> Result<faro_mail::Postbox, faro_http::module::ConfigError> {
    let url = s.required("MAIL_URL")?;
    let from = s.required("MAIL_FROM")?;
    faro_mail::Mailer::from_url(&url)
        .map_err(|e| faro_http::module::ConfigError::new("MAIL_URL", e.to_string()))?;
    faro_mail::Postbox::new(&url, &from)
        .map_err(|e| faro_http::module::ConfigError::new("MAIL_FROM", e.to_string()))
}

/// The platform as the binary lists it.
pub fn module() -> Module {
    Module {
        name: "platform",
        optional: false,
        api_keys: false,
        keys: KEYS,
        // It may carry the SMTP password.
        secret_keys: &["MAIL_URL"],
        check: |settings| {
            jobs::retention_days(settings)?;
            postbox(settings).map(drop)
        },
        migrations: &MIGRATIONS,
        nav: NAV,
        mount: |core, settings| {
            let retention_days = jobs::retention_days(settings)?;
            let postbox = postbox(settings)?;
            let api = OpenApiRouter::new()
                .routes(routes!(accounts::login))
                .routes(routes!(accounts::logout))
                .routes(routes!(accounts::refresh))
                .routes(routes!(accounts::me))
                .routes(routes!(jobs::list_jobs))
                .routes(routes!(errors::list_errors))
                .routes(routes!(
                    tenants::api::create_tenant,
                    tenants::api::list_tenants
                ))
                .routes(routes!(
                    tenants::api::get_tenant,
                    tenants::api::update_tenant
                ))
                .routes(routes!(tenants::api::tenant_usage))
                .routes(routes!(tenants::api::impersonate))
                .routes(routes!(tenants::api::purge_tenant))
                .routes(routes!(plans::api::list_plans))
                .routes(routes!(plans::api::put_plan, plans::api::delete_plan))
                .routes(routes!(
                    api_keys::api::create_api_key,
                    api_keys::api::list_api_keys
                ))
                .routes(routes!(
                    api_keys::api::get_api_key,
                    api_keys::api::revoke_api_key
                ))
                .routes(routes!(users::api::register))
                .routes(routes!(users::links_api::request_password_reset))
                .routes(routes!(users::links_api::confirm_password_reset))
                .routes(routes!(users::links_api::verify_email))
                .routes(routes!(users::links_api::resend_verification))
                .routes(routes!(users::api::login))
                .routes(routes!(users::api::refresh))
                .routes(routes!(users::api::logout))
                .routes(routes!(
                    users::api::me,
                    users::api::update_me,
                    users::api::delete_me
                ))
                .routes(routes!(users::api::list_users))
                .routes(routes!(users::api::delete_user))
                .routes(routes!(visitors::whoami))
                .routes(routes!(visitors::list))
                .routes(routes!(totp::begin, totp::disable))
                .routes(routes!(totp::confirm))
                .routes(routes!(gdpr::my_export))
                .routes(routes!(gdpr::user_export))
                .routes(routes!(gdpr::visitor_export))
                .routes(routes!(gdpr::delete_visitor_endpoint))
                .routes(routes!(staff::api::list_staff, staff::api::create_staff))
                .routes(routes!(staff::api::get_staff, staff::api::update_staff))
                .routes(routes!(
                    settings::api::get_settings,
                    settings::api::save_settings
                ))
                .routes(routes!(settings::api::list_versions))
                .routes(routes!(settings::api::rollback))
                .routes(routes!(audit_api::tenant_audit))
                .routes(routes!(audit_api::tenant_audit_export))
                .routes(routes!(audit_api::platform_audit))
                .routes(routes!(audit_api::platform_audit_export))
                .with_state(core.clone())
                .layer(axum::Extension(postbox.clone()));
            let pages = signin::router(core.clone())
                .merge(security_page::router(core.clone()))
                .merge(api_keys::panel::router(core.clone()))
                .merge(staff::panel::router(core.clone()))
                .merge(settings::panel::router(core.clone()))
                .merge(audit_page::router(core.clone()))
                .merge(visitors_page::router(core.clone()))
                .merge(users::links_pages::router(core.clone()))
                .merge(tenants::console::router(core.clone()))
                .merge(plans::page::router(core.clone()))
                .merge(
                    axum::Router::new()
                        .route("/admin/errors", axum::routing::get(errors::page))
                        .with_state(core.clone()),
                );
            let mut mounted = Mounted::new(api, pages);
            mounted.jobs.push(errors::trim_job());
            mounted.jobs.push(jobs::purge_events_job(retention_days));
            mounted.jobs.push(jobs::purge_tokens_job());
            mounted.jobs.push(retention::retention_job(core.clone()));
            mounted
                .jobs
                .push(users::links::mail_job(core.clone(), postbox));
            Ok(mounted)
        },
        demo: None,
        cli: Some(faro_http::module::ModuleCli {
            command: tenants::cli::command,
            aliases: &[],
            run: tenants::cli::run,
        }),
        sealed: &[
            totp::SECRET_COLUMN,
            users::store::EMAIL_COLUMN,
            users::store::FIELDS_COLUMN,
        ],
    }
}
