//! The public pages as visitors use them (issue 3).
//!
//! - Over plain HTTP, like a browser with JavaScript off: the whole flow by parsing the forms,
//!   redirects, errors, rate limits, the share card's pixels, assets, sitemap and robots.
//! - In a real headless Chromium (Debian's `chromium`, driven by `e2e/*.mjs` on playwright-core):
//!   the demo test with JavaScript on and with JavaScript off.
//!
//! Each test starts its own Faro in-process on port 0 over a fresh SQLite file. The browser
//! tests need `node`, `npm ci --prefix e2e` and `apt-get install -y chromium`: without them they
//! FAIL and say so (they never skip silently).

#[path = "common/mod.rs"]
mod common;

use common::browser_prerequisites;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use sqlx::Row;
use tokio::sync::oneshot;

const DEMO: &str = "que-tipo-de-ahorrista-sos";
const ADMIN_USER: &str = "admin";
const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

/// One running Faro and a client that does not follow redirects (to see each 303).
struct Server {
    base: String,
    client: reqwest::Client,
    core: faro_http::Core,
    db_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    async fn start(overrides: &[(&str, &str)]) -> Server {
        let db_url = faro_store::testing::create_database(faro_store::Backend::Sqlite).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let base = format!("http://{addr}");
        let mut env: BTreeMap<String, String> = [
            ("DATABASE_URL", db_url.as_str()),
            ("FARO_BIND", &addr.to_string()),
            ("PUBLIC_BASE_URL", base.as_str()),
            ("ADMIN_USER", ADMIN_USER),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("RATE_LIMIT_SESSION_STARTS", "off"),
            ("RATE_LIMIT_ANSWERS", "off"),
            ("RATE_LIMIT_PENALTY", "off"),
            ("RATE_LIMIT_TENANT", "off"),
            ("RATE_LIMIT_USER", "off"),
            ("RATE_LIMIT_PUBLIC_WRITES", "off"),
            ("ANTIBOT_MIN_SECONDS", "0"),
            ("CATALOG_CACHE_MS", "0"),
            ("FARO_DEMO", "true"),
            ("FARO_LOG", "warn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let config = faro::Config::from_sources(None, &env).expect("valid configuration");
        let app = faro::App::build(config).await.expect("the app builds");
        let core = app.core.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        // Page weights are measured on the wire: never let reqwest decompress (its gzip feature
        // is switched on whenever the workspace builds with the bench's goose).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Server {
            base,
            client,
            core,
            db_url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let path = self.db_url.trim_start_matches("sqlite://").to_string();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Page::of(req.send().await.expect("GET")).await
    }

    /// A form POST, `application/x-www-form-urlencoded` like a browser's.
    async fn post_form(&self, path: &str, fields: &[(String, String)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .client
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        Page::of(resp).await
    }
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Page {
    async fn of(resp: reqwest::Response) -> Page {
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.expect("body").to_vec(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Where a 303 points.
    fn location(&self) -> String {
        assert_eq!(self.status, 303, "expected a 303, got {}", self.status);
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .expect("a Location")
            .to_string()
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every `<tag ...>` opening tag in `html`.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i..];
        let boundary = after.as_bytes().get(open.len()).copied();
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        if matches!(boundary, Some(b' ' | b'>' | b'\n' | b'/')) {
            out.push(&after[..end]);
        }
        rest = &after[end.min(after.len())..];
        if end == 0 {
            break;
        }
    }
    out
}

/// An attribute's value in an opening tag, entities decoded; `Some("")` for a bare attribute.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    if let Some(i) = tag.find(&key) {
        let v = &tag[i + key.len()..];
        let v = &v[..v.find('"')?];
        return Some(
            v.replace("&#34;", "\"")
                .replace("&#39;", "'")
                .replace("&#60;", "<")
                .replace("&#62;", ">")
                .replace("&#38;", "&")
                .replace("&amp;", "&")
                .replace("&quot;", "\""),
        );
    }
    let bare = [format!(" {name}>"), format!(" {name} ")];
    bare.iter()
        .any(|b| tag.contains(b.as_str()))
        .then(String::new)
}

/// The `content` of `<meta property|name="key">`.
fn meta(html: &str, key: &str) -> Option<String> {
    tags(html, "meta")
        .into_iter()
        .find(|t| {
            attr(t, "property").as_deref() == Some(key) || attr(t, "name").as_deref() == Some(key)
        })
        .and_then(|t| attr(t, "content"))
}

/// A form answer for the question on a session page: the first option of a single choice,
/// the first two of a multiple choice, 4 on a scale (clamped). Returns the fields to POST.
fn answer_fields(html: &str) -> (String, Vec<(String, String)>) {
    let fieldset = tags(html, "fieldset")
        .into_iter()
        .next()
        .expect("a fieldset");
    let kind = attr(fieldset, "data-type").expect("data-type");
    let question_id = tags(html, "input")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some("question_id"))
        .and_then(|t| attr(t, "value"))
        .expect("question_id");
    let mut fields = vec![("question_id".to_string(), question_id.clone())];
    let options: Vec<String> = tags(html, "input")
        .into_iter()
        .filter(|t| attr(t, "name").as_deref() == Some("option"))
        .filter_map(|t| attr(t, "value"))
        .collect();
    match kind.as_str() {
        "scale" => {
            let range = tags(html, "input")
                .into_iter()
                .find(|t| attr(t, "type").as_deref() == Some("range"))
                .expect("a range input");
            let min: i64 = attr(range, "min")
                .and_then(|v| v.parse().ok())
                .expect("min");
            let max: i64 = attr(range, "max")
                .and_then(|v| v.parse().ok())
                .expect("max");
            fields.push(("value".into(), 4.clamp(min, max).to_string()));
        }
        "multi" => {
            let max: usize = attr(fieldset, "data-max")
                .and_then(|v| v.parse().ok())
                .expect("data-max");
            for o in options.iter().take(2.min(max)) {
                fields.push(("option".into(), o.clone()));
            }
        }
        _ => fields.push(("option".into(), options.first().expect("options").clone())),
    }
    (question_id, fields)
}

fn session_id_of(path: &str) -> String {
    path.rsplit('/').next().expect("a session id").to_string()
}

async fn flushed_counter(server: &Server, metric: &str, key: &str) -> i64 {
    server
        .core
        .counters
        .flush(&server.core.db)
        .await
        .expect("flush counters");
    sqlx::query(
        "SELECT COALESCE(SUM(value), 0) AS n FROM stats_daily WHERE metric = $1 AND key = $2",
    )
    .bind(metric)
    .bind(key)
    .fetch_one(server.core.db.reader())
    .await
    .expect("read counters")
    .try_get::<i64, _>("n")
    .expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_takes_the_demo_test_with_plain_forms_and_no_javascript() {
    let s = Server::start(&[]).await;

    // The catalog links the demo test, in the visitor's language.
    let catalog = s
        .get_with("/", &[("accept-language", "pt-BR,pt;q=0.9")])
        .await;
    assert_eq!(catalog.status, 200);
    assert!(catalog.header("content-type").starts_with("text/html"));
    let html = catalog.text();
    assert!(html.contains(&format!("href=\"/t/{DEMO}\"")));
    assert!(
        html.contains("<html lang=\"pt\">"),
        "interface in Portuguese"
    );
    assert!(
        html.contains("Em outros idiomas"),
        "the Spanish demo is listed apart"
    );

    // The intro carries UTM parameters into the start form.
    let intro = s
        .get(&format!(
            "/t/{DEMO}?utm_source=Newsletter&utm_campaign=spring%202026"
        ))
        .await;
    assert_eq!(intro.status, 200);
    let html = intro.text();
    let form = tags(&html, "form")
        .into_iter()
        .find(|t| attr(t, "action").is_some_and(|a| a.ends_with("/start")))
        .expect("a start form");
    let action = attr(form, "action").expect("action");
    let hidden: Vec<(String, String)> = tags(&html, "input")
        .into_iter()
        .filter(|t| attr(t, "type").as_deref() == Some("hidden"))
        .map(|t| {
            (
                attr(t, "name").expect("name"),
                attr(t, "value").expect("value"),
            )
        })
        .collect();
    assert_eq!(
        hidden,
        [
            ("utm_source".to_string(), "newsletter".to_string()),
            ("utm_campaign".to_string(), "spring_2026".to_string())
        ]
    );

    // Start: 303 to the session's page.
    let session_path = s.post_form(&action, &hidden).await.location();
    assert!(
        session_path.starts_with(&format!("/t/{DEMO}/s/")),
        "{session_path}"
    );
    let session_id = session_id_of(&session_path);
    let row = sqlx::query("SELECT source, campaign FROM quiz_sessions WHERE id = $1")
        .bind(&session_id)
        .fetch_one(s.core.db.reader())
        .await
        .expect("the session row");
    assert_eq!(
        row.try_get::<Option<String>, _>("source")
            .ok()
            .flatten()
            .as_deref(),
        Some("newsletter")
    );
    assert_eq!(
        row.try_get::<Option<String>, _>("campaign")
            .ok()
            .flatten()
            .as_deref(),
        Some("spring_2026")
    );

    // An empty answer to a required question: back to the question, with the error shown.
    let page = s.get(&session_path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    let html = page.text();
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(html.contains("role=\"progressbar\"") && html.contains("aria-valuenow=\"1\""));
    let (first_q, fields) = answer_fields(&html);
    let empty = vec![("question_id".to_string(), first_q.clone())];
    let back = s
        .post_form(&format!("{session_path}/answer"), &empty)
        .await
        .location();
    assert_eq!(back, format!("{session_path}?e=1"));
    let html = s.get(&back).await.text();
    assert!(
        html.contains("<p class=\"q-error\" id=\"q-error\" role=\"alert\">"),
        "error visible"
    );
    assert!(html.contains("aria-describedby=\"q-error\""));

    // Answer every question by reading its form, following each 303.
    let mut answered = vec![];
    let mut next = s
        .post_form(&format!("{session_path}/answer"), &fields)
        .await
        .location();
    answered.push(first_q.clone());
    // Replaying the first form (a stale tab): the session has moved on.
    let stale = s
        .post_form(&format!("{session_path}/answer"), &fields)
        .await
        .location();
    assert_eq!(stale, format!("{session_path}?moved=1"));
    assert!(s.get(&stale).await.text().contains("class=\"notice\""));

    while next == session_path {
        let page = s.get(&session_path).await;
        assert_eq!(page.status, 200);
        let html = page.text();
        // The question page stays small: HTML, stylesheet and script as transferred (gzip).
        if answered.len() == 1 {
            let gz = [("accept-encoding", "gzip")];
            let mut transferred = 0;
            for path in [
                session_path.as_str(),
                "/assets/public/quiz.css",
                "/assets/public/quiz.js",
            ] {
                let plain = s.get(path).await.body.len();
                let sent = s.get_with(path, &gz).await.body.len();
                println!("{path}: {plain} B, {sent} B transferred");
                transferred += sent;
            }
            let fonts = s
                .get("/assets/public/fonts/inter-400.woff2")
                .await
                .body
                .len()
                + s.get("/assets/public/fonts/inter-700.woff2")
                    .await
                    .body
                    .len();
            println!("question page: {transferred} B transferred (+ {fonts} B of fonts, cached)");
            assert!(
                transferred < 30 * 1024,
                "question page weighs {transferred} bytes"
            );
        }
        let (q, fields) = answer_fields(&html);
        assert!(!answered.contains(&q), "each question once");
        answered.push(q);
        next = s
            .post_form(&format!("{session_path}/answer"), &fields)
            .await
            .location();
    }
    assert!(answered.len() >= 5, "{answered:?}");

    // The last answer lands on the result.
    let token = next.strip_prefix("/r/").expect("a result path").to_string();
    assert_eq!(token.len(), 22);
    // The session page now points at the result too.
    assert_eq!(s.get(&session_path).await.location(), next);

    let result = s.get(&next).await;
    assert_eq!(result.status, 200);
    let html = result.text();
    let share_url = s.url(&next);
    assert_eq!(meta(&html, "og:url").as_deref(), Some(share_url.as_str()));
    assert_eq!(
        meta(&html, "og:image").as_deref(),
        Some(format!("{share_url}/card.png").as_str())
    );
    assert_eq!(
        meta(&html, "twitter:card").as_deref(),
        Some("summary_large_image")
    );
    for key in [
        "og:title",
        "og:description",
        "og:image:alt",
        "twitter:image",
    ] {
        assert!(meta(&html, key).is_some_and(|v| !v.is_empty()), "{key}");
    }
    assert!(
        !html.contains(&session_id),
        "no session id on the result page"
    );
    for code in ["CONSERVADOR", "MODERADO", "AGRESIVO"] {
        assert!(!html.contains(code), "no profile code on the page");
    }
    assert!(
        html.contains(&format!("href=\"/t/{DEMO}\"")),
        "take the test"
    );

    // The card: a 1200×630 PNG whose title area has text in it.
    let card = s.get(&format!("{next}/card.png")).await;
    assert_eq!(card.status, 200);
    assert_eq!(card.header("content-type"), "image/png");
    assert_eq!(
        card.header("cache-control"),
        "public, max-age=86400, immutable"
    );
    let etag = card.header("etag").to_string();
    assert!(!etag.is_empty());
    let (w, h, rgba) = faro_quiz::pages::card::decode_rgba(&card.body).expect("a PNG");
    assert_eq!((w, h), (1200, 630));
    let lit =
        faro_quiz::pages::card::light_pixels(w, &rgba, faro_quiz::pages::card::PROFILE_TITLE_BOX);
    assert!(
        lit > 800,
        "the profile title was drawn ({lit} light pixels)"
    );
    let again = s
        .get_with(
            &format!("{next}/card.png"),
            &[("if-none-match", etag.as_str())],
        )
        .await;
    assert_eq!(again.status, 304);

    // JSON for API clients at the same address.
    let json = s.get_with(&next, &[("accept", "application/json")]).await;
    assert_eq!(json.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&json.body).expect("JSON");
    assert_eq!(v["test"]["slug"], DEMO);

    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_opens_count_visitors_but_not_the_finishers_own_view() {
    let s = Server::start(&[]).await;
    let start = s
        .post_form(&format!("/t/{DEMO}/start"), &[])
        .await
        .location();
    let mut next = start.clone();
    while next == start {
        let (_, fields) = answer_fields(&s.get(&start).await.text());
        next = s
            .post_form(&format!("{start}/answer"), &fields)
            .await
            .location();
    }
    let before = flushed_counter(&s, "share_opens", "").await;
    // The finisher's browser follows the redirect from our own page.
    let own = [
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "navigate"),
    ];
    assert_eq!(s.get_with(&next, &own).await.status, 200);
    assert_eq!(flushed_counter(&s, "share_opens", "").await, before);
    // Someone opening the shared link from elsewhere.
    let shared = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
    ];
    assert_eq!(s.get_with(&next, &shared).await.status, 200);
    assert_eq!(s.get(&next).await.status, 200);
    assert_eq!(flushed_counter(&s, "share_opens", "").await, before + 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_starts_and_api_starts_share_one_rate_limit() {
    let s = Server::start(&[("RATE_LIMIT_SESSION_STARTS", "2/hour")]).await;
    let api = s
        .client
        .post(s.url(&format!("/api/v1/tests/{DEMO}/sessions")))
        .send()
        .await
        .expect("API start");
    assert_eq!(api.status().as_u16(), 201);
    assert_eq!(
        s.post_form(&format!("/t/{DEMO}/start"), &[]).await.status,
        303
    );
    let limited = s.post_form(&format!("/t/{DEMO}/start"), &[]).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("content-type").starts_with("text/html"));
    assert!(!limited.header("retry-after").is_empty());
    assert!(
        limited.text().contains("<html lang=\"es\">"),
        "in the test's language"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_get_pages_and_crawlers_get_a_sitemap() {
    let s = Server::start(&[]).await;
    let missing = s.get("/t/no-such-test").await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("content-type").starts_with("text/html"));
    assert_eq!(s.get("/r/aaaaaaaaaaaaaaaaaaaaaa").await.status, 404);
    assert_eq!(
        s.get("/r/aaaaaaaaaaaaaaaaaaaaaa/card.png").await.status,
        404
    );
    let json = s
        .get_with(
            "/r/aaaaaaaaaaaaaaaaaaaaaa",
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(json.status, 404);
    assert!(json.header("content-type").starts_with("application/json"));
    let gone = s
        .get(&format!("/t/{DEMO}/s/00000000-0000-0000-0000-000000000000"))
        .await;
    assert_eq!(gone.status, 404);

    let sitemap = s.get("/sitemap.xml").await;
    assert_eq!(sitemap.status, 200);
    assert!(
        sitemap
            .header("content-type")
            .starts_with("application/xml")
    );
    assert!(
        sitemap
            .text()
            .contains(&format!("<loc>{}/t/{DEMO}</loc>", s.base))
    );
    let robots = s.get("/robots.txt").await.text();
    for line in [
        "Allow: /t/",
        "Allow: /r/",
        "Disallow: /admin",
        "Disallow: /api",
    ] {
        assert!(robots.contains(line), "{line}");
    }
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", s.base)));

    for (path, ty) in [
        ("/assets/public/quiz.css", "text/css; charset=utf-8"),
        ("/assets/public/quiz.js", "text/javascript; charset=utf-8"),
        ("/assets/public/fonts/inter-400.woff2", "font/woff2"),
        ("/assets/public/favicon.svg", "image/svg+xml"),
    ] {
        let a = s.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.header("content-type"), ty, "{path}");
        assert_eq!(
            a.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
    }
    assert_eq!(
        s.get("/assets/public/fonts/Inter-Regular.otf").await.status,
        404
    );
    s.stop().await;
}

// ---- Browser tests (headless Chromium) ----

/// One browser at a time: the machine has two cores.
static BROWSER: std::sync::LazyLock<tokio::sync::Mutex<()>> =
    std::sync::LazyLock::new(|| tokio::sync::Mutex::new(()));

async fn run_e2e(script: &str) {
    run_e2e_with(script, &[]).await;
}

/// [`run_e2e`] with more environment for the script (the admin's credentials, `OUT_DIR`).
async fn run_e2e_with(script: &str, env: &[(&str, &str)]) {
    let root = browser_prerequisites();
    let _one = BROWSER.lock().await;
    let s = Server::start(&[]).await;
    let mut child = std::process::Command::new("node")
        .arg(root.join("e2e").join(script))
        .current_dir(root.join("e2e"))
        .env("BASE_URL", &s.base)
        .envs(env.iter().copied())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("e2e/{script} took more than 4 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    s.stop().await;
    assert!(
        status.success(),
        "e2e/{script} failed ({status}): see its output above"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_with_javascript_the_demo_test_reaches_a_shareable_result() {
    run_e2e("quiz-js.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_without_javascript_the_demo_test_reaches_a_shareable_result() {
    run_e2e("quiz-nojs.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_end_user_buys_credits_on_the_wallet_page() {
    run_e2e("wallet.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_gamification_widget_shows_the_board_progress_and_a_badge_toast() {
    run_e2e_with(
        "gamification-widget.mjs",
        &[
            ("ADMIN_USER", ADMIN_USER),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ],
    )
    .await;
}
