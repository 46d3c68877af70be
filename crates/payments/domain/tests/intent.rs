//! A payment intent's statuses under the provider's events: the happy path, duplicates,
//! stale and out-of-order events, what wins between `succeeded` and `canceled`, amounts.

use faro_payments_domain::intent::{
    ChargeError, Effect, Event, Intent, Refusal, Status, transition,
};
use faro_payments_domain::quote::QuoteExpired;

fn intent() -> Intent {
    Intent::new(30, "EUR").expect("an intent")
}

fn run(events: &[Event]) -> (Intent, Vec<Effect>) {
    let mut i = intent();
    let mut all = Vec::new();
    for e in events {
        let (next, effects) = transition(&i, e).expect("applied");
        i = next;
        all.extend(effects);
    }
    (i, all)
}

fn fulfils(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Fulfil { .. }))
        .count()
}

const OK: Event = Event::Succeeded {
    at: 20,
    amount_cents: 30,
};

#[test]
fn the_happy_path_fulfils_once() {
    let (i, effects) = run(&[
        Event::RequiresAction { at: 5 },
        Event::Processing { at: 10 },
        OK,
    ]);
    assert_eq!(i.status, Status::Succeeded);
    assert_eq!(
        effects,
        [
            Effect::StatusChanged {
                from: Status::RequiresPaymentMethod,
                to: Status::RequiresAction
            },
            Effect::StatusChanged {
                from: Status::RequiresAction,
                to: Status::Processing
            },
            Effect::StatusChanged {
                from: Status::Processing,
                to: Status::Succeeded
            },
            Effect::Fulfil { amount_cents: 30 },
        ]
    );
}

#[test]
fn the_same_success_twice_fulfils_once() {
    let (i, effects) = run(&[OK, OK]);
    assert_eq!(i.status, Status::Succeeded);
    assert_eq!(fulfils(&effects), 1);
}

#[test]
fn processing_after_succeeded_is_stale() {
    let (i, effects) = run(&[OK, Event::Processing { at: 10 }]);
    assert_eq!(i.status, Status::Succeeded);
    assert_eq!(effects.len(), 2);
}

#[test]
fn succeeded_after_canceled_wins_and_fulfils() {
    let (i, effects) = run(&[Event::Canceled { at: 30 }, OK]);
    assert_eq!(i.status, Status::Succeeded);
    assert_eq!(fulfils(&effects), 1);
    let (i, effects) = run(&[OK, Event::Canceled { at: 30 }]);
    assert_eq!(i.status, Status::Succeeded);
    assert_eq!(fulfils(&effects), 1);
}

#[test]
fn canceled_is_final_for_the_other_statuses() {
    let (i, _) = run(&[
        Event::Canceled { at: 10 },
        Event::Processing { at: 50 },
        Event::PaymentFailed {
            at: 60,
            reason: "card_declined".into(),
        },
    ]);
    assert_eq!(i.status, Status::Canceled);
}

#[test]
fn an_older_non_final_status_is_ignored() {
    let (i, _) = run(&[
        Event::Processing { at: 10 },
        Event::PaymentFailed {
            at: 12,
            reason: "card_declined".into(),
        },
        Event::RequiresAction { at: 8 },
    ]);
    assert_eq!(i.status, Status::RequiresPaymentMethod);
    assert_eq!(i.last_error.as_deref(), Some("card_declined"));
    assert_eq!(i.status_at, Some(12));
    let (i, _) = run(&[OK]);
    assert_eq!(i.last_error, None);
}

#[test]
fn a_success_for_another_amount_is_refused() {
    let wrong = Event::Succeeded {
        at: 1,
        amount_cents: 29,
    };
    let refusal = transition(&intent(), &wrong).expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::AmountMismatch {
            expected: 30,
            got: 29
        }
    );
    assert!(!refusal.retryable());
    let (done, _) = run(&[OK]);
    assert!(transition(&done, &wrong).is_err());
}

#[test]
fn an_intent_charges_a_valid_quote_of_more_than_nothing() {
    assert_eq!(Intent::new(0, "EUR"), Err(ChargeError::NothingToCharge));
    let request = serde_json::from_value(serde_json::json!({
        "source_format": "pdf", "target_format": "docx", "file_size_mb": 15,
        "quality": "high", "server_load_factor": 1.1
    }))
    .expect("a request");
    let q =
        faro_payments_domain::estimate(&faro_payments_domain::demo::pricing(), &request, 0, 1_000)
            .expect("a quote");
    let i = Intent::for_quote(&q, 1_599).expect("valid");
    assert_eq!((i.amount_cents, i.currency.as_str()), (30, "EUR"));
    assert_eq!(
        Intent::for_quote(&q, 1_600),
        Err(ChargeError::Expired(QuoteExpired { expired_at: 1_600 }))
    );
}

#[test]
fn events_and_effects_as_json() {
    let e: Event = serde_json::from_value(serde_json::json!(
        {"type": "succeeded", "at": 20, "amount_cents": 30}
    ))
    .expect("an event");
    assert_eq!(e, OK);
    let v = serde_json::to_value(Effect::Fulfil { amount_cents: 30 }).expect("json");
    assert_eq!(v, serde_json::json!({"type": "fulfil", "amount_cents": 30}));
}
