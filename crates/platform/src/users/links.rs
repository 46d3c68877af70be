//! Links mailed to end users: confirm the email (sent on registration, again on request) and
//! reset a forgotten password.
//!
//! A request writes a row to `mail_queue` in its own transaction and answers; the mail is then
//! sent at once by a task on this instance, and a job every 15 seconds sends what is left (the
//! SMTP server was down, the instance died mid-send), so a request answered is a mail sent.
//! A row is claimed by moving its `next_at` forward, so one instance sends it; a new row is
//! born claimed by the instance whose task sends it, so the other instances' jobs leave it
//! alone unless that instance dies first (then the lease runs out and any job sends it). The queue names
//! the user, never their address or a token: the one-use link is made when the mail is sent,
//! and only its hash is stored (`user_links`).
//!
//! Asking for a reset answers the same whether the address has an account or not, so the
//! answer does not tell who is registered.

use std::time::Duration;

use faro_http::Core;
use faro_mail::{Mail, Postbox};
use faro_store::outbox::NewEvent;
use faro_store::{Db, Job, StoreError, TenantId, new_id, unix_now};
use faro_web::i18n::Lang;
use sqlx::Row;

use super::mail_texts::{Purpose, mail};
use super::store::{self, Emails};
use super::{UserError, domain};
use crate::tenants::domain::Problem;

/// Tries per mail before it is marked failed (about a day of backoff).
const MAX_ATTEMPTS: i64 = 10;
/// How long a claim holds a row against other senders.
const LEASE_SECS: i64 = 120;
/// Sent and failed rows are kept this long (for support), then purged.
const KEEP_SECS: i64 = 7 * 86_400;
const TOKEN_CHARS: usize = 43;

/// Wait before try `attempts + 1`: 30 s, 1, 2, 4 … minutes, at most 4 hours.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 9) as u32;
    (30_i64 << exp).min(4 * 3600)
}

/// Queues a mail of `purpose` to the user in the caller's transaction, unless one is already
/// waiting; its id, to send now with [`send_soon`]. The row is born leased to this instance
/// (its first try counted), which [`send_soon`] then holds.
pub async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    user_id: &str,
    purpose: Purpose,
    lang: Lang,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let waiting: Option<String> = sqlx::query_scalar(
        "SELECT id FROM mail_queue WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 \
         AND status = 'queued'",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    if waiting.is_some() {
        return Ok(None);
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO mail_queue (id, tenant_id, user_id, kind, lang, status, attempts, next_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, 'queued', 1, $6, $7)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(lang.code())
    .bind(now + LEASE_SECS)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Some(id))
}

/// Sends the mail `id` that [`enqueue`] just queued (and leased to this instance) in the
/// background, now; the job retries it if this fails.
pub fn send_soon(core: &Core, postbox: &Postbox, id: Option<String>) {
    if let Some(id) = id {
        let (core, postbox) = (core.clone(), postbox.clone());
        tokio::spawn(async move {
            if let Err(e) = send_claimed(&core, &postbox, &id).await {
                tracing::warn!(error = %e, "sending a queued mail; the mail job retries it");
            }
        });
    }
}

/// Claims the row if it is due and nobody holds it: true when this caller may send it.
async fn claim(db: &Db, id: &str, now: i64) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE mail_queue SET next_at = $2, attempts = attempts + 1 \
         WHERE id = $1 AND status = 'queued' AND next_at <= $3",
    )
    .bind(id)
    .bind(now + LEASE_SECS)
    .bind(now)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(n == 1)
}

struct Queued {
    tenant: TenantId,
    user_id: String,
    purpose: Purpose,
    lang: Lang,
    attempts: i64,
}

async fn queued(db: &Db, id: &str) -> Result<Option<Queued>, StoreError> {
    let row = sqlx::query(
        "SELECT tenant_id, user_id, kind, lang, attempts FROM mail_queue \
         WHERE id = $1 AND status = 'queued'",
    )
    .bind(id)
    .fetch_optional(db.writer())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let kind: String = r.try_get("kind")?;
    let lang: String = r.try_get("lang")?;
    Ok(Some(Queued {
        tenant: TenantId::new(r.try_get::<String, _>("tenant_id")?),
        user_id: r.try_get("user_id")?,
        purpose: Purpose::parse(&kind)
            .ok_or_else(|| StoreError::corrupt(format!("mail_queue.kind {kind:?}")))?,
        lang: Lang::from_tag(&lang).unwrap_or(Lang::En),
        attempts: r.try_get("attempts")?,
    }))
}

async fn finish(db: &Db, id: &str, status: &str, error: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("UPDATE mail_queue SET status = $2, sent_at = $3, last_error = $4 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(unix_now())
        .bind(error)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// The public base of the tenant's pages: its first host name, else `PUBLIC_BASE_URL`.
async fn site(core: &Core, tenant: &TenantId) -> Result<(String, String), StoreError> {
    let row = crate::tenants::store::get(&core.db, tenant.as_str()).await?;
    let base = &core.web.public_base_url;
    let scheme = if base.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    Ok(match row {
        Some(t) => match t.hosts.first() {
            Some(host) => (format!("{scheme}://{host}"), t.name),
            None => (base.clone(), t.name),
        },
        None => (base.clone(), "Faro".into()),
    })
}

/// Sends queued mail `id` if it is due and unclaimed: makes its link, sends, marks it sent;
/// a failure waits for the next try (the job's).
pub async fn send_one(core: &Core, postbox: &Postbox, id: &str) -> Result<(), StoreError> {
    if !claim(&core.db, id, unix_now()).await? {
        return Ok(());
    }
    send_claimed(core, postbox, id).await
}

/// Sends queued mail `id`, whose lease this caller holds.
async fn send_claimed(core: &Core, postbox: &Postbox, id: &str) -> Result<(), StoreError> {
    let now = unix_now();
    let Some(q) = queued(&core.db, id).await? else {
        return Ok(());
    };
    let Some(user) = store::user_by_id(&core.db, Emails::of(core), &q.tenant, &q.user_id).await?
    else {
        // The account is gone: nothing to send.
        return finish(&core.db, id, "failed", Some("the account was deleted")).await;
    };
    if q.purpose == Purpose::VerifyEmail && user.email_verified_at.is_some() {
        return finish(&core.db, id, "sent", Some("already verified")).await;
    }
    let token = faro_auth::secret::random_base62(&mut rand::rng(), TOKEN_CHARS);
    sqlx::query(
        "INSERT INTO user_links (token_hash, tenant_id, user_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(faro_auth::secret::hash(&token))
    .bind(q.tenant.as_str())
    .bind(&q.user_id)
    .bind(q.purpose.as_str())
    .bind(now)
    .bind(now + q.purpose.ttl_secs())
    .execute(core.db.writer())
    .await?;
    let (base, name) = site(core, &q.tenant).await?;
    let link = format!("{base}{}?token={token}", q.purpose.path());
    let (subject, text) = mail(q.purpose, q.lang, &name, &link);
    let message = Mail {
        to: user.email.clone(),
        subject,
        text,
    };
    match postbox.send_as(&name, &message).await {
        Ok(()) => finish(&core.db, id, "sent", None).await,
        Err(e) => {
            let error = e.to_string();
            tracing::warn!(error = %error, attempt = q.attempts, "a mail to an end user was not sent");
            if q.attempts >= MAX_ATTEMPTS {
                return finish(&core.db, id, "failed", Some(&error)).await;
            }
            sqlx::query("UPDATE mail_queue SET next_at = $2, last_error = $3 WHERE id = $1")
                .bind(id)
                .bind(unix_now() + backoff_secs(q.attempts))
                .bind(&error)
                .execute(core.db.writer())
                .await?;
            Ok(())
        }
    }
}

/// Every 15 s: sends the due mail left unsent, purges old rows and dead links.
pub fn mail_job(core: Core, postbox: Postbox) -> Job {
    Job::new(
        "platform.send_mail",
        Duration::from_secs(15),
        move |db: Db| {
            let (core, postbox) = (core.clone(), postbox.clone());
            async move {
                let now = unix_now();
                let due: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM mail_queue WHERE status = 'queued' AND next_at <= $1 \
                     ORDER BY next_at LIMIT 200",
                )
                .bind(now)
                .fetch_all(db.reader())
                .await?;
                for id in due {
                    send_one(&core, &postbox, &id).await?;
                }
                sqlx::query("DELETE FROM mail_queue WHERE status <> 'queued' AND sent_at < $1")
                    .bind(now - KEEP_SECS)
                    .execute(db.writer())
                    .await?;
                sqlx::query("DELETE FROM user_links WHERE expires_at < $1")
                    .bind(now - 86_400)
                    .execute(db.writer())
                    .await?;
                Ok::<_, StoreError>(())
            }
        },
    )
}

/// Queues a new confirmation mail for a signed-in user (202), unless the email is confirmed.
pub async fn request_verification(
    core: &Core,
    tenant: &TenantId,
    user_id: &str,
    lang: Lang,
) -> Result<Option<String>, UserError> {
    let user = store::user_by_id(&core.db, Emails::of(core), tenant, user_id)
        .await?
        .ok_or(UserError::NotFound)?;
    if user.email_verified_at.is_some() {
        return Err(UserError::AlreadyVerified);
    }
    let mut tx = core.db.writer().begin().await?;
    let id = enqueue(
        &mut tx,
        tenant,
        user_id,
        Purpose::VerifyEmail,
        lang,
        unix_now(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues a reset mail when `email` has an account here; the same answer when it has not.
pub async fn request_reset(
    core: &Core,
    tenant: &TenantId,
    email: &str,
    lang: Lang,
) -> Result<Option<String>, UserError> {
    if let Err(m) = domain::check_email(email) {
        return Err(UserError::Invalid(vec![Problem::new("email", m)]));
    }
    let email = domain::normalize_email(email);
    let Some(user) = store::user_by_email(&core.db, Emails::of(core), tenant, &email).await? else {
        return Ok(None);
    };
    let mut tx = core.db.writer().begin().await?;
    let id = enqueue(
        &mut tx,
        tenant,
        &user.id,
        Purpose::ResetPassword,
        lang,
        unix_now(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Spends a link of `purpose` in `tx`: its user, or `InvalidLink` when it is unknown, spent
/// or expired. Every link of the same purpose for that user dies with it.
async fn spend(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<String, UserError> {
    let user_id: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM user_links WHERE token_hash = $1 AND tenant_id = $2 \
         AND purpose = $3 AND used_at IS NULL AND expires_at > $4",
    )
    .bind(faro_auth::secret::hash(token.trim()))
    .bind(tenant.as_str())
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let user_id = user_id.ok_or(UserError::InvalidLink)?;
    // Guarded by used_at IS NULL: of two requests spending one link at once, one wins.
    let spent = sqlx::query(
        "UPDATE user_links SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 \
         AND purpose = $3 AND used_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(&user_id)
    .bind(purpose.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if spent == 0 {
        return Err(UserError::InvalidLink);
    }
    Ok(user_id)
}

async fn mark_verified(
    core: &Core,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    user_id: &str,
    now: i64,
) -> Result<(), UserError> {
    let n = sqlx::query(
        "UPDATE end_users SET email_verified_at = $3, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND email_verified_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        let event = NewEvent::new(
            tenant.as_str(),
            "user.email_verified",
            user_id,
            &serde_json::json!({"user_id": user_id}),
        )?;
        faro_store::outbox::append(tx, core.db.backend(), &[event]).await?;
    }
    Ok(())
}

/// Confirms the email of the link's user; publishes `user.email_verified` the first time.
pub async fn verify_email(core: &Core, tenant: &TenantId, token: &str) -> Result<(), UserError> {
    let now = unix_now();
    let mut tx = core.db.writer().begin().await?;
    let user_id = spend(&mut tx, tenant, token, Purpose::VerifyEmail, now).await?;
    mark_verified(core, &mut tx, tenant, &user_id, now).await?;
    tx.commit().await?;
    core.wake.notify();
    Ok(())
}

/// Sets a new password with a reset link. Every sign-in of the account ends (whoever knew
/// the old password is out), and the email counts as confirmed (the link reached it).
pub async fn reset_password(
    core: &Core,
    tenant: &TenantId,
    token: &str,
    password: &str,
) -> Result<(), UserError> {
    if let Err(m) = faro_auth::policy::check(password) {
        return Err(UserError::Invalid(vec![Problem::new("password", m)]));
    }
    let hash = faro_auth::password::hash_blocking(password.to_string())
        .await
        .map_err(|e| UserError::Token(e.to_string()))?;
    let now = unix_now();
    let mut tx = core.db.writer().begin().await?;
    let user_id = spend(&mut tx, tenant, token, Purpose::ResetPassword, now).await?;
    sqlx::query(
        "UPDATE end_users SET pass_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(&user_id)
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 \
         AND revoked_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(&user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let ended = super::deny_sign_ins(&mut tx, tenant, &user_id, "", now).await?;
    mark_verified(core, &mut tx, tenant, &user_id, now).await?;
    tx.commit().await?;
    super::denied_here(core, &ended);
    core.wake.notify();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_four_hours() {
        assert_eq!(backoff_secs(0), 30);
        assert_eq!(backoff_secs(1), 60);
        assert_eq!(backoff_secs(5), 960);
        assert_eq!(backoff_secs(9), 4 * 3600);
        assert_eq!(backoff_secs(50), 4 * 3600);
        assert_eq!(backoff_secs(-3), 30);
        let total: i64 = (0..MAX_ATTEMPTS).map(backoff_secs).sum();
        assert!((3600..2 * 86_400).contains(&total), "{total}");
    }
}
