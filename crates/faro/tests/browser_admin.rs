//! The admin panel in a real headless Chromium (Debian's `chromium`, driven by `e2e/admin.mjs`
//! on playwright-core): sign in, create and publish a test from a document, a visitor session
//! through the JSON API, and the dashboard (and its CSV) showing it once the counters flush;
//! a webhook added in the panel getting the visit's delivery, and the errors page.
//!
//! Faro runs in-process on port 0 over a fresh SQLite file, flushing its counters every 100 ms.
//! The test needs `node`, `npm ci --prefix e2e` and `apt-get install -y chromium`: without them
//! it FAILS and says so (it never skips silently).

#[path = "common/mod.rs"]
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{ADMIN_PASSWORD, ADMIN_USER, TestApp, browser_prerequisites};
use faro_store::Backend;

async fn run_admin_e2e(app: TestApp) {
    let root = browser_prerequisites();
    let mut child = std::process::Command::new("node")
        .arg(root.join("e2e/admin.mjs"))
        .current_dir(root.join("e2e"))
        .env("BASE_URL", &app.base)
        .env("ADMIN_USER", ADMIN_USER)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("e2e/admin.mjs took more than 4 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        status.success(),
        "e2e/admin.mjs failed ({status}): see its output above"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_admin_publishes_a_test_and_sees_a_visit_on_the_dashboard() {
    common::run(
        Backend::Sqlite,
        // The webhook the script adds points at 127.0.0.1 (port 9, which refuses).
        &[
            ("COUNTER_FLUSH_MS", "100"),
            ("ALLOW_PRIVATE_NETWORK_TARGETS", "true"),
        ],
        run_admin_e2e,
    )
    .await;
}
