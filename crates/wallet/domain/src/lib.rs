//! The wallet's pure core: the double-entry credits ledger (transfers, holds, balances),
//! credit lots that expire, and the arithmetic the wallet's store and use cases call inside
//! their transactions. No I/O, no async, no clock.
