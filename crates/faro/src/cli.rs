//! The command line: `faro serve` (default), `migrate`, `create-admin`, and each module's
//! commands as `faro <module> <command>` (a module may keep some at the top level too, as
//! aliases from before modules had their own word). Every command reads the same
//! configuration.

use std::ffi::OsString;
use std::io::Read;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use faro_auth::Role;
use faro_http::module::CliContext;
use faro_platform::accounts::{self, Bootstrap};
use faro_store::{Db, DbOptions};

use crate::app::{self, App};
use crate::config::Config;
use crate::modules;
use crate::telemetry::Output;

#[derive(Parser, Debug)]
#[command(
    name = "faro",
    version,
    about = "Faro: a self-hostable engagement backend.",
    long_about = "Faro serves the JSON API, the public pages and the admin panel from one binary.\n\
    Configuration comes from environment variables (and an optional TOML file named by FARO_CONFIG); see the README."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The platform's own commands; modules add theirs in [`command`].
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default command).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Create a staff account, or reset its password and role.
    CreateAdmin {
        username: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Admin)]
        role: RoleArg,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The keys that seal secrets and personal fields at rest (DATA_KEYS).
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Print a new random key to put first in DATA_KEYS (then run `faro secrets rotate`).
    NewKey {
        /// Its id: 1-16 lowercase letters, digits or '-' (e.g. k2, 2027-01).
        id: String,
    },
    /// Re-seal every sealed value with the newest key of DATA_KEYS (and seal old clear ones).
    Rotate,
}

/// The whole command line: the platform's commands, each module's `faro <module>`, and the
/// modules' top-level aliases.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    for module in modules::all() {
        let Some(cli) = &module.cli else { continue };
        let sub = (cli.command)();
        for alias in cli.aliases {
            if let Some(a) = sub.find_subcommand(alias) {
                cmd = cmd.subcommand(a.clone());
            }
        }
        cmd = cmd.subcommand(sub);
    }
    cmd
}

/// Parses the process's arguments (clap prints help and errors and exits) and runs them.
pub async fn main_with(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> anyhow::Result<()> {
    let matches = command().get_matches_from(args);
    // A module's command, or one of its aliases at the top level.
    if let Some((name, sub)) = matches.subcommand() {
        for module in modules::all() {
            let Some(cli) = &module.cli else { continue };
            // A module's command is usually named after it; the platform's is `tenant`.
            let matches = if name == module.name || name == (cli.command)().get_name() {
                sub.clone()
            } else if cli.aliases.contains(&name) {
                matches.clone()
            } else {
                continue;
            };
            let config = Config::from_env()?;
            crate::telemetry::init(&config.log, Output::Stderr, None);
            let db = open(&config).await?;
            app::migrate(&db).await?;
            return (cli.run)(CliContext {
                db,
                settings: config.settings.clone(),
                matches,
            })
            .await;
        }
    }
    run(Cli::from_arg_matches(&matches)?).await
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Owner,
    Admin,
    Agent,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Owner => Role::Owner,
            RoleArg::Admin => Role::Admin,
            RoleArg::Agent => Role::Agent,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let command = cli.command.unwrap_or(Command::Serve);
    let output = match command {
        Command::Serve => Output::Stdout,
        _ => Output::Stderr,
    };
    // Only the server exports traces (OTEL_EXPORTER_OTLP_ENDPOINT).
    let otlp = matches!(command, Command::Serve).then_some(config.otlp.as_ref());
    crate::telemetry::init(&config.log, output, otlp.flatten());
    match command {
        Command::Serve => {
            let served = serve(config).await;
            // The last spans, sent before the process exits.
            crate::telemetry::shutdown().await;
            served
        }
        Command::Secrets(SecretsCommand::NewKey { id }) => {
            let spec = faro_auth::seal::Sealer::generate(&id);
            // Checks the id.
            faro_auth::seal::Sealer::parse(&spec).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{spec}");
            Ok(())
        }
        Command::Secrets(SecretsCommand::Rotate) => {
            let db = open(&config).await?;
            app::migrate(&db).await?;
            let sealer = app::data_keys(&db, &config).await?;
            let columns: Vec<_> = std::iter::once(app::INDEX_KEY_COLUMN)
                .chain(modules::all().iter().flat_map(|m| m.sealed.iter().copied()))
                .collect();
            let done = crate::secrets::rotate(&db, &sealer, &columns).await?;
            println!(
                "{} value(s) sealed with key {}, {} already were",
                done.resealed,
                sealer.current(),
                done.current
            );
            if !done.failed.is_empty() {
                for f in &done.failed {
                    eprintln!("not rotated: {f}");
                }
                bail!(
                    "{} value(s) did not open: keep their key in DATA_KEYS",
                    done.failed.len()
                );
            }
            Ok(())
        }
        Command::Migrate => {
            let db = open(&config).await?;
            app::migrate(&db).await?;
            println!("database schema is up to date");
            Ok(())
        }
        Command::CreateAdmin {
            username,
            role,
            password_stdin,
        } => {
            accounts::check_username(&username).map_err(anyhow::Error::msg)?;
            let db = open(&config).await?;
            app::migrate(&db).await?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let p = s.trim_end_matches(['\n', '\r']).to_string();
                if let Err(why) = faro_auth::policy::check(&p) {
                    bail!("the password is refused: {why}");
                }
                (p, false)
            } else {
                (faro_auth::password::generate(), true)
            };
            let hash = faro_auth::password::hash_blocking(password.clone()).await?;
            accounts::upsert_user(
                &db,
                &faro_http::TenantId::default_tenant(),
                &username,
                &hash,
                role.into(),
                false,
            )
            .await?;
            println!(
                "account {username} ({}) is ready",
                Role::from(role).as_str()
            );
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Db> {
    Db::connect(&config.database_url, &DbOptions::default())
        .await
        .with_context(|| {
            format!(
                "cannot open {}",
                faro_store::redact_url(&config.database_url)
            )
        })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let settings: serde_json::Map<String, serde_json::Value> = config
        .redacted()
        .into_iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
        .collect();
    tracing::info!(config = %serde_json::Value::Object(settings), "starting faro {}", env!("CARGO_PKG_VERSION"));
    let bind = config.bind;
    let base = config.public_base_url.clone();
    let app = App::build(config).await?;
    let listener = app::bind(bind).await?;
    if let Bootstrap::Generated { username, password } = &app.bootstrap {
        eprintln!(
            "\n  Faro created the first admin account. This password is shown once:\n\n    username: {username}\n    password: {password}\n\n  Sign in with POST {base}/api/v1/admin/login, or set ADMIN_USER and ADMIN_PASSWORD.\n"
        );
    }
    for made in &app.seeded {
        tracing::info!("{made}");
    }
    eprintln!(
        "  Faro is listening on {base}  (API: {base}/api/v1/tests, docs: {base}/api/v1/openapi.json)\n"
    );
    app.serve(listener, app::shutdown_signal()).await
}
