//! `promotion.started` and `promotion.ended`: published by the window job once per boundary,
//! at the boundary's own time, however often the job runs.

use std::time::Duration;

use faro_store::scheduler::{list_jobs, schedule_once};
use serde_json::Value;

use super::{create, now, promotion};
use crate::both;
use crate::common::TestApp;

/// Asks the window job to run now and waits until a run has finished.
async fn run_job(app: &TestApp) {
    let runs = || async {
        list_jobs(&app.core.db)
            .await
            .expect("jobs")
            .into_iter()
            .find(|j| j.name == faro_promotions::windows::JOB)
            .map_or(0, |j| j.runs)
    };
    let before = runs().await;
    schedule_once(
        &app.core.db,
        faro_promotions::windows::JOB,
        faro_store::unix_now_ms(),
    )
    .await
    .expect("scheduled");
    for _ in 0..100 {
        if runs().await > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the window job did not run");
}

async fn events(app: &TestApp, kind: &str, subject: &str) -> i64 {
    app.scalar_where(
        "SELECT COUNT(*) FROM events WHERE kind || ' ' || subject = $1",
        &format!("{kind} {subject}"),
    )
    .await
}

async fn sleep_until(unix: i64) {
    let wait = (unix - now()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 200)).await;
}

async fn each_boundary_is_published_once(app: TestApp) {
    // The job looked at start-up; a promotion from now + 1 s to now + 4 s.
    run_job(&app).await;
    let start = now() + 1;
    let end = start + 3;
    assert_eq!(
        create(&app, &promotion("flash", start, Some(end)))
            .await
            .status,
        201
    );
    sleep_until(start).await;
    run_job(&app).await;
    assert_eq!(events(&app, "promotion.started", "flash").await, 1);
    assert_eq!(events(&app, "promotion.ended", "flash").await, 0);
    let payload: String = sqlx::query_scalar(
        "SELECT payload FROM events WHERE kind = 'promotion.started' AND subject = 'flash'",
    )
    .fetch_one(app.core.db.reader())
    .await
    .expect("the event");
    let payload: Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(payload["promotion_id"], "flash");
    assert_eq!(payload["at"], start);
    assert_eq!(
        app.scalar_where(
            "SELECT occurred_at FROM events WHERE kind || ' ' || subject = $1",
            "promotion.started flash"
        )
        .await,
        start
    );
    run_job(&app).await;
    sleep_until(end).await;
    run_job(&app).await;
    run_job(&app).await;
    assert_eq!(events(&app, "promotion.started", "flash").await, 1);
    assert_eq!(events(&app, "promotion.ended", "flash").await, 1);
    // The demo's boundaries were before the module first looked: none replayed.
    assert_eq!(events(&app, "promotion.started", "welcome").await, 0);
    assert_eq!(
        app.get("/api/v1/promotions/active").await.json()["items"]
            .as_array()
            .expect("items")
            .len(),
        3
    );
}
both!(each_boundary_is_published_once);
