//! The command line: `faro serve` (default), `migrate`, `import`, `export`, `purge`,
//! `create-admin`. Every command reads the same configuration.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use faro_auth::Role;
use faro_store::{Db, DbOptions};

use crate::accounts::{self, Bootstrap};
use crate::app::{self, App};
use crate::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "faro",
    version,
    about = "Faro: a self-hostable engagement backend (quizzes, share pages, analytics).",
    long_about = "Faro serves the JSON API, the public pages and the admin panel from one binary.\n\
    Configuration comes from environment variables (and an optional TOML file named by FARO_CONFIG); see the README."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default command).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Import a test definition (JSON or YAML) as a new test, or as a new version of the test with that slug.
    Import {
        /// Path to the definition document (.json, .yaml or .yml).
        file: std::path::PathBuf,
        /// Publish the imported version right away.
        #[arg(long)]
        publish: bool,
    },
    /// Print the definition of a test (its served version, or its latest draft).
    Export {
        slug: String,
        /// Print YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
    },
    /// Delete expired session rows now (the same job runs hourly inside `serve`).
    Purge {
        /// Also delete sessions started longer ago than this (e.g. 30d, 12h, 90m).
        #[arg(long, value_parser = parse_age)]
        older_than: Option<Duration>,
    },
    /// Create a staff account, or reset its password and role.
    CreateAdmin {
        username: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Admin)]
        role: RoleArg,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Admin,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

/// `30d`, `12h`, `90m`, `3600s`.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with a unit, like 30d"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        other => return Err(format!("unknown unit {other:?}: use d, h, m or s")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    crate::telemetry::init(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = open(&config).await?;
            db.migrate().await?;
            println!("database schema is up to date");
            Ok(())
        }
        Command::Import { file, publish } => {
            let db = open(&config).await?;
            db.migrate().await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let format = match file.extension().and_then(|e| e.to_str()) {
                Some("yaml" | "yml") => faro_quiz_domain::Format::Yaml,
                _ => faro_quiz_domain::Format::Json,
            };
            let def = match faro_quiz::service::parse_draft(&text, format) {
                Ok(d) => d,
                Err(faro_quiz::service::QuizError::Invalid(problems)) => {
                    for p in &problems {
                        eprintln!(
                            "  {}: {}",
                            if p.path.is_empty() {
                                "(document)"
                            } else {
                                &p.path
                            },
                            p.message
                        );
                    }
                    bail!("{} has {} problem(s)", file.display(), problems.len());
                }
                Err(e) => return Err(e.into()),
            };
            match faro_quiz::service::import(&db, faro_http::DEFAULT_TENANT, &def, publish).await {
                Ok((id, version)) => {
                    println!(
                        "imported {} as version {version} of test {id}{}",
                        def.slug,
                        if publish { " (published)" } else { " (draft)" }
                    );
                    Ok(())
                }
                Err(faro_quiz::service::QuizError::Invalid(problems)) => {
                    for p in &problems {
                        eprintln!("  {}: {}", p.path, p.message);
                    }
                    bail!("cannot publish {}: {} problem(s)", def.slug, problems.len());
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Export { slug, yaml } => {
            let db = open(&config).await?;
            let doc = faro_quiz::service::export(&db, faro_http::DEFAULT_TENANT, &slug).await?;
            if yaml {
                print!("{}", yaml_serde::to_string(&doc)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
            Ok(())
        }
        Command::Purge { older_than } => {
            let db = open(&config).await?;
            let n = faro_quiz::jobs::purge(&db, older_than).await?;
            println!("purged {n} session row(s)");
            Ok(())
        }
        Command::CreateAdmin {
            username,
            role,
            password_stdin,
        } => {
            accounts::check_username(&username).map_err(anyhow::Error::msg)?;
            let db = open(&config).await?;
            db.migrate().await?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let p = s.trim_end_matches(['\n', '\r']).to_string();
                if p.len() < 8 {
                    bail!("the password must be at least 8 characters");
                }
                (p, false)
            } else {
                (faro_auth::password::generate(), true)
            };
            let hash = faro_auth::password::hash_blocking(password.clone()).await?;
            accounts::upsert_user(
                &db,
                faro_http::DEFAULT_TENANT,
                &username,
                &hash,
                role.into(),
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
    if let Some(slug) = &app.seeded_demo {
        tracing::info!(slug = %slug, "demo test published");
    }
    eprintln!(
        "  Faro is listening on {base}  (API: {base}/api/v1/tests, docs: {base}/api/v1/openapi.json)\n"
    );
    app.serve(listener, app::shutdown_signal()).await
}
