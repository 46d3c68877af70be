//! Three instances on one PostgreSQL share one mail queue: every queued mail is sent exactly
//! once, whether the instance that queued it sends it, or it was left behind by an instance
//! that died (its lease ran out) and every instance's job reaches for it at the same time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use super::{PASSWORD, post};
use crate::common::TestApp;
use crate::postgres_only;

/// Where an instance's `file://` mail goes (the test harness's default `MAIL_URL`).
fn mail_dir(app: &TestApp) -> PathBuf {
    std::env::temp_dir().join(format!("faro-test-mail-{}", app.addr.port()))
}

/// The instance's mail job, writing where the instance writes.
fn job(app: &TestApp) -> faro_store::Job {
    let url = format!("file://{}", mail_dir(app).display());
    let postbox = faro_mail::Postbox::new(&url, "Faro <no-reply@localhost>").expect("postbox");
    faro_platform::users::links::mail_job(app.core.clone(), postbox)
}

/// Every mail written so far, by recipient, across the instances.
fn recipients(apps: &[&TestApp]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for app in apps {
        let Ok(entries) = std::fs::read_dir(mail_dir(app)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let to = text
                .lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or("?")
                .trim()
                .to_owned();
            *seen.entry(to).or_insert(0) += 1;
        }
    }
    seen
}

async fn three_instances_send_each_mail_once(first: TestApp) {
    let second = first.sibling(&[]).await;
    let third = first.sibling(&[]).await;
    let apps = [&first, &second, &third];
    for app in apps {
        let _ = std::fs::remove_dir_all(mail_dir(app));
    }

    // Ten registrations on each instance at once, each mailing a confirmation link, while
    // every instance's job sweeps the queue again and again.
    let registrations = apps.iter().enumerate().flat_map(|(i, app)| {
        (0..10).map(move |n| async move {
            let body = json!({"email": format!("p{i}-{n}@example.com"), "password": PASSWORD});
            let r = post(app, None, "/api/v1/auth/register", &body, "es").await;
            assert_eq!(r.status, 201, "{r}");
        })
    });
    let sweeps = apps.iter().map(|app| async move {
        let job = job(app);
        for _ in 0..20 {
            (job.run)(app.core.db.clone()).await.expect("the job runs");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });
    tokio::join!(join_all(registrations), join_all(sweeps));
    let deadline = Instant::now() + Duration::from_secs(20);
    while first
        .scalar("SELECT COUNT(*) FROM mail_queue WHERE status = 'sent'")
        .await
        < 30
    {
        assert!(Instant::now() < deadline, "the 30 mails were not all sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Ten reset mails queued by an instance that died before sending them: their lease ran
    // out. All three jobs reach for them at the same moment.
    let now = faro_store::unix_now();
    sqlx::query(
        "INSERT INTO mail_queue (id, tenant_id, user_id, kind, lang, status, attempts, next_at, \
         created_at) SELECT 'orphan-' || id, tenant_id, id, 'reset_password', 'es', 'queued', \
         1, 0, $1 FROM end_users ORDER BY id LIMIT 10",
    )
    .bind(now)
    .execute(first.core.db.writer())
    .await
    .expect("orphaned rows");
    let jobs: Vec<_> = apps.iter().map(|app| job(app)).collect();
    join_all(
        jobs.iter()
            .zip(apps)
            .map(|(job, app)| (job.run)(app.core.db.clone())),
    )
    .await
    .into_iter()
    .for_each(|r| r.expect("the job runs"));

    assert_eq!(
        first
            .scalar("SELECT COUNT(*) FROM mail_queue WHERE status = 'sent'")
            .await,
        40
    );
    let seen = recipients(&apps);
    assert_eq!(seen.values().sum::<usize>(), 40, "{seen:?}");
    assert_eq!(seen.len(), 30, "one address per account: {seen:?}");
    let twice = seen.values().filter(|n| **n == 2).count();
    assert_eq!(twice, 10, "ten got a confirmation and a reset: {seen:?}");
    for app in apps {
        let _ = std::fs::remove_dir_all(mail_dir(app));
    }
}
postgres_only!(three_instances_send_each_mail_once, "RATE_LIMIT_LOGIN" => "1000/minute");
