//! Writing back what a batch produced: one multi-row statement per kind of row.

use std::collections::HashMap;

use faro_store::{Backend, StoreError, TenantId, multi_row, new_id, placeholders};

use super::parts::ROWS;
use crate::engine::{self, Sheet, Writes};
use crate::store::{Player, Tx};

/// Writes what the batch produced: awards, badges, progress, counts, players, outbox events.
pub(super) async fn write(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    sheets: &HashMap<String, Sheet>,
    w: &Writes,
) -> Result<(), StoreError> {
    let t = tenant.as_str();
    for chunk in w.awards.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_ledger (id, tenant_id, user_id, kind, rule, source, points, \
             created_at) VALUES {} ON CONFLICT (tenant_id, user_id, rule, source) DO NOTHING \
             RETURNING id",
            placeholders(chunk.len(), 8)
        );
        let mut q = multi_row(sql, chunk.len());
        for a in chunk {
            q = q
                .bind(new_id())
                .bind(t)
                .bind(&a.user)
                .bind("award")
                .bind(&a.rule)
                .bind(&a.source)
                .bind(a.points)
                .bind(a.at);
        }
        let written = q.fetch_all(&mut **tx).await?.len();
        if written != chunk.len() {
            // The sheets were read under the players' locks, so the ledger cannot hold an
            // award they did not show: the batch is refused rather than pay what it did not
            // write.
            return Err(StoreError::Other(format!(
                "the points ledger of {tenant} already held {} of this batch's awards",
                chunk.len() - written
            )));
        }
    }
    for chunk in w.badges.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_badges (tenant_id, user_id, badge, unlocked_at) VALUES {} \
             ON CONFLICT (tenant_id, user_id, badge) DO NOTHING",
            placeholders(chunk.len(), 4)
        );
        let mut q = multi_row(sql, chunk.len());
        for (user, badge, at) in chunk {
            q = q.bind(t).bind(user).bind(badge).bind(*at);
        }
        q.execute(&mut **tx).await?;
    }
    let progress: Vec<_> = w.progress.iter().collect();
    for chunk in progress.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_progress (tenant_id, challenge_id, user_id, count, \
             value_set, completed_at) VALUES {} ON CONFLICT (challenge_id, user_id) DO UPDATE \
             SET count = excluded.count, value_set = excluded.value_set, \
             completed_at = excluded.completed_at",
            placeholders(chunk.len(), 6)
        );
        let mut q = multi_row(sql, chunk.len());
        for ((challenge, user), tracked) in chunk {
            q = q
                .bind(t)
                .bind(challenge)
                .bind(user)
                .bind(i64::from(tracked.progress.count))
                .bind(engine::values_json(&tracked.progress.values)?)
                .bind(tracked.completed_at);
        }
        q.execute(&mut **tx).await?;
    }
    let counts: Vec<_> = w.counts.iter().collect();
    for chunk in counts.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_kind_counts (tenant_id, user_id, kind, count) VALUES {} \
             ON CONFLICT (tenant_id, user_id, kind) DO UPDATE \
             SET count = gamification_kind_counts.count + excluded.count",
            placeholders(chunk.len(), 4)
        );
        let mut q = multi_row(sql, chunk.len());
        for ((user, kind), n) in chunk {
            q = q.bind(t).bind(user).bind(kind).bind(**n as i64);
        }
        q.execute(&mut **tx).await?;
    }
    // Every sheet is a player with at least one of the batch's events: all are written.
    let mut players: Vec<&Player> = sheets.values().map(|s| &s.player).collect();
    players.sort_by(|a, b| a.user.cmp(&b.user));
    for chunk in players.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_players (tenant_id, user_id, balance, lifetime, level, \
             streak_current, streak_longest, streak_last_day, credits, ordinal, display_name, \
             first_seen_at, reached_at_ms) VALUES {} ON CONFLICT (tenant_id, user_id) DO UPDATE \
             SET balance = excluded.balance, lifetime = excluded.lifetime, \
             level = excluded.level, streak_current = excluded.streak_current, \
             streak_longest = excluded.streak_longest, streak_last_day = excluded.streak_last_day, \
             credits = excluded.credits, display_name = excluded.display_name, \
             reached_at_ms = excluded.reached_at_ms",
            placeholders(chunk.len(), 13)
        );
        let mut q = multi_row(sql, chunk.len());
        for p in chunk {
            q = q
                .bind(t)
                .bind(&p.user)
                .bind(p.balance)
                .bind(p.lifetime)
                .bind(i64::from(p.level))
                .bind(i64::from(p.streak_current))
                .bind(i64::from(p.streak_longest))
                .bind(p.streak_last_day.map(|d| d.to_string()))
                .bind(p.credits)
                .bind(p.ordinal as i64)
                .bind(&p.display_name)
                .bind(p.first_seen_at)
                .bind(p.reached_at_ms);
        }
        q.execute(&mut **tx).await?;
    }
    if !w.outbox.is_empty() {
        faro_store::outbox::append(tx, backend, &w.outbox).await?;
    }
    Ok(())
}
