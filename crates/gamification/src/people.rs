//! Personal data (GDPR): what the module holds about an end user, for the export, and its
//! erasure when the platform says `user.deleted` (handled by the [`crate::bridge`] consumer,
//! which runs whether or not the tenant has the module switched on).

use std::sync::Arc;

use faro_http::personal::{Exporter, Subject};
use faro_store::{Db, StoreError};
use serde_json::{Value, json};
use sqlx::Row;

use crate::store::Tx;

/// The tables keyed by (tenant, user).
const TABLES: [&str; 6] = [
    "gamification_progress",
    "gamification_events",
    "gamification_ledger",
    "gamification_kind_counts",
    "gamification_badges",
    "gamification_players",
];

/// Deletes everything about `user` in `tenant`.
pub async fn erase(tx: &mut Tx, tenant: &str, user: &str) -> Result<(), StoreError> {
    for table in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2"
        )))
        .bind(tenant)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The export's `gamification` part: the player's sums, badges, points history and events.
pub fn exporter() -> Exporter {
    Arc::new(|db, subject| Box::pin(async move { export(&db, &subject).await }))
}

async fn export(db: &Db, subject: &Subject) -> Result<Value, StoreError> {
    let Some(user) = subject.user_id.as_deref() else {
        return Ok(Value::Null);
    };
    let tenant = subject.tenant.as_str();
    let Some(p) = crate::store::player(db, &subject.tenant, user).await? else {
        return Ok(Value::Null);
    };
    let rows = |sql: &'static str| {
        sqlx::query(sql)
            .bind(tenant)
            .bind(user)
            .fetch_all(db.reader())
    };
    let badges: Vec<Value> = rows(
        "SELECT badge, unlocked_at FROM gamification_badges WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY unlocked_at",
    )
    .await?
    .iter()
    .map(|r| Ok(json!({"badge": r.try_get::<String, _>(0)?, "unlocked_at": faro_http::respond::rfc3339(r.try_get(1)?)})))
    .collect::<Result<_, StoreError>>()?;
    let ledger: Vec<Value> = rows(
        "SELECT kind, rule, source, points, reason, created_at FROM gamification_ledger \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY id",
    )
    .await?
    .iter()
    .map(|r| {
        Ok(json!({
            "kind": r.try_get::<String, _>(0)?, "rule": r.try_get::<String, _>(1)?,
            "source": r.try_get::<String, _>(2)?, "points": r.try_get::<i64, _>(3)?,
            "reason": r.try_get::<Option<String>, _>(4)?,
            "at": faro_http::respond::rfc3339(r.try_get(5)?),
        }))
    })
    .collect::<Result<_, StoreError>>()?;
    let events: Vec<Value> = rows(
        "SELECT kind, props, occurred_at FROM gamification_events \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY occurred_at, id",
    )
    .await?
    .iter()
    .map(|r| {
        let props: String = r.try_get(1)?;
        Ok(json!({
            "type": r.try_get::<String, _>(0)?,
            "props": serde_json::from_str::<Value>(&props).unwrap_or(Value::Null),
            "occurred_at": faro_http::respond::rfc3339(r.try_get(2)?),
        }))
    })
    .collect::<Result<_, StoreError>>()?;
    Ok(json!({
        "points": p.balance,
        "lifetime_points": p.lifetime,
        "level": p.level,
        "streak": {"current": p.streak_current, "longest": p.streak_longest},
        "display_name": p.display_name,
        "badges": badges,
        "ledger": ledger,
        "events": events,
    }))
}
