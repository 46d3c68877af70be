//! Weekly challenges in the module: the week's challenges are created from the tenant's
//! templates the first time anything needs them (an event, a profile, the Monday job), the
//! same ones whichever instance or request creates them (the pick is a function of the tenant
//! and the week, and rows are unique per week and template). Each event moves the player's
//! progress on the challenges it concerns (`engine.rs`), and reaching a goal pays the
//! template's points once.

use std::time::Duration;

use faro_gamification_domain::calendar::{Period, monday_of};
use faro_gamification_domain::challenges::{self, DEFAULT_PER_WEEK, Template};
use faro_store::{Db, Job, StoreError, TenantId, new_id, unix_now};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::Gamification;
use crate::design::{self, Loaded};
use crate::store::Tx;

/// One of the week's challenges.
#[derive(Clone, Debug)]
pub struct Challenge {
    pub id: String,
    pub template: Template,
    pub starts_at: i64,
    pub ends_at: i64,
}

/// A challenge as a profile shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub points: i64,
    /// The goal's number (10 conversions, 5 formats, 7 days).
    pub target: u32,
    pub progress: u32,
    pub completed: bool,
    /// RFC 3339: when the week ends (the tenant's next Monday 00:00).
    pub ends_at: String,
}

async fn week_rows<'e, E>(
    exec: E,
    tenant: &TenantId,
    week: &str,
) -> Result<Vec<Challenge>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, template, starts_at, ends_at FROM gamification_challenges \
         WHERE tenant_id = $1 AND week_start = $2 ORDER BY template_key",
    )
    .bind(tenant.as_str())
    .bind(week)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get(1)?;
            Ok(Challenge {
                id: r.try_get(0)?,
                template: serde_json::from_str(&text)
                    .map_err(|e| StoreError::corrupt(format!("challenge template: {e}")))?,
                starts_at: r.try_get(2)?,
                ends_at: r.try_get(3)?,
            })
        })
        .collect()
}

/// The week (holding `at`) of the tenant's challenges: created from its templates if none are
/// yet (in `tx` when given, so an event's transaction sees them), read otherwise.
pub async fn week(
    tx: &mut Tx,
    loaded: &Loaded,
    tenant: &TenantId,
    at: i64,
) -> Result<Vec<Challenge>, StoreError> {
    Ok(week_of(tx, loaded, tenant, at).await?.0)
}

/// [`week`], and whether its rows were there before this call (committed, so safe to cache).
pub async fn week_of(
    tx: &mut Tx,
    loaded: &Loaded,
    tenant: &TenantId,
    at: i64,
) -> Result<(Vec<Challenge>, bool), StoreError> {
    if loaded.design.templates.is_empty() {
        return Ok((Vec::new(), false));
    }
    let monday = monday_of(loaded.calendar.day(at));
    let key = monday.to_string();
    let found = week_rows(&mut **tx, tenant, &key).await?;
    if !found.is_empty() {
        return Ok((found, true));
    }
    let window = loaded.calendar.window(Period::Week, at);
    let seed = challenges::seed(tenant.as_str(), monday);
    for t in challenges::pick(&loaded.design.templates, DEFAULT_PER_WEEK, seed) {
        let json = serde_json::to_string(t).map_err(|e| StoreError::Other(e.to_string()))?;
        sqlx::query(
            "INSERT INTO gamification_challenges (id, tenant_id, week_start, template_key, template, \
             starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, week_start, template_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(tenant.as_str())
        .bind(&key)
        .bind(&t.key)
        .bind(json)
        .bind(window.start)
        .bind(window.end)
        .bind(unix_now())
        .execute(&mut **tx)
        .await?;
    }
    Ok((week_rows(&mut **tx, tenant, &key).await?, false))
}

/// The week's challenges with `user`'s progress, for a profile.
pub async fn views(
    g: &Gamification,
    loaded: &Loaded,
    tenant: &TenantId,
    user: &str,
) -> Result<Vec<ChallengeView>, StoreError> {
    let db = &g.core.db;
    let now = unix_now();
    let list = if loaded.design.templates.is_empty() {
        Vec::new()
    } else {
        let monday = monday_of(loaded.calendar.day(now)).to_string();
        let found = week_rows(db.reader(), tenant, &monday).await?;
        if found.is_empty() {
            let mut tx = db.begin_write().await?;
            let made = week(&mut tx, loaded, tenant, now).await?;
            tx.commit().await?;
            made
        } else {
            found
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        let row = sqlx::query(
            "SELECT count, completed_at FROM gamification_progress WHERE challenge_id = $1 AND user_id = $2",
        )
        .bind(&c.id)
        .bind(user)
        .fetch_optional(db.reader())
        .await?;
        let (progress, completed) = match row {
            Some(r) => (
                r.try_get::<i64, _>(0)?.max(0) as u32,
                r.try_get::<Option<i64>, _>(1)?.is_some(),
            ),
            None => (0, false),
        };
        out.push(ChallengeView {
            id: c.id,
            key: c.template.key.clone(),
            name: c.template.name.clone(),
            description: c.template.description.clone(),
            points: c.template.points,
            target: c.template.target(),
            progress: progress.min(c.template.target()),
            completed,
            ends_at: faro_http::respond::rfc3339(c.ends_at),
        });
    }
    Ok(out)
}

/// Every 15 minutes: makes sure each tenant with templates has this week's challenges, so they
/// are there from Monday 00:00 local even before the first event.
pub fn job(g: Gamification) -> Job {
    Job::new(
        "gamification.weekly_challenges",
        Duration::from_secs(15 * 60),
        move |db: Db| {
            let g = g.clone();
            Box::pin(async move {
                let tenants: Vec<String> =
                    sqlx::query_scalar("SELECT tenant_id FROM gamification_designs")
                        .fetch_all(db.reader())
                        .await?;
                for t in tenants {
                    let tenant = TenantId::new(t.as_str());
                    let loaded = match design::load(&g, &tenant).await {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::warn!(tenant = %t, error = %e, "weekly challenges skipped");
                            continue;
                        }
                    };
                    if loaded.design.templates.is_empty() {
                        continue;
                    }
                    let mut tx = db.begin_write().await?;
                    week(&mut tx, &loaded, &tenant, unix_now()).await?;
                    tx.commit().await?;
                }
                Ok::<_, StoreError>(())
            })
        },
    )
}
