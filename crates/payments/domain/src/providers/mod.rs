//! The payment providers' wire formats, pure: what the module sends (method, path, body) and
//! how it reads what comes back (responses, error bodies, webhooks and their signatures).
//! The module does the HTTP and the clock; everything here takes bytes and `now` (unix
//! seconds), so every refusal can be tested without a network or a provider account.
//!
//! | file | decides |
//! |---|---|
//! | [`signature`] | the refusals of a webhook signature, shared by every provider, and the time window |
//! | [`request`] | a provider call as data: method, path, idempotency key, body |
//! | [`form`] | `application/x-www-form-urlencoded`, as Stripe reads it (bracketed keys) |
//! | [`stripe`] | Stripe: `Stripe-Signature`, webhook events, the PaymentIntent and Refund calls |
//! | [`mercadopago`] | Mercado Pago: `x-signature`, notifications, preferences, payments and refunds |

pub mod form;
pub mod mercadopago;
pub mod request;
pub mod signature;
pub mod stripe;

pub use request::{Body, Method, Request, RequestError, ResponseError};
pub use signature::{SignatureError, TOLERANCE_SECS, Verified};
