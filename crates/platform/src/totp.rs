//! Two-factor sign-in for staff (TOTP, `faro_auth::totp`): a staff member turns it on for
//! their own account (`POST /api/v1/admin/me/totp`, then `…/totp/confirm` with a first code,
//! which answers ten recovery codes, shown once), and from then on signing in needs a code
//! from their app or one recovery code. `DELETE /api/v1/admin/me/totp` with a code turns it
//! off. The secret is sealed at rest (`DATA_KEYS`); every change is audited.
//!
//! A code is good once: the step of the last accepted code is stored and moved forward with
//! a compare-and-set, so the same code sent to two instances at once signs in once.

use axum::extract::State;
use axum::http::StatusCode;
use faro_auth::totp;
use faro_http::auth::Viewer;
use faro_http::module::SealedColumn;
use faro_http::tenant::Staff;
use faro_http::{ApiError, ApiResult, ClientAddr, Core, Json};
use faro_store::{StoreError, TenantId, unix_now};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::{self, Actor, Entry};

/// Where the secrets live, sealed.
pub const SECRET_COLUMN: SealedColumn = SealedColumn {
    table: "users",
    key: "id",
    column: "totp_secret",
    context: "users.totp_secret",
    only: None,
    tenantless: false,
};

/// An account's two-factor state.
struct TotpRow {
    secret: Option<String>,
    enabled: bool,
    last_step: i64,
}

async fn row(core: &Core, tenant: &TenantId, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
    let r = sqlx::query(
        "SELECT totp_secret, totp_enabled_at, totp_last_step FROM users \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_optional(core.db.writer())
    .await?;
    r.map(|r| {
        Ok(TotpRow {
            secret: r.try_get("totp_secret")?,
            enabled: r.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some(),
            last_step: r.try_get("totp_last_step")?,
        })
    })
    .transpose()
}

fn open_secret(core: &Core, tenant: &TenantId, sealed: &str) -> ApiResult<Vec<u8>> {
    core.sealer
        .open(&SECRET_COLUMN.context_for(tenant.as_str()), sealed)
        .map_err(|e| ApiError::internal(format!("the two-factor secret does not open: {e}")))
}

/// Whether the account has two-factor sign-in on (for the sign-in).
pub async fn enabled(core: &Core, tenant: &TenantId, user_id: &str) -> ApiResult<bool> {
    Ok(row(core, tenant, user_id).await?.is_some_and(|r| r.enabled))
}

fn wrong_code() -> ApiError {
    ApiError::unauthorized("the two-factor code is wrong or already used").with_code("invalid_totp")
}

/// Accepts a code from the app (once) or an unused recovery code (spent). For the sign-in and
/// for turning two-factor off.
pub async fn check_code(
    core: &Core,
    tenant: &TenantId,
    user_id: &str,
    code: &str,
) -> ApiResult<()> {
    let Some(r) = row(core, tenant, user_id).await? else {
        return Err(wrong_code());
    };
    let Some(sealed) = r.secret.filter(|_| r.enabled) else {
        return Err(wrong_code());
    };
    if let Some(hash) = totp::recovery_hash(code) {
        let spent = sqlx::query(
            "UPDATE staff_recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(unix_now())
        .bind(user_id)
        .bind(&hash)
        .execute(core.db.writer())
        .await
        .map_err(StoreError::from)?
        .rows_affected();
        return if spent == 1 {
            Ok(())
        } else {
            Err(wrong_code())
        };
    }
    let secret = open_secret(core, tenant, &sealed)?;
    let last = u64::try_from(r.last_step).unwrap_or(0);
    let now = u64::try_from(unix_now()).unwrap_or(0);
    let step = totp::verify(&secret, code, now, last).ok_or_else(wrong_code)?;
    // Another sign-in with a code of this step (or later) won meanwhile: this one is a replay.
    let moved =
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step as i64)
            .bind(user_id)
            .execute(core.db.writer())
            .await
            .map_err(StoreError::from)?
            .rows_affected();
    if moved == 1 {
        Ok(())
    } else {
        Err(wrong_code())
    }
}

/// Whose two-factor sign-in a call changes: the signed-in staff member's own account.
pub struct Account<'a> {
    pub tenant: &'a TenantId,
    pub user_id: &'a str,
    pub username: &'a str,
    /// Who the audit log names.
    pub actor: Actor,
}

impl<'a> Account<'a> {
    pub fn of(staff: &'a Staff, client: Option<&str>) -> Self {
        Account {
            tenant: &staff.tenant,
            user_id: &staff.claims.sub,
            username: &staff.claims.name,
            actor: Actor::staff(staff, client),
        }
    }
}

async fn record(core: &Core, who: &Account<'_>, action: &str) -> ApiResult<()> {
    let mut tx = core.db.writer().begin().await.map_err(StoreError::from)?;
    audit::record(
        &mut tx,
        Entry {
            tenant: who.tenant,
            actor: &who.actor,
            action,
            target: who.user_id,
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[derive(Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// The secret, base32, for typing into an authenticator app.
    pub secret: String,
    /// The same as an `otpauth://` link, for a QR code.
    pub otpauth_url: String,
}

/// Starts turning two-factor sign-in on: a new secret for the app (replacing one not yet
/// confirmed). 409 `totp_enabled` when it is on already.
pub async fn start(core: &Core, who: &Account<'_>) -> ApiResult<TotpEnrollment> {
    if row(core, who.tenant, who.user_id)
        .await?
        .is_some_and(|r| r.enabled)
    {
        return Err(ApiError::conflict(
            "totp_enabled",
            "two-factor sign-in is already on: turn it off first to change the app",
        ));
    }
    let secret = totp::new_secret();
    let sealed = core
        .sealer
        .seal(&SECRET_COLUMN.context_for(who.tenant.as_str()), &secret);
    sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_last_step = 0 \
         WHERE tenant_id = $2 AND id = $3 AND totp_enabled_at IS NULL",
    )
    .bind(&sealed)
    .bind(who.tenant.as_str())
    .bind(who.user_id)
    .execute(core.db.writer())
    .await
    .map_err(StoreError::from)?;
    let issuer = format!("Faro ({})", who.tenant.as_str());
    Ok(TotpEnrollment {
        otpauth_url: totp::otpauth_url(&secret, &issuer, who.username),
        secret: totp::secret_text(&secret),
    })
}

/// The secret of an enrollment started and not yet confirmed, as [`start`] gave it (for the
/// panel, which shows it again until the first code arrives).
pub async fn pending(core: &Core, who: &Account<'_>) -> ApiResult<Option<TotpEnrollment>> {
    let Some(r) = row(core, who.tenant, who.user_id).await? else {
        return Ok(None);
    };
    let Some(sealed) = r.secret.filter(|_| !r.enabled) else {
        return Ok(None);
    };
    let secret = open_secret(core, who.tenant, &sealed)?;
    let issuer = format!("Faro ({})", who.tenant.as_str());
    Ok(Some(TotpEnrollment {
        otpauth_url: totp::otpauth_url(&secret, &issuer, who.username),
        secret: totp::secret_text(&secret),
    }))
}

/// Confirms an enrollment with a first code: two-factor sign-in is on from now, and the
/// answer is the ten recovery codes (shown only now).
pub async fn confirm_code(core: &Core, who: &Account<'_>, code: &str) -> ApiResult<Vec<String>> {
    let (tenant, user_id) = (who.tenant, who.user_id);
    let r = row(core, tenant, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    if r.enabled {
        return Err(ApiError::conflict(
            "totp_enabled",
            "two-factor sign-in is already on",
        ));
    }
    let sealed = r.secret.ok_or_else(|| {
        ApiError::conflict(
            "totp_not_started",
            "start with POST /api/v1/admin/me/totp to get a secret for the app",
        )
    })?;
    let secret = open_secret(core, tenant, &sealed)?;
    let now = u64::try_from(unix_now()).unwrap_or(0);
    let step = totp::verify(&secret, code, now, 0).ok_or_else(wrong_code)?;
    let codes = totp::new_recovery_codes();
    let mut tx = core.db.writer().begin().await.map_err(StoreError::from)?;
    let on = sqlx::query(
        "UPDATE users SET totp_enabled_at = $1, totp_last_step = $2 \
         WHERE tenant_id = $3 AND id = $4 AND totp_enabled_at IS NULL AND totp_secret = $5",
    )
    .bind(unix_now())
    .bind(step as i64)
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(&sealed)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .rows_affected();
    if on != 1 {
        return Err(ApiError::conflict(
            "totp_enabled",
            "two-factor sign-in changed meanwhile: look again",
        ));
    }
    sqlx::query("DELETE FROM staff_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    for code in &codes {
        let hash = totp::recovery_hash(code)
            .ok_or_else(|| ApiError::internal("a recovery code that does not hash"))?;
        sqlx::query(
            "INSERT INTO staff_recovery_codes (user_id, tenant_id, code_hash) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(tenant.as_str())
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    record(core, who, "staff.totp_on").await?;
    Ok(codes)
}

/// Turns two-factor sign-in off with a current code or a recovery code; 409 when it is off,
/// or when the site requires it.
pub async fn turn_off(core: &Core, who: &Account<'_>, code: &str) -> ApiResult<()> {
    let (tenant, user_id) = (who.tenant, who.user_id);
    if !enabled(core, tenant, user_id).await? {
        return Err(ApiError::conflict(
            "totp_off",
            "two-factor sign-in is not on",
        ));
    }
    if core.tenants.state(&core.db, tenant).await.require_totp {
        return Err(ApiError::conflict(
            "totp_required_by_site",
            "this site requires two-factor sign-in of all its staff: it cannot be turned off",
        ));
    }
    check_code(core, tenant, user_id, code).await?;
    let mut tx = core.db.writer().begin().await.map_err(StoreError::from)?;
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    sqlx::query("DELETE FROM staff_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    record(core, who, "staff.totp_off").await
}

/// Starts turning two-factor sign-in on: a new secret for the app. Nothing changes for the
/// sign-in until `…/confirm` receives a first code. Starting again replaces the secret.
#[utoipa::path(post, path = "/api/v1/admin/me/totp", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 201, body = TotpEnrollment),
        (status = 401, body = faro_http::ErrorBody),
        (status = 409, description = "totp_enabled: already on", body = faro_http::ErrorBody),
    ))]
pub async fn begin(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    ClientAddr(client): ClientAddr,
) -> ApiResult<(StatusCode, Json<TotpEnrollment>)> {
    let who = Account::of(&staff, client.as_deref());
    Ok((StatusCode::CREATED, Json(start(&core, &who).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits from the app (or, to turn it off, a recovery code).
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each signs in once instead of a code. Shown only now: keep them somewhere safe.
    pub recovery_codes: Vec<String>,
}

/// Turns two-factor sign-in on with a first code from the app; answers the recovery codes.
#[utoipa::path(post, path = "/api/v1/admin/me/totp/confirm", tag = "accounts",
    request_body = TotpCode, security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, description = "invalid_totp", body = faro_http::ErrorBody),
        (status = 409, description = "totp_enabled, or totp_not_started", body = faro_http::ErrorBody),
    ))]
pub async fn confirm(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    ClientAddr(client): ClientAddr,
    Json(body): Json<TotpCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let who = Account::of(&staff, client.as_deref());
    Ok(Json(RecoveryCodes {
        recovery_codes: confirm_code(&core, &who, &body.code).await?,
    }))
}

/// Turns two-factor sign-in off; needs a current code or a recovery code.
#[utoipa::path(delete, path = "/api/v1/admin/me/totp", tag = "accounts",
    request_body = TotpCode, security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, description = "invalid_totp", body = faro_http::ErrorBody),
        (status = 409, description = "totp_off: it is not on; totp_required_by_site", body = faro_http::ErrorBody),
    ))]
pub async fn disable(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    ClientAddr(client): ClientAddr,
    Json(body): Json<TotpCode>,
) -> ApiResult<StatusCode> {
    let who = Account::of(&staff, client.as_deref());
    turn_off(&core, &who, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
