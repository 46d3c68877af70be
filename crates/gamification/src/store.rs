//! The module's statements about one player at a time (a profile, a board, a redemption);
//! a batch of events reads and writes its players in `sheets`, the panel's sums are `stats`.

use faro_gamification_domain::leaderboard::Score;
use faro_store::{Backend, Db, StoreError, TenantId, multi_row, placeholders};
use jiff::civil::Date;
use sqlx::Row;
use sqlx::any::AnyRow;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Rows per multi-row statement: well under both databases' parameter limits (13 columns).
pub const ROWS: usize = 400;

/// A player's row: the ledger's sums kept beside it, the level reached and the streak.
#[derive(Clone, Debug, PartialEq)]
pub struct Player {
    pub user: String,
    pub balance: i64,
    pub lifetime: i64,
    pub level: u32,
    pub streak_current: u32,
    pub streak_longest: u32,
    pub streak_last_day: Option<Date>,
    pub credits: i64,
    pub ordinal: u64,
    pub display_name: Option<String>,
    pub first_seen_at: i64,
    pub reached_at_ms: i64,
}

pub(crate) const PLAYER: &str = "user_id, balance, lifetime, level, streak_current, streak_longest, \
     streak_last_day, credits, ordinal, display_name, first_seen_at, reached_at_ms";

pub(crate) fn player_row(r: &AnyRow) -> Result<Player, StoreError> {
    let day: Option<String> = r.try_get("streak_last_day")?;
    Ok(Player {
        user: r.try_get("user_id")?,
        balance: r.try_get("balance")?,
        lifetime: r.try_get("lifetime")?,
        level: r.try_get::<i64, _>("level")?.clamp(1, i64::from(u32::MAX)) as u32,
        streak_current: r.try_get::<i64, _>("streak_current")?.max(0) as u32,
        streak_longest: r.try_get::<i64, _>("streak_longest")?.max(0) as u32,
        streak_last_day: day.and_then(|d| d.parse().ok()),
        credits: r.try_get("credits")?,
        ordinal: r.try_get::<i64, _>("ordinal")?.max(1) as u64,
        display_name: r.try_get("display_name")?,
        first_seen_at: r.try_get("first_seen_at")?,
        reached_at_ms: r.try_get("reached_at_ms")?,
    })
}

/// The awards an event key gave, as (rule, points), for answering its duplicates.
pub async fn awards_of(
    db: &Db,
    tenant: &TenantId,
    user: &str,
    key: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT rule, points FROM gamification_ledger WHERE tenant_id = $1 AND user_id = $2 \
         AND source = $3 AND kind = 'award' ORDER BY id",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(key)
    .fetch_all(db.writer())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("rule")?, r.try_get("points")?)))
        .collect()
}

pub async fn player(db: &Db, tenant: &TenantId, user: &str) -> Result<Option<Player>, StoreError> {
    let sql =
        format!("SELECT {PLAYER} FROM gamification_players WHERE tenant_id = $1 AND user_id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(user)
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(player_row)
        .transpose()
}

/// Takes the tenant row's lock (PostgreSQL; SQLite's one writer already serialises): held
/// while new players are numbered, so two never share a number.
pub async fn lock_tenant(tx: &mut Tx, tenant: &TenantId) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET updated_at = updated_at WHERE id = $1")
        .bind(tenant.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts `missing` players, numbered after the tenant's last (its lock held, or SQLite).
pub async fn insert_players(
    tx: &mut Tx,
    tenant: &TenantId,
    missing: &[(String, Option<String>)],
    now: i64,
) -> Result<(), StoreError> {
    if missing.is_empty() {
        return Ok(());
    }
    let last: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(ordinal), 0) AS BIGINT) FROM gamification_players \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let mut next = last;
    for chunk in missing.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO gamification_players (tenant_id, user_id, ordinal, display_name, \
             first_seen_at, reached_at_ms) VALUES {} ON CONFLICT (tenant_id, user_id) DO NOTHING",
            placeholders(chunk.len(), 6)
        );
        let mut q = multi_row(sql, chunk.len());
        for (user, name) in chunk {
            next += 1;
            q = q
                .bind(tenant.as_str())
                .bind(user)
                .bind(next)
                .bind(name)
                .bind(now)
                .bind(now * 1000);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The player's row, created if new (numbered after the tenant's last player, under the
/// tenant row's lock), and locked for the rest of the transaction on PostgreSQL.
pub async fn lock_player(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    user: &str,
    now: i64,
) -> Result<Player, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let select = format!(
        "SELECT {PLAYER} FROM gamification_players WHERE tenant_id = $1 AND user_id = $2{lock}"
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
        .bind(tenant.as_str())
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(r) = found {
        return player_row(&r);
    }
    lock_tenant(tx, tenant).await?;
    insert_players(tx, tenant, &[(user.to_owned(), None)], now).await?;
    let r = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(tenant.as_str())
        .bind(user)
        .fetch_one(&mut **tx)
        .await?;
    player_row(&r)
}

pub async fn save_player(tx: &mut Tx, tenant: &TenantId, p: &Player) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE gamification_players SET balance = $3, lifetime = $4, level = $5, \
         streak_current = $6, streak_longest = $7, streak_last_day = $8, credits = $9, \
         display_name = $10, reached_at_ms = $11 WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(&p.user)
    .bind(p.balance)
    .bind(p.lifetime)
    .bind(i64::from(p.level))
    .bind(i64::from(p.streak_current))
    .bind(i64::from(p.streak_longest))
    .bind(p.streak_last_day.map(|d| d.to_string()))
    .bind(p.credits)
    .bind(&p.display_name)
    .bind(p.reached_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The user's unlocked badges with their times, oldest first.
pub async fn unlocked(
    db: &Db,
    tenant: &TenantId,
    user: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT badge, unlocked_at FROM gamification_badges WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY unlocked_at, badge",
    )
    .bind(tenant.as_str())
    .bind(user)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The user's events, all kinds together.
pub async fn event_count(db: &Db, tenant: &TenantId, user: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM gamification_kind_counts \
         WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user)
    .fetch_one(db.reader())
    .await?)
}

/// One leaderboard row before it is shown.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub user: String,
    pub points: i64,
    pub level: u32,
    pub display_name: Option<String>,
    pub ordinal: u64,
}

/// The all-time top `limit`: by lifetime points, then who reached them first, then id.
pub async fn top_all_time(
    db: &Db,
    tenant: &TenantId,
    limit: i64,
) -> Result<Vec<Ranked>, StoreError> {
    let rows = sqlx::query(
        "SELECT user_id, lifetime, level, display_name, ordinal FROM gamification_players \
         WHERE tenant_id = $1 AND lifetime > 0 \
         ORDER BY lifetime DESC, reached_at_ms ASC, user_id ASC LIMIT $2",
    )
    .bind(tenant.as_str())
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(ranked).collect()
}

fn ranked(r: &AnyRow) -> Result<Ranked, StoreError> {
    Ok(Ranked {
        user: r.try_get(0)?,
        points: r.try_get(1)?,
        level: r.try_get::<i64, _>(2)?.clamp(1, i64::from(u32::MAX)) as u32,
        display_name: r.try_get(3)?,
        ordinal: r.try_get::<i64, _>(4)?.max(1) as u64,
    })
}

/// The top `limit` by points earned in `[since, ∞)` (awards less reversals), ties to who got
/// there first (their last entry of the period), then id.
pub async fn top_since(
    db: &Db,
    tenant: &TenantId,
    since: i64,
    limit: i64,
) -> Result<Vec<Ranked>, StoreError> {
    let rows = sqlx::query(
        "SELECT l.user_id, CAST(SUM(l.points) AS BIGINT) AS pts, MAX(p.level), MAX(p.display_name), \
         MAX(p.ordinal) FROM gamification_ledger l JOIN gamification_players p \
         ON p.tenant_id = l.tenant_id AND p.user_id = l.user_id \
         WHERE l.tenant_id = $1 AND l.created_at >= $2 AND l.kind IN ('award', 'reversal') \
         GROUP BY l.user_id HAVING SUM(l.points) > 0 \
         ORDER BY pts DESC, MAX(l.id) ASC, l.user_id ASC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(since)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(ranked).collect()
}

/// Every player's all-time line, for a board snapshot (`ranks.rs`).
/// Streamed row by row: the driver's rows of a whole board at once weighed several times the
/// scores kept.
pub async fn all_scores(db: &Db, tenant: &TenantId) -> Result<Vec<Score>, StoreError> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query(
        "SELECT user_id, lifetime, reached_at_ms FROM gamification_players WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch(db.reader());
    let mut scores = Vec::new();
    while let Some(r) = rows.try_next().await? {
        scores.push(Score {
            user: r.try_get(0)?,
            points: r.try_get(1)?,
            reached_at: r.try_get(2)?,
        });
    }
    Ok(scores)
}

/// The all-time rank of `p` (1 + players strictly ahead of them). Two counts, each one range
/// of the board index: the players with more points, and those tied who got there first. (One
/// query with an `OR` of both could use no range and counted the whole tenant.)
pub async fn rank_all_time(db: &Db, tenant: &TenantId, p: &Player) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM gamification_players WHERE tenant_id = $1 AND lifetime > $2), \
         (SELECT COUNT(*) FROM gamification_players WHERE tenant_id = $1 AND lifetime = $2 \
          AND (reached_at_ms < $3 OR (reached_at_ms = $3 AND user_id < $4)))",
    )
    .bind(tenant.as_str())
    .bind(p.lifetime)
    .bind(p.reached_at_ms)
    .bind(&p.user)
    .fetch_one(db.reader())
    .await?;
    let more: i64 = row.try_get(0)?;
    let tied_first: i64 = row.try_get(1)?;
    Ok(more + tied_first + 1)
}
