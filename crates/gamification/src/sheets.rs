//! A batch of events in a few statements: every event row in one insert (which also says which
//! keys are new), every player of the batch read and locked at once with what their awards
//! depend on, the events applied in memory (`engine.rs`), and each kind of row written back
//! in one multi-row statement. The same SQL runs on SQLite (3.35+) and PostgreSQL.
//!
//! Locks are taken in one order on PostgreSQL (event keys sorted, then players by id), so two
//! instances' batches wait for each other instead of deadlocking; SQLite has one writer.

use std::collections::{BTreeSet, HashSet};

use faro_store::{Backend, Db, StoreError, TenantId, multi_row, new_id, placeholders};
use sqlx::Row;

use crate::design::Loaded;
use crate::engine::{self, Writes};
use crate::store::{self, Tx};

mod load;
mod parts;
mod write;

pub use parts::{Applied, Item, Weeks};
use parts::{ROWS, list};

/// Numbers the batch's new players in the order they first appear, after the tenant's last
/// player, in a short transaction of its own (PostgreSQL): the tenant row's lock that keeps
/// the numbers exact is then held for one insert, not for a batch. Call it before the batch's
/// transaction begins, so a batch never holds two connections.
pub async fn number_new_players(
    db: &Db,
    tenant: &TenantId,
    users: &[(String, Option<String>)],
    now: i64,
) -> Result<(), StoreError> {
    let missing = missing_players(db.reader(), tenant, users).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut own = db.begin_write().await?;
    store::lock_tenant(&mut own, tenant).await?;
    // Again under the lock: another instance may have numbered some meanwhile.
    let missing = missing_players(&mut *own, tenant, &missing).await?;
    store::insert_players(&mut own, tenant, &missing, now).await?;
    own.commit().await?;
    Ok(())
}

/// The same in the batch's own transaction, for SQLite, whose one writer already serialises
/// everything: saves a commit per batch.
pub async fn number_new_players_in(
    tx: &mut Tx,
    tenant: &TenantId,
    users: &[(String, Option<String>)],
    now: i64,
) -> Result<(), StoreError> {
    let missing = missing_players(&mut **tx, tenant, users).await?;
    store::insert_players(tx, tenant, &missing, now).await
}

/// Which of `users` have no player row yet, in their order.
async fn missing_players<'e, E>(
    exec: E,
    tenant: &TenantId,
    users: &[(String, Option<String>)],
) -> Result<Vec<(String, Option<String>)>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut seen = HashSet::new();
    let users: Vec<_> = users
        .iter()
        .filter(|(u, _)| seen.insert(u.as_str()))
        .collect();
    let sql = format!(
        "SELECT user_id FROM gamification_players WHERE tenant_id = $1 AND user_id IN ({})",
        list(2, users.len())
    );
    let mut q = multi_row(sql, users.len()).bind(tenant.as_str());
    for (u, _) in &users {
        q = q.bind(u);
    }
    let found: HashSet<String> = q
        .fetch_all(exec)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(users
        .into_iter()
        .filter(|(u, _)| !found.contains(u))
        .cloned()
        .collect())
}

/// Records and applies `items` (one tenant's) in `tx`: one outcome per item, in order.
pub async fn apply(
    tx: &mut Tx,
    backend: Backend,
    weeks: &Weeks,
    loaded: &Loaded,
    tenant: &TenantId,
    items: &[Item],
    now: i64,
) -> Result<Vec<Applied>, StoreError> {
    // The first of each key is a candidate; later ones in the batch are its duplicates.
    let mut seen = HashSet::new();
    let firsts: Vec<usize> = (0..items.len())
        .filter(|&i| seen.insert(items[i].key.as_str()))
        .collect();
    let new_keys = insert_events(tx, tenant, items, &firsts, now).await?;
    let fresh: Vec<usize> = firsts
        .into_iter()
        .filter(|&i| new_keys.contains(&items[i].key))
        .collect();
    let mut answers: Vec<Applied> = vec![Applied::Duplicate; items.len()];
    if fresh.is_empty() {
        return Ok(answers);
    }
    let users: BTreeSet<&str> = fresh.iter().map(|&i| items[i].user.as_str()).collect();
    let users: Vec<&str> = users.into_iter().collect();
    let mut sheets =
        load::load_sheets(tx, backend, loaded, tenant, &users, items, &fresh, now).await?;
    let week = load::week_challenges(tx, weeks, loaded, tenant, items, &fresh).await?;
    let progress = load::load_progress(tx, tenant, &users, &week).await?;
    for (user, challenge, tracked) in progress {
        if let Some(s) = sheets.get_mut(&user) {
            s.progress.insert(challenge, tracked);
        }
    }
    let now_ms = faro_store::unix_now_ms();
    let mut writes = Writes::default();
    for (place, &i) in fresh.iter().enumerate() {
        let item = &items[i];
        let sheet = sheets
            .get_mut(&item.user)
            .ok_or_else(|| StoreError::Other(format!("no sheet for player {}", item.user)))?;
        if item.masked.is_some() && item.masked != sheet.player.display_name {
            sheet.player.display_name = item.masked.clone();
        }
        let out = engine::apply(
            loaded,
            &week,
            tenant,
            sheet,
            &item.key,
            place,
            &item.event,
            now_ms,
            &mut writes,
        )?;
        answers[i] = Applied::New(out);
    }
    write::write(tx, backend, tenant, &sheets, &writes).await?;
    Ok(answers)
}

/// Inserts the candidates' event rows (sorted by key, so concurrent batches lock keys in
/// one order); the keys that were new.
async fn insert_events(
    tx: &mut Tx,
    tenant: &TenantId,
    items: &[Item],
    firsts: &[usize],
    now: i64,
) -> Result<HashSet<String>, StoreError> {
    let mut order: Vec<&Item> = firsts.iter().map(|&i| &items[i]).collect();
    order.sort_by(|a, b| a.key.cmp(&b.key));
    let mut new = HashSet::new();
    for chunk in order.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_events (id, tenant_id, key, user_id, kind, props, \
             occurred_at, created_at) VALUES {} ON CONFLICT (tenant_id, key) DO NOTHING \
             RETURNING key",
            placeholders(chunk.len(), 8)
        );
        let mut q = multi_row(sql, chunk.len());
        for item in chunk {
            let props = serde_json::to_string(&item.event.props)
                .map_err(|e| StoreError::Other(e.to_string()))?;
            q = q
                .bind(new_id())
                .bind(tenant.as_str())
                .bind(&item.key)
                .bind(&item.user)
                .bind(&item.event.kind)
                .bind(props)
                .bind(item.event.at)
                .bind(now);
        }
        for r in q.fetch_all(&mut **tx).await? {
            new.insert(r.try_get::<String, _>(0)?);
        }
    }
    Ok(new)
}
