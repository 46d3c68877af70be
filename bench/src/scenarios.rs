//! The goose scenarios. Every request goes through [`send`], which checks the status and the
//! body a client relies on, and counts anything unexpected against the scenario's group
//! (set-up requests in `on_start` transactions included, so nothing hides in the ramp-up).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::goose::Scenario as GooseScenario;
use goose::metrics::GooseRequestMetric;
use goose::prelude::*;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use crate::server::{ADMIN_PASSWORD, ADMIN_USER, DEMO_SLUG};

/// What a scenario measures: a group is a set of request names, plus the transaction whose
/// completions are the throughput when the unit is sessions.
pub struct Group {
    pub key: &'static str,
    pub label: &'static str,
    pub requests: &'static [&'static str],
    /// Throughput counts completed runs of this transaction instead of requests.
    pub transaction: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Scenario {
    /// 1a. GET /api/v1/tests.
    Catalog,
    /// 1b. GET /api/v1/tests with If-None-Match (304).
    #[value(name = "catalog-304")]
    Catalog304,
    /// 2. GET /api/v1/sessions/{id}/question.
    Question,
    /// 3. start, every answer, finish on the demo test.
    Session,
    /// 4. GET /r/{token} as HTML.
    Share,
    /// 5. admin analytics reads while scenario 3 runs.
    Analytics,
    /// 6. POST /api/v1/admin/login back to back (argon2id bound).
    Login,
    /// 7. POST /api/v1/auth/refresh back to back, each with the token the last one gave.
    Refresh,
    /// 8. POST /api/v1/gamification/events back to back (new keys, 10,000 players, the
    ///    demo design's rules, badges and challenges).
    Gamification,
    /// 9. GET /api/v1/gamification/leaderboard (top 50) and each user's own profile (with
    ///    their rank), among 100,000 players.
    Leaderboard,
    /// 10a. POST /api/v1/wallet/purchase back to back (a 1-credit item, a new
    ///     Idempotency-Key each: one ledger transfer, order and outbox event per request).
    Wallet,
    /// 10b. GET /api/v1/wallet/balance back to back, each user their own.
    #[value(name = "wallet-balance")]
    WalletBalance,
}

pub const ALL: &[Scenario] = &[
    Scenario::Catalog,
    Scenario::Catalog304,
    Scenario::Question,
    Scenario::Session,
    Scenario::Share,
    Scenario::Analytics,
    Scenario::Login,
    Scenario::Refresh,
    Scenario::Gamification,
    Scenario::Leaderboard,
    Scenario::Wallet,
    Scenario::WalletBalance,
];

const R_CATALOG: &str = "GET /api/v1/tests";
const R_CATALOG_304: &str = "GET /api/v1/tests (If-None-Match)";
const R_QUESTION: &str = "GET /api/v1/sessions/{id}/question";
const R_START: &str = "POST /api/v1/tests/{slug}/sessions";
const R_ANSWER: &str = "POST /api/v1/sessions/{id}/answer";
const R_FINISH: &str = "POST /api/v1/sessions/{id}/finish";
const R_SHARE: &str = "GET /r/{token}";
const R_LOGIN: &str = "POST /api/v1/admin/login";
const R_REGISTER: &str = "POST /api/v1/auth/register";
const R_REFRESH: &str = "POST /api/v1/auth/refresh";
const R_EVENT: &str = "POST /api/v1/gamification/events";
const R_MY_EVENT: &str = "POST /api/v1/gamification/me/events";
const R_BOARD: &str = "GET /api/v1/gamification/leaderboard?limit=50";
const R_PROFILE: &str = "GET /api/v1/gamification/profile";
const R_ADMIN_TESTS: &str = "GET /api/v1/admin/tests";
const R_ANALYTICS: &str = "GET /api/v1/admin/analytics?test_id=";
const R_GRANT: &str = "POST /api/v1/admin/wallet/grants";
const R_PURCHASE: &str = "POST /api/v1/wallet/purchase";
const R_BALANCE: &str = "GET /api/v1/wallet/balance";
const T_SESSION: &str = "full session";

const SESSION_REQUESTS: &[&str] = &[R_START, R_ANSWER, R_FINISH];

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Catalog => "catalog",
            Scenario::Catalog304 => "catalog-304",
            Scenario::Question => "question",
            Scenario::Session => "session",
            Scenario::Share => "share",
            Scenario::Analytics => "analytics",
            Scenario::Login => "login",
            Scenario::Refresh => "refresh",
            Scenario::Gamification => "gamification",
            Scenario::Leaderboard => "leaderboard",
            Scenario::Wallet => "wallet",
            Scenario::WalletBalance => "wallet-balance",
        }
    }

    pub fn groups(self) -> Vec<Group> {
        match self {
            Scenario::Catalog => vec![Group {
                key: "catalog",
                label: "1. catalog `GET /api/v1/tests`",
                requests: &[R_CATALOG],
                transaction: None,
            }],
            Scenario::Catalog304 => vec![Group {
                key: "catalog-304",
                label: "1. catalog, `If-None-Match` → 304",
                requests: &[R_CATALOG_304],
                transaction: None,
            }],
            Scenario::Question => vec![Group {
                key: "question",
                label: "2. current question `GET /sessions/{id}/question`",
                requests: &[R_QUESTION],
                transaction: None,
            }],
            Scenario::Session => vec![Group {
                key: "session",
                label: "3. full session (start → answers → finish)",
                requests: SESSION_REQUESTS,
                transaction: Some(T_SESSION),
            }],
            Scenario::Share => vec![Group {
                key: "share",
                label: "4. share page `GET /r/{token}` (HTML)",
                requests: &[R_SHARE],
                transaction: None,
            }],
            Scenario::Login => vec![Group {
                key: "login",
                label: "6. staff login `POST /api/v1/admin/login` (argon2id)",
                requests: &[R_LOGIN],
                transaction: None,
            }],
            Scenario::Refresh => vec![Group {
                key: "refresh",
                label: "7. end user's token refresh `POST /api/v1/auth/refresh`",
                requests: &[R_REFRESH],
                transaction: None,
            }],
            Scenario::Gamification => vec![Group {
                key: "gamification",
                label: "8. gamification events `POST /api/v1/gamification/events`",
                requests: &[R_EVENT],
                transaction: None,
            }],
            Scenario::Leaderboard => vec![
                Group {
                    key: "leaderboard",
                    label: "9. leaderboard top 50, 100,000 players",
                    requests: &[R_BOARD],
                    transaction: None,
                },
                Group {
                    key: "profile",
                    label: "9. … each player's own profile and rank",
                    requests: &[R_PROFILE],
                    transaction: None,
                },
            ],
            Scenario::Wallet => vec![Group {
                key: "wallet",
                label: "10. wallet purchase `POST /api/v1/wallet/purchase`",
                requests: &[R_PURCHASE],
                transaction: None,
            }],
            Scenario::WalletBalance => vec![Group {
                key: "wallet-balance",
                label: "10. wallet balance `GET /api/v1/wallet/balance`",
                requests: &[R_BALANCE],
                transaction: None,
            }],
            Scenario::Analytics => vec![
                Group {
                    key: "analytics",
                    label: "5. admin analytics, while sessions run",
                    requests: &[R_ANALYTICS],
                    transaction: None,
                },
                Group {
                    key: "analytics-sessions",
                    label: "5. … the full sessions running beside it",
                    requests: SESSION_REQUESTS,
                    transaction: Some(T_SESSION),
                },
            ],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, counted per group over the whole run.

#[derive(Default)]
struct ErrorLog {
    counts: BTreeMap<&'static str, u64>,
    samples: Vec<String>,
}

static ERRORS: Mutex<ErrorLog> = Mutex::new(ErrorLog {
    counts: BTreeMap::new(),
    samples: Vec::new(),
});

fn record_error(group: &'static str, message: String) {
    if let Ok(mut log) = ERRORS.lock() {
        *log.counts.entry(group).or_default() += 1;
        if log.samples.len() < 8 && !log.samples.contains(&message) {
            log.samples.push(message);
        }
    }
}

/// Takes the errors counted since the last call: per group, and a few distinct messages.
pub fn take_errors() -> (BTreeMap<&'static str, u64>, Vec<String>) {
    match ERRORS.lock() {
        Ok(mut log) => {
            let log = std::mem::take(&mut *log);
            (log.counts, log.samples)
        }
        Err(_) => (BTreeMap::new(), vec!["error log poisoned".into()]),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

struct Reply {
    metric: GooseRequestMetric,
    headers: HeaderMap,
    body: String,
}

fn transaction_error(message: String) -> Box<TransactionError> {
    Box::new(TransactionError::Custom(message))
}

/// Sends one request named `name`, expecting status `expect`; anything else is an error of
/// `group`.
async fn send(
    user: &mut GooseUser,
    group: &'static str,
    method: GooseMethod,
    path: &str,
    name: &str,
    expect: u16,
    customize: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<Reply, Box<TransactionError>> {
    let builder = customize(user.get_request_builder(&method, path)?);
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .expect_status_code(expect)
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    let mut metric = goose.request;
    let response = match goose.response {
        Ok(r) => r,
        Err(e) => {
            let message = format!("{name}: {e}");
            record_error(group, message.clone());
            return Err(transaction_error(message));
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.text().await {
        Ok(b) => b,
        Err(e) => {
            let message = format!("{name}: reading the body: {e}");
            record_error(group, message.clone());
            user.set_failure(&message, &mut metric, Some(&headers), None)?;
            return Err(transaction_error(message));
        }
    };
    if status != expect {
        let short: String = body.chars().take(300).collect();
        let message = format!("{name}: status {status}, expected {expect}: {short}");
        record_error(group, message.clone());
        user.set_failure(&message, &mut metric, Some(&headers), Some(&body))?;
        return Err(transaction_error(message));
    }
    Ok(Reply {
        metric,
        headers,
        body,
    })
}

/// Marks a reply whose content is wrong as failed.
fn reject(
    user: &mut GooseUser,
    group: &'static str,
    reply: &mut Reply,
    why: &str,
) -> Box<TransactionError> {
    let short: String = reply.body.chars().take(300).collect();
    let message = format!("{}: {why}: {short}", reply.metric.name);
    record_error(group, message.clone());
    if let Err(e) = user.set_failure(&message, &mut reply.metric, None, Some(&reply.body)) {
        return e;
    }
    transaction_error(message)
}

fn json_of(
    user: &mut GooseUser,
    group: &'static str,
    reply: &mut Reply,
) -> Result<Value, Box<TransactionError>> {
    match serde_json::from_str::<Value>(&reply.body) {
        Ok(v) => Ok(v),
        Err(_) => Err(reject(user, group, reply, "not JSON")),
    }
}

// ---------------------------------------------------------------------------------------------
// Per-user state.

#[derive(Clone, Default)]
struct UserState {
    etag: String,
    session_id: String,
    share_token: String,
    admin_token: String,
    test_id: String,
    refresh_token: String,
    /// An end user's access token (the leaderboard and wallet scenarios' players).
    access_token: String,
    /// Events this goose user sent (their keys are unique per user and count).
    events: u64,
    /// Alternates the answers (first / last option, scale min / max) from one session to the next.
    sessions: u64,
}

fn state(user: &mut GooseUser) -> &mut UserState {
    if user.get_session_data::<UserState>().is_none() {
        user.set_session_data(UserState::default());
    }
    user.get_session_data_unchecked_mut::<UserState>()
}

// ---------------------------------------------------------------------------------------------
// The visitor's session, driven from the served questions.

/// The answer body for a served question: single → first or last option, multi → min_select
/// options (at least one when required), scale → min or max.
pub fn answer_for(question: &Value, last: bool) -> Result<Value, String> {
    let id = question["id"].as_str().ok_or("question without id")?;
    let options: Vec<&str> = question["options"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["id"].as_str()).collect())
        .unwrap_or_default();
    match question["type"].as_str() {
        Some("single") => {
            let pick = if last {
                options.last()
            } else {
                options.first()
            };
            let pick = pick.ok_or("single question without options")?;
            Ok(json!({"question_id": id, "selected_option_ids": [pick]}))
        }
        Some("multi") => {
            let mut n = question["min_select"].as_u64().unwrap_or(1) as usize;
            if n == 0 && question["required"].as_bool().unwrap_or(true) {
                n = 1;
            }
            if options.len() < n {
                return Err(format!(
                    "multi question {id} has fewer options than min_select"
                ));
            }
            let chosen: Vec<&str> = if last {
                options[options.len() - n..].to_vec()
            } else {
                options[..n].to_vec()
            };
            Ok(json!({"question_id": id, "selected_option_ids": chosen}))
        }
        Some("scale") => {
            let bound = if last { "max" } else { "min" };
            let value = question["scale"][bound]
                .as_i64()
                .ok_or("scale question without bounds")?;
            Ok(json!({"question_id": id, "value": value}))
        }
        other => Err(format!("unknown question type {other:?}")),
    }
}

/// Start → every answer → finish. Returns the share token.
async fn full_session(
    user: &mut GooseUser,
    group: &'static str,
) -> Result<String, Box<TransactionError>> {
    let last = {
        let s = state(user);
        s.sessions += 1;
        s.sessions.is_multiple_of(2)
    };
    let path = format!("/api/v1/tests/{DEMO_SLUG}/sessions");
    let mut reply = send(user, group, GooseMethod::Post, &path, R_START, 201, |b| {
        b.json(&json!({"source": "bench", "campaign": "load"}))
    })
    .await?;
    let started = json_of(user, group, &mut reply)?;
    let Some(session_id) = started["session_id"].as_str().map(str::to_string) else {
        return Err(reject(user, group, &mut reply, "no session_id"));
    };
    let mut question = started["first_question"].clone();
    let answer_path = format!("/api/v1/sessions/{session_id}/answer");
    let mut answered = 0;
    while !question.is_null() {
        let body = match answer_for(&question, last) {
            Ok(b) => b,
            Err(why) => return Err(reject(user, group, &mut reply, &why)),
        };
        reply = send(
            user,
            group,
            GooseMethod::Post,
            &answer_path,
            R_ANSWER,
            200,
            |b| b.json(&body),
        )
        .await?;
        let accepted = json_of(user, group, &mut reply)?;
        answered += 1;
        question = accepted["next_question"].clone();
        if question.is_null() && accepted["result_ready"] != json!(true) {
            return Err(reject(
                user,
                group,
                &mut reply,
                "no next question and no result",
            ));
        }
        if answered > 100 {
            return Err(reject(user, group, &mut reply, "more than 100 questions"));
        }
    }
    let finish_path = format!("/api/v1/sessions/{session_id}/finish");
    let mut reply = send(
        user,
        group,
        GooseMethod::Post,
        &finish_path,
        R_FINISH,
        200,
        |b| b,
    )
    .await?;
    let result = json_of(user, group, &mut reply)?;
    let token = result["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    match (token, result["profile_code"].as_str()) {
        (Some(token), Some(_)) => {
            state(user).session_id = session_id;
            Ok(token)
        }
        _ => Err(reject(
            user,
            group,
            &mut reply,
            "no share_url or profile_code",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions.

async fn catalog(user: &mut GooseUser) -> TransactionResult {
    let mut reply = send(
        user,
        "catalog",
        GooseMethod::Get,
        "/api/v1/tests",
        R_CATALOG,
        200,
        |b| b,
    )
    .await?;
    if !reply.body.contains(DEMO_SLUG) {
        return Err(reject(
            user,
            "catalog",
            &mut reply,
            "the demo test is missing",
        ));
    }
    Ok(())
}

async fn catalog_etag(user: &mut GooseUser) -> TransactionResult {
    let mut reply = send(
        user,
        "catalog-304",
        GooseMethod::Get,
        "/api/v1/tests",
        R_CATALOG,
        200,
        |b| b,
    )
    .await?;
    match reply
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        Some(etag) => {
            let etag = etag.to_string();
            state(user).etag = etag;
            Ok(())
        }
        None => Err(reject(user, "catalog-304", &mut reply, "no ETag")),
    }
}

async fn catalog_304(user: &mut GooseUser) -> TransactionResult {
    let etag = state(user).etag.clone();
    send(
        user,
        "catalog-304",
        GooseMethod::Get,
        "/api/v1/tests",
        R_CATALOG_304,
        304,
        |b| b.header(header::IF_NONE_MATCH, etag),
    )
    .await?;
    Ok(())
}

async fn question_setup(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/v1/tests/{DEMO_SLUG}/sessions");
    let mut reply = send(
        user,
        "question",
        GooseMethod::Post,
        &path,
        R_START,
        201,
        |b| b,
    )
    .await?;
    let started = json_of(user, "question", &mut reply)?;
    match started["session_id"].as_str() {
        Some(id) => {
            let id = id.to_string();
            state(user).session_id = id;
            Ok(())
        }
        None => Err(reject(user, "question", &mut reply, "no session_id")),
    }
}

async fn question(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/v1/sessions/{}/question", state(user).session_id);
    let mut reply = send(
        user,
        "question",
        GooseMethod::Get,
        &path,
        R_QUESTION,
        200,
        |b| b,
    )
    .await?;
    let q = json_of(user, "question", &mut reply)?;
    if q["id"].as_str().is_none() || q["options"].as_array().is_none() {
        return Err(reject(
            user,
            "question",
            &mut reply,
            "no question id or options",
        ));
    }
    Ok(())
}

async fn session(user: &mut GooseUser) -> TransactionResult {
    full_session(user, "session").await.map(|_| ())
}

async fn session_beside_analytics(user: &mut GooseUser) -> TransactionResult {
    full_session(user, "analytics-sessions").await.map(|_| ())
}

async fn share_setup(user: &mut GooseUser) -> TransactionResult {
    let token = full_session(user, "share").await?;
    state(user).share_token = token;
    Ok(())
}

async fn share(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/r/{}", state(user).share_token);
    let mut reply = send(user, "share", GooseMethod::Get, &path, R_SHARE, 200, |b| {
        b.header(header::ACCEPT, "text/html")
    })
    .await?;
    let html = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    if !html || !reply.body.contains("og:title") {
        return Err(reject(
            user,
            "share",
            &mut reply,
            "not an HTML page with OpenGraph tags",
        ));
    }
    Ok(())
}

/// Signs in as the bootstrap admin; the access token, errors counted under `group`.
async fn admin_login(
    user: &mut GooseUser,
    g: &'static str,
) -> Result<String, Box<TransactionError>> {
    let mut reply = send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/admin/login",
        R_LOGIN,
        200,
        |b| b.json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
    )
    .await?;
    let login = json_of(user, g, &mut reply)?;
    let Some(token) = login["access_token"].as_str().map(str::to_string) else {
        return Err(reject(user, g, &mut reply, "no access_token"));
    };
    Ok(token)
}

async fn admin_setup(user: &mut GooseUser) -> TransactionResult {
    let g = "analytics";
    let token = admin_login(user, g).await?;
    let bearer = format!("Bearer {token}");
    let mut reply = send(
        user,
        g,
        GooseMethod::Get,
        "/api/v1/admin/tests",
        R_ADMIN_TESTS,
        200,
        |b| b.header(header::AUTHORIZATION, bearer),
    )
    .await?;
    let tests = json_of(user, g, &mut reply)?;
    let id = tests["items"].as_array().and_then(|items| {
        items
            .iter()
            .find(|t| t["slug"] == DEMO_SLUG)
            .and_then(|t| t["id"].as_str())
    });
    let Some(id) = id.map(str::to_string) else {
        return Err(reject(user, g, &mut reply, "the demo test is not listed"));
    };
    let s = state(user);
    s.admin_token = token;
    s.test_id = id;
    Ok(())
}

async fn login(user: &mut GooseUser) -> TransactionResult {
    let g = "login";
    let mut reply = send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/admin/login",
        R_LOGIN,
        200,
        |b| b.json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
    )
    .await?;
    let v = json_of(user, g, &mut reply)?;
    if v["access_token"].as_str().is_none() {
        return Err(reject(user, g, &mut reply, "no access_token"));
    }
    Ok(())
}

/// Signs in as the admin and keeps the token (the gamification scenario's sender).
async fn admin_token(user: &mut GooseUser) -> TransactionResult {
    let token = admin_login(user, "gamification").await?;
    state(user).admin_token = token;
    Ok(())
}

/// The kinds the demo design pays for, in turn: conversions (two rules, milestone, burst and
/// property badges, three challenges), daily logins (capped), payments (points per EUR),
/// finished quizzes, and an app event nothing pays for.
const EVENT_KINDS: &[&str] = &[
    "conversion.completed",
    "user.daily_login",
    "payment.succeeded",
    "quiz.finished",
    "app.opened",
];

/// One new event for one of 10,000 players.
async fn gamification_event(user: &mut GooseUser) -> TransactionResult {
    let g = "gamification";
    let index = user.weighted_users_index;
    let (token, n) = {
        let s = state(user);
        s.events += 1;
        (s.admin_token.clone(), s.events)
    };
    let player = (index as u64 * 7_919 + n * 104_729) % 10_000;
    let kind = EVENT_KINDS[(n as usize) % EVENT_KINDS.len()];
    let format = ["pdf", "docx", "png", "mp3"][(n % 4) as usize];
    let body = json!({
        "user": format!("player-{player}"),
        "type": kind,
        "key": format!("bench-{index}-{n}"),
        "props": {"target_format": format,
                  "size_mb": (n % 120), "amount_eur": (n % 30) as f64 / 2.0},
    });
    let mut reply = send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/gamification/events",
        R_EVENT,
        201,
        |b| b.bearer_auth(token).json(&body),
    )
    .await?;
    let v = json_of(user, g, &mut reply)?;
    if v["balance"].as_i64().is_none() {
        return Err(reject(user, g, &mut reply, "no balance"));
    }
    Ok(())
}

/// Registers an end user (`email`, unique per goose user) for `group`; the string `fields`
/// of the answer (JSON pointers, e.g. `/access_token`, `/user/id`), in order.
async fn register_fields(
    user: &mut GooseUser,
    group: &'static str,
    email: String,
    fields: &[&str],
) -> Result<Vec<String>, Box<TransactionError>> {
    let mut reply = send(
        user,
        group,
        GooseMethod::Post,
        "/api/v1/auth/register",
        R_REGISTER,
        201,
        |b| b.json(&json!({"email": email, "password": "Bench-Password-2026"})),
    )
    .await?;
    let v = json_of(user, group, &mut reply)?;
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        match v.pointer(field).and_then(Value::as_str) {
            Some(s) => out.push(s.to_string()),
            None => return Err(reject(user, group, &mut reply, &format!("no {field}"))),
        }
    }
    Ok(out)
}

/// Registers an end user (`email`) for `group`; the `field` token of the answer.
async fn register(
    user: &mut GooseUser,
    group: &'static str,
    email: String,
    field: &str,
) -> Result<String, Box<TransactionError>> {
    let mut got = register_fields(user, group, email, &[&format!("/{field}")]).await?;
    Ok(got.remove(0))
}

async fn refresh_setup(user: &mut GooseUser) -> TransactionResult {
    let email = format!("bench-{}@example.com", user.weighted_users_index);
    let token = register(user, "refresh", email, "refresh_token").await?;
    state(user).refresh_token = token;
    Ok(())
}

/// Registers an end user and makes them a player (a daily visit, reported by themselves).
async fn player_setup(user: &mut GooseUser) -> TransactionResult {
    let g = "profile";
    let email = format!("player-{}@example.com", user.weighted_users_index);
    let token = register(user, g, email, "access_token").await?;
    send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/gamification/me/events",
        R_MY_EVENT,
        201,
        |b| {
            b.bearer_auth(&token)
                .json(&json!({"type": "user.daily_login"}))
        },
    )
    .await?;
    state(user).access_token = token;
    Ok(())
}

/// Every tenth request a player's own profile, the rest the top 50.
async fn leaderboard(user: &mut GooseUser) -> TransactionResult {
    let n = {
        let s = state(user);
        s.events += 1;
        s.events
    };
    if n % 10 == 0 {
        let g = "profile";
        let token = state(user).access_token.clone();
        let mut reply = send(
            user,
            g,
            GooseMethod::Get,
            "/api/v1/gamification/profile",
            R_PROFILE,
            200,
            |b| b.bearer_auth(token),
        )
        .await?;
        let v = json_of(user, g, &mut reply)?;
        if v["points"].as_i64().is_none() {
            return Err(reject(user, g, &mut reply, "no points"));
        }
    } else {
        let g = "leaderboard";
        let mut reply = send(
            user,
            g,
            GooseMethod::Get,
            "/api/v1/gamification/leaderboard?limit=50",
            R_BOARD,
            200,
            |b| b,
        )
        .await?;
        let v = json_of(user, g, &mut reply)?;
        if v["items"].as_array().is_none_or(|e| e.len() != 50) {
            return Err(reject(user, g, &mut reply, "not 50 entries"));
        }
    }
    Ok(())
}

async fn refresh(user: &mut GooseUser) -> TransactionResult {
    let g = "refresh";
    let token = state(user).refresh_token.clone();
    let mut reply = send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/auth/refresh",
        R_REFRESH,
        200,
        |b| b.json(&json!({"refresh_token": token})),
    )
    .await?;
    let v = json_of(user, g, &mut reply)?;
    let Some(next) = v["refresh_token"].as_str().map(str::to_string) else {
        return Err(reject(user, g, &mut reply, "no refresh_token"));
    };
    state(user).refresh_token = next;
    Ok(())
}

async fn analytics(user: &mut GooseUser) -> TransactionResult {
    let g = "analytics";
    let (token, id) = {
        let s = state(user);
        (s.admin_token.clone(), s.test_id.clone())
    };
    let path = format!("/api/v1/admin/analytics?test_id={id}");
    let mut reply = send(user, g, GooseMethod::Get, &path, R_ANALYTICS, 200, |b| {
        b.bearer_auth(token)
    })
    .await?;
    let report = json_of(user, g, &mut reply)?;
    if report["starts"].as_i64().is_none() {
        return Err(reject(user, g, &mut reply, "no starts figure"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The wallet: one catalogue item, end users with plenty of credits, purchases and balances.

/// The item every purchase buys, priced 1 credit.
pub const WALLET_SKU: &str = "bench-credit";
/// What each goose user's end user is granted: more than any run can spend at 1 credit.
const WALLET_GRANT: i64 = 100_000_000;

/// The admin token the harness signed in with before the run ([`wallet_prepare`]): every
/// goose user's grant uses it, so the set-up signs in once rather than once per user.
static WALLET_ADMIN: Mutex<String> = Mutex::new(String::new());

/// Once per run, before goose starts: signs in as the admin and creates the 1-credit item.
pub async fn wallet_prepare(base_url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{base_url}/api/v1/admin/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    let status = login.status();
    let body: Value = login.json().await.unwrap_or(Value::Null);
    let Some(token) = body["access_token"].as_str().map(str::to_string) else {
        anyhow::bail!("wallet set-up: admin login answered {status}: {body}");
    };
    let item = client
        .post(format!("{base_url}/api/v1/admin/wallet/items"))
        .bearer_auth(&token)
        .json(&json!({"sku": WALLET_SKU, "name": "Bench credit", "price_credits": 1}))
        .send()
        .await?;
    let status = item.status();
    if status.as_u16() != 201 {
        let body = item.text().await.unwrap_or_default();
        anyhow::bail!("wallet set-up: creating the item answered {status}: {body}");
    }
    if let Ok(mut admin) = WALLET_ADMIN.lock() {
        *admin = token;
    }
    Ok(())
}

/// Registers this goose user's end user and has the admin grant them [`WALLET_GRANT`]
/// credits; errors count under `group`.
async fn wallet_user(user: &mut GooseUser, group: &'static str) -> TransactionResult {
    let index = user.weighted_users_index;
    let email = format!("{group}-{index}@example.com");
    let got = register_fields(user, group, email, &["/user/id", "/access_token"]).await?;
    let (id, token) = (got[0].clone(), got[1].clone());
    let admin = WALLET_ADMIN.lock().map(|a| a.clone()).unwrap_or_default();
    let mut reply = send(
        user,
        group,
        GooseMethod::Post,
        "/api/v1/admin/wallet/grants",
        R_GRANT,
        201,
        |b| {
            b.bearer_auth(admin)
                .header("idempotency-key", format!("bench-grant-{index}"))
                .json(&json!({"user": id, "amount": WALLET_GRANT, "reason": "bench"}))
        },
    )
    .await?;
    let v = json_of(user, group, &mut reply)?;
    if v["balance"]["available"].as_i64() != Some(WALLET_GRANT) {
        return Err(reject(user, group, &mut reply, "not the granted balance"));
    }
    state(user).access_token = token;
    Ok(())
}

async fn wallet_setup(user: &mut GooseUser) -> TransactionResult {
    wallet_user(user, "wallet").await
}

async fn wallet_balance_setup(user: &mut GooseUser) -> TransactionResult {
    wallet_user(user, "wallet-balance").await
}

/// One purchase of the 1-credit item with a new key: 201, fulfilled, a balance.
async fn wallet_purchase(user: &mut GooseUser) -> TransactionResult {
    let g = "wallet";
    let index = user.weighted_users_index;
    let (token, n) = {
        let s = state(user);
        s.events += 1;
        (s.access_token.clone(), s.events)
    };
    let mut reply = send(
        user,
        g,
        GooseMethod::Post,
        "/api/v1/wallet/purchase",
        R_PURCHASE,
        201,
        |b| {
            b.bearer_auth(token)
                .header("idempotency-key", format!("bench-{index}-{n}"))
                .json(&json!({"sku": WALLET_SKU}))
        },
    )
    .await?;
    let v = json_of(user, g, &mut reply)?;
    if v["status"] != "fulfilled" || v["balance"]["available"].as_i64().is_none() {
        return Err(reject(user, g, &mut reply, "not fulfilled with a balance"));
    }
    Ok(())
}

/// The end user's own balance: 200 with `available`.
async fn wallet_balance(user: &mut GooseUser) -> TransactionResult {
    let g = "wallet-balance";
    let token = state(user).access_token.clone();
    let mut reply = send(
        user,
        g,
        GooseMethod::Get,
        "/api/v1/wallet/balance",
        R_BALANCE,
        200,
        |b| b.bearer_auth(token),
    )
    .await?;
    let v = json_of(user, g, &mut reply)?;
    if v["available"].as_i64() != Some(WALLET_GRANT) {
        return Err(reject(user, g, &mut reply, "not the granted balance"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Attacks.

/// How one scenario is driven.
pub struct Load {
    pub users: usize,
    pub run_time: Duration,
}

fn scenarios_for(s: Scenario, users: usize) -> anyhow::Result<Vec<GooseScenario>> {
    Ok(match s {
        Scenario::Catalog => {
            vec![GooseScenario::new("catalog").register_transaction(transaction!(catalog))]
        }
        Scenario::Catalog304 => vec![
            GooseScenario::new("catalog-304")
                .register_transaction(transaction!(catalog_etag).set_on_start())
                .register_transaction(transaction!(catalog_304)),
        ],
        Scenario::Question => vec![
            GooseScenario::new("question")
                .register_transaction(transaction!(question_setup).set_on_start())
                .register_transaction(transaction!(question)),
        ],
        Scenario::Session => vec![
            GooseScenario::new("session")
                .register_transaction(transaction!(session).set_name(T_SESSION)),
        ],
        Scenario::Share => vec![
            GooseScenario::new("share")
                .register_transaction(transaction!(share_setup).set_on_start())
                .register_transaction(transaction!(share)),
        ],
        Scenario::Login => {
            vec![GooseScenario::new("login").register_transaction(transaction!(login))]
        }
        Scenario::Refresh => vec![
            GooseScenario::new("refresh")
                .register_transaction(transaction!(refresh_setup).set_on_start())
                .register_transaction(transaction!(refresh)),
        ],
        Scenario::Gamification => vec![
            GooseScenario::new("gamification")
                .register_transaction(transaction!(admin_token).set_on_start())
                .register_transaction(transaction!(gamification_event)),
        ],
        Scenario::Leaderboard => vec![
            GooseScenario::new("leaderboard")
                .register_transaction(transaction!(player_setup).set_on_start())
                .register_transaction(transaction!(leaderboard)),
        ],
        Scenario::Wallet => vec![
            GooseScenario::new("wallet")
                .register_transaction(transaction!(wallet_setup).set_on_start())
                .register_transaction(transaction!(wallet_purchase)),
        ],
        Scenario::WalletBalance => vec![
            GooseScenario::new("wallet-balance")
                .register_transaction(transaction!(wallet_balance_setup).set_on_start())
                .register_transaction(transaction!(wallet_balance)),
        ],
        Scenario::Analytics => {
            // One analytics reader for every eleven visitors, at least one.
            let readers = (users / 12).max(1);
            let visitors = users.saturating_sub(readers).max(1);
            vec![
                GooseScenario::new("analytics-sessions")
                    .set_weight(visitors)?
                    .register_transaction(
                        transaction!(session_beside_analytics).set_name(T_SESSION),
                    ),
                GooseScenario::new("analytics")
                    .set_weight(readers)?
                    .register_transaction(transaction!(admin_setup).set_on_start())
                    .register_transaction(transaction!(analytics)),
            ]
        }
    })
}

/// The goose options every run uses, as one would type them.
pub fn goose_args(host: &str, load: &Load) -> Vec<String> {
    vec![
        "--host".into(),
        host.into(),
        "--users".into(),
        load.users.to_string(),
        // Every user at once (a 0.05 s ramp); metrics are reset when all are running.
        "--increase-rate".into(),
        (load.users * 20).to_string(),
        "--run-time".into(),
        format!("{}s", load.run_time.as_secs().max(1)),
        "--timeout".into(),
        "10".into(),
        "--no-telnet".into(),
        "--no-print-metrics".into(),
        "--no-error-summary".into(),
        "--quiet".into(),
    ]
}

pub async fn attack(s: Scenario, host: &str, load: &Load) -> anyhow::Result<GooseMetrics> {
    let config = GooseConfiguration::parse_args_default(&goose_args(host, load))?;
    let mut attack =
        GooseAttack::initialize_with_config(config)?.set_scheduler(GooseScheduler::RoundRobin);
    for scenario in scenarios_for(s, load.users)? {
        attack = attack.register_scenario(scenario);
    }
    Ok(attack.execute().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_question_type() {
        let single = json!({"id": "q", "type": "single", "options": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(
            answer_for(&single, false).ok(),
            Some(json!({"question_id": "q", "selected_option_ids": ["a"]}))
        );
        assert_eq!(
            answer_for(&single, true).ok(),
            Some(json!({"question_id": "q", "selected_option_ids": ["b"]}))
        );
        let multi = json!({"id": "m", "type": "multi", "min_select": 2, "required": true,
            "options": [{"id": "a"}, {"id": "b"}, {"id": "c"}]});
        assert_eq!(
            answer_for(&multi, true).ok(),
            Some(json!({"question_id": "m", "selected_option_ids": ["b", "c"]}))
        );
        let scale =
            json!({"id": "s", "type": "scale", "options": [], "scale": {"min": 1, "max": 5}});
        assert_eq!(
            answer_for(&scale, true).ok(),
            Some(json!({"question_id": "s", "value": 5}))
        );
        assert!(answer_for(&json!({"id": "x", "type": "essay"}), false).is_err());
    }
}
