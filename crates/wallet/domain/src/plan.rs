//! Planning: the whole decision about one transfer, as a pure function of the rows it touches
//! and an explicit `now`. The store calls it inside one database transaction:
//!
//! 1. look up the record with the transfer's id (a retry) and, for a post or void, the hold's
//!    record and state;
//! 2. load and lock the accounts involved (in id order, so two transactions never wait on each
//!    other crosswise);
//! 3. [`plan`] them: a refusal means roll back; [`Planned::Exists`] means answer with the first
//!    result; [`Planned::New`] lists exactly what to write;
//! 4. write the record, the two balances and the hold's state, and commit.
//!
//! Because the check and the write happen under the same locks, no concurrent spend can slip
//! between them: of fifty spends of the same last credits, one sees them.
//!
//! Checks run in a fixed order, so each refusal is predictable: the id (retries first, so a
//! retry is answered even if the world changed since), the amounts, the accounts, the hold,
//! and last the balances' limits and overflow.

use crate::account::{Account, Side, shift};
use crate::book::{Book, Change, Effects, Planned};
use crate::ids::{AccountId, TransferId};
use crate::refusal::Refusal;
use crate::transfer::{Action, HoldState, MAX_TIMEOUT, Record, Transfer};

/// Plans `transfer` at `now` (unix seconds) against `book`.
pub fn plan(book: &impl Book, transfer: &Transfer, now: i64) -> Result<Planned, Refusal> {
    if let Some(first) = book.transfer(&transfer.id) {
        return if first.transfer == *transfer {
            Ok(Planned::Exists(first.clone()))
        } else {
            Err(Refusal::ExistsWithDifferentFields {
                id: transfer.id.clone(),
            })
        };
    }
    let record = |debit: &AccountId, credit: &AccountId, amount, expires_at| Record {
        transfer: transfer.clone(),
        debit: debit.clone(),
        credit: credit.clone(),
        amount,
        at: now,
        expires_at,
    };
    let effects = match &transfer.action {
        Action::Move {
            debit,
            credit,
            amount,
        } => {
            let (d, c) = pair(book, debit, credit, *amount)?;
            let (debit_change, credit_change) = adding(d, c, *amount, false)?;
            Effects {
                record: Some(record(debit, credit, *amount, None)),
                debit: debit_change,
                credit: credit_change,
                hold: None,
            }
        }
        Action::Hold {
            debit,
            credit,
            amount,
            timeout,
        } => {
            let (d, c) = pair(book, debit, credit, *amount)?;
            let expires_at = now
                .checked_add(*timeout)
                .filter(|_| (1..=MAX_TIMEOUT).contains(timeout))
                .ok_or(Refusal::TimeoutOutOfRange { max: MAX_TIMEOUT })?;
            let (debit_change, credit_change) = adding(d, c, *amount, true)?;
            Effects {
                record: Some(record(debit, credit, *amount, Some(expires_at))),
                debit: debit_change,
                credit: credit_change,
                hold: Some((transfer.id.clone(), HoldState::Pending)),
            }
        }
        Action::Post { pending, amount } => {
            let open = open_hold(book, pending, now)?;
            let held = open.hold.amount;
            let posted = amount.unwrap_or(held);
            if posted <= 0 {
                return Err(Refusal::AmountMustBePositive);
            }
            if posted > held {
                return Err(Refusal::ExceedsPendingAmount {
                    pending: pending.clone(),
                    held,
                    amount: posted,
                });
            }
            let (debit_change, credit_change) = settling(&open, posted)?;
            Effects {
                record: Some(record(&open.hold.debit, &open.hold.credit, posted, None)),
                debit: debit_change,
                credit: credit_change,
                hold: Some((pending.clone(), HoldState::Posted { amount: posted })),
            }
        }
        Action::Void { pending } => {
            let open = open_hold(book, pending, now)?;
            let held = open.hold.amount;
            let (debit_change, credit_change) = settling(&open, 0)?;
            Effects {
                record: Some(record(&open.hold.debit, &open.hold.credit, held, None)),
                debit: debit_change,
                credit: credit_change,
                hold: Some((pending.clone(), HoldState::Voided)),
            }
        }
    };
    Ok(Planned::New(effects))
}

/// Plans the expiry of the hold `pending` at `now`: its amount goes back, as a void would, and
/// its state becomes `Expired`. No transfer is recorded; the hold's state is the record. The
/// store runs this from a job for holds whose `expires_at` has passed. Until it does, the hold
/// still counts against the available balance (a little longer than its timeout, never
/// shorter), but it can no longer be posted or voided.
pub fn plan_expiry(book: &impl Book, pending: &TransferId, now: i64) -> Result<Effects, Refusal> {
    let (hold, state) = hold_and_state(book, pending)?;
    let expires_at = hold.expires_at.unwrap_or(i64::MIN);
    match state {
        HoldState::Pending if now < expires_at => Err(Refusal::PendingTransferNotExpired {
            pending: pending.clone(),
            expires_at,
        }),
        HoldState::Pending => {
            let (debit, credit) = hold_accounts(book, hold)?;
            let open = OpenHold {
                hold,
                debit,
                credit,
            };
            let (debit_change, credit_change) = settling(&open, 0)?;
            Ok(Effects {
                record: None,
                debit: debit_change,
                credit: credit_change,
                hold: Some((pending.clone(), HoldState::Expired)),
            })
        }
        settled => Err(settled_refusal(pending, settled, expires_at)),
    }
}

/// The two accounts of a move or hold, after the checks that need no balance.
fn pair<'b>(
    book: &'b impl Book,
    debit: &AccountId,
    credit: &AccountId,
    amount: i64,
) -> Result<(&'b Account, &'b Account), Refusal> {
    if amount <= 0 {
        return Err(Refusal::AmountMustBePositive);
    }
    if debit == credit {
        return Err(Refusal::AccountsMustBeDifferent);
    }
    let d = book.account(debit).ok_or(Refusal::DebitAccountNotFound)?;
    let c = book.account(credit).ok_or(Refusal::CreditAccountNotFound)?;
    if d.unit != c.unit {
        return Err(Refusal::UnitsDiffer {
            debit: d.unit.clone(),
            credit: c.unit.clone(),
        });
    }
    Ok((d, c))
}

/// Adds `amount` to the debit side of `d` and the credit side of `c`, pending or posted,
/// within both accounts' limits.
fn adding(
    d: &Account,
    c: &Account,
    amount: i64,
    pending: bool,
) -> Result<(Change, Change), Refusal> {
    d.check_limit(Side::Debit, amount)?;
    c.check_limit(Side::Credit, amount)?;
    let (p, q) = if pending { (amount, 0) } else { (0, amount) };
    let d_after = shift(d.balance, Side::Debit, p, q)?;
    let c_after = shift(c.balance, Side::Credit, p, q)?;
    Ok((change(d, d_after), change(c, c_after)))
}

/// Takes a hold's whole amount out of both pending sums and posts `posted` of it (0 for a void
/// or expiry): a partial post releases the rest in the same step.
fn settling(open: &OpenHold<'_>, posted: i64) -> Result<(Change, Change), Refusal> {
    let held = open.hold.amount;
    let d_after = shift(open.debit.balance, Side::Debit, -held, posted)?;
    let c_after = shift(open.credit.balance, Side::Credit, -held, posted)?;
    Ok((change(open.debit, d_after), change(open.credit, c_after)))
}

fn change(account: &Account, after: crate::account::Balance) -> Change {
    Change {
        account: account.id.clone(),
        before: account.balance,
        after,
    }
}

/// A hold that may still be posted or voided, with its accounts.
struct OpenHold<'b> {
    hold: &'b Record,
    debit: &'b Account,
    credit: &'b Account,
}

fn open_hold<'b>(
    book: &'b impl Book,
    pending: &TransferId,
    now: i64,
) -> Result<OpenHold<'b>, Refusal> {
    let (hold, state) = hold_and_state(book, pending)?;
    let expires_at = hold.expires_at.unwrap_or(i64::MAX);
    if state != HoldState::Pending {
        return Err(settled_refusal(pending, state, expires_at));
    }
    if now >= expires_at {
        return Err(Refusal::PendingTransferExpired {
            pending: pending.clone(),
            expired_at: expires_at,
        });
    }
    let (debit, credit) = hold_accounts(book, hold)?;
    Ok(OpenHold {
        hold,
        debit,
        credit,
    })
}

fn hold_and_state<'b>(
    book: &'b impl Book,
    pending: &TransferId,
) -> Result<(&'b Record, HoldState), Refusal> {
    let hold = book
        .transfer(pending)
        .ok_or_else(|| Refusal::PendingTransferNotFound {
            pending: pending.clone(),
        })?;
    match book.hold(pending) {
        Some(state) if hold.is_hold() => Ok((hold, state)),
        _ if hold.is_hold() => Err(Refusal::PendingTransferNotFound {
            pending: pending.clone(),
        }),
        _ => Err(Refusal::PendingTransferNotPending {
            pending: pending.clone(),
        }),
    }
}

fn hold_accounts<'b>(
    book: &'b impl Book,
    hold: &Record,
) -> Result<(&'b Account, &'b Account), Refusal> {
    let d = book
        .account(&hold.debit)
        .ok_or(Refusal::DebitAccountNotFound)?;
    let c = book
        .account(&hold.credit)
        .ok_or(Refusal::CreditAccountNotFound)?;
    Ok((d, c))
}

/// Why a hold that is no longer pending cannot be posted, voided or expired.
fn settled_refusal(pending: &TransferId, state: HoldState, expires_at: i64) -> Refusal {
    let pending = pending.clone();
    match state {
        HoldState::Posted { .. } => Refusal::PendingTransferAlreadyPosted { pending },
        HoldState::Voided => Refusal::PendingTransferAlreadyVoided { pending },
        HoldState::Expired | HoldState::Pending => Refusal::PendingTransferExpired {
            pending,
            expired_at: expires_at,
        },
    }
}
