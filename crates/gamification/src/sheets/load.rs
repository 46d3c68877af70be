//! Reading a batch's players with everything their awards depend on, in one statement per
//! kind of row (`IN` lists), locked on PostgreSQL in one order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use faro_gamification_domain::badges::Criterion;
use faro_gamification_domain::calendar::monday_of;
use faro_gamification_domain::challenges::Progress;
use faro_store::{Backend, StoreError, TenantId, multi_row};
use sqlx::Row;

use super::parts::{Item, WEEK_TTL, Weeks, list};
use crate::challenges::{self, Challenge};
use crate::design::Loaded;
use crate::engine::{Paid, Recent, Sheet, Tracked};
use crate::store::{self, PLAYER, Player, Tx, player_row};

/// The batch's players, locked (PostgreSQL) in id order, with their counts, badges, the
/// awards their rules look at and their recent events.
#[allow(clippy::too_many_arguments)]
pub(super) async fn load_sheets(
    tx: &mut Tx,
    backend: Backend,
    loaded: &Loaded,
    tenant: &TenantId,
    users: &[&str],
    items: &[Item],
    fresh: &[usize],
    now: i64,
) -> Result<HashMap<String, Sheet>, StoreError> {
    let design = &loaded.design;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let n = users.len();
    let bind_users = |sql: String, extra: usize| {
        let mut q = multi_row(sql, n + extra).bind(tenant.as_str().to_owned());
        for u in users {
            q = q.bind(u.to_string());
        }
        q
    };
    let sql = format!(
        "SELECT {PLAYER} FROM gamification_players WHERE tenant_id = $1 AND user_id IN ({}) \
         ORDER BY user_id{lock}",
        list(2, n)
    );
    let mut sheets: HashMap<String, Sheet> = HashMap::with_capacity(n);
    for r in bind_users(sql, 0).fetch_all(&mut **tx).await? {
        let p = player_row(&r)?;
        sheets.insert(p.user.clone(), Sheet::new(p));
    }
    // Erased since it was numbered, or an outbox event's player: created here.
    for u in users {
        if !sheets.contains_key(*u) {
            let p: Player = store::lock_player(tx, backend, tenant, u, now).await?;
            sheets.insert(p.user.clone(), Sheet::new(p));
        }
    }

    let sql = format!(
        "SELECT user_id, kind, count FROM gamification_kind_counts WHERE tenant_id = $1 \
         AND user_id IN ({})",
        list(2, n)
    );
    for r in bind_users(sql, 0).fetch_all(&mut **tx).await? {
        let user: String = r.try_get(0)?;
        if let Some(s) = sheets.get_mut(&user) {
            s.counts
                .insert(r.try_get(1)?, r.try_get::<i64, _>(2)?.max(0) as u64);
        }
    }

    if !design.badges.is_empty() {
        let sql = format!(
            "SELECT user_id, badge FROM gamification_badges WHERE tenant_id = $1 \
             AND user_id IN ({})",
            list(2, n)
        );
        for r in bind_users(sql, 0).fetch_all(&mut **tx).await? {
            let user: String = r.try_get(0)?;
            if let Some(s) = sheets.get_mut(&user) {
                s.badges.insert(r.try_get(1)?);
            }
        }
    }

    // Awards that decide later ones: once-per-user rules' and streak days' (ever), capped
    // rules' (since the earliest cap window any of the batch's events falls in).
    let mut ever: Vec<&str> = design
        .rules
        .iter()
        .filter(|r| r.once_per_user)
        .map(|r| r.key.as_str())
        .collect();
    if design.streak_bonus > 0 {
        ever.push("streak");
    }
    let capped: Vec<&str> = design
        .rules
        .iter()
        .filter(|r| r.cap.is_some() && !r.once_per_user)
        .map(|r| r.key.as_str())
        .collect();
    let since = design
        .rules
        .iter()
        .filter(|r| r.cap.is_some())
        .flat_map(|r| {
            fresh
                .iter()
                .filter_map(|&i| r.cap_window(&loaded.calendar, items[i].event.at))
        })
        .map(|w| w.start)
        .min()
        .unwrap_or(i64::MAX);
    if !ever.is_empty() || !capped.is_empty() {
        let mut clauses = Vec::new();
        let mut at = 2 + n;
        if !ever.is_empty() {
            clauses.push(format!("rule IN ({})", list(at, ever.len())));
            at += ever.len();
        }
        if !capped.is_empty() {
            clauses.push(format!(
                "(rule IN ({}) AND created_at >= ${})",
                list(at, capped.len()),
                at + capped.len()
            ));
        }
        let sql = format!(
            "SELECT user_id, rule, source, points, created_at FROM gamification_ledger \
             WHERE tenant_id = $1 AND user_id IN ({}) AND kind = 'award' AND ({})",
            list(2, n),
            clauses.join(" OR ")
        );
        let mut q = bind_users(sql, ever.len() + capped.len() + 1);
        for r in ever.iter().chain(&capped) {
            q = q.bind(r.to_string());
        }
        if !capped.is_empty() {
            q = q.bind(since);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let user: String = r.try_get(0)?;
            if let Some(s) = sheets.get_mut(&user) {
                s.paid.push(Paid {
                    rule: r.try_get(1)?,
                    source: r.try_get(2)?,
                    points: r.try_get(3)?,
                    at: r.try_get(4)?,
                });
            }
        }
    }

    // Recent events for burst badges, this batch's marked with their place in it.
    let within = design
        .badges
        .iter()
        .filter_map(|b| match &b.criterion {
            Criterion::Burst { within_secs, .. } => Some(*within_secs),
            _ => None,
        })
        .max();
    if let Some(within) = within {
        let earliest = fresh
            .iter()
            .map(|&i| items[i].event.at)
            .min()
            .unwrap_or(now);
        let places: HashMap<&str, usize> = fresh
            .iter()
            .enumerate()
            .map(|(place, &i)| (items[i].key.as_str(), place))
            .collect();
        let sql = format!(
            "SELECT user_id, kind, occurred_at, key FROM gamification_events WHERE tenant_id = $1 \
             AND user_id IN ({}) AND occurred_at >= ${}",
            list(2, n),
            n + 2
        );
        for r in bind_users(sql, 1)
            .bind(earliest - within + 1)
            .fetch_all(&mut **tx)
            .await?
        {
            let user: String = r.try_get(0)?;
            let key: String = r.try_get(3)?;
            if let Some(s) = sheets.get_mut(&user) {
                s.recent.push(Recent {
                    kind: r.try_get(1)?,
                    at: r.try_get(2)?,
                    place: places.get(key.as_str()).copied(),
                });
            }
        }
    }
    Ok(sheets)
}

/// Every challenge of the weeks the batch's events fall in (created the first time needed).
pub(super) async fn week_challenges(
    tx: &mut Tx,
    weeks: &Weeks,
    loaded: &Loaded,
    tenant: &TenantId,
    items: &[Item],
    fresh: &[usize],
) -> Result<Vec<Challenge>, StoreError> {
    if loaded.design.templates.is_empty() {
        return Ok(Vec::new());
    }
    let mut mondays = BTreeSet::new();
    for &i in fresh {
        let at = items[i].event.at;
        mondays.insert((monday_of(loaded.calendar.day(at)), at));
    }
    let mut done = HashSet::new();
    let mut all = Vec::new();
    for (monday, at) in mondays {
        if !done.insert(monday) {
            continue;
        }
        let cache_key = format!("{tenant}\u{0}{monday}");
        if let Some(hit) = weeks.fresh(&cache_key, WEEK_TTL) {
            all.extend(hit.iter().cloned());
            continue;
        }
        let (list, existed) = challenges::week_of(tx, loaded, tenant, at).await?;
        // Rows created by this transaction are cached only once someone has committed them:
        // a rolled-back batch must not leave ids behind.
        if existed && !list.is_empty() {
            weeks.insert(cache_key, Arc::new(list.clone()));
        }
        all.extend(list);
    }
    Ok(all)
}

/// The players' progress on `week`'s challenges: (user, challenge id, progress).
pub(super) async fn load_progress(
    tx: &mut Tx,
    tenant: &TenantId,
    users: &[&str],
    week: &[Challenge],
) -> Result<Vec<(String, String, Tracked)>, StoreError> {
    if week.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT user_id, challenge_id, count, value_set, completed_at FROM gamification_progress \
         WHERE tenant_id = $1 AND challenge_id IN ({}) AND user_id IN ({})",
        list(2, week.len()),
        list(2 + week.len(), users.len())
    );
    let mut q = multi_row(sql, week.len() + users.len()).bind(tenant.as_str());
    for c in week {
        q = q.bind(&c.id);
    }
    for u in users {
        q = q.bind(*u);
    }
    let mut out = Vec::new();
    for r in q.fetch_all(&mut **tx).await? {
        let values: String = r.try_get(3)?;
        out.push((
            r.try_get(0)?,
            r.try_get(1)?,
            Tracked {
                progress: Progress {
                    count: r.try_get::<i64, _>(2)?.max(0) as u32,
                    values: serde_json::from_str(&values).unwrap_or_default(),
                },
                completed_at: r.try_get(4)?,
            },
        ));
    }
    Ok(out)
}
