//! The pages the mailed links open, on the site's own host, in the visitor's language (es,
//! ca, pt or en): `/account/verify?token=…` confirms the email and `/account/reset?token=…`
//! sets a new password. Opening a link changes nothing (mail scanners open links); the
//! button on the page does. The token stays out of other sites' logs: no referrer, no cache.
//! No CSRF token: the link's token is the credential, and a forged post could only spend a
//! link the forger already has on their own account.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use faro_http::tenant::PublicTenant;
use faro_http::{ClientKey, Core};
use faro_store::TenantId;
use faro_web::i18n::Lang;
use serde::Deserialize;

use super::UserError;
use super::mail_texts::{PageTexts, page_texts};

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/account/verify", get(verify_page).post(verify))
        .route("/account/reset", get(reset_page).post(reset))
        .with_state(core)
}

#[derive(Template)]
#[template(path = "platform/account.html")]
struct AccountPage {
    lang: &'static str,
    css: &'static str,
    site: String,
    t: &'static PageTexts,
    title: &'static str,
    /// `verify`, `reset` or empty (no form).
    form: &'static str,
    token: String,
    done: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

struct Ctx {
    lang: Lang,
    site: String,
}

async fn ctx(core: &Core, tenant: &TenantId, headers: &HeaderMap) -> Ctx {
    let row = crate::tenants::store::get(&core.db, tenant.as_str())
        .await
        .ok()
        .flatten();
    let lang = Lang::from_accept(headers)
        .or_else(|| row.as_ref().and_then(|t| Lang::from_tag(&t.language)))
        .unwrap_or(Lang::En);
    Ctx {
        lang,
        site: row.map(|t| t.name).unwrap_or_else(|| "Faro".into()),
    }
}

fn page(
    status: StatusCode,
    ctx: &Ctx,
    build: impl FnOnce(&'static PageTexts) -> Shape,
) -> Response {
    let t = page_texts(ctx.lang);
    let shape = build(t);
    let body = AccountPage {
        lang: ctx.lang.code(),
        css: faro_web::panel::css_url(),
        site: ctx.site.clone(),
        t,
        title: shape.title,
        form: shape.form,
        token: shape.token,
        done: shape.done,
        error: shape.error,
    };
    let mut response = faro_web::panel::render(status, &body);
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

struct Shape {
    title: &'static str,
    form: &'static str,
    token: String,
    done: Option<&'static str>,
    error: Option<&'static str>,
}

fn bad_link(t: &'static PageTexts) -> Shape {
    Shape {
        title: t.bad_link_title,
        form: "",
        token: String::new(),
        done: None,
        error: Some(t.bad_link),
    }
}

/// The page a link opens: its form with the token, or "this link no longer works" when the
/// address has no token.
async fn link_page(
    core: &Core,
    tenant: &TenantId,
    headers: &HeaderMap,
    token: Option<String>,
    form: &'static str,
    title: fn(&'static PageTexts) -> &'static str,
) -> Response {
    let ctx = ctx(core, tenant, headers).await;
    match token.filter(|t| !t.trim().is_empty()) {
        Some(token) => page(StatusCode::OK, &ctx, |t| Shape {
            title: title(t),
            form,
            token,
            done: None,
            error: None,
        }),
        None => page(StatusCode::BAD_REQUEST, &ctx, bad_link),
    }
}

/// `GET /account/verify?token=`: the button that confirms.
async fn verify_page(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    link_page(&core, &tenant, &headers, q.token, "verify", |t| {
        t.verify_title
    })
    .await
}

/// `POST /account/verify`: `token`.
async fn verify(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TokenForm>,
) -> Response {
    if let Err(e) = core
        .limit("verify_email", &client, core.web.login_quota)
        .await
    {
        return e.into_response();
    }
    let ctx = ctx(&core, &tenant, &headers).await;
    match super::links::verify_email(&core, &tenant, &form.token).await {
        Ok(()) => page(StatusCode::OK, &ctx, |t| Shape {
            title: t.verify_title,
            form: "",
            token: String::new(),
            done: Some(t.verified),
            error: None,
        }),
        Err(UserError::InvalidLink) => page(StatusCode::BAD_REQUEST, &ctx, bad_link),
        Err(e) => faro_http::ApiError::from(e).into_response(),
    }
}

/// `GET /account/reset?token=`: the form for the new password.
async fn reset_page(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    link_page(&core, &tenant, &headers, q.token, "reset", |t| {
        t.reset_title
    })
    .await
}

/// `POST /account/reset`: `token`, `password`.
async fn reset(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TokenForm>,
) -> Response {
    if let Err(e) = core
        .limit("reset_confirm", &client, core.web.login_quota)
        .await
    {
        return e.into_response();
    }
    let ctx = ctx(&core, &tenant, &headers).await;
    match super::links::reset_password(&core, &tenant, &form.token, &form.password).await {
        Ok(()) => page(StatusCode::OK, &ctx, |t| Shape {
            title: t.reset_title,
            form: "",
            token: String::new(),
            done: Some(t.reset_done),
            error: None,
        }),
        Err(UserError::Invalid(_)) => page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, |t| Shape {
            title: t.reset_title,
            form: "reset",
            token: form.token.clone(),
            done: None,
            error: Some(t.password_hint),
        }),
        Err(UserError::InvalidLink) => page(StatusCode::BAD_REQUEST, &ctx, bad_link),
        Err(e) => faro_http::ApiError::from(e).into_response(),
    }
}
