//! Staff accounts of a tenant: its owners and admins create them, change their role, reset
//! their password and disable them (`/api/v1/admin/staff`). The rules of who may do what are
//! [`domain`]'s; every change is audited in the same transaction; the account rows stay (the
//! audit log names them).

pub mod api;
pub mod domain;
pub mod panel;
pub mod store;

use faro_auth::Role;
use faro_http::ApiError;
use faro_store::quota::Quota;
use faro_store::{Db, StoreError, TenantId, new_id, unix_now};

use crate::audit::{self, Actor, Entry};
use crate::tenants::domain::Problem;
use domain::Refusal;
use store::StaffRow;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("the username is taken")]
    UsernameTaken,
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error("no such staff member")]
    NotFound,
    #[error("hashing: {0}")]
    Hash(String),
    #[error(transparent)]
    Quota(#[from] faro_store::quota::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StaffError {
    fn from(e: sqlx::Error) -> Self {
        StaffError::Store(e.into())
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Invalid(problems) => {
                crate::tenants::domain::invalid("the staff member is not valid", problems)
            }
            StaffError::UsernameTaken => ApiError::conflict(
                "username_taken",
                "another staff member of this tenant has this username",
            ),
            StaffError::Refused(Refusal::AboveOwnRole) => {
                ApiError::forbidden("nobody grants a role above their own")
                    .with_code("role_above_yours")
            }
            StaffError::Refused(Refusal::OutranksYou) => {
                ApiError::forbidden("this account's role is above yours: ask an owner")
                    .with_code("role_above_yours")
            }
            StaffError::Refused(Refusal::OwnAccount) => ApiError::conflict(
                "own_account",
                "you cannot disable your own account: ask another owner",
            ),
            StaffError::Refused(Refusal::LastOwner) => ApiError::conflict(
                "last_owner",
                "the tenant must keep at least one active owner: make another owner first",
            ),
            StaffError::NotFound => {
                ApiError::not_found("this tenant has no staff member with this id")
            }
            StaffError::Quota(e) => e.into(),
            StaffError::Hash(e) => ApiError::internal(e),
            StaffError::Store(e) => e.into(),
        }
    }
}

/// Who is acting: their account id and role, for the rules.
pub struct ActingAs<'a> {
    pub id: &'a str,
    pub role: Role,
    pub actor: &'a Actor,
}

fn parse_role(role: &str, problems: &mut Vec<Problem>) -> Option<Role> {
    let parsed = Role::parse(role);
    if parsed.is_none() {
        problems.push(Problem::new(
            "role",
            format!("\"{role}\" is not a role: owner, admin, agent or viewer"),
        ));
    }
    parsed
}

async fn hash(password: &str) -> Result<String, StaffError> {
    faro_auth::password::hash_blocking(password.to_string())
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// What the staff quota counts: accounts that can sign in.
const ACTIVE_STAFF: &str = "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND disabled = 0";

pub async fn create(
    db: &Db,
    tenant: &TenantId,
    by: &ActingAs<'_>,
    username: &str,
    password: &str,
    role: &str,
) -> Result<StaffRow, StaffError> {
    let mut problems = Vec::new();
    if let Err(m) = crate::accounts::check_username(username) {
        problems.push(Problem::new("username", m));
    }
    if let Err(m) = faro_auth::policy::check(password) {
        problems.push(Problem::new("password", m));
    }
    let role = parse_role(role, &mut problems);
    let Some(role) = role.filter(|_| problems.is_empty()) else {
        return Err(StaffError::Invalid(problems));
    };
    domain::may_create(by.role, role).map_err(StaffError::Refused)?;
    let pass_hash = hash(password).await?;
    let now = unix_now();
    let id = new_id();
    let mut tx = db.writer().begin().await?;
    faro_store::quota::guard(&mut tx, tenant, Quota::Staff, ACTIVE_STAFF, 1).await??;
    match store::insert(&mut tx, tenant, &id, username, &pass_hash, role, now).await {
        Err(StoreError::Conflict(_)) => return Err(StaffError::UsernameTaken),
        other => other?,
    }
    let row = store::get_on(&mut tx, tenant, &id)
        .await?
        .ok_or(StaffError::NotFound)?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by.actor,
            action: "staff.create",
            target: &id,
            before: None,
            after: serde_json::to_value(&row).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A change; absent fields stay.
#[derive(Default)]
pub struct Change {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

pub async fn update(
    db: &Db,
    tenant: &TenantId,
    by: &ActingAs<'_>,
    id: &str,
    change: Change,
) -> Result<StaffRow, StaffError> {
    let mut problems = Vec::new();
    let role = change.role.as_deref().map(|r| parse_role(r, &mut problems));
    if let Some(p) = &change.password
        && let Err(m) = faro_auth::policy::check(p)
    {
        problems.push(Problem::new("password", m));
    }
    if !problems.is_empty() {
        return Err(StaffError::Invalid(problems));
    }
    let new_role = role.flatten();
    let pass_hash = match &change.password {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let mut tx = db.writer().begin().await?;
    let owners = store::lock_active_owners(&mut tx, tenant).await?;
    let before = store::get_on(&mut tx, tenant, id)
        .await?
        .ok_or(StaffError::NotFound)?;
    let account = domain::Account {
        role: before.role,
        disabled: before.disabled,
        is_actor: before.id == by.id,
    };
    domain::may_change(by.role, account, new_role, change.disabled, owners)
        .map_err(StaffError::Refused)?;
    if before.disabled && change.disabled == Some(false) {
        // Enabling an account takes a seat, as creating one does.
        faro_store::quota::guard(&mut tx, tenant, Quota::Staff, ACTIVE_STAFF, 1).await??;
    }
    store::update(
        &mut tx,
        tenant,
        id,
        new_role.unwrap_or(before.role),
        change.disabled.unwrap_or(before.disabled),
        pass_hash.as_deref(),
        unix_now(),
    )
    .await?;
    let after = store::get_on(&mut tx, tenant, id)
        .await?
        .ok_or(StaffError::NotFound)?;
    let mut after_json = serde_json::to_value(&after).ok();
    if pass_hash.is_some()
        && let Some(serde_json::Value::Object(m)) = after_json.as_mut()
    {
        m.insert("password".into(), "changed".into());
    }
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by.actor,
            action: "staff.update",
            target: id,
            before: serde_json::to_value(&before).ok(),
            after: after_json,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
