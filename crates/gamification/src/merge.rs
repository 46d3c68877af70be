//! An anonymous visitor's points becoming the account's. Other modules' events about a
//! visitor who is not signed in (a quiz finished with only the visitor cookie) are applied to
//! a player named `visitor:<id>`; when the platform says `visitor.merged` (the visitor
//! registered or signed in), everything that player holds moves to the account in the
//! consumer's transaction: the ledger's rows (so the balance still equals their sum), events,
//! counts, badges (unlocked once: the earlier time is kept) and challenge progress (the
//! account's own wins where both have some); the sums are added and the level recomputed.
//! Events about the visitor that arrive after the link go straight to the account.
//!
//! A badge the two histories reach only together (6 conversions as a visitor, 5 signed in,
//! "10 conversions") unlocks with the account's next event of that kind, as criteria are
//! judged when events arrive.

use faro_gamification_domain::levels::reached;
use faro_store::outbox::NewEvent;
use faro_store::{Backend, StoreError, TenantId, unix_now, unix_now_ms};
use serde_json::json;
use sqlx::Row;

use crate::design::Loaded;
use crate::store::{self, PLAYER, Tx, player_row};

/// The player a visitor's events are applied to until it is linked to an account.
pub fn visitor_player(visitor: &str) -> String {
    format!("visitor:{visitor}")
}

/// The account a visitor is linked to, if any.
pub async fn account_of(
    tx: &mut Tx,
    tenant: &TenantId,
    visitor: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT user_id FROM visitors WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(visitor)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<String>, _>(0)?,
        None => None,
    })
}

/// Moves the visitor's player into `user`'s; false when the visitor had none.
pub async fn merge(
    tx: &mut Tx,
    backend: Backend,
    loaded: &Loaded,
    tenant: &TenantId,
    visitor: &str,
    user: &str,
) -> Result<bool, StoreError> {
    let from = visitor_player(visitor);
    let t = tenant.as_str();
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAYER} FROM gamification_players WHERE tenant_id = $1 AND user_id = $2{lock}"
    )))
    .bind(t)
    .bind(&from)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let v = player_row(&row)?;
    let mut p = store::lock_player(tx, backend, tenant, user, unix_now()).await?;

    // The ledger's rows keep their history; the few that would collide with the account's
    // own (both unlocked a badge, completed a challenge, hit a streak milestone on one day)
    // keep their points under a source naming the visitor.
    let moves = [
        "UPDATE gamification_ledger SET user_id = $3 WHERE tenant_id = $1 AND user_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM gamification_ledger o WHERE o.tenant_id = $1 \
         AND o.user_id = $3 AND o.rule = gamification_ledger.rule \
         AND o.source = gamification_ledger.source)",
        "UPDATE gamification_ledger SET user_id = $3, source = source || ':' || $2 \
         WHERE tenant_id = $1 AND user_id = $2",
        "UPDATE gamification_events SET user_id = $3 WHERE tenant_id = $1 AND user_id = $2",
        "INSERT INTO gamification_kind_counts (tenant_id, user_id, kind, count) \
         SELECT tenant_id, CAST($3 AS TEXT), kind, count FROM gamification_kind_counts \
         WHERE tenant_id = $1 AND user_id = $2 ON CONFLICT (tenant_id, user_id, kind) \
         DO UPDATE SET count = gamification_kind_counts.count + excluded.count",
        "INSERT INTO gamification_badges (tenant_id, user_id, badge, unlocked_at) \
         SELECT tenant_id, CAST($3 AS TEXT), badge, unlocked_at FROM gamification_badges \
         WHERE tenant_id = $1 AND user_id = $2 ON CONFLICT (tenant_id, user_id, badge) \
         DO UPDATE SET unlocked_at = CASE WHEN excluded.unlocked_at < gamification_badges.unlocked_at \
         THEN excluded.unlocked_at ELSE gamification_badges.unlocked_at END",
        "INSERT INTO gamification_progress (tenant_id, challenge_id, user_id, count, value_set, \
         completed_at) SELECT tenant_id, challenge_id, CAST($3 AS TEXT), count, value_set, \
         completed_at FROM gamification_progress WHERE tenant_id = $1 AND user_id = $2 \
         ON CONFLICT (challenge_id, user_id) DO NOTHING",
    ];
    for sql in moves {
        sqlx::query(sql)
            .bind(t)
            .bind(&from)
            .bind(user)
            .execute(&mut **tx)
            .await?;
    }
    for table in [
        "gamification_progress",
        "gamification_badges",
        "gamification_kind_counts",
        "gamification_players",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2"
        )))
        .bind(t)
        .bind(&from)
        .execute(&mut **tx)
        .await?;
    }

    let level_before = p.level;
    p.balance += v.balance;
    p.lifetime += v.lifetime;
    p.credits += v.credits;
    p.streak_longest = p.streak_longest.max(v.streak_longest);
    p.level = reached(&loaded.levels, p.level.max(v.level), p.lifetime);
    if v.lifetime != 0 {
        p.reached_at_ms = unix_now_ms();
    }
    store::save_player(tx, tenant, &p).await?;
    if p.level > level_before {
        let title = loaded.levels.standing(p.level, p.lifetime).title;
        let event = NewEvent::new(
            t,
            "gamification.level_reached",
            user,
            &json!({"user": user, "level": p.level, "title": title}),
        )?;
        faro_store::outbox::append(tx, backend, &[event]).await?;
    }
    Ok(true)
}
