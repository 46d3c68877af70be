//! Every reason the ledger says no, as one enum. The `code` (snake_case, in the JSON as
//! `{"code": "insufficient_funds", ...}`) is stable: clients and the HTTP layer match on it
//! (the wallet answers 409 `insufficient_funds`); the message (`Display`) is for people. A
//! refusal changes nothing: the store rolls its transaction back.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{TransferId, Unit};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// An amount (to move, hold, post or allocate) of zero or less.
    AmountMustBePositive,
    /// A hold's timeout outside 1 second ..= `max` seconds.
    TimeoutOutOfRange {
        max: i64,
    },
    /// A transfer from an account to itself.
    AccountsMustBeDifferent,
    /// The debit account does not exist.
    DebitAccountNotFound,
    /// The credit account does not exist.
    CreditAccountNotFound,
    /// The two accounts count different things (credits and points).
    UnitsDiffer {
        debit: Unit,
        credit: Unit,
    },
    /// This id was used before for another transfer: a retry must send the same fields.
    ExistsWithDifferentFields {
        id: TransferId,
    },
    /// The debit account (a user's credits, a budget) has not got `amount`.
    InsufficientFunds {
        available: i64,
        amount: i64,
    },
    /// The credit account (issuance, clearing) would take back more than it handed out.
    ExceedsDebits {
        available: i64,
        amount: i64,
    },
    /// A balance would pass the largest number the ledger stores.
    Overflow,
    /// A post or void names a hold that does not exist.
    PendingTransferNotFound {
        pending: TransferId,
    },
    /// A post or void names a transfer that is not a hold.
    PendingTransferNotPending {
        pending: TransferId,
    },
    PendingTransferAlreadyPosted {
        pending: TransferId,
    },
    PendingTransferAlreadyVoided {
        pending: TransferId,
    },
    /// The hold's timeout passed (whether or not the expiry has been written yet).
    PendingTransferExpired {
        pending: TransferId,
        expired_at: i64,
    },
    /// Expiring a hold before its time.
    PendingTransferNotExpired {
        pending: TransferId,
        expires_at: i64,
    },
    /// Posting more than the hold holds.
    ExceedsPendingAmount {
        pending: TransferId,
        held: i64,
        amount: i64,
    },
    /// Some transfers of a linked chain exist and others do not (or one id appears twice in
    /// it): the chain was not sent the same way as the first time.
    LinkedChainPartlyExists,
    /// Reversing a transfer that posted nothing (a hold, a void): a hold is undone by voiding it.
    NothingToReverse {
        id: TransferId,
    },
    /// Reversing a correction (a reversal, a refund): the original stands corrected; doing it
    /// again is a new transfer, so the history says so.
    CorrectionNotReversible {
        id: TransferId,
    },
    /// The transfer was reversed before (its one reversal is `reversal`).
    AlreadyReversed {
        id: TransferId,
        reversal: TransferId,
    },
}

impl Refusal {
    /// The stable code, as in the JSON.
    pub fn code(&self) -> &'static str {
        use Refusal::*;
        match self {
            AmountMustBePositive => "amount_must_be_positive",
            TimeoutOutOfRange { .. } => "timeout_out_of_range",
            AccountsMustBeDifferent => "accounts_must_be_different",
            DebitAccountNotFound => "debit_account_not_found",
            CreditAccountNotFound => "credit_account_not_found",
            UnitsDiffer { .. } => "units_differ",
            ExistsWithDifferentFields { .. } => "exists_with_different_fields",
            InsufficientFunds { .. } => "insufficient_funds",
            ExceedsDebits { .. } => "exceeds_debits",
            Overflow => "overflow",
            PendingTransferNotFound { .. } => "pending_transfer_not_found",
            PendingTransferNotPending { .. } => "pending_transfer_not_pending",
            PendingTransferAlreadyPosted { .. } => "pending_transfer_already_posted",
            PendingTransferAlreadyVoided { .. } => "pending_transfer_already_voided",
            PendingTransferExpired { .. } => "pending_transfer_expired",
            PendingTransferNotExpired { .. } => "pending_transfer_not_expired",
            ExceedsPendingAmount { .. } => "exceeds_pending_amount",
            LinkedChainPartlyExists => "linked_chain_partly_exists",
            NothingToReverse { .. } => "nothing_to_reverse",
            CorrectionNotReversible { .. } => "correction_not_reversible",
            AlreadyReversed { .. } => "already_reversed",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Refusal::*;
        match self {
            AmountMustBePositive => write!(f, "the amount must be more than zero"),
            TimeoutOutOfRange { max } => {
                write!(f, "a hold's timeout must be 1 to {max} seconds")
            }
            AccountsMustBeDifferent => write!(f, "a transfer needs two different accounts"),
            DebitAccountNotFound => write!(f, "the account to debit does not exist"),
            CreditAccountNotFound => write!(f, "the account to credit does not exist"),
            UnitsDiffer { debit, credit } => write!(
                f,
                "the accounts count different units ({debit} and {credit})"
            ),
            ExistsWithDifferentFields { id } => write!(
                f,
                "transfer {id} already exists with different fields; a retry must repeat them"
            ),
            InsufficientFunds { available, amount } => write!(
                f,
                "not enough funds: {amount} needed, {available} available"
            ),
            ExceedsDebits { available, amount } => write!(
                f,
                "the account can take back at most {available}, not {amount}"
            ),
            Overflow => write!(
                f,
                "a balance would grow past the largest amount the ledger holds"
            ),
            PendingTransferNotFound { pending } => write!(f, "there is no hold {pending}"),
            PendingTransferNotPending { pending } => {
                write!(f, "transfer {pending} is not a hold")
            }
            PendingTransferAlreadyPosted { pending } => {
                write!(f, "hold {pending} was already posted")
            }
            PendingTransferAlreadyVoided { pending } => {
                write!(f, "hold {pending} was already voided")
            }
            PendingTransferExpired {
                pending,
                expired_at,
            } => write!(f, "hold {pending} expired at {expired_at}"),
            PendingTransferNotExpired {
                pending,
                expires_at,
            } => write!(f, "hold {pending} does not expire until {expires_at}"),
            ExceedsPendingAmount {
                pending,
                held,
                amount,
            } => write!(
                f,
                "hold {pending} holds {held}, so {amount} cannot be posted from it"
            ),
            LinkedChainPartlyExists => write!(
                f,
                "some transfers of the linked chain exist and others do not: send the chain as the first time"
            ),
            NothingToReverse { id } => write!(
                f,
                "transfer {id} posted nothing to reverse (a hold is undone by voiding it)"
            ),
            CorrectionNotReversible { id } => write!(
                f,
                "transfer {id} is itself a correction and is not reversed; make a new transfer"
            ),
            AlreadyReversed { id, reversal } => {
                write!(f, "transfer {id} was already reversed by {reversal}")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// A linked chain's refusal: the transfer at `index` (from 0) was refused, so none was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRefusal {
    pub index: usize,
    pub refusal: Refusal,
}

impl fmt::Display for ChainRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "transfer {} of the linked chain: {}",
            self.index, self.refusal
        )
    }
}

impl std::error::Error for ChainRefusal {}
