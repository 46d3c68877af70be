use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{Db, StoreError};

/// One cell of `stats_daily`: which tenant, which scope (a test version, ...), which UTC day,
/// which metric, and an optional sub-key (a question key, a profile code, a source).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CounterKey {
    pub tenant_id: String,
    pub scope: String,
    pub day: String,
    pub metric: &'static str,
    pub key: String,
}

/// Hot counters batched in memory and flushed as additive upserts.
///
/// Why: a visitor session touches a dozen counters; writing each to the database would put a
/// write on every request. Increments are summed here and written once per interval in one
/// transaction. Because the upsert adds (`value = value + excluded.value`), any number of
/// instances can flush the same cells; what a crash loses is at most one interval of counts.
#[derive(Clone, Default)]
pub struct Counters {
    pending: Arc<Mutex<HashMap<CounterKey, i64>>>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters")
            .field("pending", &self.pending_cells())
            .finish()
    }
}

/// Rows per INSERT statement: well under SQLite's 32,766 bound parameters, big enough that a
/// busy second flushes in a handful of statements.
const ROWS_PER_STATEMENT: usize = 200;

impl Counters {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&self, key: CounterKey, delta: i64) {
        if delta == 0 {
            return;
        }
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(key).or_insert(0) += delta;
    }

    /// Number of distinct cells waiting for the next flush.
    pub fn pending_cells(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Writes everything pending. On failure the increments go back into the pending map, so
    /// a database outage delays counts but loses none (while the process lives).
    pub async fn flush(&self, db: &Db) -> Result<usize, StoreError> {
        let batch: Vec<(CounterKey, i64)> = {
            let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if map.is_empty() {
                return Ok(0);
            }
            std::mem::take(&mut *map)
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .collect()
        };
        let n = batch.len();
        match write_batch(db, &batch).await {
            Ok(()) => Ok(n),
            Err(e) => {
                let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                for (k, v) in batch {
                    *map.entry(k).or_insert(0) += v;
                }
                Err(e)
            }
        }
    }

    /// Flushes every `interval` until `shutdown` turns true, then flushes one last time.
    pub async fn run_flusher(
        self,
        db: Db,
        interval: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.flush(&db).await {
                        tracing::warn!(error = %e, pending = self.pending_cells(), "counter flush failed; will retry");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
        // Final flush on graceful shutdown; retry briefly in case the database blips.
        for attempt in 0..3 {
            match self.flush(&db).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(error = %e, attempt, "final counter flush failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

async fn write_batch(db: &Db, batch: &[(CounterKey, i64)]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO stats_daily (tenant_id, scope, day, metric, key, value) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 6;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
        }
        sql.push_str(
            " ON CONFLICT (tenant_id, scope, day, metric, key) \
             DO UPDATE SET value = stats_daily.value + excluded.value",
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (k, v) in chunk {
            q = q
                .bind(k.tenant_id.clone())
                .bind(k.scope.clone())
                .bind(k.day.clone())
                .bind(k.metric)
                .bind(k.key.clone())
                .bind(*v);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
