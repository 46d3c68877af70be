//! Refunds of a succeeded intent, full or partial, each with an id (ours for a refund we
//! ask for, the provider's for one made in its dashboard).
//!
//! - Settled refunds never add up to more than was captured: a settlement beyond it is
//!   refused, whatever the provider says.
//! - A new request may take only what is left after refunds settled *and pending*, so two
//!   requests at once cannot both take the last euro.
//! - A refund is `pending` → `succeeded` or `failed`. `failed` wins in any order: a provider
//!   can fail a refund after it succeeded (the bank returned it), never the other way, so a
//!   `succeeded` arriving after `failed` is stale, and a `failed` after `succeeded` undoes the
//!   settlement ([`Effect::RefundReversed`]). Either order ends in the same state and money.
//! - A settlement that arrives before the payment's success is refused as retryable: the
//!   provider delivers it again, after the success.
//! - The same event twice changes nothing the second time.

use serde::{Deserialize, Serialize};

use crate::intent::{Effect, Intent, Refusal, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount_cents: i64,
    pub state: RefundState,
}

type Outcome = Result<(Intent, Vec<Effect>), Refusal>;

fn unchanged(intent: &Intent) -> Outcome {
    Ok((intent.clone(), Vec::new()))
}

fn find<'a>(intent: &'a Intent, id: &str) -> Option<(usize, &'a Refund)> {
    intent.refunds.iter().enumerate().find(|(_, r)| r.id == id)
}

/// The same id must carry the same amount.
fn same_amount(r: &Refund, got: i64) -> Result<(), Refusal> {
    if r.amount_cents == got {
        Ok(())
    } else {
        Err(Refusal::RefundMismatch {
            refund_id: r.id.clone(),
            expected: r.amount_cents,
            got,
        })
    }
}

/// Ours: refund `amount` under `id`; a retry with the same id and amount changes nothing.
pub(crate) fn request(intent: &Intent, id: &str, amount: i64) -> Outcome {
    if amount <= 0 {
        return Err(Refusal::InvalidAmount);
    }
    if intent.status != Status::Succeeded {
        return Err(Refusal::NotRefundable {
            status: intent.status,
        });
    }
    if let Some((_, r)) = find(intent, id) {
        return if r.amount_cents == amount {
            unchanged(intent)
        } else {
            Err(Refusal::RefundIdReused {
                refund_id: id.to_owned(),
            })
        };
    }
    let available_cents = intent.refundable_cents();
    if amount > available_cents {
        return Err(Refusal::ExceedsRefundable { available_cents });
    }
    let mut next = intent.clone();
    next.refunds.push(Refund {
        id: id.to_owned(),
        amount_cents: amount,
        state: RefundState::Pending,
    });
    let effects = vec![Effect::SendRefund {
        refund_id: id.to_owned(),
        amount_cents: amount,
    }];
    Ok((next, effects))
}

/// The provider settled refund `id` of `amount`.
pub(crate) fn settled(intent: &Intent, id: &str, amount: i64) -> Outcome {
    if amount <= 0 {
        return Err(Refusal::InvalidAmount);
    }
    if intent.status != Status::Succeeded {
        return Err(Refusal::NotYetSucceeded);
    }
    let known = find(intent, id);
    if let Some((_, r)) = known {
        same_amount(r, amount)?;
        if r.state != RefundState::Pending {
            // A duplicate, or a success older than the failure that beat it.
            return unchanged(intent);
        }
    }
    let available_cents = intent.amount_cents - intent.refunded_cents();
    if amount > available_cents {
        return Err(Refusal::RefundExceedsCaptured {
            refund_id: id.to_owned(),
            available_cents,
        });
    }
    let mut next = intent.clone();
    match known {
        Some((i, _)) => next.refunds[i].state = RefundState::Succeeded,
        None => next.refunds.push(Refund {
            id: id.to_owned(),
            amount_cents: amount,
            state: RefundState::Succeeded,
        }),
    }
    let effects = vec![Effect::RefundSettled {
        refund_id: id.to_owned(),
        amount_cents: amount,
    }];
    Ok((next, effects))
}

/// The provider failed refund `id`: before it settled, or after (returned by the bank). A
/// failure of a refund not seen yet is kept, so its late success is known to be stale.
pub(crate) fn failed(intent: &Intent, id: &str, amount: i64) -> Outcome {
    if amount <= 0 {
        return Err(Refusal::InvalidAmount);
    }
    let known = find(intent, id);
    let effect = match known {
        Some((_, r)) => {
            same_amount(r, amount)?;
            match r.state {
                RefundState::Failed => return unchanged(intent),
                RefundState::Pending => Effect::RefundFailed {
                    refund_id: id.to_owned(),
                    amount_cents: amount,
                },
                RefundState::Succeeded => Effect::RefundReversed {
                    refund_id: id.to_owned(),
                    amount_cents: amount,
                },
            }
        }
        None => Effect::RefundFailed {
            refund_id: id.to_owned(),
            amount_cents: amount,
        },
    };
    let mut next = intent.clone();
    match known {
        Some((i, _)) => next.refunds[i].state = RefundState::Failed,
        None => next.refunds.push(Refund {
            id: id.to_owned(),
            amount_cents: amount,
            state: RefundState::Failed,
        }),
    }
    Ok((next, vec![effect]))
}

#[cfg(test)]
mod tests {
    use crate::intent::{Effect, Event, Intent, Refusal, transition};

    fn paid() -> Intent {
        let i = Intent::new(100, "EUR").expect("an intent");
        let ok = Event::Succeeded {
            at: 1,
            amount_cents: 100,
        };
        transition(&i, &ok).expect("succeeded").0
    }

    fn ask(id: &str, amount: i64) -> Event {
        Event::RefundRequested {
            refund_id: id.into(),
            amount_cents: amount,
        }
    }

    fn done(id: &str, amount: i64) -> Event {
        Event::RefundSucceeded {
            refund_id: id.into(),
            amount_cents: amount,
        }
    }

    fn fail(id: &str, amount: i64) -> Event {
        Event::RefundFailed {
            refund_id: id.into(),
            amount_cents: amount,
        }
    }

    fn apply(i: &Intent, e: &Event) -> (Intent, Vec<Effect>) {
        transition(i, e).expect("applied")
    }

    #[test]
    fn partial_then_full() {
        let (i, fx) = apply(&paid(), &ask("r1", 40));
        assert_eq!(
            fx,
            [Effect::SendRefund {
                refund_id: "r1".into(),
                amount_cents: 40
            }]
        );
        assert_eq!(i.refundable_cents(), 60);
        let (i, fx) = apply(&i, &done("r1", 40));
        assert_eq!(fx.len(), 1);
        assert_eq!((i.refunded_cents(), i.fully_refunded()), (40, false));
        let (i, _) = apply(&i, &ask("r2", 60));
        let (i, _) = apply(&i, &done("r2", 60));
        assert_eq!((i.refunded_cents(), i.fully_refunded()), (100, true));
        assert_eq!(
            transition(&i, &ask("r3", 1)),
            Err(Refusal::ExceedsRefundable { available_cents: 0 })
        );
    }

    #[test]
    fn pending_refunds_hold_their_amount() {
        let (i, _) = apply(&paid(), &ask("r1", 70));
        assert_eq!(
            transition(&i, &ask("r2", 31)),
            Err(Refusal::ExceedsRefundable {
                available_cents: 30
            })
        );
        // A failed request gives its amount back.
        let (i, fx) = apply(&i, &fail("r1", 70));
        assert!(matches!(fx[..], [Effect::RefundFailed { .. }]));
        assert_eq!(i.refundable_cents(), 100);
    }

    #[test]
    fn requests_are_idempotent_by_id() {
        let (i, _) = apply(&paid(), &ask("r1", 40));
        let (again, fx) = apply(&i, &ask("r1", 40));
        assert_eq!((again, fx.len()), (i.clone(), 0));
        assert_eq!(
            transition(&i, &ask("r1", 41)),
            Err(Refusal::RefundIdReused {
                refund_id: "r1".into()
            })
        );
    }

    #[test]
    fn bad_requests() {
        let fresh = Intent::new(100, "EUR").expect("an intent");
        assert!(matches!(
            transition(&fresh, &ask("r1", 10)),
            Err(Refusal::NotRefundable { .. })
        ));
        assert_eq!(
            transition(&paid(), &ask("r1", 0)),
            Err(Refusal::InvalidAmount)
        );
        assert_eq!(
            transition(&paid(), &done("r1", -5)),
            Err(Refusal::InvalidAmount)
        );
        assert_eq!(
            transition(&paid(), &fail("r1", 0)),
            Err(Refusal::InvalidAmount)
        );
    }

    #[test]
    fn a_settlement_before_the_success_is_retried_later() {
        let fresh = Intent::new(100, "EUR").expect("an intent");
        let refusal = transition(&fresh, &done("re_1", 100)).expect_err("refused");
        assert_eq!(refusal, Refusal::NotYetSucceeded);
        assert!(refusal.retryable());
    }

    #[test]
    fn dashboard_refunds_never_exceed_the_capture() {
        let (i, fx) = apply(&paid(), &done("re_dash", 80));
        assert!(matches!(fx[..], [Effect::RefundSettled { .. }]));
        assert_eq!(
            transition(&i, &done("re_more", 21)),
            Err(Refusal::RefundExceedsCaptured {
                refund_id: "re_more".into(),
                available_cents: 20
            })
        );
        let (i, _) = apply(&i, &done("re_more", 20));
        assert!(i.fully_refunded());
    }

    #[test]
    fn a_provider_amount_other_than_ours_is_refused() {
        let (i, _) = apply(&paid(), &ask("r1", 40));
        assert!(matches!(
            transition(&i, &done("r1", 50)),
            Err(Refusal::RefundMismatch { .. })
        ));
    }

    #[test]
    fn failed_wins_over_succeeded_in_either_order() {
        let (i, _) = apply(&paid(), &ask("r1", 40));
        let (a, fx1) = apply(&i, &done("r1", 40));
        let (a, fx2) = apply(&a, &fail("r1", 40));
        assert!(matches!(fx1[..], [Effect::RefundSettled { .. }]));
        assert!(matches!(fx2[..], [Effect::RefundReversed { .. }]));
        let (b, fx1) = apply(&i, &fail("r1", 40));
        let (b, fx2) = apply(&b, &done("r1", 40));
        assert!(matches!(fx1[..], [Effect::RefundFailed { .. }]));
        assert!(fx2.is_empty());
        assert_eq!(a, b);
        assert_eq!(a.refunded_cents(), 0);
        // A failure seen before anything else is kept.
        let (c, _) = apply(&paid(), &fail("re_x", 10));
        let (c, fx) = apply(&c, &done("re_x", 10));
        assert!(fx.is_empty());
        assert_eq!(c.refunded_cents(), 0);
    }

    #[test]
    fn duplicates_change_nothing() {
        let (i, _) = apply(&paid(), &done("re_1", 30));
        let (again, fx) = apply(&i, &done("re_1", 30));
        assert_eq!((&again, fx.len()), (&i, 0));
        let (i, _) = apply(&i, &fail("re_1", 30));
        let (again, fx) = apply(&i, &fail("re_1", 30));
        assert_eq!((&again, fx.len()), (&i, 0));
    }
}
