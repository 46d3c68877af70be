//! Points going out: redemption into credits (the user, or staff for them) and reversals of
//! awards (staff, with a reason). Both are ledger entries written in one transaction with
//! the player's sums, under the player's row lock, so a balance can never go negative and two
//! redemptions racing for the last points cannot both win. A retried request with the same
//! idempotency key returns the first result and writes nothing.
//!
//! Credits are kept on the player row until the wallet module takes them over; the
//! `gamification.points_redeemed` event carries what the wallet needs to credit them.

use faro_gamification_domain::ledger::{self, RedeemError};
use faro_http::audit::{self, Actor, Entry};
use faro_store::{TenantId, new_id, unix_now};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::error::GamificationError;
use crate::{Gamification, design, store};

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Redeemed {
    pub points: i64,
    pub credits: i64,
    /// The points balance after it.
    pub balance: i64,
    /// Credits redeemed so far (kept here until the wallet module takes them over).
    pub credits_balance: i64,
    /// The idempotency key was seen before: this is the first result.
    pub duplicate: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Reversed {
    /// The points taken back (at most what is left of the award and of the balance).
    pub points: i64,
    pub balance: i64,
}

/// Redeems `points` of `user`'s balance into credits at the design's rate.
pub async fn redeem(
    g: &Gamification,
    tenant: &TenantId,
    user: &str,
    points: i64,
    key: &str,
    staff: Option<&Actor>,
) -> Result<Redeemed, GamificationError> {
    let actor = staff.map_or_else(|| format!("user:{user}"), |a| format!("staff:{}", a.name));
    let loaded = design::load(g, tenant).await?;
    let rate = loaded.design.redemption;
    let db = &g.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    // The player's lock first: a retry racing the first request then sees its entry.
    let mut p = store::lock_player(&mut tx, db.backend(), tenant, user, now).await?;
    if let Some(first) = earlier(&mut tx, tenant, user, key).await? {
        return Ok(Redeemed {
            points: -first,
            credits: -first / rate.points_per_credit.max(1),
            balance: p.balance,
            credits_balance: p.credits,
            duplicate: true,
        });
    }
    let r = ledger::redeem(p.balance, points, rate).map_err(|e| match e {
        RedeemError::BadAmount(m) => GamificationError::invalid("points", m),
        RedeemError::Insufficient { balance } => GamificationError::Insufficient(balance),
    })?;
    sqlx::query(
        "INSERT INTO gamification_ledger (id, tenant_id, user_id, kind, rule, source, points, \
         created_at, actor) VALUES ($1, $2, $3, 'redemption', 'redeem', $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(tenant.as_str())
    .bind(user)
    .bind(key)
    .bind(-r.points)
    .bind(now)
    .bind(&actor)
    .execute(&mut *tx)
    .await?;
    p.balance -= r.points;
    p.credits += r.credits;
    store::save_player(&mut tx, tenant, &p).await?;
    if let Some(by) = staff {
        audit::record(
            &mut tx,
            Entry {
                tenant,
                actor: by,
                action: "gamification.redeem",
                target: user,
                before: Some(json!({"balance": p.balance + r.points})),
                after: Some(json!({"balance": p.balance, "credits": r.credits})),
            },
        )
        .await?;
    }
    let event = faro_store::NewEvent::new(
        tenant.as_str(),
        "gamification.points_redeemed",
        user,
        &json!({"user": user, "points": r.points, "credits": r.credits, "key": key}),
    )?;
    faro_store::outbox::append(&mut tx, db.backend(), &[event]).await?;
    tx.commit().await?;
    g.core.wake.notify();
    Ok(Redeemed {
        points: r.points,
        credits: r.credits,
        balance: p.balance,
        credits_balance: p.credits,
        duplicate: false,
    })
}

/// The points of an earlier redemption with this key, if there was one.
async fn earlier(
    tx: &mut store::Tx,
    tenant: &TenantId,
    user: &str,
    key: &str,
) -> Result<Option<i64>, GamificationError> {
    Ok(sqlx::query_scalar(
        "SELECT points FROM gamification_ledger WHERE tenant_id = $1 AND user_id = $2 \
         AND rule = 'redeem' AND source = $3",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Takes back (part of) the award `rule`/`source` of `user`: `points` of it, or all that is
/// left; never more than the balance (points spent stay spent), never the level.
#[allow(clippy::too_many_arguments)]
pub async fn reverse(
    g: &Gamification,
    tenant: &TenantId,
    user: &str,
    rule: &str,
    source: &str,
    points: Option<i64>,
    reason: &str,
    by: &Actor,
) -> Result<Reversed, GamificationError> {
    let actor = format!("staff:{}", by.name);
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(GamificationError::invalid(
            "reason",
            "why: 1 to 300 characters",
        ));
    }
    if points.is_some_and(|p| p < 1) {
        return Err(GamificationError::invalid(
            "points",
            "at least 1 (or absent: all of it)",
        ));
    }
    let db = &g.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let award = sqlx::query(
        "SELECT id, points FROM gamification_ledger WHERE tenant_id = $1 AND user_id = $2 \
         AND rule = $3 AND source = $4 AND kind = 'award'",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(rule)
    .bind(source)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(GamificationError::NotFound("no such award for this user"))?;
    let award_id: String = award.try_get(0)?;
    let awarded: i64 = award.try_get(1)?;
    let mut p = store::lock_player(&mut tx, db.backend(), tenant, user, now).await?;
    let reversed: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM gamification_ledger \
         WHERE tenant_id = $1 AND user_id = $2 AND rule = 'reversal' AND source LIKE $3",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(format!("{award_id}:%"))
    .fetch_one(&mut *tx)
    .await?;
    let take = ledger::reversal(awarded, reversed, p.balance, points.unwrap_or(awarded));
    if take == 0 {
        return Err(GamificationError::Conflict(
            "nothing left to reverse: the award was taken back already, or its points were spent",
        ));
    }
    sqlx::query(
        "INSERT INTO gamification_ledger (id, tenant_id, user_id, kind, rule, source, points, \
         reason, created_at, actor) VALUES ($1, $2, $3, 'reversal', 'reversal', $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(tenant.as_str())
    .bind(user)
    .bind(format!("{award_id}:{}", new_id()))
    .bind(-take)
    .bind(reason)
    .bind(now)
    .bind(&actor)
    .execute(&mut *tx)
    .await?;
    p.balance -= take;
    p.lifetime -= take;
    store::save_player(&mut tx, tenant, &p).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by,
            action: "gamification.reverse",
            target: user,
            before: Some(json!({"rule": rule, "source": source, "awarded": awarded,
                                "balance": p.balance + take})),
            after: Some(json!({"reversed": take, "balance": p.balance, "reason": reason})),
        },
    )
    .await?;
    let event = faro_store::NewEvent::new(
        tenant.as_str(),
        "gamification.award_reversed",
        user,
        &json!({"user": user, "rule": rule, "source": source, "points": take,
                "reason": reason, "by": actor}),
    )?;
    faro_store::outbox::append(&mut tx, db.backend(), &[event]).await?;
    tx.commit().await?;
    g.core.wake.notify();
    Ok(Reversed {
        points: take,
        balance: p.balance,
    })
}
