//! `faro quiz <command>`: import and export definitions, purge expired sessions. The same
//! commands answer at the top level (`faro import`) for scripts written before modules.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{FromArgMatches, Subcommand};
use faro_http::module::{BoxFuture, CliContext};
use faro_quiz_domain::Format;

use crate::service::{self, QuizError};

#[derive(Subcommand, Debug)]
pub enum Command {
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
}

/// The `faro quiz` command with its subcommands.
pub fn command() -> clap::Command {
    Command::augment_subcommands(
        clap::Command::new("quiz")
            .about("Quiz commands: import, export, purge")
            .subcommand_required(true),
    )
}

pub fn run(ctx: CliContext) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let command = Command::from_arg_matches(&ctx.matches)?;
        execute(&ctx, command).await
    })
}

async fn execute(ctx: &CliContext, command: Command) -> anyhow::Result<()> {
    let db = &ctx.db;
    let tenant = &faro_http::TenantId::default_tenant();
    match command {
        Command::Import { file, publish } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let format = match file.extension().and_then(|e| e.to_str()) {
                Some("yaml" | "yml") => Format::Yaml,
                _ => Format::Json,
            };
            let def = match service::parse_draft(&text, format) {
                Ok(d) => d,
                Err(QuizError::Invalid(problems)) => {
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
            match service::import(
                db,
                tenant,
                &def,
                publish,
                Some(&faro_http::audit::Actor::cli()),
            )
            .await
            {
                Ok((id, version)) => {
                    println!(
                        "imported {} as version {version} of test {id}{}",
                        def.slug,
                        if publish { " (published)" } else { " (draft)" }
                    );
                    Ok(())
                }
                Err(QuizError::Invalid(problems)) => {
                    for p in &problems {
                        eprintln!("  {}: {}", p.path, p.message);
                    }
                    bail!("cannot publish {}: {} problem(s)", def.slug, problems.len());
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Export { slug, yaml } => {
            let doc = service::export(db, tenant, &slug).await?;
            if yaml {
                print!("{}", yaml_serde::to_string(&doc)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
            Ok(())
        }
        Command::Purge { older_than } => {
            let n = crate::jobs::purge(db, older_than).await?;
            println!("purged {n} session row(s)");
            Ok(())
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
