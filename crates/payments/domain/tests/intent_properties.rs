//! Properties of the payment intent under webhooks delivered in any order and any number of
//! times (a refused retryable event is delivered again later, as providers do): fulfilment
//! happens at most once, and exactly once when the payment succeeded; settled refunds never
//! exceed the amount and always equal the money effects; and, for a consistent history, the
//! outcome does not depend on the order of delivery.

use std::collections::{BTreeMap, VecDeque};

use faro_payments_domain::intent::{Effect, Event, Intent, Status, transition};
use faro_payments_domain::refund::RefundState;
use proptest::prelude::*;

/// How one refund ends at the provider.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Succeeded,
    Failed,
    /// Succeeded, then returned by the bank.
    SucceededThenFailed,
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::Succeeded),
        Just(Ending::Failed),
        Just(Ending::SucceededThenFailed)
    ]
}

fn status_event() -> impl Strategy<Value = Event> {
    (0i64..1_000, 0u8..3).prop_map(|(at, kind)| match kind {
        0 => Event::RequiresAction { at },
        1 => Event::Processing { at },
        _ => Event::PaymentFailed {
            at,
            reason: "card_declined".into(),
        },
    })
}

/// The provider's events for one refund.
fn refund_events(id: String, amount: i64, ending: Ending) -> Vec<Event> {
    let done = Event::RefundSucceeded {
        refund_id: id.clone(),
        amount_cents: amount,
    };
    let fail = Event::RefundFailed {
        refund_id: id,
        amount_cents: amount,
    };
    match ending {
        Ending::Succeeded => vec![done],
        Ending::Failed => vec![fail],
        Ending::SucceededThenFailed => vec![done, fail],
    }
}

/// A history: the intent's amount and every event of it, once each.
#[derive(Clone, Debug)]
struct History {
    amount: i64,
    events: Vec<Event>,
    succeeded: bool,
}

prop_compose! {
    /// Statuses, perhaps a success and a cancel, refunds of any amounts (so some exceed what
    /// is left), and our own refund requests.
    fn any_history()(
        amount in 1i64..10_000,
        statuses in prop::collection::vec(status_event(), 0..6),
        succeeded in any::<bool>(),
        canceled in any::<bool>(),
        refunds in prop::collection::vec((1i64..6_000, ending(), any::<bool>()), 0..6),
    ) -> History {
        let mut events = statuses;
        if succeeded {
            events.push(Event::Succeeded { at: 500, amount_cents: amount });
        }
        if canceled {
            events.push(Event::Canceled { at: 400 });
        }
        for (i, (cents, ending, ours)) in refunds.into_iter().enumerate() {
            let id = format!("r{i}");
            if ours {
                events.push(Event::RefundRequested { refund_id: id.clone(), amount_cents: cents });
            }
            events.extend(refund_events(id, cents, ending));
        }
        History { amount, events, succeeded }
    }
}

prop_compose! {
    /// Only what a real provider could report: statuses at distinct times, refunds adding up
    /// to no more than the amount, no requests of ours (they depend on when they are made).
    fn consistent_history()(
        amount in 1i64..10_000,
        times in prop::collection::btree_set(0i64..1_000, 0..6),
        kinds in prop::collection::vec(0u8..3, 6),
        succeeded in any::<bool>(),
        canceled in any::<bool>(),
        refunds in prop::collection::vec((1i64..=100, ending()), 0..6),
    ) -> History {
        let mut events: Vec<Event> = times
            .into_iter()
            .zip(kinds)
            .map(|(at, kind)| match kind {
                0 => Event::RequiresAction { at },
                1 => Event::Processing { at },
                _ => Event::PaymentFailed { at, reason: "card_declined".into() },
            })
            .collect();
        if succeeded {
            events.push(Event::Succeeded { at: 500, amount_cents: amount });
        }
        if canceled {
            events.push(Event::Canceled { at: 400 });
        }
        // Shares of the amount in percent, scaled so they add up to at most the amount.
        let total: i64 = refunds.iter().map(|(p, _)| p).sum();
        let scale = total.max(100);
        for (i, (share, ending)) in refunds.into_iter().enumerate() {
            let cents = amount * share / scale;
            if cents > 0 {
                events.extend(refund_events(format!("r{i}"), cents, ending));
            }
        }
        History { amount, events, succeeded }
    }
}

/// Each event delivered 1 to 3 times, in the order `keys` sorts them.
fn deliveries(events: &[Event], copies: &[u8], keys: &[u32]) -> Vec<Event> {
    let mut out: Vec<(u32, Event)> = Vec::new();
    let mut k = keys.iter().cycle();
    for (i, e) in events.iter().enumerate() {
        for _ in 0..=copies[i % copies.len()] % 3 {
            out.push((*k.next().unwrap_or(&0), e.clone()));
        }
    }
    out.sort_by_key(|(key, _)| *key);
    out.into_iter().map(|(_, e)| e).collect()
}

struct Outcome {
    intent: Intent,
    fulfils: usize,
}

/// Applies every delivery, checking the invariants after each; a retryable refusal is
/// delivered again at the end of the queue (a few times at most).
fn deliver(amount: i64, deliveries: Vec<Event>) -> Result<Outcome, TestCaseError> {
    let mut intent = Intent::new(amount, "EUR").expect("an intent");
    let mut queue: VecDeque<(Event, u8)> = deliveries.into_iter().map(|e| (e, 0)).collect();
    let (mut fulfils, mut settled) = (0usize, 0i64);
    while let Some((event, tries)) = queue.pop_front() {
        match transition(&intent, &event) {
            Ok((next, effects)) => {
                for effect in &effects {
                    match effect {
                        Effect::Fulfil { amount_cents } => {
                            fulfils += 1;
                            prop_assert_eq!(*amount_cents, amount);
                            prop_assert_eq!(next.status, Status::Succeeded);
                        }
                        Effect::RefundSettled { amount_cents, .. } => settled += amount_cents,
                        Effect::RefundReversed { amount_cents, .. } => settled -= amount_cents,
                        _ => {}
                    }
                }
                intent = next;
            }
            Err(refusal) if refusal.retryable() && tries < 5 => queue.push_back((event, tries + 1)),
            Err(_) => {}
        }
        prop_assert!(fulfils <= 1, "fulfilled twice");
        prop_assert!(
            intent.refunded_cents() <= amount,
            "refunded more than captured"
        );
        prop_assert_eq!(
            settled,
            intent.refunded_cents(),
            "money effects and refunds differ"
        );
        prop_assert!(intent.refunded_cents() >= 0);
    }
    Ok(Outcome { intent, fulfils })
}

fn refund_states(intent: &Intent) -> BTreeMap<String, (i64, RefundState)> {
    intent
        .refunds
        .iter()
        .map(|r| (r.id.clone(), (r.amount_cents, r.state)))
        .collect()
}

proptest! {
    #[test]
    fn any_order_and_repetition_fulfils_at_most_once_and_never_over_refunds(
        h in any_history(),
        copies in prop::collection::vec(any::<u8>(), 1..40),
        keys in prop::collection::vec(any::<u32>(), 1..120),
    ) {
        let out = deliver(h.amount, deliveries(&h.events, &copies, &keys))?;
        // Every success is eventually applied: fulfilment exactly once when it succeeded.
        prop_assert_eq!(out.fulfils, usize::from(h.succeeded));
        prop_assert_eq!(out.intent.status == Status::Succeeded, h.succeeded);
    }

    #[test]
    fn a_consistent_history_ends_the_same_in_any_order(
        h in consistent_history(),
        copies in prop::collection::vec(any::<u8>(), 1..40),
        keys_a in prop::collection::vec(any::<u32>(), 1..120),
        keys_b in prop::collection::vec(any::<u32>(), 1..120),
    ) {
        let a = deliver(h.amount, deliveries(&h.events, &copies, &keys_a))?;
        let b = deliver(h.amount, deliveries(&h.events, &copies, &keys_b))?;
        prop_assert_eq!(a.intent.status, b.intent.status);
        prop_assert_eq!(a.fulfils, b.fulfils);
        prop_assert_eq!(refund_states(&a.intent), refund_states(&b.intent));
        prop_assert_eq!(a.intent.refunded_cents(), b.intent.refunded_cents());
        // And the same as delivering them once each, in the order they were generated.
        let once = deliver(h.amount, h.events.clone())?;
        prop_assert_eq!(a.intent.status, once.intent.status);
        prop_assert_eq!(refund_states(&a.intent), refund_states(&once.intent));
    }

    #[test]
    fn requests_never_promise_more_than_is_left(
        amount in 1i64..10_000,
        asks in prop::collection::vec(1i64..6_000, 0..10),
    ) {
        let ok = Event::Succeeded { at: 1, amount_cents: amount };
        let mut intent = transition(&Intent::new(amount, "EUR").expect("an intent"), &ok).expect("paid").0;
        for (i, cents) in asks.into_iter().enumerate() {
            let ask = Event::RefundRequested { refund_id: format!("q{i}"), amount_cents: cents };
            if let Ok((next, _)) = transition(&intent, &ask) {
                intent = next;
            }
            prop_assert!(intent.refunded_cents() + intent.pending_refund_cents() <= amount);
        }
    }
}
