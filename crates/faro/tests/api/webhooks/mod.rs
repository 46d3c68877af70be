//! Outgoing webhooks end to end: a real app delivers real events (finished quizzes) over HTTP
//! to a real receiver, `receiver.py`, which verifies every request with the third-party
//! `standardwebhooks` package (pinned in scripts/test-requirements.txt).
//!
//! The receiver listens on 127.0.0.1, so the apps here run with
//! `ALLOW_PRIVATE_NETWORK_TARGETS=true` (except where the refusal itself is tested), a fast
//! retry schedule (`WEBHOOK_RETRY_SCHEDULE_SECS`) and a short timeout.

mod delivery;
mod panel;
mod policy;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{DEMO, Resp, TestApp, aggressive};

/// The receiver as a child process, killed when dropped.
pub struct Receiver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    client: reqwest::Client,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    pub fn start() -> Receiver {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/webhooks/receiver.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the webhook receiver (apt-get install python3)");
        let stdout = child.stdout.take().expect("the receiver's stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the receiver prints its port");
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let status = child.try_wait().ok().flatten();
                panic!(
                    "the webhook receiver did not start (exit {status:?}, first line {line:?}); \
                     is standardwebhooks installed? python3 -m pip install -r \
                     scripts/test-requirements.txt"
                )
            });
        Receiver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    /// The URL of the receiver's endpoint `name`, answering per `query` (`fail=2`, `hang=1`).
    pub fn url(&self, name: &str, query: &str) -> String {
        if query.is_empty() {
            format!("{}/hook/{name}", self.base)
        } else {
            format!("{}/hook/{name}?{query}", self.base)
        }
    }

    /// Tells the receiver which secret verifies `name`'s requests.
    pub async fn register(&self, name: &str, secret: &str) {
        let r = self
            .client
            .put(format!("{}/secrets/{name}", self.base))
            .body(secret.to_string())
            .send()
            .await
            .expect("the receiver answers");
        assert!(r.status().is_success(), "registering a secret: {r:?}");
    }

    /// Every request received so far (all names).
    pub async fn received(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/received", self.base))
            .send()
            .await
            .expect("the receiver answers")
            .json::<Vec<Value>>()
            .await
            .expect("JSON")
    }

    /// The requests received for `name`.
    pub async fn received_by(&self, name: &str) -> Vec<Value> {
        self.received()
            .await
            .into_iter()
            .filter(|r| r["name"] == name)
            .collect()
    }

    /// Waits (10 s at most) until `name` has received `n` requests; returns them.
    pub async fn wait_for(&self, name: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.received_by(name).await;
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{name} received {} request(s), not {n}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A created endpoint.
pub struct Created {
    pub id: String,
    pub secret: String,
    pub body: Value,
}

/// Registers an endpoint as the admin and asserts it worked.
pub async fn create_webhook(app: &TestApp, url: &str, kinds: &[&str]) -> Created {
    let r = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": url, "event_kinds": kinds}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    Created {
        id: body["id"].as_str().expect("id").to_string(),
        secret: body["secret"].as_str().expect("secret").to_string(),
        body,
    }
}

/// Registers an endpoint on the receiver's `name` and gives the receiver its secret.
pub async fn subscribe(app: &TestApp, rx: &Receiver, name: &str, query: &str) -> Created {
    let created = create_webhook(app, &rx.url(name, query), &["quiz.finished"]).await;
    rx.register(name, &created.secret).await;
    created
}

/// Takes the demo test from start to finish; returns the session id (the event's subject).
pub async fn finish_a_quiz(app: &TestApp) -> String {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, aggressive).await;
    let r = app.finish(&s.id).await;
    assert_eq!(r.status, 200, "{r}");
    s.id
}

pub async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let r = app
        .admin_get(&format!("/api/v1/admin/webhooks/{webhook}/deliveries"))
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()["items"].as_array().expect("items").clone()
}

/// Waits (10 s at most) until the endpoint's newest delivery has `status`; returns it.
pub async fn wait_for_status(app: &TestApp, webhook: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let items = deliveries(app, webhook).await;
        if let Some(d) = items.first()
            && d["status"] == status
        {
            return d.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {status} delivery for {webhook}: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn admin_patch(app: &TestApp, path: &str, body: &Value) -> Resp {
    let req = app.admin(Method::PATCH, path).await.json(body);
    app.send(req).await
}
