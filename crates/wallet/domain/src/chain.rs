//! Linked transfers: a chain applied all or nothing (TigerBeetle's `linked` flag). Redeeming
//! points for credits is one: the points leave the user and the credits arrive, or neither.
//! Each transfer is planned against the rows as the earlier ones left them (so a chain may
//! hold and then post, or spend what its first transfer granted); the first refusal refuses
//! the chain, and since nothing was written, nothing is applied. The store loads the rows of
//! every transfer in the chain, plans, and writes every [`Planned::New`] in one transaction.

use crate::account::Account;
use crate::book::{Book, Planned, Rows};
use crate::ids::{AccountId, TransferId};
use crate::plan::plan;
use crate::refusal::{ChainRefusal, Refusal};
use crate::transfer::{HoldState, Record, Transfer};

/// Plans `chain` at `now`. A retried chain (every id already there with the same fields)
/// answers every first result; a chain of which only some ids exist is refused
/// (`linked_chain_partly_exists`), since it cannot be the chain that was applied.
pub fn plan_chain(
    book: &impl Book,
    chain: &[Transfer],
    now: i64,
) -> Result<Vec<Planned>, ChainRefusal> {
    let mut overlay = Overlay {
        base: book,
        rows: Rows::default(),
    };
    let mut planned: Vec<Planned> = Vec::with_capacity(chain.len());
    for (index, transfer) in chain.iter().enumerate() {
        let p = plan(&overlay, transfer, now).map_err(|refusal| ChainRefusal { index, refusal })?;
        if let Planned::New(effects) = &p {
            overlay.write(effects);
        }
        let exists = matches!(p, Planned::Exists(_));
        if planned
            .first()
            .is_some_and(|first| matches!(first, Planned::Exists(_)) != exists)
        {
            return Err(ChainRefusal {
                index,
                refusal: Refusal::LinkedChainPartlyExists,
            });
        }
        planned.push(p);
    }
    Ok(planned)
}

/// The rows a chain has written so far, over the book it started from.
struct Overlay<'b, B> {
    base: &'b B,
    rows: Rows,
}

impl<B: Book> Overlay<'_, B> {
    fn write(&mut self, effects: &crate::book::Effects) {
        for change in [&effects.debit, &effects.credit] {
            if !self.rows.accounts.contains_key(&change.account)
                && let Some(account) = self.base.account(&change.account)
            {
                self.rows
                    .accounts
                    .insert(change.account.clone(), account.clone());
            }
        }
        self.rows.write(effects);
    }
}

impl<B: Book> Book for Overlay<'_, B> {
    fn account(&self, id: &AccountId) -> Option<&Account> {
        self.rows.account(id).or_else(|| self.base.account(id))
    }

    fn transfer(&self, id: &TransferId) -> Option<&Record> {
        self.rows.transfer(id).or_else(|| self.base.transfer(id))
    }

    fn hold(&self, id: &TransferId) -> Option<HoldState> {
        self.rows.hold(id).or_else(|| self.base.hold(id))
    }
}
