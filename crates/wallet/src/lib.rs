//! Wallet: a credits ledger per tenant, an item catalogue and purchases with credits. Every
//! movement is a double-entry transfer planned by the pure `faro-wallet-domain` and written
//! in one transaction with its checks, so credits are never lost, doubled or spent twice.
//!
//! | file | does |
//! |---|---|
//! | [`accounts`] | whose accounts exist (a user's credits, the tenant's issuance and revenue) and balances |
//! | [`catalogue`] | the tenant's items priced in credits |
//! | [`grant`] | staff granting credits |
//! | [`holds`] | two-phase transfers: holding a user's credits, reading a hold |
//! | [`settle`] | posting (all or part) or voiding a hold |
//! | [`expiry`] | the job that gives expired holds' credits back |
//! | [`reverse`] | undoing a posted transfer with one the other way |
//! | [`purchase`] | an end user buying an item with credits: transfer, order, event, one transaction |
//! | [`page`], [`texts`] | the end user's wallet page (`/wallet`) in four languages |
//! | [`history`] | a user's transactions with running balances |
//! | [`redeem`] | gamification's points redeemed into credits, taken from the outbox once |
//! | [`topup`] | credits bought through a payment, taken from `payments.intent_succeeded` once |
//! | [`store`] | every SQL statement, the ledger's locked write path |
//! | [`api`] | the HTTP handlers |

pub mod accounts;
pub mod api;
pub mod catalogue;
pub mod error;
pub mod expiry;
pub mod grant;
pub mod history;
pub mod holds;
pub mod page;
pub mod purchase;
pub mod redeem;
pub mod reverse;
pub mod settle;
pub mod state;
pub mod store;
pub mod texts;
pub mod topup;

use faro_http::module::{Module, Mounted};
use faro_store::Migrator;

pub use error::WalletError;
pub use state::Wallet;

/// The module's tables (`wallet_*`).
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub fn module() -> Module {
    Module {
        name: "wallet",
        optional: true,
        api_keys: true,
        keys: &[],
        secret_keys: &[],
        check: |_| Ok(()),
        migrations: &MIGRATIONS,
        nav: &[],
        mount: |core, _settings| {
            let w = Wallet::new(core.clone());
            let mut mounted = Mounted::new(api::router(w.clone()), page::router(w.clone()));
            mounted.consumers.push(topup::consumer(w));
            mounted.jobs.push(expiry::job());
            Ok(mounted)
        },
        demo: None,
        cli: None,
        sealed: &[],
    }
}
