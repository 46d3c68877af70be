//! Every SQL statement of the module. Functions take the tenant and filter on it, so another
//! tenant's endpoint or delivery is simply absent (404 upstream); the few that span tenants
//! (the fan-out, the senders' due-query, the purge) say so in their name (`_all_tenants`).
//! Times are unix milliseconds throughout (see the migration).

use faro_http::audit::Actor;
use faro_store::outbox::ConsumerTx;
use faro_store::{Db, Event, StoreError, TenantId, multi_row};
use faro_webhooks_domain::{Envelope, matches_any};
use sqlx::Row;
use sqlx::any::AnyRow;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// Delivery rows per `INSERT`: 7 parameters each.
const ROWS_PER_INSERT: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    /// `whsec_...`: what deliveries are signed with.
    pub secret: String,
    pub event_kinds: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const ENDPOINT_COLUMNS: &str = "id, url, secret, event_kinds, enabled, created_at, updated_at";

fn kinds_of(id: &str, json: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::corrupt(format!("event_kinds of webhook {id}: {e}")))
}

fn endpoint_of(r: &AnyRow) -> Result<EndpointRow, StoreError> {
    let id: String = r.try_get(0)?;
    let kinds: String = r.try_get(3)?;
    Ok(EndpointRow {
        event_kinds: kinds_of(&id, &kinds)?,
        id,
        url: r.try_get(1)?,
        secret: r.try_get(2)?,
        enabled: r.try_get::<i64, _>(4)? != 0,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

fn kinds_json(kinds: &[String]) -> String {
    serde_json::Value::from(kinds.to_vec()).to_string()
}

pub async fn count_endpoints(db: &Db, tenant: &TenantId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(db.reader())
            .await?
            .try_get(0)?,
    )
}

/// Why a new endpoint was not written.
#[derive(Debug)]
pub enum NoRoom {
    /// The installation's cap, whatever the plan.
    Cap(usize),
    /// The tenant's plan.
    Quota(faro_store::quota::Exceeded),
}

/// Writes a new endpoint unless the tenant has `cap` already or its plan's `webhooks` quota
/// is used up (the inner `Err`). The count and the insert are one transaction that locks the
/// tenant's row first, so concurrent creates never overshoot either limit.
pub async fn insert_endpoint(
    db: &Db,
    tenant: &TenantId,
    e: &EndpointRow,
    cap: usize,
    by: Option<&Actor>,
) -> Result<Result<(), NoRoom>, StoreError> {
    const COUNT: &str = "SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1";
    let mut tx = db.writer().begin().await?;
    let quota = faro_store::quota::Quota::Webhooks;
    if let Err(over) = faro_store::quota::guard(&mut tx, tenant, quota, COUNT, 1).await? {
        return Ok(Err(NoRoom::Quota(over)));
    }
    let count: i64 = sqlx::query(COUNT)
        .bind(tenant.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if count >= cap as i64 {
        return Ok(Err(NoRoom::Cap(cap)));
    }
    sqlx::query(
        "INSERT INTO webhook_endpoints \
         (id, tenant_id, url, secret, event_kinds, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(tenant.as_str())
    .bind(&e.url)
    .bind(&e.secret)
    .bind(kinds_json(&e.event_kinds))
    .bind(i64::from(e.enabled))
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut *tx)
    .await?;
    if let Some(by) = by {
        faro_http::audit::record_change(
            &mut tx,
            tenant,
            by,
            "webhook.create",
            &e.id,
            None,
            Some(shown(e)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// An endpoint as the audit log keeps it: never its secret.
fn shown(e: &EndpointRow) -> serde_json::Value {
    serde_json::json!({"url": e.url, "event_kinds": e.event_kinds, "enabled": e.enabled})
}

async fn endpoint_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<EndpointRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(endpoint_of)
    .transpose()
}

/// A page of the tenant's endpoints in creation order (ids are UUIDv7), after `after`.
pub async fn list_endpoints(
    db: &Db,
    tenant: &TenantId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EndpointRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant.as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(endpoint_of).collect()
}

/// One endpoint of the tenant. Read from the writer, so a change just made is seen.
pub async fn get_endpoint(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<EndpointRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(endpoint_of)
    .transpose()
}

/// What a change of an endpoint sets; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub event_kinds: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Applies `change`; false when the tenant has no such endpoint.
pub async fn update_endpoint(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    change: &EndpointChange,
    now: i64,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let Some(before) = endpoint_in(&mut tx, tenant, id).await? else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), \
         event_kinds = COALESCE($4, event_kinds), enabled = COALESCE($5, enabled), updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(change.url.clone())
    .bind(change.event_kinds.as_deref().map(kinds_json))
    .bind(change.enabled.map(i64::from))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(by) = by {
        let after = EndpointRow {
            url: change.url.clone().unwrap_or_else(|| before.url.clone()),
            event_kinds: change
                .event_kinds
                .clone()
                .unwrap_or_else(|| before.event_kinds.clone()),
            enabled: change.enabled.unwrap_or(before.enabled),
            ..before.clone()
        };
        faro_http::audit::record_change(
            &mut tx,
            tenant,
            by,
            "webhook.update",
            id,
            Some(shown(&before)),
            Some(shown(&after)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Deletes the endpoint and (by the foreign key's cascade, and explicitly for good measure)
/// its deliveries; false when the tenant has no such endpoint.
pub async fn delete_endpoint(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let before = endpoint_in(&mut tx, tenant, id).await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if let (Some(by), Some(before)) = (by, before.as_ref()) {
        faro_http::audit::record_change(
            &mut tx,
            tenant,
            by,
            "webhook.delete",
            id,
            Some(shown(before)),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

// ---- deliveries -------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_kind: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub last_duration_ms: Option<i64>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_kind, status, attempts, \
    next_attempt_at, last_attempt_at, last_status_code, last_error, last_response, \
    last_duration_ms, delivered_at, created_at, updated_at";

fn delivery_of(r: &AnyRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: r.try_get(0)?,
        endpoint_id: r.try_get(1)?,
        event_id: r.try_get(2)?,
        event_kind: r.try_get(3)?,
        status: r.try_get(4)?,
        attempts: r.try_get(5)?,
        next_attempt_at: r.try_get(6)?,
        last_attempt_at: r.try_get(7)?,
        last_status_code: r.try_get(8)?,
        last_error: r.try_get(9)?,
        last_response: r.try_get(10)?,
        last_duration_ms: r.try_get(11)?,
        delivered_at: r.try_get(12)?,
        created_at: r.try_get(13)?,
        updated_at: r.try_get(14)?,
    })
}

/// A page of an endpoint's deliveries, newest first, before the delivery id `before`,
/// optionally of one status.
pub async fn list_deliveries(
    db: &Db,
    tenant: &TenantId,
    endpoint_id: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let mut sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE tenant_id = $1 AND endpoint_id = $2"
    );
    let mut n = 2;
    if status.is_some() {
        n += 1;
        sql.push_str(&format!(" AND status = ${n}"));
    }
    if before.is_some() {
        n += 1;
        sql.push_str(&format!(" AND id < ${n}"));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(endpoint_id);
    if let Some(s) = status {
        q = q.bind(s);
    }
    if let Some(b) = before {
        q = q.bind(b);
    }
    let rows = q.bind(limit).fetch_all(db.reader()).await?;
    rows.iter().map(delivery_of).collect()
}

/// One delivery of the tenant (from the writer: a replay just made is seen).
pub async fn get_delivery(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<DeliveryRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(delivery_of)
    .transpose()
}

/// Queues a delivery again, whatever its status: pending, due now, attempts counted afresh. An
/// attempt in flight loses its lease, so its outcome is not recorded over the replay. Returns
/// the row as the replay left it (RETURNING: a sender may pick it up the next instant, so a
/// second read could already see the new attempt); None when the tenant has no such delivery.
pub async fn replay(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<Option<DeliveryRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, \
         lease_owner = NULL, lease_until = NULL, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 RETURNING {DELIVERY_COLUMNS}"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(delivery_of)
    .transpose()
}

// ---- the fan-out (in the "webhooks" consumer's transaction) -------------------------------

/// For each event, one `pending` delivery per enabled endpoint of the event's tenant whose
/// patterns match its kind, due now; inserted in the consumer's transaction, so they exist
/// exactly when the cursor has moved past the event. A delivery that already exists (the same
/// endpoint and event) is left alone. Returns how many were created.
/// Whether any tenant has an enabled endpoint (the fan-out's [`Consumer::active_when`]).
///
/// [`Consumer::active_when`]: faro_store::Consumer::active_when
pub async fn any_endpoint_enabled(db: &Db) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM webhook_endpoints WHERE enabled = 1 LIMIT 1")
            .fetch_optional(db.reader())
            .await?
            .is_some(),
    )
}

pub async fn fan_out_all_tenants(
    tx: &mut ConsumerTx,
    events: &[Event],
    now: i64,
) -> Result<u64, StoreError> {
    let mut tenants: Vec<&str> = events.iter().map(|e| e.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    if tenants.is_empty() {
        return Ok(0);
    }
    let list = (1..=tenants.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = multi_row(
        format!(
            "SELECT id, tenant_id, event_kinds FROM webhook_endpoints \
             WHERE enabled = 1 AND tenant_id IN ({list}) ORDER BY id"
        ),
        tenants.len(),
    );
    for t in &tenants {
        q = q.bind(*t);
    }
    let mut endpoints = Vec::new();
    for r in q.fetch_all(&mut **tx).await? {
        let id: String = r.try_get(0)?;
        let tenant: String = r.try_get(1)?;
        let kinds: String = r.try_get(2)?;
        let kinds = kinds_of(&id, &kinds)?;
        endpoints.push((id, tenant, kinds));
    }
    if endpoints.is_empty() {
        return Ok(0);
    }
    // (delivery id, tenant, endpoint, event id, kind, body)
    let mut rows: Vec<[String; 6]> = Vec::new();
    for e in events {
        let mut body = None;
        for (endpoint, tenant, kinds) in &endpoints {
            if *tenant != e.tenant || !matches_any(kinds, &e.kind) {
                continue;
            }
            let body = body
                .get_or_insert_with(|| {
                    Envelope::of_event(
                        &e.id,
                        &e.tenant,
                        &e.kind,
                        &e.subject,
                        e.occurred_at,
                        &e.payload,
                    )
                    .to_json()
                })
                .clone();
            rows.push([
                faro_store::new_id(),
                e.tenant.clone(),
                endpoint.clone(),
                e.id.clone(),
                e.kind.clone(),
                body,
            ]);
        }
    }
    let mut created = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values = (0..chunk.len())
            .map(|r| {
                let b = r * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 7,
                    b + 7
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_kind, \
             body, status, attempts, next_attempt_at, created_at, updated_at) VALUES {values} \
             ON CONFLICT (endpoint_id, event_id) DO NOTHING"
        );
        let mut q = multi_row(sql, chunk.len());
        for row in chunk {
            for v in row {
                q = q.bind(v.as_str());
            }
            q = q.bind(now);
        }
        created += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(created)
}

// ---- the senders ----------------------------------------------------------------------------

/// A delivery due for an attempt, with what sending it needs.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: String,
    pub tenant: TenantId,
    pub event_id: String,
    pub body: String,
    pub url: String,
    pub secret: String,
}

/// Up to `limit` deliveries of any tenant that are pending, due at `now`, not leased, and whose
/// endpoint is enabled (disabling an endpoint pauses its retries), the longest waiting first.
pub async fn due_all_tenants(db: &Db, now: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.tenant_id, d.event_id, d.body, e.url, e.secret \
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
         AND (d.lease_until IS NULL OR d.lease_until < $1) AND e.enabled = 1 \
         ORDER BY d.next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get(0)?,
                tenant: TenantId::new(r.try_get::<String, _>(1)?),
                event_id: r.try_get(2)?,
                body: r.try_get(3)?,
                url: r.try_get(4)?,
                secret: r.try_get(5)?,
            })
        })
        .collect()
}

/// When the next pending delivery of an enabled endpoint can be claimed (its due time, or the
/// end of the lease someone holds on it), or `None` when nothing is pending.
pub async fn next_due_all_tenants(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query(
        "SELECT MIN(CASE WHEN d.lease_until IS NOT NULL AND d.lease_until > d.next_attempt_at \
         THEN d.lease_until ELSE d.next_attempt_at END) \
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.status = 'pending' AND e.enabled = 1",
    )
    .fetch_one(db.reader())
    .await?
    .try_get(0)?)
}

/// Claims a due delivery for one attempt with a compare-and-set: only one sender's `UPDATE`
/// matches (the others see the lease), whatever the number of instances. Returns the attempt's
/// number (1 for the first), or `None` when someone else claimed it first.
pub async fn claim(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    owner: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "UPDATE webhook_deliveries SET lease_owner = $3, lease_until = $4, \
         attempts = attempts + 1, last_attempt_at = $5, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND next_attempt_at <= $5 \
         AND (lease_until IS NULL OR lease_until < $5) RETURNING attempts",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .fetch_optional(db.writer())
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// How an attempt ended, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `delivered`, `pending` (a retry is scheduled) or `failed`.
    pub status: &'static str,
    pub next_attempt_at: Option<i64>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: i64,
}

/// Records the attempt's outcome and releases the lease, if the lease is still ours (a replay
/// or a takeover after our lease expired wins over a late result). False when it was not.
pub async fn record(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    owner: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<bool, StoreError> {
    let delivered_at = (outcome.status == DELIVERED).then_some(now);
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = $4, next_attempt_at = $5, lease_owner = NULL, \
         lease_until = NULL, last_status_code = $6, last_error = $7, last_response = $8, \
         last_duration_ms = $9, delivered_at = COALESCE($10, delivered_at), updated_at = $11 \
         WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(owner)
    .bind(outcome.status)
    .bind(outcome.next_attempt_at)
    .bind(outcome.status_code)
    .bind(outcome.error.clone())
    .bind(outcome.response.clone())
    .bind(outcome.duration_ms)
    .bind(delivered_at)
    .bind(now)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Rows per purge statement, so the SQLite writer is never held long.
const PURGE_CHUNK: i64 = 5_000;

/// Deletes finished deliveries (delivered or failed) last changed before `before` (unix ms),
/// in chunks; returns how many. Pending ones are always kept.
pub async fn purge_finished_all_tenants(db: &Db, before: i64) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE status IN ('delivered', 'failed') AND updated_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(PURGE_CHUNK)
        .execute(db.writer())
        .await?
        .rows_affected();
        total += n;
        if n < PURGE_CHUNK as u64 {
            return Ok(total);
        }
    }
}
