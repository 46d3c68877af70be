//! The quiz's part of the platform's people: results finished by a known visitor or a
//! signed-in end user are theirs (`quiz_result_owners`, written with the result). This moves
//! them to the account when the visitor becomes one, erases them when the person is erased,
//! and lists them for the GDPR export.

use std::sync::Arc;

use faro_http::personal::{Exporter, Subject};
use faro_store::outbox::ConsumerTx;
use faro_store::{Consumer, Db, Event, StoreError, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Quiz;
use sqlx::Row;

/// The consumer's name (its cursor's key): stable across releases.
pub const CONSUMER: &str = "quiz.people";

#[derive(Deserialize)]
struct Merged {
    visitor_id: String,
    user_id: String,
}

#[derive(Deserialize)]
struct UserDeleted {
    user_id: String,
}

#[derive(Deserialize)]
struct VisitorDeleted {
    visitor_id: String,
}

/// Reacts to the platform's `visitor.merged`, `user.deleted` and `visitor.deleted`.
///
/// An erasure also empties this instance's cache of shared results, at once and again a
/// second later: a share link read between the handler and its commit would otherwise be
/// cached again for `RESULT_TTL`. Other instances stop showing it within `RESULT_TTL`.
pub fn consumer(quiz: Quiz) -> Consumer {
    Consumer::new(CONSUMER, move |tx, events| {
        let quiz = quiz.clone();
        Box::pin(async move {
            let mut erased = false;
            for event in events {
                erased |= handle(tx, event).await?;
            }
            if erased {
                quiz.cache.forget_results();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    quiz.cache.forget_results();
                });
            }
            Ok(())
        })
    })
    .kinds(&["visitor.merged", "user.deleted", "visitor.deleted"])
}

/// Applies one event; true when it erased something.
async fn handle(tx: &mut ConsumerTx, event: &Event) -> Result<bool, StoreError> {
    match event.kind.as_str() {
        "visitor.merged" => {
            let m: Merged = event.payload_as()?;
            sqlx::query(
                "UPDATE quiz_result_owners SET user_id = $1 \
                 WHERE tenant_id = $2 AND visitor_id = $3 AND user_id IS NULL",
            )
            .bind(&m.user_id)
            .bind(&event.tenant)
            .bind(&m.visitor_id)
            .execute(&mut **tx)
            .await?;
        }
        "user.deleted" => {
            let d: UserDeleted = event.payload_as()?;
            return erase(tx, &event.tenant, "user_id", &d.user_id).await;
        }
        "visitor.deleted" => {
            let d: VisitorDeleted = event.payload_as()?;
            return erase(tx, &event.tenant, "visitor_id", &d.visitor_id).await;
        }
        _ => {}
    }
    Ok(false)
}

/// Deletes the results owned through `column` (share links then answer 404) and their rows;
/// true when there were any.
async fn erase(
    tx: &mut ConsumerTx,
    tenant: &str,
    column: &'static str,
    id: &str,
) -> Result<bool, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM quiz_results WHERE tenant_id = $1 AND share_token IN \
         (SELECT share_token FROM quiz_result_owners WHERE tenant_id = $1 AND {column} = $2)"
    )))
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let owned = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM quiz_result_owners WHERE tenant_id = $1 AND {column} = $2"
    )))
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(owned > 0)
}

/// The GDPR export's `quiz` part: every result the subject owns, newest first.
pub fn exporter(public_base_url: String) -> Exporter {
    Arc::new(move |db, subject| {
        let base = public_base_url.clone();
        Box::pin(async move { export(&db, &subject, &base).await })
    })
}

async fn export(db: &Db, subject: &Subject, base: &str) -> Result<Value, StoreError> {
    let tenant: &TenantId = &subject.tenant;
    let mut ids: Vec<&str> = subject.visitor_ids.iter().map(String::as_str).collect();
    if ids.is_empty() && subject.user_id.is_none() {
        return Ok(json!({"results": []}));
    }
    // `visitor_id IN ()` is not SQL: an impossible id stands in for none.
    if ids.is_empty() {
        ids.push("");
    }
    let sql = format!(
        "SELECT o.share_token, o.created_at, r.profile_code, r.score, r.dimensions, \
         t.slug, t.title FROM quiz_result_owners o \
         JOIN quiz_results r ON r.share_token = o.share_token \
         JOIN quiz_tests t ON t.id = r.test_id \
         WHERE o.tenant_id = $1 AND (o.user_id = $2 OR o.visitor_id IN ({})) \
         ORDER BY o.created_at DESC",
        placeholders_from(3, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(subject.user_id.as_deref().unwrap_or(""));
    for id in &ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let results = rows
        .iter()
        .map(|r| {
            let token: String = r.try_get("share_token")?;
            let dimensions: String = r.try_get("dimensions")?;
            Ok(json!({
                "test": {"slug": r.try_get::<String, _>("slug")?, "title": r.try_get::<String, _>("title")?},
                "profile_code": r.try_get::<String, _>("profile_code")?,
                "score": r.try_get::<i64, _>("score")?,
                "dimensions": serde_json::from_str::<Value>(&dimensions).unwrap_or(Value::Null),
                "finished_at": faro_http::respond::rfc3339(r.try_get::<i64, _>("created_at")?),
                "share_url": format!("{base}/r/{token}"),
            }))
        })
        .collect::<Result<Vec<Value>, StoreError>>()?;
    Ok(json!({ "results": results }))
}

/// `$first, $first+1, …` for `n` values.
fn placeholders_from(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(super::placeholders_from(3, 2), "$3, $4");
        assert_eq!(super::placeholders_from(1, 1), "$1");
    }
}
