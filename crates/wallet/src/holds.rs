//! Holds (two-phase transfers): staff reserve a user's credits for the tenant's revenue now and
//! decide later. The hold takes the amount out of the user's available credits at once; a post
//! (all or part, in [`crate::settle`]) moves it to revenue, a void or the expiry job
//! ([`crate::expiry`]) gives it back. A hold always ends: 1 second to 30 days.

use faro_store::{TenantId, unix_now};
use faro_wallet_domain::{Action, Code, HoldState, Transfer, TransferId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{self, WalletBalance};
use crate::error::WalletError;
use crate::{Wallet, store};
use faro_store::idempotency::{self, Reply};

/// The `Idempotency-Key` scope of new holds.
const SCOPE: &str = "wallet.hold";

/// The longest hold the API gives (seconds): long enough for a checkout or a booking, short
/// enough that a forgotten hold does not keep a user's credits for months. The ledger allows a
/// year; the API asks less.
pub const MAX_HOLD_SECS: i64 = 30 * 86_400;

/// The code of holds, and of the posts and voids that settle them (what history lines show).
pub const CODE: &str = "hold";

/// What a hold asks (hashed for its key).
#[derive(Clone, Debug, Serialize)]
pub struct HoldInput {
    pub user: String,
    pub amount: i64,
    pub reason: String,
    pub timeout_secs: i64,
}

/// A hold and where it stands.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HoldView {
    /// The hold's transfer id: what post, void and reads name.
    pub hold_id: String,
    pub user: String,
    /// The credits held.
    pub amount: i64,
    /// `pending`, `posted`, `voided` or `expired` (a pending hold past its end reads as
    /// expired at once; the job gives its credits back within seconds).
    #[schema(example = "pending")]
    pub status: &'static str,
    /// What a post took (the rest went back); only when posted.
    pub posted_amount: Option<i64>,
    /// The post or void transfer that settled it (reverse a post by this id).
    pub settled_by: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: from then on it can no longer be posted or voided.
    pub expires_at: String,
    /// The user's balance now.
    pub balance: WalletBalance,
}

/// The status word of a hold's state.
pub fn status(state: HoldState) -> (&'static str, Option<i64>) {
    match state {
        HoldState::Pending => ("pending", None),
        HoldState::Posted { amount } => ("posted", Some(amount)),
        HoldState::Voided => ("voided", None),
        HoldState::Expired => ("expired", None),
    }
}

fn state_of(word: &str, posted: Option<i64>) -> Option<HoldState> {
    Some(match word {
        "pending" => HoldState::Pending,
        "posted" => HoldState::Posted {
            amount: posted.unwrap_or(0),
        },
        "voided" => HoldState::Voided,
        "expired" => HoldState::Expired,
        _ => return None,
    })
}

/// The parts of a view that come from the hold itself.
pub struct Held<'a> {
    pub id: &'a str,
    pub user: &'a str,
    pub amount: i64,
    pub state: HoldState,
    pub settled_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub fn view(h: Held<'_>, balance: WalletBalance, now: i64) -> HoldView {
    let (status, posted_amount) = status(h.state.seen_at(h.expires_at, now));
    HoldView {
        hold_id: h.id.to_owned(),
        user: h.user.to_owned(),
        amount: h.amount,
        status,
        posted_amount,
        settled_by: h.settled_by,
        created_at: faro_http::respond::rfc3339(h.created_at),
        expires_at: faro_http::respond::rfc3339(h.expires_at.unwrap_or(h.created_at)),
        balance,
    }
}

fn check(input: &HoldInput) -> Vec<faro_http::FieldProblem> {
    let mut problems = Vec::new();
    let mut problem = |path: &str, message: String| {
        problems.push(faro_http::FieldProblem {
            path: path.into(),
            message,
        })
    };
    if let Err(WalletError::Invalid(p)) = accounts::user(&input.user) {
        for p in p {
            problem(&p.path, p.message);
        }
    }
    if input.amount < 1 {
        problem("amount", "a whole number of credits, at least 1".into());
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        problem("reason", "why: 1 to 300 characters".into());
    }
    if !(1..=MAX_HOLD_SECS).contains(&input.timeout_secs) {
        problem(
            "timeout_secs",
            format!("how long to hold, in seconds: 1 to {MAX_HOLD_SECS} (30 days)"),
        );
    }
    problems
}

/// Holds `input.amount` of `input.user`'s credits for the tenant's revenue; `actor` is the
/// staff member (or API key).
pub async fn hold(
    w: &Wallet,
    tenant: &TenantId,
    actor: &str,
    key: Option<&str>,
    input: HoldInput,
) -> Result<Reply, WalletError> {
    let key = idempotency::key(key)?;
    let problems = check(&input);
    if !problems.is_empty() {
        return Err(WalletError::Invalid(problems));
    }
    let user = accounts::user(&input.user)?;
    let revenue = accounts::revenue()?;
    let unit = accounts::credits()?;
    let hash = idempotency::hash(&input)?;
    let corrupt = |e: String| WalletError::Store(faro_store::StoreError::corrupt(e));
    let transfer = Transfer {
        id: TransferId::parse(idempotency::derived_id("hold", actor, &key)).map_err(corrupt)?,
        code: Code::parse(CODE).map_err(corrupt)?,
        action: Action::Hold {
            debit: user.id.clone(),
            credit: revenue.id.clone(),
            amount: input.amount,
            timeout: input.timeout_secs,
        },
    };
    let db = &w.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let opened = [user, revenue];
    store::lock_accounts(&mut tx, db.backend(), tenant, &opened, &unit, now).await?;
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, actor, &key, &hash).await? {
        return Ok(first);
    }
    let applied = store::apply(
        &mut tx,
        db.backend(),
        tenant,
        &transfer,
        &opened,
        &unit,
        now,
    )
    .await?
    .map_err(WalletError::Refused)?;
    let record = &applied.record;
    let body = view(
        Held {
            id: record.id().as_str(),
            user: &input.user,
            amount: record.amount,
            state: HoldState::Pending,
            settled_by: None,
            created_at: record.at,
            expires_at: record.expires_at,
        },
        WalletBalance::of(applied.debit.as_ref()),
        now,
    );
    let reply =
        idempotency::remember(&mut tx, tenant, SCOPE, actor, &key, &hash, 201, &body, now).await?;
    tx.commit().await?;
    Ok(reply)
}

/// The hold `id` as last committed, with its user's balance now.
pub async fn get(w: &Wallet, tenant: &TenantId, id: &str) -> Result<HoldView, WalletError> {
    let not_found = || WalletError::NotFound("no such hold");
    let row = store::holds::hold(&w.core.db, tenant, id)
        .await?
        .ok_or_else(not_found)?;
    let user = accounts::user_of(&row.debit).ok_or_else(not_found)?;
    let state = state_of(&row.state, row.posted).ok_or_else(|| {
        WalletError::Store(faro_store::StoreError::corrupt(format!(
            "hold state {:?}",
            row.state
        )))
    })?;
    let balance = accounts::balance(w, tenant, user).await?;
    Ok(view(
        Held {
            id,
            user,
            amount: row.amount,
            state,
            settled_by: row.settled_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
        },
        balance,
        unix_now(),
    ))
}
