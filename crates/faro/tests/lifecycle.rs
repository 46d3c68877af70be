//! The server's life cycle: slow clients are cut off, and a graceful shutdown finishes
//! in-flight work and flushes the batched counters, so nothing counted is lost.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faro_store::{Backend, Db, DbOptions};
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn config_with(url: &str, extra: &[(&str, &str)]) -> faro::Config {
    let mut env: BTreeMap<String, String> = [
        ("DATABASE_URL", url),
        ("FARO_BIND", "127.0.0.1:0"),
        ("ADMIN_USER", "admin"),
        ("ADMIN_PASSWORD", "lifecycle-password"),
        ("ANTIBOT_MIN_SECONDS", "0"),
        ("RATE_LIMIT_SESSION_STARTS", "off"),
        ("RATE_LIMIT_ANSWERS", "off"),
        ("RATE_LIMITS", "off"),
        // Long enough that only the shutdown flush can have written the counters.
        ("COUNTER_FLUSH_MS", "1000"),
        ("FARO_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    faro::Config::from_sources(None, &env).expect("config")
}

struct Running {
    base: String,
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(url: &str) -> Running {
    start_with(url, &[]).await
}

async fn start_with(url: &str, extra: &[(&str, &str)]) -> Running {
    let _ = faro::platform::metrics_handle();
    let app = faro::App::build(config_with(url, extra).await)
        .await
        .expect("build");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{addr}"),
        addr,
        stop,
        done,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let url = faro_store::testing::create_database(Backend::Sqlite).await;
    let server = start(&url).await;
    let mut slow = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("partial headers");
    let began = Instant::now();
    let mut buf = [0u8; 512];
    // The server must close (EOF, or a 408 and then EOF) well before a minute.
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a slow client kept its connection for 30 s");
    assert!(began.elapsed() >= faro::app::HEADER_READ_TIMEOUT - Duration::from_secs(1));
    // Everyone else is still served.
    let ok = reqwest::get(format!("{}/api/v1/health", server.base))
        .await
        .expect("health");
    assert_eq!(ok.status(), 200);
    let _ = server.stop.send(());
    server.done.await.expect("join").expect("serve");
}

/// Lets this process hold `n` more sockets than the usual soft limit of 1,024 allows.
fn allow_open_files(n: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < n
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, n.min(hard), hard);
    }
}

/// Reads until the server closes; how long that took, or `None` past `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buf = [0u8; 256];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await
    .ok()
    .map(|()| began.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_while_other_clients_are_served() {
    allow_open_files(4096);
    let url = faro_store::testing::create_database(Backend::Sqlite).await;
    let server = start_with(
        &url,
        &[
            ("HEADER_TIMEOUT_SECS", "2"),
            ("MAX_CONNECTIONS_PER_CLIENT", "1000"),
        ],
    )
    .await;
    // 500 connections that send nothing, or only the start of the HTTP/2 preface.
    let mut silent = Vec::new();
    for i in 0..500 {
        let mut s = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        if i % 3 == 0 {
            s.write_all(b"PRI * HTTP/2.0\r\n")
                .await
                .expect("part of a preface");
        }
        silent.push(s);
    }
    let opened = Instant::now();
    // Meanwhile a real client is served.
    let ok = reqwest::get(format!("{}/api/v1/health", server.base))
        .await
        .expect("health");
    assert_eq!(ok.status(), 200);
    // Every silent one is closed within the timeout (plus a margin for 500 sockets).
    let mut still_open = 0;
    for s in &mut silent {
        let left = Duration::from_secs(6).saturating_sub(opened.elapsed());
        if closed_within(s, left.max(Duration::from_millis(10)))
            .await
            .is_none()
        {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "silent connections still open after 6 s");
    assert!(
        opened.elapsed() >= Duration::from_millis(1500),
        "not before the timeout"
    );
    let _ = server.stop.send(());
    server.done.await.expect("join").expect("serve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_client_address_are_capped() {
    let url = faro_store::testing::create_database(Backend::Sqlite).await;
    let server = start_with(
        &url,
        &[
            ("HEADER_TIMEOUT_SECS", "2"),
            ("MAX_CONNECTIONS_PER_CLIENT", "5"),
        ],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(
            tokio::net::TcpStream::connect(server.addr)
                .await
                .expect("connect"),
        );
    }
    // The sixth from the same address is closed at once.
    let mut sixth = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let t = closed_within(&mut sixth, Duration::from_secs(1))
        .await
        .expect("the sixth connection is closed at once");
    assert!(t < Duration::from_millis(900), "{t:?}");
    // Once the silent ones are timed out, the address is served again.
    for s in &mut held {
        closed_within(s, Duration::from_secs(5))
            .await
            .expect("closed by the timeout");
    }
    let ok = reqwest::get(format!("{}/api/v1/health", server.base))
        .await
        .expect("health");
    assert_eq!(ok.status(), 200);
    let _ = server.stop.send(());
    server.done.await.expect("join").expect("serve");
}

async fn started_count(url: &str) -> i64 {
    let db = Db::connect(url, &DbOptions::default())
        .await
        .expect("reopen");
    let n: i64 = sqlx::query(
        "SELECT COALESCE(CAST(SUM(value) AS BIGINT), 0) FROM stats_daily WHERE metric = 'starts'",
    )
    .fetch_one(db.reader())
    .await
    .expect("sum")
    .try_get(0)
    .expect("n");
    db.close().await;
    n
}

async fn shutdown_flushes(backend: Backend) {
    let url = faro_store::testing::create_database(backend).await;
    let server = start(&url).await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let r = client
            .post(format!(
                "{}/api/v1/tests/que-tipo-de-ahorrista-sos/sessions",
                server.base
            ))
            .send()
            .await
            .expect("start");
        assert_eq!(r.status(), 201);
    }
    // Stop right away: the counters are still in memory (flush interval 1 s).
    let _ = server.stop.send(());
    server.done.await.expect("join").expect("serve");
    assert_eq!(
        started_count(&url).await,
        5,
        "graceful shutdown lost counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_flushes_the_counters_on_sqlite() {
    shutdown_flushes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_flushes_the_counters_on_postgres() {
    shutdown_flushes(Backend::Postgres).await;
}

/// A request that is still arriving when shutdown begins is served to the end: its client gets
/// its 201, the session is stored and counted, and only then does the server exit.
async fn shutdown_completes_in_flight_requests(backend: Backend) {
    let url = faro_store::testing::create_database(backend).await;
    let server = start(&url).await;
    let body = br#"{"source": "in-flight"}"#;
    let mut conn = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/tests/que-tipo-de-ahorrista-sos/sessions HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("headers");
    conn.write_all(&body[..5]).await.expect("half a body");
    // Let the server read the headers and start the request, then ask it to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = server.stop.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !server.done.is_finished(),
        "exited with a request in flight"
    );
    conn.write_all(&body[5..]).await.expect("rest of the body");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight start was not served: {response}"
    );
    server.done.await.expect("join").expect("serve");
    assert_eq!(
        started_count(&url).await,
        1,
        "the in-flight start was counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_completes_in_flight_requests_on_sqlite() {
    shutdown_completes_in_flight_requests(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_completes_in_flight_requests_on_postgres() {
    shutdown_completes_in_flight_requests(Backend::Postgres).await;
}
