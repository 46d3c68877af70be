//! faro-bench: the load harness of BENCHMARKS.md. Each scenario runs against a Faro it starts
//! itself (the `faro` binary, on a free port, a temp data dir and a fresh SQLite or PostgreSQL
//! database), driven by goose.
//!
//! `all` runs every scenario on both databases and rewrites the results in BENCHMARKS.md;
//! `smoke` runs each briefly and fails on any error (for CI); `soak` runs full sessions for
//! ten minutes and checks that memory stays flat.

mod auth;
mod report;
mod scenarios;
mod server;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use report::Row;
use scenarios::{Load, Scenario};
use server::{Backend, Database, Server, TempDir};

#[derive(Parser, Debug)]
#[command(
    name = "faro-bench",
    about = "Load harness for Faro: starts the server on a fresh database and drives it with goose."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    #[command(flatten)]
    opts: Opts,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Every scenario on both databases; rewrites the results in BENCHMARKS.md.
    All,
    /// Every scenario briefly on both databases; exits non-zero on any error (for CI).
    Smoke,
    /// Full sessions for --minutes; passes when RSS at the end is within 10% of RSS after the
    /// first minute and no request failed. Rewrites the soak block of BENCHMARKS.md.
    Soak {
        #[arg(long, default_value_t = 10)]
        minutes: u64,
    },
    /// What authenticating costs a request (staff JWT, API key) over an anonymous one, timed
    /// in process on the auth extractors (prints the figures, writes nothing).
    Auth {
        #[arg(long, default_value_t = 200_000)]
        iterations: u32,
    },
    /// Only the named scenarios (prints the table, writes nothing).
    Run {
        #[arg(required = true, value_enum)]
        scenarios: Vec<Scenario>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Args, Debug)]
struct Opts {
    /// A faro binary to run instead of building one with cargo.
    #[arg(long, global = true, env = "FARO_BIN")]
    faro_bin: Option<PathBuf>,
    /// PostgreSQL server to create the per-run databases on (any existing database of it).
    #[arg(
        long,
        global = true,
        env = "FARO_TEST_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// Databases to run on (default: both; sqlite for soak).
    #[arg(long, global = true, value_enum)]
    db: Option<DbChoice>,
    /// Concurrent goose users per scenario (default 32; 4 for smoke).
    #[arg(long, global = true)]
    users: Option<usize>,
    /// Seconds of steady load per scenario (default 20; 2 for smoke).
    #[arg(long, global = true)]
    seconds: Option<u64>,
    /// Tokio worker threads of the load generator.
    #[arg(long, global = true, default_value_t = 2)]
    load_threads: usize,
    /// The Markdown file whose results block `all` and `soak` rewrite.
    #[arg(long, global = true)]
    output: Option<PathBuf>,
    /// Print only; do not rewrite BENCHMARKS.md.
    #[arg(long, global = true)]
    no_write: bool,
}

const DEFAULT_USERS: usize = 32;
const DEFAULT_SECONDS: u64 = 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.opts.load_threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("faro-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("faro-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Which faro to run: the given binary, or one cargo builds now (release unless this harness
/// itself is a debug build running `smoke`).
fn faro_binary(opts: &Opts, release: bool) -> anyhow::Result<PathBuf> {
    match &opts.faro_bin {
        Some(p) => {
            anyhow::ensure!(p.is_file(), "--faro-bin {} is not a file", p.display());
            // The server runs in a temp dir: a relative path would not resolve there.
            Ok(std::fs::canonicalize(p)?)
        }
        None => server::build_faro(release),
    }
}

fn backends(choice: Option<DbChoice>, default: DbChoice) -> Vec<Backend> {
    match choice.unwrap_or(default) {
        DbChoice::Sqlite => vec![Backend::Sqlite],
        DbChoice::Postgres => vec![Backend::Postgres],
        DbChoice::Both => vec![Backend::Sqlite, Backend::Postgres],
    }
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let opts = cli.opts;
    let output = opts
        .output
        .clone()
        .unwrap_or_else(|| server::workspace_root().join("BENCHMARKS.md"));
    match cli.command {
        Cmd::All => {
            let bin = faro_binary(&opts, true)?;
            let load = Load {
                users: opts.users.unwrap_or(DEFAULT_USERS),
                run_time: Duration::from_secs(opts.seconds.unwrap_or(DEFAULT_SECONDS)),
            };
            let backends = backends(opts.db, DbChoice::Both);
            let rows = run_matrix(&bin, &opts, &backends, scenarios::ALL, &load).await?;
            println!("\n{}", report::table(&rows));
            if !opts.no_write {
                let body = results_block(&rows, &load, &opts, &backends).await;
                report::rewrite_between(
                    &output,
                    report::RESULTS_START,
                    report::RESULTS_END,
                    &body,
                )?;
                eprintln!("faro-bench: results written to {}", output.display());
            }
            let errors: u64 = rows.iter().map(|r| r.errors).sum();
            if errors > 0 {
                eprintln!("faro-bench: {errors} error(s)");
            }
            Ok(errors == 0)
        }
        Cmd::Run { scenarios } => {
            let bin = faro_binary(&opts, true)?;
            let load = Load {
                users: opts.users.unwrap_or(DEFAULT_USERS),
                run_time: Duration::from_secs(opts.seconds.unwrap_or(DEFAULT_SECONDS)),
            };
            let backends = backends(opts.db, DbChoice::Both);
            let rows = run_matrix(&bin, &opts, &backends, &scenarios, &load).await?;
            println!("\n{}", report::table(&rows));
            Ok(rows.iter().all(|r| r.errors == 0))
        }
        Cmd::Auth { iterations } => {
            let costs = auth::measure(iterations).await?;
            let base = costs[0].per_request;
            println!("| extractor | per request | over anonymous |\n|---|---|---|");
            for c in &costs {
                let over = c.per_request.saturating_sub(base);
                println!(
                    "| {} | {:.2} µs | {:.2} µs |",
                    c.what,
                    c.per_request.as_secs_f64() * 1e6,
                    over.as_secs_f64() * 1e6
                );
            }
            Ok(true)
        }
        Cmd::Smoke => smoke(&opts).await,
        Cmd::Soak { minutes } => soak(&opts, minutes, &output).await,
    }
}

/// How a run is set up, beyond the load.
#[derive(Clone, Copy)]
struct Setup {
    /// How long the server sits idle after it is ready, before its idle RSS is read.
    idle: Duration,
    /// Drop PostgreSQL databases in the background (smoke), instead of before the next run
    /// starts (measurements: a DROP DATABASE forces a checkpoint, which is noise).
    background_drops: bool,
    /// Sample the server's RSS this often during the load.
    sample_every: Option<Duration>,
}

const MEASURE: Setup = Setup {
    idle: Duration::from_millis(500),
    background_drops: false,
    sample_every: None,
};

static PENDING_DROPS: Mutex<Vec<tokio::task::JoinHandle<()>>> = Mutex::new(Vec::new());

async fn finish_drops() {
    let handles = PENDING_DROPS
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    for h in handles {
        let _ = h.await;
    }
}

/// One scenario on one database: fresh dir, fresh database, fresh server.
struct Outcome {
    rows: Vec<Row>,
    error_samples: Vec<String>,
    rss_samples: Vec<(f64, u64)>,
}

async fn run_one(
    bin: &std::path::Path,
    opts: &Opts,
    backend: Backend,
    scenario: Scenario,
    load: &Load,
    setup: Setup,
) -> anyhow::Result<Outcome> {
    let dir = TempDir::new()?;
    let db = Database::create(backend, &dir.0, &opts.pg_url).await?;
    let result = run_on(bin, &db, &dir, backend, scenario, load, setup).await;
    let drop = async move {
        if let Err(e) = db.drop_db().await {
            eprintln!("faro-bench: {e:#}");
        }
    };
    if setup.background_drops {
        let handle = tokio::spawn(drop);
        if let Ok(mut pending) = PENDING_DROPS.lock() {
            pending.push(handle);
        }
    } else {
        drop.await;
    }
    result
}

async fn run_on(
    bin: &std::path::Path,
    db: &Database,
    dir: &TempDir,
    backend: Backend,
    scenario: Scenario,
    load: &Load,
    setup: Setup,
) -> anyhow::Result<Outcome> {
    let server = Server::start(bin, db, &dir.0).await?;
    // Idle: started, migrated, demo seeded, one catalog read served, nothing else.
    tokio::time::sleep(setup.idle).await;
    let idle = server.memory()?;
    let _ = scenarios::take_errors();
    if scenario == Scenario::Leaderboard {
        seed_players(&db.url, LEADERBOARD_PLAYERS).await?;
    }
    if matches!(scenario, Scenario::Wallet | Scenario::WalletBalance) {
        scenarios::wallet_prepare(&server.base_url).await?;
    }

    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = setup.sample_every.map(|every| {
        let pid = server.pid();
        let samples = samples.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                if let Ok(m) = server::memory(pid)
                    && let Ok(mut s) = samples.lock()
                {
                    s.push((start.elapsed().as_secs_f64(), m.rss_kb));
                }
            }
        })
    });
    let pid = server.pid().to_string();
    let (server_cpu0, load_cpu0, wall0) = (
        server::cpu_seconds(&pid),
        server::cpu_seconds("self"),
        Instant::now(),
    );
    let metrics = scenarios::attack(scenario, &server.base_url, load).await;
    let wall = wall0.elapsed().as_secs_f64().max(0.001);
    let server_cpu = (server::cpu_seconds(&pid) - server_cpu0) / wall * 100.0;
    let load_cpu = (server::cpu_seconds("self") - load_cpu0) / wall * 100.0;
    if let Some(s) = sampler {
        s.abort();
    }
    let peak = server.memory()?;
    let tail = server.log_tail();
    let clean_exit = server.stop()?;
    let metrics = metrics.with_context(|| format!("goose failed; faro's log:\n{tail}"))?;
    let (errors, error_samples) = scenarios::take_errors();
    if !clean_exit {
        eprintln!("faro-bench: faro did not exit cleanly on SIGTERM; its log:\n{tail}");
    }

    let rows = scenario
        .groups()
        .into_iter()
        .map(|g| {
            let measured = stats::measure(&metrics, &g);
            let own = errors.get(g.key).copied().unwrap_or(0);
            Row {
                group: g.key,
                label: g.label,
                backend,
                users: load.users,
                unit: if g.transaction.is_some() {
                    "sessions/s"
                } else {
                    "req/s"
                },
                errors: own.max(measured.goose_failures),
                measured,
                rss_idle_kb: idle.rss_kb,
                rss_peak_kb: peak.hwm_kb,
                server_cpu_pct: server_cpu,
                load_cpu_pct: load_cpu,
                clean_exit,
            }
        })
        .collect();
    let rss_samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(Outcome {
        rows,
        error_samples,
        rss_samples,
    })
}

/// The players the leaderboard scenario reads among (issue 11's goal is for 100,000).
const LEADERBOARD_PLAYERS: i64 = 100_000;

/// Adds `n` players to the default tenant in one statement, straight into the table (events
/// would take minutes at the ingest rate): lifetime points spread over 0..20,000 with ties,
/// as a busy site's board has them.
async fn seed_players(url: &str, n: i64) -> anyhow::Result<()> {
    let began = Instant::now();
    let db = faro_store::Db::connect(url, &faro_store::DbOptions::default()).await?;
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1) \
         INSERT INTO gamification_players (tenant_id, user_id, balance, lifetime, level, \
           ordinal, display_name, first_seen_at, reached_at_ms) \
         SELECT 'default', 'seeded-' || CAST(i AS TEXT), (i * 7919) % 20000, \
           (i * 7919) % 20000, 1, 1000000 + i, NULL, 1765000000, 1765000000000 + i FROM seq",
    )
    .bind(n)
    .execute(db.writer())
    .await?;
    // What autovacuum does soon after on a real site: statistics for the planner and the
    // visibility map that lets counts read the index alone.
    if db.backend() == faro_store::Backend::Postgres {
        sqlx::query("VACUUM ANALYZE gamification_players")
            .execute(db.writer())
            .await?;
    } else {
        sqlx::query("ANALYZE gamification_players")
            .execute(db.writer())
            .await?;
    }
    db.close().await;
    eprintln!(
        "faro-bench: {n} players seeded in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn run_matrix(
    bin: &std::path::Path,
    opts: &Opts,
    backends: &[Backend],
    scenarios: &[Scenario],
    load: &Load,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &backend in backends {
        for &scenario in scenarios {
            eprintln!(
                "faro-bench: {} on {}: {} users, {} s",
                scenario.name(),
                backend.label(),
                load.users,
                load.run_time.as_secs()
            );
            let outcome = run_one(bin, opts, backend, scenario, load, MEASURE).await?;
            for r in &outcome.rows {
                eprintln!(
                    "  {:<22} {:>9.0} {:<10} p50 {:.2} p99 {:.2} max {:.2} ms, {} errors, RSS {:.1}/{:.1} MB, CPU {:.0}%/{:.0}%",
                    r.group,
                    r.measured.throughput(),
                    r.unit,
                    report::ms(r.measured.latency.p50_us),
                    report::ms(r.measured.latency.p99_us),
                    report::ms(r.measured.latency.max_us),
                    r.errors,
                    report::mb(r.rss_idle_kb),
                    report::mb(r.rss_peak_kb),
                    r.server_cpu_pct,
                    r.load_cpu_pct,
                );
            }
            for e in &outcome.error_samples {
                eprintln!("    error: {e}");
            }
            rows.extend(outcome.rows);
        }
    }
    Ok(rows)
}

async fn pg_version(url: &str) -> String {
    use sqlx::Connection;
    match server::pg_admin(url).await {
        Ok(mut c) => {
            let v: Result<(String,), _> = sqlx::query_as("SHOW server_version")
                .fetch_one(&mut c)
                .await;
            let _ = c.close().await;
            v.map(|(v,)| v).unwrap_or_else(|_| "?".into())
        }
        Err(_) => "unreachable".into(),
    }
}

async fn results_block(rows: &[Row], load: &Load, opts: &Opts, backends: &[Backend]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Measured {} at commit `{}` with `cargo run --release -p faro-bench -- all`.\n\n",
        report::now_utc(),
        report::commit()
    ));
    s.push_str(&format!("- Machine: {}.\n", report::machine()));
    s.push_str(&format!(
        "- Load: goose 0.19, {} users per scenario, {} s of steady load after all users started; \
         the load generator runs on {} tokio worker threads in the same machine as the server.\n",
        load.users,
        load.run_time.as_secs(),
        opts.load_threads
    ));
    if backends.contains(&Backend::Postgres) {
        s.push_str(&format!(
            "- PostgreSQL {} on 127.0.0.1:5432 (a new database per run); SQLite: a new file per run.\n",
            pg_version(&opts.pg_url).await
        ));
    }
    s.push('\n');
    s.push_str(&report::table(rows));
    s.push('\n');
    s
}

async fn smoke(opts: &Opts) -> anyhow::Result<bool> {
    // The same profile as this harness: `cargo run -p faro-bench -- smoke` reuses dev builds.
    let bin = faro_binary(opts, !cfg!(debug_assertions))?;
    let started = Instant::now();
    let load = Load {
        users: opts.users.unwrap_or(4),
        run_time: Duration::from_secs(opts.seconds.unwrap_or(2)),
    };
    let setup = Setup {
        idle: Duration::from_millis(100),
        background_drops: true,
        sample_every: None,
    };
    let mut passed = 0;
    let mut failed = 0;
    for backend in backends(opts.db, DbChoice::Both) {
        for &scenario in scenarios::ALL {
            let name = format!("{} on {}", scenario.name(), backend.label());
            match run_one(&bin, opts, backend, scenario, &load, setup).await {
                Ok(outcome) => {
                    let mut ok = true;
                    for r in &outcome.rows {
                        let done = r.measured.completed.unwrap_or(r.measured.requests);
                        if r.errors > 0 || done == 0 {
                            ok = false;
                            eprintln!(
                                "smoke: FAIL {name}: {}: {} errors, {done} done",
                                r.group, r.errors
                            );
                        }
                    }
                    for e in &outcome.error_samples {
                        eprintln!("    error: {e}");
                    }
                    if !outcome.rows.iter().all(|r| r.clean_exit) {
                        ok = false;
                        eprintln!("smoke: FAIL {name}: faro did not exit cleanly");
                    }
                    if ok {
                        passed += 1;
                        let summary: Vec<String> = outcome
                            .rows
                            .iter()
                            .map(|r| {
                                format!(
                                    "{} {}",
                                    r.measured.completed.unwrap_or(r.measured.requests),
                                    if r.measured.completed.is_some() {
                                        "sessions"
                                    } else {
                                        "requests"
                                    }
                                )
                            })
                            .collect();
                        eprintln!("smoke: ok   {name}: {}", summary.join(", "));
                    } else {
                        failed += 1;
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("smoke: FAIL {name}: {e:#}");
                }
            }
        }
    }
    finish_drops().await;
    println!(
        "smoke ({:.0} s): {passed} passed, {failed} failed",
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}

async fn soak(opts: &Opts, minutes: u64, output: &std::path::Path) -> anyhow::Result<bool> {
    let bin = faro_binary(opts, true)?;
    let load = Load {
        users: opts.users.unwrap_or(DEFAULT_USERS),
        run_time: Duration::from_secs(minutes * 60),
    };
    let mut all_pass = true;
    let mut block = format!(
        "Measured {} at commit `{}` with `cargo run --release -p faro-bench -- soak` \
         ({} users, full sessions for {minutes} min; {}).\n\n\
         | db | sessions/s | p99 ms | errors | RSS after 1 min | RSS at end | change | peak RSS | verdict |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|---|\n",
        report::now_utc(),
        report::commit(),
        load.users,
        report::machine(),
    );
    for backend in backends(opts.db, DbChoice::Sqlite) {
        eprintln!(
            "faro-bench: soak on {} for {minutes} min, {} users",
            backend.label(),
            load.users
        );
        let outcome = run_one(
            &bin,
            opts,
            backend,
            Scenario::Session,
            &load,
            Setup {
                sample_every: Some(Duration::from_secs(5)),
                ..MEASURE
            },
        )
        .await?;
        let row = outcome
            .rows
            .first()
            .context("the session scenario measured nothing")?;
        let at = |t: f64| {
            outcome
                .rss_samples
                .iter()
                .find(|(s, _)| *s >= t)
                .or(outcome.rss_samples.last())
                .map(|&(_, kb)| kb)
                .unwrap_or(0)
        };
        let minute = at(60.0);
        let end = outcome.rss_samples.last().map(|&(_, kb)| kb).unwrap_or(0);
        let change = if minute > 0 {
            (end as f64 - minute as f64) / minute as f64 * 100.0
        } else {
            f64::INFINITY
        };
        let pass = change.abs() <= 10.0 && row.errors == 0 && row.measured.requests > 0;
        all_pass &= pass;
        for e in &outcome.error_samples {
            eprintln!("    error: {e}");
        }
        let line = format!(
            "| {} | {} | {:.2} | {} | {:.1} MB | {:.1} MB | {:+.1}% | {:.1} MB | {} |\n",
            backend.label(),
            report::thousands(row.measured.throughput()),
            report::ms(row.measured.latency.p99_us),
            row.errors,
            report::mb(minute),
            report::mb(end),
            change,
            report::mb(row.rss_peak_kb),
            if pass { "pass" } else { "**FAIL**" },
        );
        eprint!("soak: {line}");
        block.push_str(&line);
    }
    block.push('\n');
    println!("\n{block}");
    if !opts.no_write {
        report::rewrite_between(output, report::SOAK_START, report::SOAK_END, &block)?;
        eprintln!("faro-bench: soak results written to {}", output.display());
    }
    println!("soak: {}", if all_pass { "pass" } else { "FAIL" });
    Ok(all_pass)
}
