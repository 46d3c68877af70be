//! Start-up and wiring: connect, migrate, load secrets, bootstrap the admin, build the router
//! with every layer, serve until a shutdown signal, flush counters. Tests call `App::build` and
//! `App::serve` on port 0 exactly as `faro serve` does.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use base64::Engine;
use faro_auth::token::Keys;
use faro_http::client::ClientHasher;
use faro_http::{Core, CoreParts, WebConfig};
use faro_limits::Limiter;
use faro_store::{Consumer, Counters, Db, DbOptions, Job, Scheduler, get_or_create_setting};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;

use faro_http::module::{Module, Mounted, Task};
use faro_platform::accounts::{self, AdminBootstrap, Bootstrap};

use crate::config::Config;
use crate::{modules, platform};

/// A built application, ready to serve.
pub struct App {
    pub config: Config,
    pub core: Core,
    /// The names of the mounted modules, the platform first.
    pub mounted: Vec<&'static str>,
    /// What bootstrapping the admin did (generated credentials are printed once by `serve`).
    pub bootstrap: Bootstrap,
    /// What the modules' demo seeding made on this start (for the start-up log).
    pub seeded: Vec<String>,
    router: Router,
    background: Background,
}

/// What the mounted modules run besides serving requests.
#[derive(Default)]
struct Background {
    jobs: Vec<Job>,
    consumers: Vec<Consumer>,
    tasks: Vec<Task>,
}

/// The modules this configuration switches on: every required one and the listed optional ones.
fn enabled(config: &Config) -> Vec<&'static Module> {
    modules::all()
        .iter()
        .filter(|m| !m.optional || config.module_enabled(m.name))
        .collect()
}

/// The key ring that seals secrets and personal fields at rest: `DATA_KEYS` when set.
/// Without it a key is made on the first start and kept in the database, which keeps the
/// zero-setup start working but protects nothing against a copy of the database: said once
/// at start, louder on PostgreSQL (where an installation is a production one).
///
/// Moving to `DATA_KEYS` later needs no export: the key kept in the database (id `stored`)
/// still opens what it sealed, after the configured keys, until `faro secrets rotate` has
/// re-sealed everything with the first of them.
pub async fn data_keys(db: &Db, config: &Config) -> anyhow::Result<faro_auth::seal::Sealer> {
    if let Some(spec) = &config.data_keys {
        let ring = match faro_store::get_setting(db, "data_keys").await? {
            Some(stored) => format!("{},{stored}", spec.0),
            None => spec.0.clone(),
        };
        return faro_auth::seal::Sealer::parse(&ring)
            .or_else(|_| faro_auth::seal::Sealer::parse(&spec.0))
            .map_err(|e| anyhow::anyhow!("{e}"));
    }
    let spec = get_or_create_setting(db, "data_keys", || {
        faro_auth::seal::Sealer::generate("stored")
    })
    .await?;
    let message = "DATA_KEYS is not set: the key sealing secrets at rest is kept in the \
                   database itself; set DATA_KEYS to keep it apart (docs/tenancy.md)";
    if db.backend() == faro_store::Backend::Postgres {
        tracing::warn!("{message}");
    } else {
        tracing::info!("{message}");
    }
    faro_auth::seal::Sealer::parse(&spec)
        .map_err(|e| anyhow::anyhow!("the data key kept in the database: {e}"))
}

/// Where the blind index's key lives: in the settings table, sealed with `DATA_KEYS` (so
/// `faro secrets rotate` re-seals it; the key itself never changes, or every index would).
pub const INDEX_KEY_COLUMN: faro_http::module::SealedColumn = faro_http::module::SealedColumn {
    table: "settings",
    key: "key",
    column: "value",
    context: "settings.blind_index_key",
    only: Some("key = 'blind_index_key'"),
    tenantless: true,
};

/// The installation's blind-index key: made on the first start, kept sealed.
async fn blind_index(
    db: &Db,
    sealer: &faro_auth::seal::Sealer,
) -> anyhow::Result<faro_auth::seal::BlindIndex> {
    let context = INDEX_KEY_COLUMN.context_for("");
    let sealed = get_or_create_setting(db, "blind_index_key", || {
        sealer.seal(&context, &rand::random::<[u8; 32]>())
    })
    .await?;
    let key: [u8; 32] = sealer
        .open(&context, &sealed)
        .map_err(|e| anyhow::anyhow!("the blind index key: {e} (is DATA_KEYS missing a key?)"))?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the blind index key is not 32 bytes"))?;
    Ok(faro_auth::seal::BlindIndex::new(key))
}

/// Stops start-up when the SQLite file that keeps the JWT signing key (no `JWT_SECRET` given)
/// is readable by every account of the machine: anyone there could sign themselves in as the
/// super-admin. Files made by Faro are 0600 in a 0700 folder; older ones need a `chmod`.
fn refuse_world_readable(database_url: &str, holds_signing_key: bool) -> anyhow::Result<()> {
    #[cfg(unix)]
    if let Some(file) = faro_store::sqlite_file(database_url)
        && holds_signing_key
        && let Ok(meta) = std::fs::metadata(&file)
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o004 != 0 {
            anyhow::bail!(
                "{path} is readable by every user of this machine (mode {mode:o}) and holds the \
                 key that signs sign-ins: run `chmod 600 {path}` (and `chmod 700` on its \
                 folder), or set JWT_SECRET",
                path = file.display()
            );
        }
    }
    let _ = (database_url, holds_signing_key);
    Ok(())
}

fn random_secret() -> String {
    let bytes: [u8; 48] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let db = Db::connect(
            &config.database_url,
            &DbOptions {
                max_connections: config.db_max_connections,
                ..DbOptions::default()
            },
        )
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                faro_store::redact_url(&config.database_url)
            )
        })?;
        migrate(&db).await?;

        let jwt_secret = match &config.jwt_secret {
            Some(s) => s.0.clone(),
            None => get_or_create_setting(&db, "jwt_secret", random_secret).await?,
        };
        let keys = Keys::new(jwt_secret.as_bytes(), "faro", "faro-admin")
            .map_err(|e| anyhow::anyhow!("JWT_SECRET: {e}"))?;
        refuse_world_readable(&config.database_url, config.jwt_secret.is_none())?;
        let client_key = get_or_create_setting(&db, "client_hash_key", random_secret).await?;
        let sealer = Arc::new(data_keys(&db, &config).await?);
        let blind_index = Arc::new(blind_index(&db, &sealer).await?);
        let limiter = match &config.redis_url {
            Some(url) => Limiter::redis(&url.0)
                .await
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
            None => Limiter::local(),
        };
        let web = WebConfig {
            public_base_url: config.public_base_url.clone(),
            secure_cookies: config.public_base_url.starts_with("https://"),
            trusted_proxies: config.trusted_proxies.clone(),
            super_admin_networks: config.super_admin_networks.clone(),
            login_quota: config.rate_limit_login,
            token_ttl: accounts::TOKEN_TTL,
            limits_enabled: config.rate_limits,
            traffic: config.traffic.clone(),
        };
        let core = Core::new(CoreParts {
            db: db.clone(),
            counters: Counters::new(),
            limiter,
            keys: Arc::new(keys),
            sealer,
            blind_index,
            clients: ClientHasher::new(client_key.as_bytes()),
            web: Arc::new(web),
            // The switchable modules' links first, then the platform's own (errors, webhooks).
            panel_nav: {
                let (modules, platform): (Vec<_>, Vec<_>) =
                    enabled(&config).into_iter().partition(|m| m.optional);
                modules
                    .iter()
                    .chain(&platform)
                    .flat_map(|m| m.nav.iter().copied())
                    .collect()
            },
            modules: enabled(&config)
                .iter()
                .filter(|m| m.optional)
                .map(|m| m.name)
                .collect(),
            key_modules: enabled(&config)
                .iter()
                .filter(|m| m.api_keys)
                .map(|m| m.name)
                .collect(),
            tenants: Default::default(),
            api_keys: Default::default(),
            revoked_tokens: Default::default(),
            recent_visitors: Default::default(),
            personal: Default::default(),
            staff_tokens: Default::default(),
            wake: faro_store::Wake::new(),
        });
        let bootstrap = accounts::bootstrap_admin(
            &db,
            &AdminBootstrap {
                user: config.admin_user.clone(),
                password: config.admin_password.as_ref().map(|s| s.0.clone()),
                pass_hash: config.admin_pass_hash.as_ref().map(|s| s.0.clone()),
            },
        )
        .await?;

        let mut mounted = Vec::new();
        let mut seeded = Vec::new();
        for module in enabled(&config) {
            mounted.push((module.name, (module.mount)(&core, &config.settings)?));
            if let (true, Some(seed)) = (config.demo, module.demo)
                && let Some(made) = seed(db.clone()).await.map_err(anyhow::Error::msg)?
            {
                seeded.push(made);
            }
        }
        let names = mounted.iter().map(|(name, _)| *name).collect();
        let (router, background) = build_router(&config, &core, mounted);
        Ok(App {
            config,
            core,
            mounted: names,
            bootstrap,
            seeded,
            router,
            background,
        })
    }

    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded by the
    /// request timeout), stops the jobs and flushes the counters.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let flusher = tokio::spawn(self.core.counters.clone().run_flusher(
            self.core.db.clone(),
            self.config.counter_flush_interval,
            stop_rx.clone(),
        ));
        let Background {
            jobs,
            consumers,
            tasks,
        } = self.background;
        let db = &self.core.db;
        let mut running: Vec<_> = tasks
            .into_iter()
            .map(|task| tokio::spawn(task(stop_rx.clone())))
            .collect();
        // Each instance runs every job and consumer; leases and cursors decide who does the work.
        let scheduler = Scheduler::new(db.clone(), faro_store::new_id());
        running.push(tokio::spawn({
            let stop = stop_rx.clone();
            async move { scheduler.run(jobs, stop).await }
        }));
        for consumer in consumers {
            running.push(tokio::spawn(faro_store::outbox::run_consumer(
                db.clone(),
                consumer,
                self.core.wake.clone(),
                stop_rx.clone(),
            )));
        }
        // Other instances' events wake this one's consumers through NOTIFY (polling otherwise).
        if db.backend() == faro_store::Backend::Postgres {
            match self
                .core
                .wake
                .listen_postgres(&self.config.database_url, stop_rx.clone())
                .await
            {
                Ok(listener) => running.push(listener),
                Err(e) => tracing::warn!(error = %e, "no LISTEN for events; consumers will poll"),
            }
        }
        let grace = self.config.request_timeout + Duration::from_secs(2);
        let accept = Accept {
            header_timeout: self.config.header_timeout,
            per_client: self.config.max_connections_per_client,
            trusted_proxies: self.config.trusted_proxies.clone(),
        };
        let result = serve_connections(listener, self.router, accept, shutdown, grace).await;
        let _ = stop_tx.send(true);
        let _ = flusher.await;
        for task in running {
            let _ = task.await;
        }
        self.core.db.close().await;
        tracing::info!("stopped");
        result
    }
}

/// How long a client may take to send a request's headers, by default (`HEADER_TIMEOUT_SECS`).
/// `axum::serve` sets no timer, so a client trickling header bytes (slowloris) would hold its
/// connection forever; bodies are bounded by the request timeout layer instead.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Responses larger than this many bytes are gzipped for clients that accept it.
pub const COMPRESS_ABOVE: u64 = 1460;

/// An idle HTTP/2 connection is pinged this often, and closed when a ping is not answered
/// within [`HEADER_READ_TIMEOUT`]: a peer that went silent does not keep its socket.
pub const H2_PING_EVERY: Duration = Duration::from_secs(20);

/// What the accept loop needs from the configuration.
struct Accept {
    header_timeout: Duration,
    /// Open connections per client address (an IPv6 /64) at most; 0: no cap. Trusted proxies
    /// are exempt: every client behind them shares their address.
    per_client: u32,
    trusted_proxies: Vec<faro_http::client::Cidr>,
}

/// The connections open now per client address; a [`Slot`] gives its place back when the
/// connection ends.
#[derive(Clone, Default)]
struct OpenConnections(Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, u32>>>);

struct Slot {
    open: OpenConnections,
    ip: std::net::IpAddr,
}

impl OpenConnections {
    fn enter(&self, ip: std::net::IpAddr, cap: u32) -> Option<Slot> {
        let ip = faro_http::client::network_of(ip);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            open: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Waits, at most `within`, until a new connection has sent enough to tell its protocol: a
/// first byte that is not the HTTP/2 preface's, or the whole 24-byte preface. hyper's header
/// timer starts only once it reads a request, and its protocol sniff has no timer of its own,
/// so a connection that sends nothing (or half a preface) would otherwise stay open forever.
/// `false`: close it.
async fn first_bytes(stream: &tokio::net::TcpStream, within: Duration) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 24];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return false,
        };
        if n == 0 {
            return false;
        }
        if n >= PREFACE.len() || buf[..n] != PREFACE[..n] {
            return true;
        }
        // Part of the preface: `peek` would return the same bytes at once, so wait a little.
        if tokio::time::timeout_at(deadline, tokio::time::sleep(Duration::from_millis(20)))
            .await
            .is_err()
        {
            return false;
        }
    }
}

/// The accept loop: hyper with a header-read timeout (and one for the first bytes), a cap on
/// connections per client address, the peer address as `ConnectInfo`, and graceful shutdown
/// that lets in-flight requests finish for at most `grace`.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    accept: Accept,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(accept.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(H2_PING_EVERY))
        .keep_alive_timeout(accept.header_timeout);
    let graceful = GracefulShutdown::new();
    let open = OpenConnections::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let proxy = accept.trusted_proxies.iter().any(|c| c.contains(peer.ip()));
        let slot = if accept.per_client == 0 || proxy {
            None
        } else {
            match open.enter(peer.ip(), accept.per_client) {
                Some(slot) => Some(slot),
                None => {
                    metrics::counter!("faro_connections_refused_total").increment(1);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_timeout = accept.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            if !first_bytes(&stream, header_timeout).await {
                return;
            }
            let conn = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!("graceful shutdown timed out; closing remaining connections");
        }
    }
    Ok(())
}

/// Applies the storage layer's migrations and every module's (switched on or not) as one set.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let sets: Vec<_> = modules::all().iter().map(|m| m.migrations).collect();
    db.migrate_with(&sets)
        .await
        .context("cannot migrate the database")
}

/// Where `/admin` leads when no module serves it (the one that does is switched off): the
/// first panel link every staff member may see, else the first link.
fn panel_home(nav: &[faro_http::NavLink]) -> Option<&'static str> {
    nav.iter()
        .find(|l| !l.admins_only)
        .or_else(|| nav.first())
        .map(|l| l.href)
}

fn build_router(
    config: &Config,
    core: &Core,
    mounted: Vec<(&'static str, Mounted)>,
) -> (Router, Background) {
    let mut api =
        OpenApiRouter::with_openapi(platform::api_doc()).merge(platform::router(core.clone()));
    let mut pages = Router::new();
    let mut background = Background::default();
    let mut has_home = false;
    let mut personal = Vec::new();
    let optional: Vec<&str> = core.modules.to_vec();
    for (name, mut m) in mounted {
        has_home |= m.panel_home;
        if let Some(exporter) = m.personal.take() {
            personal.push((name, exporter));
        }
        if core.key_modules.contains(&name) {
            // Tells the extractors which scope an API key needs here.
            m.api = m
                .api
                .layer(axum::Extension(faro_http::apikey::RouteModule(name)));
        }
        if optional.contains(&name) {
            // A tenant that switched the module off gets 404 for all of it.
            let gate = axum::middleware::from_fn_with_state(
                (core.clone(), name),
                faro_http::tenant::module_gate,
            );
            api = api.merge(m.api.layer(gate.clone()));
            pages = pages.merge(m.pages.layer(gate));
        } else {
            api = api.merge(m.api);
            pages = pages.merge(m.pages);
        }
        background.jobs.extend(m.jobs);
        background.consumers.extend(m.consumers);
        background.tasks.extend(m.tasks);
    }
    core.personal.set(personal);
    if !has_home && let Some(first) = panel_home(&core.panel_nav) {
        // The page itself sends a signed-out visitor to the sign-in page.
        pages = pages.route(
            "/admin",
            axum::routing::get(move || async move { axum::response::Redirect::to(first) }),
        );
    }
    let (router, mut openapi) = api.split_for_parts();
    platform::document_shared_errors(&mut openapi);
    let openapi = Arc::new(openapi.to_json().unwrap_or_else(|_| "{}".into()));
    let router = router
        .merge(platform::docs_router(
            openapi,
            config.metrics_token.as_ref().map(|t| t.0.clone()),
        ))
        .merge(pages);

    // Fastest deflate: the share page (10 KB) spent 37% of the server's CPU in gzip at the
    // default level (BENCHMARKS.md, findings); the fastest level still shrinks it ~3x.
    let compression = CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(
            // A response that fits in one TCP segment (1,460 bytes on a 1,500-byte MTU) arrives
            // no sooner compressed; gzip would only cost CPU (a finish's 1.2 KB result was
            // compressed on every finish).
            SizeAbove::new(COMPRESS_ABOVE)
                .and(NotForContentType::IMAGES)
                .and(
                    |_: StatusCode,
                     _: axum::http::Version,
                     _: &axum::http::HeaderMap,
                     extensions: &axum::http::Extensions| {
                        extensions
                            .get::<faro_http::respond::Uncompressed>()
                            .is_none()
                    },
                ),
        );
    let router = router
        .layer(DefaultBodyLimit::max(faro_http::BODY_LIMIT))
        .layer(compression)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            core.clone(),
            faro_http::traffic::guard,
        ));
    let router = router.layer(axum::middleware::from_fn_with_state(
        faro_http::cors::layer(core.clone(), &config.cors_allowed_origins),
        faro_http::cors::middleware,
    ));
    let router = router
        .layer(axum::middleware::from_fn(faro_http::fallback::json_errors))
        // Outside the JSON fallback, so its 404s and 405s carry the headers too.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(faro_http::edge::Edge::new(config.hsts_max_age)),
            faro_http::edge::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            // Cloned for every request: one Arc, not the pools inside.
            Arc::new(faro_http::request_id::RequestLog {
                enabled: config.request_log,
                errors: Some(faro_http::request_id::ErrorSink::new(core.db.clone())),
                counters: Some(core.counters.clone()),
            }),
            faro_http::request_id::middleware,
        ));
    (router, background)
}

/// Binds the configured address with a clear message when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (FARO_BIND): is another server using it?")
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
