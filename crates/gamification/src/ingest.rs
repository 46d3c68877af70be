//! Taking in events: each is checked here, then queued for the group-commit writer, which
//! records and applies the events waiting at that moment together (`sheets.rs` reads and
//! writes their players in a few statements, `engine.rs` applies each in memory): the
//! player's streak and kind counts, each matching rule's award, the streak milestone,
//! challenges, badges, the level, and the outbox events that tell other modules. A caller's
//! answer comes once its batch is committed.
//!
//! Exactly once per `(tenant, key)`: the event rows are inserted first with `ON CONFLICT DO
//! NOTHING`, so a second delivery of a key (retried, in the same batch, or concurrent on
//! another instance) finds it, changes nothing and answers `duplicate`. Awards are also
//! unique per (tenant, user, rule, source) in the ledger, a second lock on the same promise.
//! A batch's players are locked together (PostgreSQL; SQLite has one writer), so caps and
//! once-per-user rules see every earlier award.

use std::sync::Arc;

use faro_gamification_domain::Event;
use faro_store::{Db, StoreError, TenantId, unix_now};
use serde_json::{Map, Value};

use crate::Gamification;
use crate::design::{self, Loaded};
pub use crate::engine::{AwardView, Outcomes};
use crate::error::GamificationError;
use crate::sheets::{self, Applied, Item, Weeks};
use crate::store;

/// One event as a caller sends it.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub user: String,
    pub kind: String,
    /// Unique per tenant: the same key again changes nothing.
    pub key: String,
    pub props: Map<String, Value>,
    /// Unix seconds; `None`: now.
    pub occurred_at: Option<i64>,
    /// The name to show on the leaderboard (masked before it is stored).
    pub display_name: Option<String>,
}

/// How far in the past an event may say it happened (older ones are refused: they would
/// rewrite streaks and caps long closed), and how far in the future (clock skew).
pub const MAX_AGE_SECS: i64 = 30 * 86_400;
pub const MAX_SKEW_SECS: i64 = 300;

/// Checks an incoming event; every problem at once.
pub fn check(inc: &Incoming, now: i64) -> Result<(), GamificationError> {
    let mut problems = Vec::new();
    let user = inc.user.trim();
    if user.is_empty() || user.len() > 128 || user.chars().any(char::is_control) {
        problems.push(faro_gamification_domain::Problem::new(
            "user",
            "the user's id: 1 to 128 characters",
        ));
    }
    if let Err(m) = faro_gamification_domain::check_kind(&inc.kind, false) {
        problems.push(faro_gamification_domain::Problem::new("type", m));
    }
    if inc.key.is_empty() || inc.key.len() > 200 || inc.key.chars().any(char::is_control) {
        problems.push(faro_gamification_domain::Problem::new(
            "key",
            "1 to 200 characters, unique per event",
        ));
    }
    if serde_json::to_string(&inc.props).map_or(0, |s| s.len()) > 8 * 1024 {
        problems.push(faro_gamification_domain::Problem::new(
            "props",
            "at most 8 KB of JSON",
        ));
    }
    if let Some(at) = inc.occurred_at
        && !(now - MAX_AGE_SECS..=now + MAX_SKEW_SECS).contains(&at)
    {
        problems.push(faro_gamification_domain::Problem::new(
            "occurred_at",
            "within the last 30 days (and not in the future)",
        ));
    }
    if inc
        .display_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 80)
    {
        problems.push(faro_gamification_domain::Problem::new(
            "display_name",
            "at most 80 characters",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GamificationError::Invalid(problems))
    }
}

/// An event a signed-in end user reports about themselves: only a kind the tenant's design
/// lists in `user_events`, dated when it arrives (no backdating into a streak), under a key
/// of the user's own (`me:{user}:{key}`), so no one can take a key a server's event needs.
pub async fn ingest_own(
    g: &Gamification,
    tenant: &TenantId,
    user: &str,
    kind: String,
    key: String,
    props: Map<String, Value>,
) -> Result<Outcomes, GamificationError> {
    let loaded = design::load(g, tenant).await?;
    if !loaded.design.user_events.contains(&kind) {
        return Err(GamificationError::NotForUsers(kind));
    }
    if key.is_empty() || key.len() > 100 || key.chars().any(char::is_control) {
        return Err(GamificationError::invalid(
            "key",
            "1 to 100 characters, unique per event",
        ));
    }
    ingest(
        g,
        tenant,
        Incoming {
            user: user.to_owned(),
            kind,
            key: format!("me:{user}:{key}"),
            props,
            occurred_at: None,
            display_name: None,
        },
    )
    .await
}

/// Takes in one event for `tenant`: checked here, then recorded and applied with whatever
/// other events are waiting at that moment (group commit, see `sheets.rs`); the answer comes
/// once its batch is committed.
pub async fn ingest(
    g: &Gamification,
    tenant: &TenantId,
    inc: Incoming,
) -> Result<Outcomes, GamificationError> {
    let now = unix_now();
    check(&inc, now)?;
    let loaded = design::load(g, tenant).await?;
    let job = Job {
        tenant: tenant.clone(),
        loaded,
        item: Item {
            user: inc.user.trim().to_owned(),
            event: Event {
                kind: inc.kind,
                props: inc.props,
                at: inc.occurred_at.unwrap_or(now).min(now),
            },
            masked: inc
                .display_name
                .as_deref()
                .and_then(faro_gamification_domain::leaderboard::mask),
            key: inc.key,
        },
    };
    Ok(g.events.submit(job).await?)
}

/// One event waiting for its batch.
pub struct Job {
    pub tenant: TenantId,
    pub loaded: Arc<Loaded>,
    pub item: Item,
}

/// The group-commit writer of events: a batch's events of one tenant are one transaction.
pub struct EventWrites {
    pub weeks: Weeks,
    pub wake: faro_store::Wake,
}

impl faro_store::BatchWrite for EventWrites {
    type Job = Job;
    type Outcome = Outcomes;

    async fn run(&self, db: &Db, jobs: &[Job]) -> Vec<Result<Outcomes, StoreError>> {
        let mut results: Vec<Option<Result<Outcomes, StoreError>>> =
            jobs.iter().map(|_| None).collect();
        // One tenant at a time, in the order they first appear.
        let mut tenants: Vec<&TenantId> = Vec::new();
        for j in jobs {
            if !tenants.contains(&&j.tenant) {
                tenants.push(&j.tenant);
            }
        }
        for tenant in tenants {
            let places: Vec<usize> = (0..jobs.len())
                .filter(|&i| &jobs[i].tenant == tenant)
                .collect();
            let answers = self.run_tenant(db, tenant, jobs, &places).await;
            for (i, answer) in places.into_iter().zip(answers) {
                results[i] = Some(answer);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError::Other("an event was not run".into()))))
            .collect()
    }
}

impl EventWrites {
    async fn run_tenant(
        &self,
        db: &Db,
        tenant: &TenantId,
        jobs: &[Job],
        places: &[usize],
    ) -> Vec<Result<Outcomes, StoreError>> {
        match self.try_tenant(db, tenant, jobs, places).await {
            Ok(answers) => answers.into_iter().map(Ok).collect(),
            Err(e) => places.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    async fn try_tenant(
        &self,
        db: &Db,
        tenant: &TenantId,
        jobs: &[Job],
        places: &[usize],
    ) -> Result<Vec<Outcomes>, StoreError> {
        let now = unix_now();
        let items: Vec<Item> = places.iter().map(|&i| jobs[i].item.clone()).collect();
        // The newest design any of them was checked against (they differ only across a change).
        let loaded = places
            .iter()
            .map(|&i| &jobs[i].loaded)
            .max_by_key(|l| l.version)
            .ok_or_else(|| StoreError::Other("an empty batch".into()))?;
        let users: Vec<(String, Option<String>)> = items
            .iter()
            .map(|i| (i.user.clone(), i.masked.clone()))
            .collect();
        let mut tx = if db.backend() == faro_store::Backend::Sqlite {
            let mut tx = db.begin_write().await?;
            sheets::number_new_players_in(&mut tx, tenant, &users, now).await?;
            tx
        } else {
            sheets::number_new_players(db, tenant, &users, now).await?;
            db.begin_write().await?
        };
        let applied = sheets::apply(
            &mut tx,
            db.backend(),
            &self.weeks,
            loaded,
            tenant,
            &items,
            now,
        )
        .await?;
        tx.commit().await?;
        self.wake.notify();
        // Duplicates: of an event earlier in this batch, or of one committed before.
        let mut out = Vec::with_capacity(items.len());
        for (item, answer) in items.iter().zip(&applied) {
            out.push(match answer {
                Applied::New(o) => o.clone(),
                Applied::Duplicate => {
                    let first = items
                        .iter()
                        .zip(&applied)
                        .find(|(i, _)| i.key == item.key)
                        .and_then(|(_, a)| match a {
                            Applied::New(o) => Some(o),
                            Applied::Duplicate => None,
                        });
                    match first {
                        Some(o) => Outcomes {
                            duplicate: true,
                            awards: o.awards.clone(),
                            balance: o.balance,
                            ..Outcomes::default()
                        },
                        None => duplicate(db, tenant, &item.user, &item.key).await?,
                    }
                }
            });
        }
        Ok(out)
    }
}

/// The answer to a key seen before: the awards of its first time and the balance now.
async fn duplicate(
    db: &Db,
    tenant: &TenantId,
    user: &str,
    key: &str,
) -> Result<Outcomes, StoreError> {
    let awards = store::awards_of(db, tenant, user, key)
        .await?
        .into_iter()
        .map(|(rule, points)| AwardView { rule, points })
        .collect();
    let balance = store::player(db, tenant, user)
        .await?
        .map_or(0, |p| p.balance);
    Ok(Outcomes {
        duplicate: true,
        awards,
        balance,
        ..Outcomes::default()
    })
}
