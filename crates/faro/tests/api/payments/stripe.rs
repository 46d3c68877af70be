//! The Stripe adapter against a local fake of Stripe's API (its wire format: form-encoded
//! requests, JSON objects, `Idempotency-Key`), and webhooks signed by Stripe's own Python
//! library (`stripe_sign.py`, the official `stripe` package): a top-up paid through Stripe is
//! credited once; wrong secrets, old timestamps, replays, rotated secrets, unknown types and
//! other merchants' payments are each answered as Stripe expects.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{Value, json};

use super::{configure, confirm, credits_when, topup};
use crate::both;
use crate::common::{Resp, TestApp};

const KEY: &str = "sk_test_faro4242";

/// What the fake saw and made: PaymentIntents by idempotency key, and every call.
#[derive(Default)]
struct Fake {
    by_key: HashMap<String, Value>,
    by_id: HashMap<String, Value>,
    calls: Vec<(String, String)>,
    failed_once: bool,
}

type Shared = Arc<Mutex<Fake>>;

fn refuse(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"type": kind, "message": message}})),
    )
        .into_response()
}

async fn create(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key",
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut f = fake.lock().expect("fake");
    f.calls.push(("create".into(), key.clone()));
    // 42.00 fails once, as a Stripe outage would.
    if form.get("amount").map(String::as_str) == Some("4200") && !f.failed_once {
        f.failed_once = true;
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "try again");
    }
    if let Some(pi) = f.by_key.get(&key) {
        return axum::Json(pi.clone()).into_response();
    }
    let id = format!("pi_{}", f.by_id.len() + 1);
    let pi = json!({
        "id": id, "object": "payment_intent", "status": "requires_payment_method",
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
        "amount_received": 0,
        "currency": form.get("currency"),
        "client_secret": format!("{id}_secret_abc"),
        "metadata": {"faro_intent": form.get("metadata[faro_intent]")},
        "livemode": false
    });
    f.by_key.insert(key, pi.clone());
    f.by_id.insert(id, pi.clone());
    axum::Json(pi).into_response()
}

async fn refund_create(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut f = fake.lock().expect("fake");
    f.calls.push(("refund".into(), key.clone()));
    if let Some(re) = f.by_key.get(&key) {
        return axum::Json(re.clone()).into_response();
    }
    let id = format!("re_{}", f.by_key.len() + 1);
    // 1.10 stays pending (a bank transfer refund): its webhook settles it later.
    let status = if form.get("amount").map(String::as_str) == Some("110") {
        "pending"
    } else {
        "succeeded"
    };
    let re = json!({
        "id": id, "object": "refund", "status": status,
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
        "currency": "eur", "payment_intent": form.get("payment_intent"),
        "metadata": {"faro_refund": form.get("metadata[faro_refund]")}
    });
    f.by_key.insert(key, re.clone());
    axum::Json(re).into_response()
}

async fn retrieve(State(fake): State<Shared>, Path(id): Path<String>) -> Response {
    let mut f = fake.lock().expect("fake");
    f.calls.push(("retrieve".into(), id.clone()));
    match f.by_id.get(&id) {
        Some(pi) => axum::Json(pi.clone()).into_response(),
        None => refuse(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such payment_intent",
        ),
    }
}

/// The fake's URL and what it saw; one per test process, on a thread of its own (each test
/// has its own runtime, which would end a server spawned on it).
fn fake() -> &'static (String, Shared) {
    static FAKE: OnceLock<(String, Shared)> = OnceLock::new();
    FAKE.get_or_init(|| {
        let shared: Shared = Arc::default();
        let state = shared.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                tx.send(format!("http://{addr}")).expect("send");
                let app = axum::Router::new()
                    .route("/v1/payment_intents", axum::routing::post(create))
                    .route("/v1/payment_intents/{id}", axum::routing::get(retrieve))
                    .route("/v1/refunds", axum::routing::post(refund_create))
                    .with_state(state);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        (rx.recv().expect("the fake's address"), shared)
    })
}

fn fake_url() -> &'static str {
    fake().0.as_str()
}

/// `Stripe-Signature` for `body`, made by Stripe's own library.
fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/payments/stripe_sign.py"
    );
    let mut child = Command::new("python3")
        .args([script, "sign", secret, &timestamp.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/test installs the stripe package)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write the body");
    let out = child.wait_with_output().expect("stripe_sign.py");
    assert!(out.status.success(), "stripe_sign.py failed: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

fn now() -> i64 {
    faro_store::unix_now()
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "type": kind, "created": created, "livemode": false,
        "api_version": "2024-06-20", "data": {"object": object}
    }))
    .expect("json")
}

fn intent_object(pi: &str, faro: &str, status: &str, cents: i64) -> Value {
    json!({"id": pi, "object": "payment_intent", "status": status, "amount": cents,
           "amount_received": if status == "succeeded" { cents } else { 0 },
           "currency": "eur", "metadata": {"faro_intent": faro}, "livemode": false})
}

async fn deliver(app: &TestApp, body: &[u8], signature: Option<&str>) -> Resp {
    let mut req = app
        .request(Method::POST, "/api/v1/payments/webhooks/stripe/default")
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    app.send(req).await
}

async fn a_topup_paid_through_stripe(app: TestApp) {
    configure(&app).await;
    let (_, ana) = app.register_user("ana@example.com").await;

    // Keys: checked, sealed, shown masked.
    let bad = app
        .admin_put(
            "/api/v1/admin/payments/providers/stripe",
            &json!({"secret_key": "pk_test_1", "webhook_secrets": ["nope"]}),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    let paths: Vec<String> = bad.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["secret_key", "webhook_secrets[0]"]);
    app.admin_get("/api/v1/admin/payments/providers/stripe")
        .await
        .assert_error(404, "not_found");
    let set = app
        .admin_put(
            "/api/v1/admin/payments/providers/stripe",
            &json!({"secret_key": KEY, "webhook_secrets": ["whsec_old", "whsec_new"]}),
        )
        .await;
    assert_eq!(set.status, 200, "{set}");
    assert_eq!(set.json()["secret_key"], "sk_test_…4242");
    assert_eq!(set.json()["webhook_secrets"], 2);
    assert_eq!(
        set.json()["webhook_path"],
        "/api/v1/payments/webhooks/stripe/default"
    );
    let stored = app
        .scalar("SELECT COUNT(*) FROM payments_credentials WHERE secret_key LIKE '%4242%'")
        .await;
    assert_eq!(stored, 0, "the key is sealed at rest");

    // A top-up becomes a PaymentIntent at Stripe, created once per intent.
    let r = topup(&app, &ana, 100, "s-1").await;
    assert_eq!(r.status, 201, "{r}");
    let intent = r.json();
    assert_eq!(intent["provider"], "stripe");
    let id = intent["id"].as_str().expect("id").to_owned();
    let secret = intent["client_secret"].as_str().expect("a client secret");
    assert!(
        secret.starts_with("pi_") && secret.contains("_secret_"),
        "{secret}"
    );
    let pi = secret.split("_secret_").next().expect("pi").to_owned();
    let replay = topup(&app, &ana, 100, "s-1").await;
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json()["client_secret"], secret);
    {
        let f = fake().1.lock().expect("fake");
        let created = f
            .calls
            .iter()
            .filter(|(what, key)| what == "create" && key == &format!("faro-intent-{id}"))
            .count();
        assert_eq!(created, 1, "{:?}", f.calls);
        let object = f.by_id.get(&pi).expect("the PaymentIntent");
        assert_eq!(object["amount"], 1000);
        assert_eq!(object["currency"], "eur");
        assert_eq!(object["metadata"]["faro_intent"], id.as_str());
    }
    confirm(&app, &ana, &id, "succeed")
        .await
        .assert_error(404, "not_found");

    // Webhooks: refused unless signed by a current secret within five minutes.
    let paid = event(
        "evt_paid",
        "payment_intent.succeeded",
        now(),
        intent_object(&pi, &id, "succeeded", 1000),
    );
    deliver(&app, &paid, None)
        .await
        .assert_error(400, "missing_header");
    deliver(&app, &paid, Some(&sign("whsec_wrong", now(), &paid)))
        .await
        .assert_error(400, "signature_mismatch");
    deliver(&app, &paid, Some(&sign("whsec_new", now() - 600, &paid)))
        .await
        .assert_error(400, "timestamp_outside_tolerance");
    deliver(&app, &paid, Some("t=1,v1=zz"))
        .await
        .assert_error(400, "signature_mismatch");
    assert_eq!(credits_when(&app, &ana, 0).await, 0);

    // Signed with the rotated-in secret: applied, credited once, however often delivered.
    let r = deliver(&app, &paid, Some(&sign("whsec_new", now(), &paid))).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["outcome"], "applied");
    assert_eq!(credits_when(&app, &ana, 100).await, 100);
    let again = deliver(&app, &paid, Some(&sign("whsec_old", now(), &paid))).await;
    assert_eq!(again.json()["outcome"], "duplicate");
    // A late `processing` (created earlier) changes nothing.
    let late = event(
        "evt_late",
        "payment_intent.processing",
        now() - 30,
        intent_object(&pi, &id, "processing", 1000),
    );
    let r = deliver(&app, &late, Some(&sign("whsec_new", now(), &late))).await;
    assert_eq!(r.status, 200, "{r}");
    let status = app
        .send(
            app.request(Method::GET, &format!("/api/v1/payments/intents/{id}"))
                .bearer_auth(&ana),
        )
        .await
        .json();
    assert_eq!(status["status"], "succeeded");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(credits_when(&app, &ana, 100).await, 100);
    crate::wallet::ledger_balances(&app).await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM wallet_transfers WHERE code = 'topup'")
            .await,
        1
    );

    // Refunds through Stripe: settled in its answer (credits taken back at once), or
    // pending until its webhook says so.
    let refund = |cents: i64, key: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let req = app
                .admin(
                    Method::POST,
                    &format!("/api/v1/admin/payments/intents/{id}/refunds"),
                )
                .await
                .header("idempotency-key", key)
                .json(&json!({"amount_cents": cents, "reason": "customer asked"}));
            app.send(req).await
        }
    };
    let r = refund(300, "sr-1").await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.json()["status"], "succeeded");
    assert_eq!(r.json()["payment"]["refunded_cents"], 300);
    let first_refund = r.json()["refund_id"]
        .as_str()
        .expect("refund id")
        .to_owned();
    assert_eq!(credits_when(&app, &ana, 70).await, 70);
    let replay = refund(300, "sr-1").await;
    assert_eq!(replay.json()["status"], "succeeded");
    {
        let f = fake().1.lock().expect("fake");
        let asked = f
            .calls
            .iter()
            .filter(|(what, key)| what == "refund" && key == &format!("faro-refund-{first_refund}"))
            .count();
        assert_eq!(asked, 1, "one refund at Stripe: {:?}", f.calls);
    }
    let r = refund(110, "sr-2").await;
    assert_eq!(r.json()["status"], "pending", "{r}");
    let pending = r.json()["refund_id"]
        .as_str()
        .expect("refund id")
        .to_owned();
    let settled = event(
        "evt_refund",
        "refund.updated",
        now(),
        json!({"id": "re_pending", "object": "refund", "status": "succeeded", "amount": 110,
               "currency": "eur", "payment_intent": pi, "metadata": {"faro_refund": pending}}),
    );
    let r = deliver(&app, &settled, Some(&sign("whsec_new", now(), &settled))).await;
    assert_eq!(r.json()["outcome"], "applied", "{r}");
    assert_eq!(credits_when(&app, &ana, 59).await, 59);

    // Events Faro does not act on, or about others' payments: acknowledged, ignored.
    let other = event(
        "evt_c",
        "customer.created",
        now(),
        json!({"id": "cus_1", "object": "customer"}),
    );
    let r = deliver(&app, &other, Some(&sign("whsec_new", now(), &other))).await;
    assert_eq!(r.json()["outcome"], "unknown_type", "{r}");
    let theirs = event(
        "evt_x",
        "payment_intent.succeeded",
        now(),
        intent_object("pi_999", "someone-else", "succeeded", 500),
    );
    let r = deliver(&app, &theirs, Some(&sign("whsec_new", now(), &theirs))).await;
    assert_eq!(r.json()["outcome"], "not_ours", "{r}");
    let broken = b"{not json";
    deliver(&app, broken, Some(&sign("whsec_new", now(), broken)))
        .await
        .assert_error(400, "malformed_json");

    // A payment whose webhook never came: the reconciliation asks Stripe and credits it.
    let missed = topup(&app, &ana, 10, "s-missed").await.json();
    let missed_id = missed["id"].as_str().expect("id").to_owned();
    let missed_pi = missed["client_secret"]
        .as_str()
        .and_then(|s| s.split("_secret_").next())
        .expect("pi")
        .to_owned();
    {
        let mut f = fake().1.lock().expect("fake");
        let pi = f.by_id.get_mut(&missed_pi).expect("the PaymentIntent");
        pi["status"] = json!("succeeded");
        pi["amount_received"] = json!(100);
    }
    app.exec(
        "UPDATE payments_intents SET updated_at = updated_at - 1200 WHERE id = $1",
        &missed_id,
    )
    .await;
    faro_store::scheduler::schedule_once(
        &app.core.db,
        "payments.reconcile",
        faro_store::unix_now_ms(),
    )
    .await
    .expect("scheduled");
    assert_eq!(credits_when(&app, &ana, 69).await, 69);

    // Stripe down: 502, and the retry with the same key creates the PaymentIntent once.
    let r = topup(&app, &ana, 420, "s-2").await;
    r.assert_error(502, "provider_unavailable");
    let r = topup(&app, &ana, 420, "s-2").await;
    assert_eq!(r.status, 201, "{r}");
    assert!(r.json()["client_secret"].as_str().is_some());

    // Keys removed: back to the test provider.
    let gone = app
        .send(
            app.admin(Method::DELETE, "/api/v1/admin/payments/providers/stripe")
                .await,
        )
        .await;
    assert_eq!(gone.status, 204, "{gone}");
    let r = topup(&app, &ana, 10, "s-3").await;
    assert_eq!(r.json()["provider"], "test", "{r}");
}
both!(a_topup_paid_through_stripe, "PAYMENTS_STRIPE_API" => super::fake_url());
