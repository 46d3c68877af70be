//! Weekly challenges: created for the tenant's week the first time anything needs them,
//! progress per player, completion paid once, also when the events that complete it arrive
//! all at once.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};
use crate::tenants::{OWNER_PASSWORD, create_tenant, on_host, token_on};

const HOST: &str = "retos.example";

async fn as_owner(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = app.request(method, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    on_host(app, HOST, req).await
}

fn conv(user: &str, key: &str, format: &str) -> Value {
    json!({"user": user, "type": "conversion.completed", "key": key,
           "props": {"target_format": format}})
}

fn challenge_points(out: &Value) -> Vec<(String, i64)> {
    out["awards"]
        .as_array()
        .expect("awards")
        .iter()
        .filter(|a| {
            a["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("challenge:"))
        })
        .map(|a| {
            (
                a["rule"].as_str().expect("rule").to_owned(),
                a["points"].as_i64().expect("points"),
            )
        })
        .collect()
}

async fn challenges_progress_and_pay_once(app: TestApp) {
    create_tenant(&app, "retos", HOST).await;
    let owner = token_on(&app, HOST, "owner", OWNER_PASSWORD).await;
    let design = json!({"version": 0, "design": {"templates": [
        {"key": "tres", "name": "Tres conversiones", "points": 100,
         "goal": {"type": "count", "event": "conversion.completed", "count": 3}},
        {"key": "formatos", "name": "Dos formatos", "points": 50,
         "goal": {"type": "distinct", "event": "conversion.completed", "prop": "target_format", "count": 2}}
    ]}});
    let r = as_owner(
        &app,
        &owner,
        Method::PUT,
        "/api/v1/admin/gamification/design",
        Some(design),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");

    let profile = |user: &'static str| {
        let owner = owner.clone();
        let app = &app;
        async move {
            as_owner(
                app,
                &owner,
                Method::GET,
                &format!("/api/v1/gamification/users/{user}/profile"),
                None,
            )
            .await
            .json()
        }
    };
    let p = profile("ana").await;
    let shown: Vec<(&str, i64, i64)> = p["challenges"]
        .as_array()
        .expect("challenges")
        .iter()
        .map(|c| {
            (
                c["key"].as_str().expect("key"),
                c["target"].as_i64().expect("t"),
                c["progress"].as_i64().expect("p"),
            )
        })
        .collect();
    assert_eq!(shown, [("formatos", 2, 0), ("tres", 3, 0)], "{p}");

    let send = |body: Value| {
        as_owner(
            &app,
            &owner,
            Method::POST,
            "/api/v1/gamification/events",
            Some(body),
        )
    };
    let out = send(conv("ana", "a1", "pdf")).await.json();
    assert_eq!(challenge_points(&out), []);
    let out = send(conv("ana", "a2", "pdf")).await.json();
    assert_eq!(challenge_points(&out), [], "pdf twice is one format");
    let out = send(conv("ana", "a3", "doc")).await.json();
    let mut paid: Vec<i64> = challenge_points(&out).iter().map(|(_, p)| *p).collect();
    paid.sort();
    assert_eq!(paid, [50, 100], "{out}");
    let mut keys: Vec<&str> = out["challenges"]
        .as_array()
        .expect("c")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["formatos", "tres"]);
    let out = send(conv("ana", "a4", "png")).await.json();
    assert_eq!(challenge_points(&out), [], "completed once");
    let p = profile("ana").await;
    assert!(
        p["challenges"]
            .as_array()
            .expect("c")
            .iter()
            .all(|c| c["completed"] == true && c["progress"] == c["target"]),
        "{p}"
    );
    assert_eq!(p["points"], 150);

    // Twenty events that each could complete both, all at once: paid once each.
    let answers =
        join_all((0..20).map(|i| send(conv("ben", &format!("b{i}"), &format!("f{i}"))))).await;
    assert!(
        answers.iter().all(|r| r.status == 201),
        "{:?}",
        answers.iter().find(|r| r.status != 201)
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1 AND rule LIKE 'challenge:%'",
            "ben"
        )
        .await,
        2
    );
    assert_eq!(profile("ben").await["points"], 150);
    // One set of challenges for the week, however many requests made it (the default
    // tenant's own may be there too, made by the job).
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM gamification_challenges WHERE template_key IN ('tres', 'formatos')")
            .await,
        2
    );
}
both!(challenges_progress_and_pay_once);
