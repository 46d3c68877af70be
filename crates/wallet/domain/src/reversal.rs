//! Corrections. A posted transfer is never edited or deleted: it is undone by a reversal, a
//! new transfer the other way for the same amount. Why: the history keeps saying what
//! happened and when (a statement printed yesterday stays true), every balance stays the sum
//! of its records, and a correction is itself idempotent and visible. A reversal is checked
//! like any transfer: if the user already spent the credits it would take back, it is refused
//! with `insufficient_funds` rather than pushing the account below zero.

use crate::ids::{Code, TransferId};
use crate::refusal::Refusal;
use crate::transfer::{Action, Record, Transfer};

/// The codes of corrections. A correction is not reversed in turn: undoing an undo by another
/// undo makes a history nobody can read; a new transfer says what happened instead.
pub const CORRECTIONS: [&str; 2] = ["reversal", "refund"];

/// The reversal of `record` (a move or a post), with its own `id` and `code` (`reversal`,
/// `refund`): the same amount back from the account it went to. `None` for holds and voids,
/// which posted nothing (a hold is undone by voiding it). A partial correction is an ordinary
/// move for the part.
pub fn reversal(record: &Record, id: TransferId, code: Code) -> Option<Transfer> {
    let amount = record.posted()?;
    Some(Transfer {
        id,
        code,
        action: Action::Move {
            debit: record.credit.clone(),
            credit: record.debit.clone(),
            amount,
        },
    })
}

/// [`reversal`] as a caller asking to reverse `record` gets it: refused for what posted nothing
/// (`nothing_to_reverse`) and for corrections (`correction_not_reversible`, by
/// [`CORRECTIONS`]). Whether the result fits the accounts' balances is `plan`'s to say.
pub fn checked_reversal(record: &Record, id: TransferId, code: Code) -> Result<Transfer, Refusal> {
    if CORRECTIONS.contains(&record.transfer.code.as_str()) {
        return Err(Refusal::CorrectionNotReversible {
            id: record.id().clone(),
        });
    }
    reversal(record, id, code).ok_or_else(|| Refusal::NothingToReverse {
        id: record.id().clone(),
    })
}
