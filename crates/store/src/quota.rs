//! Per-plan quotas: how many of a countable thing (staff, tests, stored megabytes) a tenant
//! may have, from the plan its `plan` column names (table `plans`). Every module that creates
//! such a thing asks [`guard`] inside its creating transaction, with the SQL that counts its
//! own rows, so the count and the insert are one step: on PostgreSQL the tenant's row is
//! locked for the rest of the transaction (concurrent creates of one tenant take turns, across
//! instances); SQLite's one writer already makes them take turns.
//!
//! The limit arithmetic is pure ([`Limit::check`]) and tested alone; the storage half is one
//! query.

use serde_json::Value;
use sqlx::Row;

use crate::{StoreError, TenantId};

/// The closed set of quotas: the plans' JSON keys, the 429's `details.quota`, the console's
/// fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    /// Staff accounts that are not disabled.
    Staff,
    /// Registered end users.
    EndUsers,
    /// API keys that are not revoked.
    ApiKeys,
    /// Quiz tests.
    Tests,
    /// Stored files, in megabytes (MiB).
    StorageMb,
    /// Webhook endpoints (the installation's own cap of 50 still applies).
    Webhooks,
}

impl Quota {
    pub const ALL: [Quota; 6] = [
        Quota::Staff,
        Quota::EndUsers,
        Quota::ApiKeys,
        Quota::Tests,
        Quota::StorageMb,
        Quota::Webhooks,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Quota::Staff => "staff",
            Quota::EndUsers => "end_users",
            Quota::ApiKeys => "api_keys",
            Quota::Tests => "tests",
            Quota::StorageMb => "storage_mb",
            Quota::Webhooks => "webhooks",
        }
    }

    pub fn parse(key: &str) -> Option<Quota> {
        Quota::ALL.into_iter().find(|q| q.key() == key)
    }

    /// What one unit of the limit is worth in the counts the modules pass (bytes for storage).
    pub fn unit(self) -> u64 {
        match self {
            Quota::StorageMb => 1024 * 1024,
            _ => 1,
        }
    }

    /// "tests", "megabytes of files": how a message names the counted thing.
    pub fn noun(self) -> &'static str {
        match self {
            Quota::Staff => "staff accounts",
            Quota::EndUsers => "registered users",
            Quota::ApiKeys => "API keys",
            Quota::Tests => "tests",
            Quota::StorageMb => "MB of files",
            Quota::Webhooks => "webhook endpoints",
        }
    }
}

/// The largest number a plan may give a quota: larger is almost certainly a typo.
pub const MAX_LIMIT: u64 = 1_000_000_000;

/// Every problem of a plan's quotas document (`{"tests": 20, ...}`), as `(key, message)`.
pub fn check_quotas(doc: &Value) -> Vec<(String, String)> {
    let Some(map) = doc.as_object() else {
        return vec![(
            String::new(),
            "an object of whole numbers, e.g. {\"tests\": 20}".into(),
        )];
    };
    let mut problems = Vec::new();
    for (k, v) in map {
        if Quota::parse(k).is_none() {
            let known: Vec<&str> = Quota::ALL.iter().map(|q| q.key()).collect();
            problems.push((
                k.clone(),
                format!("unknown quota; the quotas are {}", known.join(", ")),
            ));
        } else if v.as_u64().is_none_or(|n| n > MAX_LIMIT) {
            problems.push((k.clone(), "a whole number from 0 to 1,000,000,000".into()));
        }
    }
    problems
}

/// A tenant's limit for one quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub quota: Quota,
    pub plan: String,
    /// In the quota's own unit (megabytes for storage).
    pub limit: u64,
}

/// A refused create: the 429's reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the plan \"{plan}\" allows {limit} {noun}; this tenant has {used}", noun = quota.noun())]
pub struct Exceeded {
    pub quota: Quota,
    pub plan: String,
    pub limit: u64,
    /// In the quota's unit, rounded up.
    pub used: u64,
}

impl Limit {
    /// The limit `plan_quotas` gives `quota`, if any.
    pub fn of(plan: &str, plan_quotas: &Value, quota: Quota) -> Option<Limit> {
        plan_quotas
            .get(quota.key())
            .and_then(Value::as_u64)
            .map(|limit| Limit {
                quota,
                plan: plan.to_owned(),
                limit,
            })
    }

    /// Whether `adding` more (in counted units: bytes for storage) fit beside `used`.
    pub fn check(&self, used: u64, adding: u64) -> Result<(), Exceeded> {
        let cap = self.limit.saturating_mul(self.quota.unit());
        if used.saturating_add(adding) <= cap {
            Ok(())
        } else {
            Err(Exceeded {
                quota: self.quota,
                plan: self.plan.clone(),
                limit: self.limit,
                used: used.div_ceil(self.quota.unit()),
            })
        }
    }
}

/// The tenant's plan and that plan's quotas (`None`: the plan has no row, so no quotas).
pub async fn plan_of<'e, E>(
    exec: E,
    tenant: &TenantId,
) -> Result<Option<(String, Value)>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT t.plan, p.quotas FROM tenants t LEFT JOIN plans p ON p.name = t.plan \
         WHERE t.id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(exec)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let plan: String = row.try_get(0)?;
    let quotas: Option<String> = row.try_get(1)?;
    let Some(quotas) = quotas else {
        return Ok(None);
    };
    let quotas = serde_json::from_str(&quotas)
        .map_err(|e| StoreError::corrupt(format!("quotas of plan {plan}: {e}")))?;
    Ok(Some((plan, quotas)))
}

/// The tenant's limit for `quota` and what it uses now (in counted units), read without a
/// lock: a hint for refusing early (a file upload before its bytes are stored), never the
/// decision, which [`guard`] makes in the creating transaction. `None`: no limit.
pub async fn room(
    db: &crate::Db,
    tenant: &TenantId,
    quota: Quota,
    count_sql: &'static str,
) -> Result<Option<(Limit, u64)>, StoreError> {
    let Some((plan, quotas)) = plan_of(db.reader(), tenant).await? else {
        return Ok(None);
    };
    let Some(limit) = Limit::of(&plan, &quotas, quota) else {
        return Ok(None);
    };
    let used: i64 = sqlx::query(count_sql)
        .bind(tenant.as_str())
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    Ok(Some((limit, used.max(0) as u64)))
}

/// Checks, inside the transaction that is about to create `adding` units of `quota` for
/// `tenant`, that they fit its plan. `count_sql` counts what the tenant has now, in the
/// module's own table, with the tenant id as `$1` (e.g. `SELECT COUNT(*) FROM quiz_tests
/// WHERE tenant_id = $1`). Locks the tenant's row first, so the count stays true until the
/// transaction ends. Without a limit, counts nothing.
pub async fn guard(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    quota: Quota,
    count_sql: &'static str,
    adding: u64,
) -> Result<Result<(), Exceeded>, StoreError> {
    // A no-op update: a row lock on PostgreSQL, harmless under SQLite's write lock.
    sqlx::query("UPDATE tenants SET updated_at = updated_at WHERE id = $1")
        .bind(tenant.as_str())
        .execute(&mut **tx)
        .await?;
    let Some((plan, quotas)) = plan_of(&mut **tx, tenant).await? else {
        return Ok(Ok(()));
    };
    let Some(limit) = Limit::of(&plan, &quotas, quota) else {
        return Ok(Ok(()));
    };
    let used: i64 = sqlx::query(count_sql)
        .bind(tenant.as_str())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    Ok(limit.check(used.max(0) as u64, adding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn keys_round_trip_and_are_distinct() {
        for q in Quota::ALL {
            assert_eq!(Quota::parse(q.key()), Some(q));
        }
        assert_eq!(Quota::parse("seats"), None);
    }

    #[test]
    fn a_plan_without_the_key_has_no_limit() {
        assert_eq!(Limit::of("free", &json!({"tests": 3}), Quota::Staff), None);
        let l = Limit::of("free", &json!({"tests": 3}), Quota::Tests).expect("limit");
        assert_eq!(l.limit, 3);
    }

    #[test]
    fn counts_up_to_the_limit_fit_and_one_more_does_not() {
        let l = Limit::of("free", &json!({"tests": 3}), Quota::Tests).expect("limit");
        assert_eq!(l.check(2, 1), Ok(()));
        let e = l.check(3, 1).expect_err("over");
        assert_eq!((e.limit, e.used), (3, 3));
        assert_eq!(
            e.to_string(),
            "the plan \"free\" allows 3 tests; this tenant has 3"
        );
        let zero = Limit::of("closed", &json!({"tests": 0}), Quota::Tests).expect("limit");
        assert!(zero.check(0, 1).is_err());
    }

    #[test]
    fn storage_is_counted_in_bytes_and_reported_in_megabytes() {
        let l = Limit::of("free", &json!({"storage_mb": 1}), Quota::StorageMb).expect("limit");
        assert_eq!(l.check(1024 * 1024 - 10, 10), Ok(()));
        let e = l.check(1024 * 1024 - 10, 11).expect_err("one byte over");
        assert_eq!(e.used, 1);
        let e = l.check(1024 * 1024 + 1, 1).expect_err("over");
        assert_eq!(e.used, 2, "rounded up");
    }

    #[test]
    fn quota_documents_are_checked_key_by_key() {
        assert!(check_quotas(&json!({"tests": 20, "storage_mb": 0})).is_empty());
        let p = check_quotas(
            &json!({"tests": -1, "seats": 3, "staff": 1.5, "api_keys": 2000000000u64}),
        );
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys.len(), 4, "{p:?}");
        assert!(
            p.iter()
                .any(|(k, m)| k == "seats" && m.contains("storage_mb"))
        );
        assert_eq!(check_quotas(&json!([1])).len(), 1);
    }

    proptest! {
        #[test]
        fn check_agrees_with_plain_arithmetic(limit in 0u64..10_000, used in 0u64..20_000, adding in 0u64..100) {
            let l = Limit { quota: Quota::Tests, plan: "p".into(), limit };
            prop_assert_eq!(l.check(used, adding).is_ok(), used + adding <= limit);
        }

        #[test]
        fn huge_counts_never_overflow(limit in 0u64..=MAX_LIMIT, used in any::<u64>(), adding in any::<u64>()) {
            let l = Limit { quota: Quota::StorageMb, plan: "p".into(), limit };
            let _ = l.check(used, adding);
        }
    }
}
