//! Every SQL statement about tenants: their rows, host names and settings versions. A change
//! and its audit entry commit in one transaction.

use faro_store::{Db, StoreError, TenantId, new_id, unix_now};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::domain::Status;
use crate::audit::{self, Actor, Entry};

/// A tenant as stored, with its host names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub status: Status,
    pub maintenance: bool,
    /// `None`: every optional module the installation runs.
    pub modules: Option<Vec<String>>,
    pub plan: String,
    pub language: String,
    pub time_zone: String,
    pub hosts: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a new tenant is made of, already validated.
pub struct NewTenantRow<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub hosts: &'a [String],
    pub plan: &'a str,
    pub language: &'a str,
    pub time_zone: &'a str,
    pub modules: Option<&'a [String]>,
    /// The first owner's username and password hash.
    pub owner: Option<(&'a str, &'a str)>,
}

/// The fields a change sets, already validated; `None` leaves a field as it is.
#[derive(Default)]
pub struct TenantChange {
    pub name: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub plan: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub status: Option<Status>,
    pub maintenance: Option<bool>,
    /// `Some(None)` switches every installed module on again.
    pub modules: Option<Option<Vec<String>>>,
}

const COLUMNS: &str = "id, slug, name, status, maintenance, modules, plan, language, time_zone, \
                       created_at, updated_at";

fn row(r: &AnyRow) -> Result<TenantRow, StoreError> {
    let status: String = r.try_get("status")?;
    let modules: Option<String> = r.try_get("modules")?;
    let id: String = r.try_get("id")?;
    let slug: Option<String> = r.try_get("slug")?;
    Ok(TenantRow {
        slug: slug.unwrap_or_else(|| id.clone()),
        id,
        name: r.try_get("name")?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("tenant status {status:?}")))?,
        maintenance: r.try_get::<i64, _>("maintenance")? != 0,
        modules: modules
            .map(|m| {
                serde_json::from_str(&m)
                    .map_err(|e| StoreError::corrupt(format!("tenant modules: {e}")))
            })
            .transpose()?,
        plan: r.try_get("plan")?,
        language: r.try_get("language")?,
        time_zone: r.try_get("time_zone")?,
        hosts: Vec::new(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn hosts_of(conn: &mut sqlx::AnyConnection, tenant: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT host FROM tenant_hosts WHERE tenant_id = $1 ORDER BY host")
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

/// One tenant by id or slug.
pub async fn get(db: &Db, id_or_slug: &str) -> Result<Option<TenantRow>, StoreError> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, id_or_slug).await
}

async fn get_on(
    conn: &mut sqlx::AnyConnection,
    id_or_slug: &str,
) -> Result<Option<TenantRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM tenants WHERE id = $1 OR slug = $1");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id_or_slug)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = found else { return Ok(None) };
    let mut t = row(&r)?;
    t.hosts = hosts_of(conn, &t.id).await?;
    Ok(Some(t))
}

/// Tenants by slug, after `after` (a slug), at most `limit`.
pub async fn list(db: &Db, after: Option<&str>, limit: i64) -> Result<Vec<TenantRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM tenants WHERE slug > $1 ORDER BY slug LIMIT $2");
    // Every slug is non-empty, so "" starts at the beginning.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    let mut out: Vec<TenantRow> = rows.iter().map(row).collect::<Result<_, _>>()?;
    if !out.is_empty() {
        let sql = format!(
            "SELECT host, tenant_id FROM tenant_hosts WHERE tenant_id IN ({}) ORDER BY host",
            (1..=out.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = faro_store::multi_row(sql, out.len());
        for t in &out {
            q = q.bind(t.id.clone());
        }
        for r in q.fetch_all(db.reader()).await? {
            let host: String = r.try_get(0)?;
            let tenant: String = r.try_get(1)?;
            if let Some(t) = out.iter_mut().find(|t| t.id == tenant) {
                t.hosts.push(host);
            }
        }
    }
    Ok(out)
}

/// Why a write was refused by the data rather than the database.
#[derive(Debug)]
pub enum WriteError {
    SlugTaken,
    /// The host name another tenant already claims.
    HostTaken(String),
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(e.into())
    }
}

async fn claim_hosts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &str,
    hosts: &[String],
    now: i64,
) -> Result<(), WriteError> {
    for host in hosts {
        let taken = sqlx::query("SELECT tenant_id FROM tenant_hosts WHERE host = $1")
            .bind(host)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(r) = taken {
            let owner: String = r.try_get(0).map_err(StoreError::from)?;
            if owner != tenant {
                return Err(WriteError::HostTaken(host.clone()));
            }
            continue;
        }
        let done = sqlx::query(
            "INSERT INTO tenant_hosts (host, tenant_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (host) DO NOTHING",
        )
        .bind(host)
        .bind(tenant)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        // Claimed by a concurrent transaction between the check and the insert.
        if done.rows_affected() == 0 {
            return Err(WriteError::HostTaken(host.clone()));
        }
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Creates the tenant, its hosts, its first settings version and (optionally) its first owner,
/// with the audit entry, in one transaction.
pub async fn create(
    db: &Db,
    new: &NewTenantRow<'_>,
    settings_doc: &str,
    actor: &Actor,
) -> Result<TenantRow, WriteError> {
    let id = new_id();
    let now = unix_now();
    let modules = new.modules.map(|m| to_json(&m).to_string());
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO tenants (id, slug, name, status, maintenance, modules, plan, language, \
         time_zone, created_at, updated_at) VALUES ($1, $2, $3, 'active', 0, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (slug) DO NOTHING",
    )
    .bind(&id)
    .bind(new.slug)
    .bind(new.name)
    .bind(modules)
    .bind(new.plan)
    .bind(new.language)
    .bind(new.time_zone)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(WriteError::SlugTaken);
    }
    claim_hosts(&mut tx, &id, new.hosts, now).await?;
    sqlx::query(
        "INSERT INTO tenant_settings (tenant_id, version, doc, actor, note, created_at) \
         VALUES ($1, 1, $2, $3, NULL, $4)",
    )
    .bind(&id)
    .bind(settings_doc)
    .bind(&actor.name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some((username, hash)) = new.owner {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, username, pass_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'owner', $5, $5)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(username)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let mut created = get_on(&mut tx, &id)
        .await?
        .ok_or_else(|| StoreError::Other("the new tenant vanished".into()))?;
    created.hosts.sort();
    let tenant = TenantId::new(id.as_str());
    audit::record(
        &mut tx,
        Entry {
            tenant: &tenant,
            actor,
            action: "tenant.create",
            target: &id,
            before: None,
            after: Some(to_json(&created)),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(created)
}

/// Applies `change` to the tenant (by id or slug); `None` when there is no such tenant.
pub async fn update(
    db: &Db,
    id_or_slug: &str,
    change: &TenantChange,
    actor: &Actor,
) -> Result<Option<TenantRow>, WriteError> {
    let now = unix_now();
    let mut tx = db.begin_write().await?;
    let Some(before) = get_on(&mut tx, id_or_slug).await? else {
        return Ok(None);
    };
    let modules = change
        .modules
        .as_ref()
        .map(|m| m.as_ref().map(|m| to_json(m).to_string()));
    sqlx::query(
        "UPDATE tenants SET name = COALESCE($2, name), plan = COALESCE($3, plan), \
         language = COALESCE($4, language), time_zone = COALESCE($5, time_zone), \
         status = COALESCE($6, status), maintenance = COALESCE($7, maintenance), \
         modules = CASE WHEN $8 = 1 THEN $9 ELSE modules END, updated_at = $10 WHERE id = $1",
    )
    .bind(&before.id)
    .bind(change.name.as_deref())
    .bind(change.plan.as_deref())
    .bind(change.language.as_deref())
    .bind(change.time_zone.as_deref())
    .bind(change.status.map(Status::as_str))
    .bind(change.maintenance.map(i64::from))
    .bind(i64::from(modules.is_some()))
    .bind(modules.flatten())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(hosts) = &change.hosts {
        sqlx::query("DELETE FROM tenant_hosts WHERE tenant_id = $1")
            .bind(&before.id)
            .execute(&mut *tx)
            .await?;
        claim_hosts(&mut tx, &before.id, hosts, now).await?;
    }
    let after = get_on(&mut tx, &before.id)
        .await?
        .ok_or_else(|| StoreError::Other("the tenant vanished".into()))?;
    let tenant = TenantId::new(before.id.as_str());
    audit::record(
        &mut tx,
        Entry {
            tenant: &tenant,
            actor,
            action: "tenant.update",
            target: &before.id,
            before: Some(to_json(&before)),
            after: Some(to_json(&after)),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(after))
}
