//! End users' and refresh tokens' rows. Every query names its tenant, except the refresh
//! token lookup by hash (the caller checks the row's tenant against the request's).

use faro_auth::seal::{BlindIndex, Sealer, is_sealed};
use faro_http::module::SealedColumn;
use faro_store::{Db, StoreError, TenantId};
use serde_json::{Map, Value};
use sqlx::Row;

/// Where end users' emails are kept, sealed (rows with an index; older ones hold the
/// address in clear until they are written again).
pub const EMAIL_COLUMN: SealedColumn = SealedColumn {
    table: "end_users",
    key: "id",
    column: "email",
    context: "end_users.email",
    only: Some("email_index IS NOT NULL"),
    tenantless: false,
};

/// An end user's custom field values (a JSON object), sealed like the email.
pub const FIELDS_COLUMN: SealedColumn = SealedColumn {
    table: "end_users",
    key: "id",
    column: "fields",
    context: "end_users.fields",
    only: Some("fields IS NOT NULL"),
    tenantless: false,
};

/// How an end user's email is kept: sealed, and found by its blind index.
#[derive(Clone, Copy)]
pub struct Emails<'a> {
    pub sealer: &'a Sealer,
    pub index: &'a BlindIndex,
}

impl Emails<'_> {
    pub fn of(core: &faro_http::Core) -> Emails<'_> {
        Emails {
            sealer: &core.sealer,
            index: &core.blind_index,
        }
    }

    fn index(&self, tenant: &TenantId, email: &str) -> String {
        self.index
            .of(&EMAIL_COLUMN.context_for(tenant.as_str()), email)
    }

    fn seal(&self, tenant: &TenantId, email: &str) -> String {
        self.sealer
            .seal_str(&EMAIL_COLUMN.context_for(tenant.as_str()), email)
    }

    fn seal_fields(&self, tenant: &TenantId, fields: &Map<String, Value>) -> Option<String> {
        (!fields.is_empty()).then(|| {
            self.sealer.seal_str(
                &FIELDS_COLUMN.context_for(tenant.as_str()),
                &Value::Object(fields.clone()).to_string(),
            )
        })
    }

    fn open_fields(
        &self,
        tenant: &TenantId,
        stored: Option<String>,
    ) -> Result<Map<String, Value>, StoreError> {
        let Some(stored) = stored else {
            return Ok(Map::new());
        };
        let text = if is_sealed(&stored) {
            self.sealer
                .open_str(&FIELDS_COLUMN.context_for(tenant.as_str()), &stored)
                .map_err(|e| StoreError::corrupt(format!("an end user's fields: {e}")))?
        } else {
            stored
        };
        match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(StoreError::corrupt(
                "an end user's fields are not a JSON object",
            )),
        }
    }

    fn open(&self, tenant: &TenantId, stored: String) -> Result<String, StoreError> {
        if !is_sealed(&stored) {
            return Ok(stored);
        }
        self.sealer
            .open_str(&EMAIL_COLUMN.context_for(tenant.as_str()), &stored)
            .map_err(|e| StoreError::corrupt(format!("an end user's email: {e}")))
    }
}

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: String,
    pub tenant: TenantId,
    pub email: String,
    pub pass_hash: String,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// The tenant's custom fields (`user_fields` in its settings), normalised.
    pub fields: Map<String, Value>,
}

const USER_COLUMNS: &str =
    "id, tenant_id, email, pass_hash, email_verified_at, created_at, last_login_at, fields";

fn user_of(emails: Emails<'_>, r: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    let tenant = TenantId::new(r.try_get::<String, _>("tenant_id")?);
    let fields = emails.open_fields(&tenant, r.try_get("fields")?)?;
    Ok(UserRow {
        id: r.try_get("id")?,
        email: emails.open(&tenant, r.try_get("email")?)?,
        tenant,
        pass_hash: r.try_get("pass_hash")?,
        email_verified_at: r.try_get("email_verified_at")?,
        created_at: r.try_get("created_at")?,
        last_login_at: r.try_get("last_login_at")?,
        fields,
    })
}

/// Inserts a user in the caller's transaction; `Conflict` when the email is taken there.
pub async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    emails: Emails<'_>,
    user: &UserRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO end_users (id, tenant_id, email, email_index, pass_hash, created_at, \
         updated_at, fields) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&user.id)
    .bind(user.tenant.as_str())
    .bind(emails.seal(&user.tenant, &user.email))
    .bind(emails.index(&user.tenant, &user.email))
    .bind(&user.pass_hash)
    .bind(user.created_at)
    .bind(emails.seal_fields(&user.tenant, &user.fields))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// By the blind index of the (normalised) address; rows from before sealing by the address.
pub async fn user_by_email(
    db: &Db,
    emails: Emails<'_>,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<UserRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM end_users WHERE tenant_id = $1 \
         AND (email_index = $2 OR (email_index IS NULL AND email = $3))"
    )))
    .bind(tenant.as_str())
    .bind(emails.index(tenant, email))
    .bind(email)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(|r| user_of(emails, r))
    .transpose()
}

pub async fn user_by_id(
    db: &Db,
    emails: Emails<'_>,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<UserRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM end_users WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .as_ref()
    .map(|r| user_of(emails, r))
    .transpose()
}

/// Replaces the user's custom field values.
pub async fn set_fields(
    db: &Db,
    emails: Emails<'_>,
    tenant: &TenantId,
    id: &str,
    fields: &Map<String, Value>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE end_users SET fields = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(emails.seal_fields(tenant, fields))
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

pub async fn record_login(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE end_users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(db.writer())
        .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct RefreshRow {
    pub id: String,
    pub tenant: TenantId,
    pub user_id: String,
    pub family: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A refresh token to store (its hash, never the token).
pub struct NewRefresh<'a> {
    pub id: &'a str,
    pub tenant: &'a TenantId,
    pub user_id: &'a str,
    pub family: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_refresh(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: NewRefresh<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, tenant_id, user_id, family, token_hash, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id)
    .bind(r.tenant.as_str())
    .bind(r.user_id)
    .bind(r.family)
    .bind(r.token_hash)
    .bind(r.created_at)
    .bind(r.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The token with this hash, whichever tenant (the caller compares).
pub async fn refresh_by_hash_any_tenant(
    db: &Db,
    token_hash: &str,
) -> Result<Option<RefreshRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, tenant_id, user_id, family, expires_at, used_at, revoked_at \
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.writer())
    .await?;
    row.map(|r| {
        let tenant: String = r.try_get("tenant_id")?;
        Ok(RefreshRow {
            id: r.try_get("id")?,
            tenant: TenantId::new(tenant),
            user_id: r.try_get("user_id")?,
            family: r.try_get("family")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    })
    .transpose()
}

/// Spends the token, compare-and-set: of two refreshes racing with one token, one wins; the
/// other sees false (and counts as a reuse).
pub async fn spend_refresh(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL \
         AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Ends a sign-in: every token of the family is revoked. Returns how many were live.
pub async fn revoke_family(
    db: &Db,
    tenant: &TenantId,
    family: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND family = $2 \
         AND revoked_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(family)
    .bind(now)
    .execute(db.writer())
    .await?
    .rows_affected())
}

/// The user's sign-ins that may still hold a live access token: those given a token pair (a
/// login or a refresh) since `since`, but `except`. Every access token is issued beside a
/// refresh token, so a sign-in with no refresh token newer than the access lifetime has no
/// access token left either.
pub async fn recent_sign_ins(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    user_id: &str,
    since: i64,
    except: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT family FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2 \
         AND created_at >= $3 AND family <> $4",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(since)
    .bind(except)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

/// Forgets refresh tokens a day past their expiry.
pub async fn purge_refresh_all_tenants(db: &Db, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(now - 24 * 3600)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

/// The tenant's end users, newest first (ids are time-ordered); `before` is the last page's
/// last id.
pub async fn list_users(
    db: &Db,
    emails: Emails<'_>,
    tenant: &TenantId,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM end_users WHERE tenant_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    )))
    .bind(tenant.as_str())
    .bind(before.unwrap_or("~"))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| user_of(emails, r)).collect()
}

pub async fn set_password(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    pass_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE end_users SET pass_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(pass_hash)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Revokes every live refresh token of the user but those of the sign-in `keep`.
pub async fn revoke_other_sign_ins(
    db: &Db,
    tenant: &TenantId,
    user_id: &str,
    keep: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 \
         AND family <> $4 AND revoked_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(now)
    .bind(keep)
    .execute(db.writer())
    .await?
    .rows_affected())
}

/// Deletes the account (its refresh tokens, mailed links and queued mail go with it) and
/// unlinks the visitors it was; false when the tenant has no such user.
pub async fn delete_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
) -> Result<bool, StoreError> {
    for table in ["refresh_tokens", "user_links", "mail_queue"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE visitors SET user_id = NULL, merged_at = NULL WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let n = sqlx::query("DELETE FROM end_users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}
