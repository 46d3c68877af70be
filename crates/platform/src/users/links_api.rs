//! `/api/v1/auth/password-reset`, `…/password-reset/confirm`, `/api/v1/auth/verify-email`
//! and `/api/v1/me/verify-email`: the mailed links' API, for apps that show their own pages
//! (Faro's own are `/account/verify` and `/account/reset`). Thin.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use faro_http::enduser::EndUser;
use faro_http::tenant::PublicTenant;
use faro_http::{ApiResult, ClientKey, Core, Json};
use faro_mail::Postbox;
use faro_store::TenantId;
use faro_web::i18n::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{UserError, links};

/// Mail a person at most this often per address, whatever the client.
const PER_ADDRESS: &str = "5/hour";

/// The language of a mail: the request's `Accept-Language`, else the site's language.
pub async fn mail_lang(core: &Core, tenant: &TenantId, headers: &HeaderMap) -> Lang {
    if let Some(l) = Lang::from_accept(headers) {
        return l;
    }
    match crate::tenants::store::get(&core.db, tenant.as_str()).await {
        Ok(Some(t)) => Lang::from_tag(&t.language).unwrap_or(Lang::En),
        _ => Lang::En,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The `token` of the mailed link.
    pub token: String,
    /// The password policy's: 8+ characters from three classes, or a passphrase of 15+.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The `token` of the mailed link.
    pub token: String,
}

/// The answer to a request that queues a mail.
#[derive(Serialize, ToSchema)]
pub struct MailQueued {
    pub message: String,
}

/// Mails a link to choose a new password (valid 1 hour, once) when the address has an account
/// on this site. The answer is the same when it has none: it does not tell who is registered.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "end users",
    request_body = ResetRequest,
    responses(
        (status = 202, body = MailQueued),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn request_password_reset(
    State(core): State<Core>,
    Extension(postbox): Extension<Postbox>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Json(body): Json<ResetRequest>,
) -> ApiResult<(StatusCode, Json<MailQueued>)> {
    core.limit("reset_request", &client, core.web.login_quota)
        .await?;
    let email = super::domain::normalize_email(&body.email);
    let per_address = faro_limits::parse_quota(PER_ADDRESS).ok().flatten();
    core.limit("reset_address", &format!("{tenant}:{email}"), per_address)
        .await?;
    let lang = mail_lang(&core, &tenant, &headers).await;
    let id = links::request_reset(&core, &tenant, &body.email, lang).await?;
    links::send_soon(&core, &postbox, id);
    Ok((
        StatusCode::ACCEPTED,
        Json(MailQueued {
            message:
                "if this address has an account here, a link to choose a new password is on its way"
                    .into(),
        }),
    ))
}

/// Sets a new password with the mailed link's token. Every sign-in of the account ends, and
/// the email counts as confirmed.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "end users",
    request_body = ResetConfirm,
    responses(
        (status = 204),
        (status = 400, description = "invalid_link", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn confirm_password_reset(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    Json(body): Json<ResetConfirm>,
) -> ApiResult<StatusCode> {
    core.limit("reset_confirm", &client, core.web.login_quota)
        .await?;
    links::reset_password(&core, &tenant, &body.token, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms the email with the mailed link's token (valid 48 hours, once).
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "end users",
    request_body = VerifyBody,
    responses(
        (status = 204),
        (status = 400, description = "invalid_link", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn verify_email(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    Json(body): Json<VerifyBody>,
) -> ApiResult<StatusCode> {
    core.limit("verify_email", &client, core.web.login_quota)
        .await?;
    links::verify_email(&core, &tenant, &body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails the signed-in user a new link to confirm their email.
#[utoipa::path(post, path = "/api/v1/me/verify-email", tag = "end users",
    security(("bearer" = [])),
    responses(
        (status = 202, body = MailQueued),
        (status = 401, body = faro_http::ErrorBody),
        (status = 409, description = "email_verified", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn resend_verification(
    State(core): State<Core>,
    Extension(postbox): Extension<Postbox>,
    user: EndUser,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<MailQueued>)> {
    let per_address = faro_limits::parse_quota(PER_ADDRESS).ok().flatten();
    core.limit("verify_resend", &user.id, per_address).await?;
    let lang = mail_lang(&core, &user.tenant, &headers).await;
    let id = links::request_verification(&core, &user.tenant, &user.id, lang)
        .await
        .map_err(|e| match e {
            UserError::NotFound => {
                faro_http::ApiError::unauthorized("this account no longer exists")
            }
            other => other.into(),
        })?;
    links::send_soon(&core, &postbox, id);
    Ok((
        StatusCode::ACCEPTED,
        Json(MailQueued {
            message: "a link to confirm the email is on its way".into(),
        }),
    ))
}
