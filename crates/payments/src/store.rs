//! Every SQL statement of the payments module. An intent changes only inside a write
//! transaction that holds its row (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE`
//! already holds the one write lock), so two deliveries of the provider's events, or a
//! webhook and a cancel, cannot both read the old state.

use faro_store::{Backend, Db, StoreError, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

// ---- settings -----------------------------------------------------------------------------

pub struct SettingsRow {
    pub settings: String,
    pub queue_depth: i64,
    pub queue_reported_at: Option<i64>,
}

pub async fn settings(db: &Db, tenant: &TenantId) -> Result<Option<SettingsRow>, StoreError> {
    let row = sqlx::query(
        "SELECT settings, queue_depth, queue_reported_at FROM payments_settings \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(SettingsRow {
            settings: r.try_get(0)?,
            queue_depth: r.try_get(1)?,
            queue_reported_at: r.try_get(2)?,
        })
    })
    .transpose()
}

pub async fn put_settings(
    db: &Db,
    tenant: &TenantId,
    settings: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payments_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, \
         updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(settings)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

pub async fn put_queue(db: &Db, tenant: &TenantId, depth: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payments_settings (tenant_id, settings, queue_depth, queue_reported_at, \
         updated_at) VALUES ($1, '{}', $2, $3, $3) ON CONFLICT (tenant_id) DO UPDATE SET \
         queue_depth = excluded.queue_depth, queue_reported_at = excluded.queue_reported_at",
    )
    .bind(tenant.as_str())
    .bind(depth)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

// ---- quotes -------------------------------------------------------------------------------

pub struct NewQuote<'a> {
    pub id: &'a str,
    pub quote: &'a str,
    pub amount_cents: i64,
    pub currency: &'a str,
    pub expires_at: i64,
    pub at: i64,
}

pub async fn insert_quote(db: &Db, tenant: &TenantId, q: &NewQuote<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payments_quotes (tenant_id, id, quote, amount_cents, currency, expires_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_str())
    .bind(q.id)
    .bind(q.quote)
    .bind(q.amount_cents)
    .bind(q.currency)
    .bind(q.expires_at)
    .bind(q.at)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// A quote's JSON.
pub async fn quote(tx: &mut Tx, tenant: &TenantId, id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT quote FROM payments_quotes WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
}

/// Quotes that expired over a day ago: an intent keeps its own amount, nothing needs them.
pub async fn purge_quotes(db: &Db, before: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM payments_quotes WHERE expires_at < $1")
        .bind(before)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

// ---- intents ------------------------------------------------------------------------------

/// An intent as stored. `state` is the domain's `Intent` (status, refunds) as JSON.
#[derive(Clone, Debug)]
pub struct IntentRow {
    pub id: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub user_id: String,
    pub purpose: String,
    pub reference: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: String,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const INTENT: &str = "id, provider, provider_ref, user_id, purpose, reference, amount_cents, \
                      currency, status, state, created_at, updated_at";

fn intent_row(r: &AnyRow) -> Result<IntentRow, sqlx::Error> {
    Ok(IntentRow {
        id: r.try_get(0)?,
        provider: r.try_get(1)?,
        provider_ref: r.try_get(2)?,
        user_id: r.try_get(3)?,
        purpose: r.try_get(4)?,
        reference: r.try_get(5)?,
        amount_cents: r.try_get(6)?,
        currency: r.try_get(7)?,
        status: r.try_get(8)?,
        state: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

pub async fn insert_intent(
    tx: &mut Tx,
    tenant: &TenantId,
    i: &IntentRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payments_intents (tenant_id, id, provider, provider_ref, user_id, purpose, \
         reference, amount_cents, currency, status, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tenant.as_str())
    .bind(&i.id)
    .bind(&i.provider)
    .bind(&i.provider_ref)
    .bind(&i.user_id)
    .bind(&i.purpose)
    .bind(&i.reference)
    .bind(i.amount_cents)
    .bind(&i.currency)
    .bind(&i.status)
    .bind(&i.state)
    .bind(i.created_at)
    .bind(i.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The intent, its row held until `tx` ends.
pub async fn lock_intent(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<IntentRow>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql =
        format!("SELECT {INTENT} FROM payments_intents WHERE tenant_id = $1 AND id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(intent_row).transpose().map_err(Into::into)
}

pub async fn intent(db: &Db, tenant: &TenantId, id: &str) -> Result<Option<IntentRow>, StoreError> {
    let sql = format!("SELECT {INTENT} FROM payments_intents WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(intent_row).transpose().map_err(Into::into)
}

/// The intent a provider knows as `provider_ref`.
pub async fn intent_by_ref(
    db: &Db,
    tenant: &TenantId,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<IntentRow>, StoreError> {
    let sql = format!(
        "SELECT {INTENT} FROM payments_intents WHERE tenant_id = $1 AND provider = $2 \
         AND provider_ref = $3"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(intent_row).transpose().map_err(Into::into)
}

pub async fn set_provider_ref(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    provider_ref: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE payments_intents SET provider_ref = $3 WHERE tenant_id = $1 AND id = $2 \
         AND provider_ref IS NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(provider_ref)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The tenant's intents (or one user's), newest first (ids are UUIDv7: time-ordered),
/// before the cursor's id.
pub async fn list_intents(
    db: &Db,
    tenant: &TenantId,
    user: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> Result<Vec<IntentRow>, StoreError> {
    let mut sql = format!("SELECT {INTENT} FROM payments_intents WHERE tenant_id = $1");
    let mut n = 2;
    if user.is_some() {
        sql.push_str(&format!(" AND user_id = ${n}"));
        n += 1;
    }
    if before.is_some() {
        sql.push_str(&format!(" AND id < ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
    if let Some(user) = user {
        q = q.bind(user);
    }
    if let Some(id) = before {
        q = q.bind(id);
    }
    let rows = q
        .bind(i64::try_from(limit + 1).unwrap_or(i64::MAX))
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(intent_row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// Intents of `provider` still open at the provider (not `succeeded`, not `canceled`) and
/// unchanged since `before`, oldest first, across tenants: the reconciliation's work list.
pub async fn stale_intents(
    db: &Db,
    provider: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, IntentRow)>, StoreError> {
    let sql = format!(
        "SELECT {INTENT}, tenant_id FROM payments_intents WHERE provider = $1 \
         AND status NOT IN ('succeeded', 'canceled') AND provider_ref IS NOT NULL \
         AND updated_at < $2 ORDER BY updated_at LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(provider)
        .bind(before)
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(12)?, intent_row(r)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Marks an intent as looked at now (the reconciliation moves on to others).
pub async fn touch_intent(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE payments_intents SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(db.writer())
        .await?;
    Ok(())
}

pub async fn update_intent(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &str,
    status: &str,
    state: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE payments_intents SET status = $3, state = $4, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(status)
    .bind(state)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---- provider events ----------------------------------------------------------------------

/// Records a provider event as taken; `false` when it was taken before (a redelivery).
pub async fn take_event(
    tx: &mut Tx,
    tenant: &TenantId,
    provider: &str,
    event_id: &str,
    intent_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO payments_provider_events (tenant_id, provider, event_id, intent_id, kind, \
         received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .bind(event_id)
    .bind(intent_id)
    .bind(kind)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
