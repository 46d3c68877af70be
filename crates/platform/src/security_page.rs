//! The panel's Security page: a staff member turns two-factor sign-in on and off for their
//! own account, with no script: the secret (and its `otpauth://` link) to put into an
//! authenticator app, a form for the first code, the recovery codes shown once, and a form
//! to turn it off. Same use cases as the JSON API (`crate::totp`).
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/security` | the account's state, and the pending secret if one was made |
//! | `POST /admin/security/totp` | a new secret for the app |
//! | `POST /admin/security/totp/confirm` | the first code: on, with the recovery codes |
//! | `POST /admin/security/totp/off` | a code or a recovery code: off |
//!
//! In a site that requires two-factor sign-in, these pages stay open to a session signed in
//! without it (`faro_http::auth::SECOND_FACTOR_ENROLLMENT`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::Core;
use faro_web::panel::{PageResult, PageUser, PanelUser, Shell, UserForm, render};
use serde::Deserialize;

use crate::totp::{self, Account, TotpEnrollment};

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/admin/security", get(page))
        .route("/admin/security/totp", post(start))
        .route("/admin/security/totp/confirm", post(confirm))
        .route("/admin/security/totp/off", post(off))
        .with_state(core)
}

#[derive(Template)]
#[template(path = "platform/security.html")]
struct SecurityPage {
    shell: Shell,
    enabled: bool,
    required: bool,
    pending: Option<TotpEnrollment>,
    recovery_codes: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
}

fn account(user: &PanelUser) -> Account<'_> {
    Account {
        tenant: &user.tenant,
        user_id: &user.id,
        username: &user.name,
        actor: user.actor(),
    }
}

async fn view(
    core: &Core,
    user: &PanelUser,
    recovery_codes: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
) -> PageResult<SecurityPage> {
    let who = account(user);
    let enabled = totp::enabled(core, who.tenant, who.user_id).await?;
    let pending = if enabled {
        None
    } else {
        totp::pending(core, &who).await?
    };
    Ok(SecurityPage {
        shell: user.shell("security"),
        enabled,
        required: core
            .tenants
            .state(&core.db, &user.tenant)
            .await
            .require_totp,
        pending,
        recovery_codes,
        notice,
        error,
    })
}

/// `GET /admin/security`.
async fn page(
    State(core): State<Core>,
    PageUser(user): PageUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.msg.as_deref() {
        Some("off") => Some("Two-factor sign-in is off for your account."),
        _ => None,
    };
    let page = view(&core, &user, Vec::new(), notice, None).await?;
    Ok(render(StatusCode::OK, &page))
}

/// A refused code shows the page again with the reason; anything else is an error page.
async fn refused(core: &Core, user: &PanelUser, e: faro_http::ApiError) -> PageResult {
    if e.status.is_client_error() {
        let status = e.status;
        let page = view(core, user, Vec::new(), None, Some(e.message)).await?;
        return Ok(render(status, &page));
    }
    Err(e.into())
}

/// `POST /admin/security/totp`: a new secret, shown on the page.
async fn start(State(core): State<Core>, UserForm { user, .. }: UserForm) -> PageResult {
    match totp::start(&core, &account(&user)).await {
        Ok(_) => Ok(Redirect::to("/admin/security").into_response()),
        Err(e) => refused(&core, &user, e).await,
    }
}

/// `POST /admin/security/totp/confirm`: the first code turns it on; the recovery codes are
/// on the answer, this once.
async fn confirm(State(core): State<Core>, UserForm { user, form }: UserForm) -> PageResult {
    let code = form.get("code").unwrap_or_default();
    match totp::confirm_code(&core, &account(&user), code).await {
        Ok(codes) => {
            let notice = Some(
                "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs \
                 in once when your app is not at hand, and they are not shown again.",
            );
            let page = view(&core, &user, codes, notice, None).await?;
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => refused(&core, &user, e).await,
    }
}

/// `POST /admin/security/totp/off`.
async fn off(State(core): State<Core>, UserForm { user, form }: UserForm) -> Response {
    let code = form.get("code").unwrap_or_default();
    match totp::turn_off(&core, &account(&user), code).await {
        Ok(()) => Redirect::to("/admin/security?msg=off").into_response(),
        Err(e) => match refused(&core, &user, e).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        },
    }
}
