//! `faro tenant create|list|pause|resume`: the console's tenant actions on the server's command
//! line, for scripts and for the first tenants before anyone signs in. Audited as `cli`.

use anyhow::bail;
use clap::{FromArgMatches, Subcommand};
use faro_http::module::{BoxFuture, CliContext};

use super::domain::Status;
use super::{NewTenant, Patch, TenantError};
use crate::audit::Actor;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a tenant; with --owner, also its first owner (password printed once unless
    /// FARO_OWNER_PASSWORD gives it).
    Create {
        /// 2 to 40 lowercase letters, digits or hyphens (e.g. cocinas-lopez).
        slug: String,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        /// A host name its public pages answer on; repeat for several.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// es, ca, pt or en (default es).
        #[arg(long)]
        language: Option<String>,
        /// IANA time zone (default UTC).
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        plan: Option<String>,
        /// Username of the tenant's first owner.
        #[arg(long)]
        owner: Option<String>,
    },
    /// List every tenant: slug, status, plan, hosts.
    List,
    /// Pause a tenant: its pages answer 503 and its staff cannot sign in; nothing is deleted.
    Pause { tenant: String },
    /// Serve a paused tenant again.
    Resume { tenant: String },
}

pub fn command() -> clap::Command {
    Command::augment_subcommands(
        clap::Command::new("tenant")
            .about("Tenant commands: create, list, pause, resume")
            .subcommand_required(true),
    )
}

pub fn run(ctx: CliContext) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let command = Command::from_arg_matches(&ctx.matches)?;
        execute(&ctx, command).await
    })
}

/// A use case's refusal in the words of the command line.
fn explain(e: TenantError) -> anyhow::Error {
    match e {
        TenantError::Invalid(problems) => anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn execute(ctx: &CliContext, command: Command) -> anyhow::Result<()> {
    let db = &ctx.db;
    let actor = Actor::cli();
    match command {
        Command::Create {
            slug,
            name,
            hosts,
            language,
            time_zone,
            plan,
            owner,
        } => {
            let (password, generated) = match std::env::var("FARO_OWNER_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (faro_auth::password::generate(), true),
            };
            let new = NewTenant {
                name: name.unwrap_or_else(|| slug.clone()),
                slug,
                hosts,
                language,
                time_zone,
                plan,
                modules: None,
                owner: owner.clone().map(|o| (o, password.clone())),
            };
            // The command line cannot know which modules `serve` runs: it leaves the choice
            // to the console.
            let t = super::create(db, &[], new, &actor).await.map_err(explain)?;
            println!("tenant {} created (id {})", t.slug, t.id);
            if let (Some(owner), true) = (owner, generated) {
                println!("owner {owner}, password (shown once): {password}");
            }
        }
        Command::List => {
            let mut after: Option<String> = None;
            println!("{:<24} {:<8} {:<10} HOSTS", "SLUG", "STATUS", "PLAN");
            loop {
                let page = super::store::list(db, after.as_deref(), 200).await?;
                for t in &page {
                    println!(
                        "{:<24} {:<8} {:<10} {}",
                        t.slug,
                        t.status.as_str(),
                        t.plan,
                        t.hosts.join(",")
                    );
                }
                match page.last() {
                    Some(t) if page.len() == 200 => after = Some(t.slug.clone()),
                    _ => break,
                }
            }
        }
        Command::Pause { tenant } | Command::Resume { tenant } if tenant.is_empty() => {
            bail!("name the tenant by slug or id")
        }
        Command::Pause { tenant } => {
            let patch = Patch {
                status: Some(Status::Paused),
                ..Patch::default()
            };
            let t = super::update(db, &[], &tenant, patch, &actor)
                .await
                .map_err(explain)?;
            println!("tenant {} paused", t.slug);
        }
        Command::Resume { tenant } => {
            let patch = Patch {
                status: Some(Status::Active),
                ..Patch::default()
            };
            let t = super::update(db, &[], &tenant, patch, &actor)
                .await
                .map_err(explain)?;
            println!("tenant {} resumed", t.slug);
        }
    }
    Ok(())
}
