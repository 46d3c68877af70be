//! The database stays small: a thousand finished sessions fit in well under 4 MiB of SQLite.

use std::sync::Arc;

use crate::common::{DEMO, TestApp, aggressive, cautious, pick};
use crate::sqlite_only;

const SESSIONS: usize = 1000;
const WORKERS: usize = 8;

async fn a_thousand_finished_sessions_fit_in_under_4_mib(app: TestApp) {
    let app = Arc::new(app);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..SESSIONS).step_by(WORKERS) {
                let s = app.start(DEMO).await;
                match i % 3 {
                    0 => app.answer_all(&s.id, &s.first, cautious).await,
                    1 => app.answer_all(&s.id, &s.first, aggressive).await,
                    _ => {
                        app.answer_all(&s.id, &s.first, |q| {
                            pick(q, true, &[("ingresos", "inestables")])
                        })
                        .await
                    }
                };
                let r = app.finish(&s.id).await;
                assert_eq!(r.status, 200, "{r}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = started.elapsed();
    app.flush().await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_results").await,
        SESSIONS as i64
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_sessions WHERE status = 'finished'")
            .await,
        SESSIONS as i64
    );

    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(app.core.db.writer())
        .await
        .expect("checkpoint");
    let path = app.db_url.trim_start_matches("sqlite://").to_string();
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let main = size(&path);
    let wal = size(&format!("{path}-wal"));
    let total = main + wal;
    eprintln!(
        "{SESSIONS} finished sessions over HTTP in {elapsed:?}: database {main} bytes + WAL {wal} bytes = {:.2} MiB ({} bytes per session)",
        total as f64 / (1024.0 * 1024.0),
        total / SESSIONS as u64
    );
    assert!(total < 4 * 1024 * 1024, "{total} bytes");
}
sqlite_only!(a_thousand_finished_sessions_fit_in_under_4_mib);
