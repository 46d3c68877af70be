//! Mercado Pago: its signed webhook notifications, which carry only a payment's id, and the
//! calls the module makes around them (create a Checkout Pro preference, read a payment,
//! refund it), JSON both ways.
//!
//! | file | decides |
//! |---|---|
//! | [`signature`] | `x-signature`: the manifest MP signs, verify (rotation, tolerance) and sign |
//! | [`events`] | a notification's body: which payment to read, or an ignored kind |
//! | [`payment`] | a payment as MP returns it, and the domain's [`Event`](crate::intent::Event)s its status means |
//! | [`api`] | the REST calls (preference, payment, refund) and MP's error bodies |
//! | [`amount`] | MP's decimal amounts (`12.34`) to and from the domain's cents |
//!
//! The flow: Faro creates a preference for the intent ([`api::create_preference`]) and
//! sends the customer to its `init_point`; MP notifies `payment.created`/`payment.updated`
//! with the payment id; the module verifies the signature, reads the payment
//! ([`api::get_payment`]), finds the intent by `external_reference` and applies
//! [`payment::Payment::events`].

pub mod amount;
pub mod api;
pub mod events;
pub mod payment;
pub mod signature;

pub use api::MercadoPagoError;
pub use events::{Notification, parse_notification};
pub use payment::Payment;
pub use signature::{sign, verify};
