//! Each tenant's use of the installation, for the super-admin (the console and
//! `GET /api/v1/platform/tenants/{tenant}/usage`): people (staff, end users, active users,
//! visitors), traffic (requests, events), storage (files) and trouble (server errors).
//!
//! Every figure is one grouped query over the table that already holds the facts, so there is
//! nothing to keep in step: requests are the per-day counts the request middleware adds to
//! `stats_daily`; storage is the sum over `files`; active users are the end users who signed in
//! or refreshed a sign-in (each makes a refresh token, kept 30 days). Counts of requests lag by
//! at most one counter flush (`COUNTER_FLUSH_MS`).

use std::collections::HashMap;

use faro_http::request_id::{REQUESTS_METRIC, REQUESTS_SCOPE};
use faro_store::{Db, StoreError, day_of, unix_now};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

/// One tenant's use of the installation.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
#[schema(as = TenantUsage)]
pub struct Usage {
    /// Staff accounts.
    pub staff: i64,
    /// End-user accounts.
    pub end_users: i64,
    /// End users who signed in, or kept a sign-in alive, in the last 30 days.
    pub active_users_30d: i64,
    /// Visitors seen in the last 30 days.
    pub visitors_30d: i64,
    /// Requests answered on the tenant's behalf today (UTC).
    pub requests_today: i64,
    /// Requests in the last 7 days (UTC), today included.
    pub requests_7d: i64,
    /// Events its modules published in the last 7 days.
    pub events_7d: i64,
    /// Stored files.
    pub files: i64,
    /// Their total size in bytes.
    pub storage_bytes: i64,
    /// Requests that failed with a server error in the last 24 hours.
    pub errors_24h: i64,
}

impl Usage {
    /// The stored bytes for people: `0 MB`, `0.4 MB`, `12 MB`, `1.5 GB` (MB = 1,048,576
    /// bytes, as in the plans' `storage_mb` quota).
    pub fn storage(&self) -> String {
        const MB: f64 = 1024.0 * 1024.0;
        let mb = self.storage_bytes as f64 / MB;
        if mb >= 1024.0 {
            format!("{:.1} GB", mb / 1024.0)
        } else if mb >= 10.0 || self.storage_bytes == 0 {
            format!("{mb:.0} MB")
        } else {
            format!("{:.1} MB", mb.max(0.1))
        }
    }
}

/// `sql` counts rows since `$1` grouped by tenant; `$2` narrows it to one tenant ('' = all).
async fn counts<T>(
    db: &Db,
    sql: &str,
    since: T,
    only: &str,
) -> Result<HashMap<String, i64>, StoreError>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
{
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(since)
        .bind(only)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

/// Where one grouped count goes in a tenant's [`Usage`].
type UsageField = fn(&mut Usage) -> &mut i64;

/// Requests per tenant on the days from `since` (a `YYYY-MM-DD` UTC day) on.
async fn requests(db: &Db, since: String, only: &str) -> Result<HashMap<String, i64>, StoreError> {
    let sql = format!(
        "SELECT tenant_id, CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM stats_daily \
         WHERE day >= $1 AND scope = '{REQUESTS_SCOPE}' AND metric = '{REQUESTS_METRIC}' \
         AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id"
    );
    counts(db, &sql, since, only).await
}

/// Every tenant's use (or only `only`'s), by tenant id: one grouped count per table.
pub async fn usage(db: &Db, only: Option<&str>) -> Result<HashMap<String, Usage>, StoreError> {
    let only = only.unwrap_or_default();
    let now = unix_now();
    let since = |days: i64| now - days * 86_400;
    let all = i64::MIN;
    let staff = "SELECT tenant_id, COUNT(*) FROM users WHERE created_at > $1 \
                 AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let end_users = "SELECT tenant_id, COUNT(*) FROM end_users WHERE created_at > $1 \
                     AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let active = "SELECT tenant_id, COUNT(DISTINCT user_id) FROM refresh_tokens \
                  WHERE created_at > $1 AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let visitors = "SELECT tenant_id, COUNT(*) FROM visitors WHERE last_seen_at > $1 \
                    AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let events = "SELECT tenant_id, COUNT(*) FROM events WHERE occurred_at > $1 \
                  AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let errors = "SELECT tenant_id, COUNT(*) FROM request_errors WHERE created_at > $1 \
                  AND ($2 = '' OR tenant_id = $2) GROUP BY tenant_id";
    let requests_today = requests(db, day_of(now), only).await?;
    let requests_7d = requests(db, day_of(since(6)), only).await?;
    let files = faro_files::store::usage_by_tenant(db, Some(only)).await?;
    let mut out: HashMap<String, Usage> = HashMap::new();
    let fields: [(HashMap<String, i64>, UsageField); 8] = [
        (counts(db, staff, all, only).await?, |u| &mut u.staff),
        (counts(db, end_users, all, only).await?, |u| {
            &mut u.end_users
        }),
        (counts(db, active, since(30), only).await?, |u| {
            &mut u.active_users_30d
        }),
        (counts(db, visitors, since(30), only).await?, |u| {
            &mut u.visitors_30d
        }),
        (counts(db, events, since(7), only).await?, |u| {
            &mut u.events_7d
        }),
        (counts(db, errors, since(1), only).await?, |u| {
            &mut u.errors_24h
        }),
        (requests_today, |u| &mut u.requests_today),
        (requests_7d, |u| &mut u.requests_7d),
    ];
    for (counted, field) in fields {
        for (tenant, n) in counted {
            *field(out.entry(tenant).or_default()) = n;
        }
    }
    for (tenant, (n, bytes)) in files {
        let u = out.entry(tenant).or_default();
        u.files = n;
        u.storage_bytes = bytes;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_reads_in_megabytes_and_gigabytes() {
        let at = |storage_bytes| {
            Usage {
                storage_bytes,
                ..Usage::default()
            }
            .storage()
        };
        assert_eq!(at(0), "0 MB");
        assert_eq!(at(1), "0.1 MB");
        assert_eq!(at(400 * 1024), "0.4 MB");
        assert_eq!(at(3 * 1024 * 1024 + 512 * 1024), "3.5 MB");
        assert_eq!(at(12 * 1024 * 1024), "12 MB");
        assert_eq!(at(1536 * 1024 * 1024), "1.5 GB");
    }
}
