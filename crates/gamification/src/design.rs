//! A tenant's design: its rules, multipliers, levels, badges and challenge templates, kept as
//! one versioned JSON document (`gamification_designs`), with the tenant's time zone beside it.
//! A tenant without a document has no rules yet and the default ten levels. Designs are read
//! through a short per-instance cache: a change applies at once on the instance that made it,
//! on the others within [`CACHE_TTL`].

use std::sync::Arc;
use std::time::Duration;

use faro_gamification_domain::badges::{self, Badge};
use faro_gamification_domain::calendar::Calendar;
use faro_gamification_domain::challenges::{self, Template};
use faro_gamification_domain::ledger::Rate;
use faro_gamification_domain::levels::{Level, Levels};
use faro_gamification_domain::rules::{self, Multiplier, Rule};
use faro_gamification_domain::{Problem, demo};
use faro_store::{StoreError, TenantId, unix_now};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::Gamification;
use crate::error::GamificationError;

/// The most event kinds end users may report themselves.
pub const MAX_USER_EVENTS: usize = 50;

/// How long a design is believed on an instance that did not change it.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// The document as stored and as the admin API reads and writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Design {
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub multipliers: Vec<Multiplier>,
    #[serde(default = "default_levels")]
    #[schema(value_type = Vec<Object>)]
    pub levels: Vec<Level>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub badges: Vec<Badge>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub templates: Vec<Template>,
    /// Points for every 7th day in a row (0: none).
    #[serde(default = "default_streak_bonus")]
    pub streak_bonus: i64,
    /// How points turn into credits.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub redemption: Rate,
    /// The event kinds a signed-in end user may report about themselves
    /// (`POST /api/v1/gamification/me/events`), exact kinds only; empty: none. What pays for
    /// something that happened elsewhere (a payment, a conversion) should come from a server
    /// with an API key, never from the person it pays.
    #[serde(default)]
    #[schema(example = json!(["user.daily_login", "feedback.given"]))]
    pub user_events: Vec<String>,
}

fn default_levels() -> Vec<Level> {
    demo::levels().all().to_vec()
}

fn default_streak_bonus() -> i64 {
    demo::STREAK_MILESTONE_POINTS
}

impl Default for Design {
    fn default() -> Self {
        Design {
            rules: Vec::new(),
            multipliers: Vec::new(),
            levels: default_levels(),
            badges: Vec::new(),
            templates: Vec::new(),
            streak_bonus: default_streak_bonus(),
            redemption: Rate::default(),
            user_events: Vec::new(),
        }
    }
}

impl Design {
    /// The converter's whole reward design (the demo tenant's).
    pub fn demo() -> Design {
        Design {
            rules: demo::rules(),
            badges: demo::badges(),
            templates: demo::templates(),
            user_events: demo::USER_EVENTS.iter().map(|k| k.to_string()).collect(),
            ..Design::default()
        }
    }

    /// Whether events of `kind` can earn anything here (a rule, a badge or a challenge looks
    /// at them): other modules' events that none does are not taken in.
    pub fn concerns(&self, kind: &str) -> bool {
        use faro_gamification_domain::badges::Criterion as C;
        use faro_gamification_domain::challenges::Goal as G;
        use faro_gamification_domain::kind_matches as m;
        self.rules.iter().any(|r| r.enabled && m(&r.event, kind))
            || self.badges.iter().any(|b| match &b.criterion {
                C::Milestone { event, .. }
                | C::PropertyOver { event, .. }
                | C::Burst { event, .. } => m(event, kind),
                _ => false,
            })
            || self.templates.iter().any(|t| match &t.goal {
                G::Count { event, .. } | G::Distinct { event, .. } | G::CountOver { event, .. } => {
                    m(event, kind)
                }
                G::Streak { .. } => false,
            })
    }

    /// Every problem of the document, with paths from its root (`rules[2].award.points`), and
    /// rules that give badges the design does not define.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let under = |list: Vec<Problem>, at: &str| {
            list.into_iter().map(|p| p.under(at)).collect::<Vec<_>>()
        };
        problems.extend(under(rules::check_rules(&self.rules), "rules"));
        for (i, m) in self.multipliers.iter().enumerate() {
            problems.extend(under(m.check(), &format!("multipliers[{i}]")));
        }
        if let Err(p) = Levels::new(self.levels.clone()) {
            problems.extend(under(p, "levels"));
        }
        problems.extend(under(badges::check_badges(&self.badges), "badges"));
        problems.extend(under(
            challenges::check_templates(&self.templates),
            "templates",
        ));
        for (i, r) in self.rules.iter().enumerate() {
            if let rules::Award::Badge { badge } = &r.award
                && !self.badges.iter().any(|b| &b.key == badge)
            {
                problems.push(Problem::new(
                    format!("rules[{i}].award.badge"),
                    format!("no badge {badge:?} in this design"),
                ));
            }
        }
        problems.extend(under(
            faro_gamification_domain::check_list(
                &self.user_events,
                MAX_USER_EVENTS,
                "user event kind",
                String::as_str,
                |k| match faro_gamification_domain::check_kind(k, false) {
                    Ok(()) => Vec::new(),
                    Err(m) => vec![Problem::new("", m)],
                },
            ),
            "user_events",
        ));
        if !(0..=rules::MAX_POINTS).contains(&self.streak_bonus) {
            problems.push(Problem::new("streak_bonus", "from 0 to 1,000,000"));
        }
        let r = self.redemption;
        if !(1..=1_000_000).contains(&r.points_per_credit) {
            problems.push(Problem::new(
                "redemption.points_per_credit",
                "from 1 to 1,000,000",
            ));
        }
        if !(0..=rules::MAX_POINTS).contains(&r.min_points) {
            problems.push(Problem::new("redemption.min_points", "from 0 to 1,000,000"));
        }
        problems
    }
}

/// A design ready to use: checked, with its level table and calendar built.
pub struct Loaded {
    pub design: Design,
    pub version: i64,
    pub levels: Levels,
    pub calendar: Calendar,
}

impl Loaded {
    pub(crate) fn new(design: Design, version: i64, time_zone: &str) -> Loaded {
        // A stored design was checked when it was saved; a table broken since (by hand)
        // falls back to the defaults rather than failing every event.
        let levels = Levels::new(design.levels.clone()).unwrap_or_else(|_| demo::levels());
        let calendar = Calendar::new(time_zone).unwrap_or_else(|_| Calendar::utc());
        Loaded {
            design,
            version,
            levels,
            calendar,
        }
    }
}

/// The tenant's design, from the cache when fresh.
pub async fn load(g: &Gamification, tenant: &TenantId) -> Result<Arc<Loaded>, GamificationError> {
    if let Some(hit) = g.designs.fresh(tenant.as_str(), CACHE_TTL) {
        return Ok(hit);
    }
    let row = sqlx::query(
        "SELECT t.time_zone, d.doc, d.version FROM tenants t \
         LEFT JOIN gamification_designs d ON d.tenant_id = t.id WHERE t.id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(g.core.db.reader())
    .await?
    .ok_or(GamificationError::NotFound("no such tenant"))?;
    let time_zone: String = row.try_get(0)?;
    let doc: Option<String> = row.try_get(1)?;
    let version: Option<i64> = row.try_get(2)?;
    let design = match doc {
        Some(doc) => serde_json::from_str(&doc)
            .map_err(|e| StoreError::corrupt(format!("gamification design of {tenant}: {e}")))?,
        None => Design::default(),
    };
    let loaded = Arc::new(Loaded::new(design, version.unwrap_or(0), &time_zone));
    g.designs.insert(tenant.as_str().to_owned(), loaded.clone());
    Ok(loaded)
}

/// Replaces the tenant's design when `expected` is its current version (0: none yet); the new
/// version. Every problem is reported at once and nothing is written when there is one.
pub async fn save(
    g: &Gamification,
    tenant: &TenantId,
    design: &Design,
    expected: i64,
    by: &faro_http::audit::Actor,
) -> Result<i64, GamificationError> {
    let problems = design.check();
    if !problems.is_empty() {
        return Err(GamificationError::Invalid(problems));
    }
    let doc = serde_json::to_string(design).map_err(|e| StoreError::Other(e.to_string()))?;
    let now = unix_now();
    let mut tx = g.core.db.begin_write().await?;
    let stored = sqlx::query("SELECT version, doc FROM gamification_designs WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let (current, before) = match stored {
        Some(r) => (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
        None => (0, String::new()),
    };
    if current != expected {
        return Err(GamificationError::Stale(current));
    }
    let next = current + 1;
    let changed = sqlx::query(
        "INSERT INTO gamification_designs (tenant_id, doc, version, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET doc = $2, \
         version = $3, updated_at = $4, updated_by = $5 \
         WHERE gamification_designs.version = $6",
    )
    .bind(tenant.as_str())
    .bind(&doc)
    .bind(next)
    .bind(now)
    .bind(&by.name)
    .bind(current)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(GamificationError::Stale(current + 1));
    }
    faro_http::audit::record(
        &mut tx,
        faro_http::audit::Entry {
            tenant,
            actor: by,
            action: "gamification.design_put",
            target: "design",
            before: serde_json::from_str(&before).ok(),
            after: serde_json::to_value(design).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    g.designs.remove(tenant.as_str());
    Ok(next)
}

/// Gives `tenant` the demo design unless it has one: true when it did.
pub async fn seed_demo(db: &faro_store::Db, tenant: &TenantId) -> Result<bool, StoreError> {
    let doc =
        serde_json::to_string(&Design::demo()).map_err(|e| StoreError::Other(e.to_string()))?;
    let n = sqlx::query(
        "INSERT INTO gamification_designs (tenant_id, doc, version, updated_at, updated_by) \
         VALUES ($1, $2, 1, $3, 'demo') ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(doc)
    .bind(unix_now())
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_demo_design_is_valid_and_round_trips() {
        let d = Design::demo();
        assert!(d.check().is_empty(), "{:?}", d.check());
        let text = serde_json::to_string(&d).expect("json");
        let back: Design = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, d);
        let empty: Design = serde_json::from_value(json!({})).expect("defaults");
        assert_eq!(empty, Design::default());
    }

    #[test]
    fn problems_carry_their_path() {
        let d: Design = serde_json::from_value(json!({
            "rules": [{"key": "r", "event": "x.y", "award": {"type": "badge", "badge": "nope"}}],
            "levels": [{"title": "A", "min_points": 5}],
            "streak_bonus": -1
        }))
        .expect("parses");
        let paths: Vec<String> = d.check().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "levels[0].min_points",
                "rules[0].award.badge",
                "streak_bonus"
            ]
        );
    }
}
