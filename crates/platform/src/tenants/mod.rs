//! Tenants: the brands one installation serves. The super-admin creates, edits, pauses and
//! lists them (`/api/v1/platform/tenants`, `faro tenant`); every change is audited. Use cases
//! here validate with [`domain`], store with [`store`] and answer [`TenantError`], which the
//! API converts once into the JSON error body.

pub mod api;
pub mod cli;
pub mod console;
pub mod domain;
pub mod purge;
pub mod store;
pub mod usage;

use faro_http::ApiError;
use faro_store::{DEFAULT_TENANT, Db, StoreError};

use crate::audit::Actor;
use domain::{Problem, Status, field};
use store::{NewTenantRow, TenantChange, TenantRow, WriteError};

/// Everything a tenant use case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("the slug is taken")]
    SlugTaken,
    #[error("the host name {0} belongs to another tenant")]
    HostTaken(String),
    #[error("no such tenant")]
    NotFound,
    #[error("{0}")]
    DefaultTenant(&'static str),
    #[error("the tenant is not paused")]
    NotPaused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WriteError> for TenantError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::SlugTaken => TenantError::SlugTaken,
            WriteError::HostTaken(h) => TenantError::HostTaken(h),
            WriteError::Store(e) => TenantError::Store(e),
        }
    }
}

impl From<TenantError> for ApiError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Invalid(problems) => {
                crate::tenants::domain::invalid("the tenant is not valid", problems)
            }
            TenantError::SlugTaken => {
                ApiError::conflict("slug_taken", "another tenant already has this slug")
            }
            TenantError::HostTaken(h) => ApiError::conflict(
                "host_taken",
                format!("the host name {h} already belongs to another tenant"),
            ),
            TenantError::NotFound => ApiError::not_found("no tenant has this id or slug"),
            TenantError::DefaultTenant(m) => ApiError::conflict("default_tenant", m),
            TenantError::NotPaused => ApiError::conflict(
                "not_paused",
                "pause the tenant first: a purge deletes everything it holds, for good",
            ),
            TenantError::Store(e) => e.into(),
        }
    }
}

/// The settings document a tenant starts with (version 1; see `settings::domain`).
pub const INITIAL_SETTINGS: &str = r#"{"branding":{},"origins":[]}"#;

/// A new tenant as the API and the command line ask for it.
#[derive(Clone, Debug, Default)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub hosts: Vec<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub plan: Option<String>,
    pub modules: Option<Vec<String>>,
    /// The first owner's credentials.
    pub owner: Option<(String, String)>,
}

/// Validates and creates a tenant with its hosts, first settings version and first owner.
pub async fn create(
    db: &Db,
    installed: &[&str],
    new: NewTenant,
    actor: &Actor,
) -> Result<TenantRow, TenantError> {
    let mut problems = Vec::new();
    field(&mut problems, "slug", &new.slug, domain::check_slug);
    field(&mut problems, "name", &new.name, domain::check_name);
    let hosts = domain::normalize_hosts(&new.hosts, "hosts", &mut problems);
    let language = new.language.unwrap_or_else(|| "es".into());
    field(&mut problems, "language", &language, domain::check_language);
    let time_zone = new.time_zone.unwrap_or_else(|| "UTC".into());
    field(
        &mut problems,
        "time_zone",
        &time_zone,
        domain::check_time_zone,
    );
    let plan = new.plan.unwrap_or_else(|| "free".into());
    field(&mut problems, "plan", &plan, domain::check_plan);
    if let Some(m) = &new.modules {
        domain::check_modules(m, installed, "modules", &mut problems);
    }
    if let Some((username, password)) = &new.owner {
        if let Err(m) = crate::accounts::check_username(username) {
            problems.push(Problem::new("owner.username", m));
        }
        if let Err(m) = faro_auth::policy::check(password) {
            problems.push(Problem::new("owner.password", m));
        }
    }
    if !problems.is_empty() {
        return Err(TenantError::Invalid(problems));
    }
    let owner_hash = match &new.owner {
        Some((_, password)) => Some(
            faro_auth::password::hash_blocking(password.clone())
                .await
                .map_err(|e| StoreError::Other(format!("hashing the owner's password: {e}")))?,
        ),
        None => None,
    };
    let row = NewTenantRow {
        slug: &new.slug,
        name: new.name.trim(),
        hosts: &hosts,
        plan: &plan,
        language: &language,
        time_zone: &time_zone,
        modules: new.modules.as_deref(),
        owner: new
            .owner
            .as_ref()
            .zip(owner_hash.as_deref())
            .map(|((u, _), h)| (u.as_str(), h)),
    };
    Ok(store::create(db, &row, INITIAL_SETTINGS, actor).await?)
}

/// A change as the API and the command line ask for it; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub name: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub plan: Option<String>,
    pub status: Option<Status>,
    pub maintenance: Option<bool>,
    pub modules: Option<Option<Vec<String>>>,
}

/// Validates and applies a change to the tenant named by id or slug.
pub async fn update(
    db: &Db,
    installed: &[&str],
    id_or_slug: &str,
    patch: Patch,
    actor: &Actor,
) -> Result<TenantRow, TenantError> {
    let mut problems = Vec::new();
    if let Some(n) = &patch.name {
        field(&mut problems, "name", n, domain::check_name);
    }
    let hosts = patch
        .hosts
        .as_ref()
        .map(|h| domain::normalize_hosts(h, "hosts", &mut problems));
    if let Some(l) = &patch.language {
        field(&mut problems, "language", l, domain::check_language);
    }
    if let Some(tz) = &patch.time_zone {
        field(&mut problems, "time_zone", tz, domain::check_time_zone);
    }
    if let Some(p) = &patch.plan {
        field(&mut problems, "plan", p, domain::check_plan);
    }
    if let Some(Some(m)) = &patch.modules {
        domain::check_modules(m, installed, "modules", &mut problems);
    }
    if !problems.is_empty() {
        return Err(TenantError::Invalid(problems));
    }
    let is_default = id_or_slug == DEFAULT_TENANT;
    if is_default && patch.status == Some(Status::Paused) {
        return Err(TenantError::DefaultTenant(
            "the default tenant serves every host no other tenant claims: it cannot be paused",
        ));
    }
    let change = TenantChange {
        name: patch.name.map(|n| n.trim().to_string()),
        hosts,
        plan: patch.plan,
        language: patch.language,
        time_zone: patch.time_zone,
        status: patch.status,
        maintenance: patch.maintenance,
        modules: patch.modules,
    };
    store::update(db, id_or_slug, &change, actor)
        .await?
        .ok_or(TenantError::NotFound)
}
