//! Plans: the quotas the installation gives its tenants (`faro_store::quota` enforces them in
//! each module's creating transaction). Only the super-admin defines plans, in the console
//! (`/platform/plans`) and at `/api/v1/platform/plans`; a tenant's `plan` names one. A plan
//! name without a row limits nothing, so an installation that never defines plans is
//! unlimited, as before plans existed.

pub mod api;
pub mod page;

use faro_http::ApiError;
use faro_store::quota::{Quota, check_quotas};
use faro_store::{Db, StoreError, TenantId, unix_now};
use serde_json::{Map, Value};
use sqlx::Row;

use crate::audit::{self, Actor, Entry};
use crate::tenants::domain::{Problem, check_plan};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("no such plan")]
    NotFound,
    /// Deleting a plan that tenants use would lift their limits without anyone deciding so.
    #[error("{0} tenant(s) are on this plan")]
    InUse(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PlanError {
    fn from(e: sqlx::Error) -> Self {
        PlanError::Store(e.into())
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Invalid(problems) => {
                crate::tenants::domain::invalid("the plan is not valid", problems)
            }
            PlanError::NotFound => ApiError::not_found("the installation has no plan by this name"),
            PlanError::InUse(n) => ApiError::conflict(
                "plan_in_use",
                format!("{n} tenant(s) are on this plan: move them to another plan first"),
            ),
            PlanError::Store(e) => e.into(),
        }
    }
}

/// A plan as stored, with how many tenants are on it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanRow {
    pub name: String,
    /// Only known keys, each a whole number; a missing key is unlimited.
    pub quotas: Map<String, Value>,
    pub tenants: i64,
    pub updated_at: i64,
}

/// Every plan, by name, with how many tenants are on it.
pub async fn list(db: &Db) -> Result<Vec<PlanRow>, PlanError> {
    let rows = sqlx::query(
        "SELECT p.name, p.quotas, p.updated_at, \
         (SELECT COUNT(*) FROM tenants t WHERE t.plan = p.name) FROM plans p ORDER BY p.name",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get(0)?;
            let quotas: String = r.try_get(1)?;
            Ok(PlanRow {
                quotas: parse(&name, &quotas)?,
                name,
                updated_at: r.try_get(2)?,
                tenants: r.try_get(3)?,
            })
        })
        .collect()
}

/// Plan names tenants are on that have no row (so no quotas), with how many tenants.
pub async fn unlimited_in_use(db: &Db) -> Result<Vec<(String, i64)>, PlanError> {
    let rows = sqlx::query(
        "SELECT t.plan, COUNT(*) FROM tenants t \
         WHERE NOT EXISTS (SELECT 1 FROM plans p WHERE p.name = t.plan) \
         GROUP BY t.plan ORDER BY t.plan",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, _>>()?)
}

fn parse(name: &str, quotas: &str) -> Result<Map<String, Value>, PlanError> {
    match serde_json::from_str(quotas) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(StoreError::corrupt(format!("quotas of plan {name}")).into()),
    }
}

/// Every problem of a plan `name` with `quotas`.
pub fn check(name: &str, quotas: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Err(m) = check_plan(name) {
        problems.push(Problem::new("name", m));
    }
    let mut quota_problems = check_quotas(quotas);
    quota_problems.sort();
    for (key, message) in quota_problems {
        let path = if key.is_empty() {
            "quotas".to_string()
        } else {
            format!("quotas.{key}")
        };
        problems.push(Problem::new(path, message));
    }
    problems
}

/// Creates or replaces plan `name`; audited in the default tenant's log (the installation's).
pub async fn put(db: &Db, name: &str, quotas: Value, by: &Actor) -> Result<PlanRow, PlanError> {
    let problems = check(name, &quotas);
    if !problems.is_empty() {
        return Err(PlanError::Invalid(problems));
    }
    let Value::Object(quotas) = quotas else {
        return Err(PlanError::Invalid(vec![Problem::new(
            "quotas",
            "an object",
        )]));
    };
    // Stored in the closed set's order, so the console and the API list them alike.
    let mut ordered = Map::new();
    for q in Quota::ALL {
        if let Some(v) = quotas.get(q.key()) {
            ordered.insert(q.key().to_string(), v.clone());
        }
    }
    let now = unix_now();
    let text = Value::Object(ordered.clone()).to_string();
    let mut tx = db.begin_write().await?;
    let before = stored(&mut tx, name).await?;
    sqlx::query(
        "INSERT INTO plans (name, quotas, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET quotas = excluded.quotas, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(&text)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let tenants = tenants_on(&mut tx, name).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant: &TenantId::default_tenant(),
            actor: by,
            action: "plan.put",
            target: name,
            before: before.and_then(|b| serde_json::from_str(&b).ok()),
            after: Some(Value::Object(ordered.clone())),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PlanRow {
        name: name.to_string(),
        quotas: ordered,
        tenants,
        updated_at: now,
    })
}

/// Deletes plan `name`, unless a tenant is on it.
pub async fn delete(db: &Db, name: &str, by: &Actor) -> Result<(), PlanError> {
    let mut tx = db.begin_write().await?;
    let before = stored(&mut tx, name).await?.ok_or(PlanError::NotFound)?;
    let tenants = tenants_on(&mut tx, name).await?;
    if tenants > 0 {
        return Err(PlanError::InUse(tenants));
    }
    sqlx::query("DELETE FROM plans WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Entry {
            tenant: &TenantId::default_tenant(),
            actor: by,
            action: "plan.delete",
            target: name,
            before: serde_json::from_str(&before).ok(),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Plan `name`'s quotas as stored (JSON text, for the audit log's "before"), if it exists.
async fn stored(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<Option<String>, PlanError> {
    Ok(sqlx::query("SELECT quotas FROM plans WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?)
}

/// How many tenants are on plan `name`.
async fn tenants_on(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<i64, PlanError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM tenants WHERE plan = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plan_is_checked_by_name_and_by_quota() {
        assert!(check("pro", &json!({"tests": 50, "staff": 5})).is_empty());
        let p = check("Pro Plan", &json!({"tests": "many", "seats": 1}));
        let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["name", "quotas.seats", "quotas.tests"]);
        assert_eq!(check("pro", &json!(5))[0].path, "quotas");
    }
}
