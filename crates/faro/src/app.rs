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
use axum::http::{HeaderValue, StatusCode, header};
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
use tower_http::set_header::SetResponseHeaderLayer;
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
        let result = serve_connections(listener, self.router, shutdown, grace).await;
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

/// How long a client may take to send a request's headers. `axum::serve` sets no timer, so a
/// client trickling header bytes (slowloris) would hold its connection forever; bodies are
/// bounded by the request timeout layer instead.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Responses larger than this many bytes are gzipped for clients that accept it.
pub const COMPRESS_ABOVE: u64 = 1460;

/// The accept loop: hyper with a header-read timeout, the peer address as `ConnectInfo`, and
/// graceful shutdown that lets in-flight requests finish for at most `grace`.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
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
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
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
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
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
    let router = router.merge(platform::docs_router(openapi)).merge(pages);

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
    let security = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ];
    let mut router = router
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
    for (name, value) in security {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    let router = router.layer(axum::middleware::from_fn_with_state(
        faro_http::cors::layer(core.clone(), &config.cors_allowed_origins),
        faro_http::cors::middleware,
    ));
    let router = router
        .layer(axum::middleware::from_fn(faro_http::fallback::json_errors))
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
