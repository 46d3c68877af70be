//! A payment intent: a quote's amount charged through a provider, in Stripe's states
//! (`requires_payment_method` → `requires_action` → `processing` → `succeeded` / `canceled`),
//! moved by the provider's events, which webhooks deliver late, twice and out of order.
//! [`transition`] is pure: the new intent and the effects the caller must carry out
//! (fulfil the order, post the ledger, call the provider), or a refusal that changes nothing.
//!
//! What wins, whatever the order of arrival:
//!
//! | now ↓ · event → | `requires_action`, `processing`, `payment_failed` | `succeeded` | `canceled` |
//! |---|---|---|---|
//! | not final | applied unless older (provider time) than the last status applied | succeeded, **fulfil** | canceled |
//! | `succeeded` | ignored | ignored (a duplicate) | ignored |
//! | `canceled` | ignored | succeeded, **fulfil** | ignored |
//!
//! - Final statuses beat the others: a `processing` arriving after `succeeded` is stale.
//! - `succeeded` beats `canceled`. At the provider both are final, so seeing both means a
//!   race (a cancel asked for while the charge went through) or a provider at fault; either
//!   way the customer's money was taken, and a paid order left unfulfilled is worse than a
//!   cancelled one fulfilled (staff can still refund it). Both orders of arrival end in
//!   `succeeded`, so the final status does not depend on delivery order.
//! - Fulfilment is emitted once: only on the move into `succeeded`, which nothing leaves.
//! - A `succeeded` whose amount is not the intent's is refused: never fulfil for less.
//! - Duplicates change nothing and emit nothing, so the caller may acknowledge them.
//!
//! Refunds (full and partial, never more than captured) are in [`crate::refund`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::quote::{Quote, QuoteExpired};
use crate::refund::{self, Refund, RefundState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    RequiresPaymentMethod,
    RequiresAction,
    Processing,
    Succeeded,
    Canceled,
}

impl Status {
    /// Final at the provider: nothing moves an intent out of it there.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Succeeded | Status::Canceled)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// What the quote priced; what the provider must capture.
    pub amount_cents: i64,
    pub currency: String,
    pub status: Status,
    /// The provider's time (unix seconds) of the latest status applied: orders the
    /// non-final ones.
    pub status_at: Option<i64>,
    /// Why the last attempt failed, until a payment succeeds.
    pub last_error: Option<String>,
    pub refunds: Vec<Refund>,
}

/// Why an intent cannot be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeError {
    Expired(QuoteExpired),
    /// A price of 0.00 is not charged (there is nothing to pay).
    NothingToCharge,
}

impl fmt::Display for ChargeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChargeError::Expired(e) => e.fmt(f),
            ChargeError::NothingToCharge => f.write_str("the price is 0.00: nothing to charge"),
        }
    }
}

impl std::error::Error for ChargeError {}

impl Intent {
    pub fn new(amount_cents: i64, currency: &str) -> Result<Intent, ChargeError> {
        if amount_cents <= 0 {
            return Err(ChargeError::NothingToCharge);
        }
        Ok(Intent {
            amount_cents,
            currency: currency.to_owned(),
            status: Status::RequiresPaymentMethod,
            status_at: None,
            last_error: None,
            refunds: Vec::new(),
        })
    }

    /// An intent for a quote still valid at `now`: its amount, never a price computed again.
    pub fn for_quote(quote: &Quote, now: i64) -> Result<Intent, ChargeError> {
        quote.check(now).map_err(ChargeError::Expired)?;
        Intent::new(quote.amount_cents(), quote.currency())
    }

    fn sum_refunds(&self, state: RefundState) -> i64 {
        self.refunds
            .iter()
            .filter(|r| r.state == state)
            .map(|r| r.amount_cents)
            .sum()
    }

    /// Refunded and settled at the provider.
    pub fn refunded_cents(&self) -> i64 {
        self.sum_refunds(RefundState::Succeeded)
    }

    /// Asked of the provider, not settled yet.
    pub fn pending_refund_cents(&self) -> i64 {
        self.sum_refunds(RefundState::Pending)
    }

    /// What a new refund may still take: the captured amount less refunds settled and
    /// pending (0 before the payment succeeded).
    pub fn refundable_cents(&self) -> i64 {
        if self.status != Status::Succeeded {
            return 0;
        }
        (self.amount_cents - self.refunded_cents() - self.pending_refund_cents()).max(0)
    }

    /// Whether the payment was refunded in full (an order's `refunded`).
    pub fn fully_refunded(&self) -> bool {
        self.status == Status::Succeeded && self.refunded_cents() == self.amount_cents
    }
}

/// What the provider reported (webhooks), or, for `refund_requested`, what we ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RequiresAction {
        at: i64,
    },
    Processing {
        at: i64,
    },
    /// The attempt failed; the intent waits for another payment method.
    PaymentFailed {
        at: i64,
        reason: String,
    },
    Succeeded {
        at: i64,
        amount_cents: i64,
    },
    Canceled {
        at: i64,
    },
    /// Ours: refund this much (our id, sent to the provider as its idempotency key).
    RefundRequested {
        refund_id: String,
        amount_cents: i64,
    },
    RefundSucceeded {
        refund_id: String,
        amount_cents: i64,
    },
    RefundFailed {
        refund_id: String,
        amount_cents: i64,
    },
}

/// What the caller must do after storing the new intent (in the same transaction, through
/// an outbox, so an effect is carried out once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    StatusChanged {
        from: Status,
        to: Status,
    },
    /// The payment succeeded: post it and deliver what was bought. Emitted once per intent.
    Fulfil {
        amount_cents: i64,
    },
    /// Ask the provider for this refund.
    SendRefund {
        refund_id: String,
        amount_cents: i64,
    },
    /// A refund is settled: post its reversal.
    RefundSettled {
        refund_id: String,
        amount_cents: i64,
    },
    /// A refund failed before it settled: tell whoever asked for it.
    RefundFailed {
        refund_id: String,
        amount_cents: i64,
    },
    /// A settled refund failed afterwards (the bank returned it): undo its reversal.
    RefundReversed {
        refund_id: String,
        amount_cents: i64,
    },
}

/// Why an event changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A success for another amount than the intent's.
    AmountMismatch { expected: i64, got: i64 },
    /// A refund asked for before the payment succeeded.
    NotRefundable { status: Status },
    /// A refund of 0 or less.
    InvalidAmount,
    /// A refund larger than what is left to refund.
    ExceedsRefundable { available_cents: i64 },
    /// A refund id already used for another amount.
    RefundIdReused { refund_id: String },
    /// The provider reports a refund for another amount than ours.
    RefundMismatch {
        refund_id: String,
        expected: i64,
        got: i64,
    },
    /// The provider reports refunds beyond what was captured.
    RefundExceedsCaptured {
        refund_id: String,
        available_cents: i64,
    },
    /// A refund settled before the payment's success arrived: deliver it again later (the
    /// provider retries a webhook that was not acknowledged).
    NotYetSucceeded,
}

impl Refusal {
    /// Whether the same event may succeed later, once the events before it have arrived.
    pub fn retryable(&self) -> bool {
        matches!(self, Refusal::NotYetSucceeded)
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AmountMismatch { .. } => "amount_mismatch",
            Refusal::NotRefundable { .. } => "not_refundable",
            Refusal::InvalidAmount => "invalid_amount",
            Refusal::ExceedsRefundable { .. } => "exceeds_refundable",
            Refusal::RefundIdReused { .. } => "refund_id_reused",
            Refusal::RefundMismatch { .. } => "refund_mismatch",
            Refusal::RefundExceedsCaptured { .. } => "refund_exceeds_captured",
            Refusal::NotYetSucceeded => "not_yet_succeeded",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AmountMismatch { expected, got } => {
                write!(f, "the provider captured {got} cents, not {expected}")
            }
            Refusal::NotRefundable { status } => {
                write!(
                    f,
                    "only a succeeded payment can be refunded (it is {status:?})"
                )
            }
            Refusal::InvalidAmount => f.write_str("a refund is more than 0"),
            Refusal::ExceedsRefundable { available_cents } => {
                write!(f, "at most {available_cents} cents are left to refund")
            }
            Refusal::RefundIdReused { refund_id } => {
                write!(f, "refund {refund_id} was asked for another amount")
            }
            Refusal::RefundMismatch {
                refund_id,
                expected,
                got,
            } => {
                write!(
                    f,
                    "refund {refund_id} is {expected} cents, the provider says {got}"
                )
            }
            Refusal::RefundExceedsCaptured {
                refund_id,
                available_cents,
            } => write!(
                f,
                "refund {refund_id} exceeds the {available_cents} cents left of the capture"
            ),
            Refusal::NotYetSucceeded => {
                f.write_str("the payment has not succeeded yet: deliver this event later")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The intent after `event`, with the effects to carry out; or why the event is refused
/// (then nothing changes). Applying the same event twice changes nothing the second time.
pub fn transition(intent: &Intent, event: &Event) -> Result<(Intent, Vec<Effect>), Refusal> {
    match event {
        Event::RequiresAction { at } => status(intent, Status::RequiresAction, *at, None),
        Event::Processing { at } => status(intent, Status::Processing, *at, None),
        Event::PaymentFailed { at, reason } => {
            status(intent, Status::RequiresPaymentMethod, *at, Some(reason))
        }
        Event::Succeeded { at, amount_cents } => {
            if *amount_cents != intent.amount_cents {
                return Err(Refusal::AmountMismatch {
                    expected: intent.amount_cents,
                    got: *amount_cents,
                });
            }
            status(intent, Status::Succeeded, *at, None)
        }
        Event::Canceled { at } => status(intent, Status::Canceled, *at, None),
        Event::RefundRequested {
            refund_id,
            amount_cents,
        } => refund::request(intent, refund_id, *amount_cents),
        Event::RefundSucceeded {
            refund_id,
            amount_cents,
        } => refund::settled(intent, refund_id, *amount_cents),
        Event::RefundFailed {
            refund_id,
            amount_cents,
        } => refund::failed(intent, refund_id, *amount_cents),
    }
}

/// A status reported at provider time `at`, by the table in the module's documentation.
fn status(
    intent: &Intent,
    to: Status,
    at: i64,
    failure: Option<&String>,
) -> Result<(Intent, Vec<Effect>), Refusal> {
    let from = intent.status;
    let applies = match (from, to) {
        (Status::Succeeded, _) => false,
        (_, Status::Succeeded) => true,
        (Status::Canceled, _) => false,
        (_, Status::Canceled) => true,
        _ => intent.status_at.is_none_or(|last| at >= last),
    };
    if !applies {
        return Ok((intent.clone(), Vec::new()));
    }
    let mut next = intent.clone();
    next.status = to;
    next.status_at = Some(intent.status_at.map_or(at, |last| last.max(at)));
    if let Some(reason) = failure {
        next.last_error = Some(reason.clone());
    } else if to == Status::Succeeded {
        next.last_error = None;
    }
    let mut effects = Vec::new();
    if from != to {
        effects.push(Effect::StatusChanged { from, to });
        if to == Status::Succeeded {
            effects.push(Effect::Fulfil {
                amount_cents: next.amount_cents,
            });
        }
    }
    Ok((next, effects))
}
