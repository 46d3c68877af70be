//! Checkout scenarios on the demo data.
mod checkout;
