//! Stripe: what it sends (signed webhook events) and what the module asks of it (the
//! PaymentIntent and Refund calls of its REST API, form-encoded).
//!
//! | file | decides |
//! |---|---|
//! | [`signature`] | `Stripe-Signature`: verify (rotation, tolerance) and sign (tests, the fake provider) |
//! | [`events`] | a webhook event as the domain's [`Event`](crate::intent::Event)s, or an ignored kind |
//! | [`api`] | the REST calls (create, retrieve, cancel an intent; refund) and their responses |
//! | [`error`] | Stripe's error bodies, and which failures are worth retrying |

pub mod api;
pub mod error;
pub mod events;
pub mod signature;

pub use api::{PaymentIntent, RefundObject};
pub use error::StripeError;
pub use events::{Notification, StripeEvent, parse_event};
pub use signature::{sign, verify};
