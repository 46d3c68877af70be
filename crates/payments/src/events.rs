//! A provider's event applied to an intent, in one transaction: the event id recorded (a
//! redelivery changes nothing), the intent's row held, the pure `transition` deciding, the
//! new state written and its effects published through the outbox. Fulfilment is the
//! `payments.intent_succeeded` event, emitted once per intent because the domain emits
//! `Fulfil` only on the move into `succeeded`; the wallet credits a top-up from it, keyed by
//! the intent's id.

use faro_payments_domain::intent::{Effect, Event, Intent, transition};
use faro_store::{NewEvent, TenantId};
use serde_json::json;

use crate::error::PaymentsError;
use crate::intents::status_name;
use crate::store::{self, IntentRow, Tx};
use crate::{Payments, intents::IntentView};

/// The `provider` of events Faro itself originates (a refund staff asked for).
pub const OURS: &str = "faro";

/// Where an event came from: the provider and its event id (the de-duplication key).
pub struct Source<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    /// The provider's event type, kept for the record (`payment_intent.succeeded`).
    pub kind: &'a str,
}

/// What applying an event did.
#[derive(Debug)]
pub enum Applied {
    /// The intent moved (or the event changed nothing new, like a stale `processing`).
    Changed(Box<IntentView>),
    /// The same event id was taken before.
    Duplicate,
    /// The domain refused it for good (an amount that is not the intent's): recorded and
    /// acknowledged, so the provider stops retrying; the intent is unchanged.
    Ignored { code: &'static str },
}

/// Applies `event` to the intent `intent_id` of `tenant`, in a transaction of its own.
pub async fn apply(
    p: &Payments,
    tenant: &TenantId,
    intent_id: &str,
    source: &Source<'_>,
    event: &Event,
    now: i64,
) -> Result<Applied, PaymentsError> {
    let db = &p.core.db;
    let mut tx = db.begin_write().await?;
    let applied = apply_in(
        p,
        &mut tx,
        tenant,
        intent_id,
        source,
        std::slice::from_ref(event),
        now,
    )
    .await?;
    tx.commit().await?;
    if matches!(applied, Applied::Changed(_)) {
        p.core.wake.notify();
    }
    Ok(applied)
}

/// Applies `events` in order to the intent, inside `tx` (the caller commits; wake the outbox
/// after). One source event may stand for several of the domain's (a refund asked for and, at
/// the test provider, settled at once); all apply or none. A retryable refusal is an error, so
/// the caller rolls back and the provider's retry finds the event untaken.
pub async fn apply_in(
    p: &Payments,
    tx: &mut Tx,
    tenant: &TenantId,
    intent_id: &str,
    source: &Source<'_>,
    events: &[Event],
    now: i64,
) -> Result<Applied, PaymentsError> {
    let db = &p.core.db;
    let Some(row) = store::lock_intent(tx, db.backend(), tenant, intent_id).await? else {
        return Err(PaymentsError::NotFound("no such payment"));
    };
    if !store::take_event(
        tx,
        tenant,
        source.provider,
        source.event_id,
        intent_id,
        source.kind,
        now,
    )
    .await?
    {
        return Ok(Applied::Duplicate);
    }
    let mut intent: Intent = serde_json::from_str(&row.state).map_err(PaymentsError::corrupt)?;
    let mut effects = Vec::new();
    for event in events {
        match transition(&intent, event) {
            Ok((next, more)) => {
                intent = next;
                effects.extend(more);
            }
            Err(refusal) if refusal.retryable() => return Err(PaymentsError::Refused(refusal)),
            // The provider's word that cannot be taken (an amount that is not the intent's):
            // recorded as taken, so it stops, and the intent is left as it was.
            Err(refusal) if source.provider != OURS => {
                return Ok(Applied::Ignored {
                    code: refusal.code(),
                });
            }
            // Ours (staff asking for a refund): refused, nothing recorded.
            Err(refusal) => return Err(PaymentsError::Refused(refusal)),
        }
    }
    let status = status_name(&intent)?;
    let state = serde_json::to_string(&intent).map_err(PaymentsError::corrupt)?;
    store::update_intent(tx, tenant, intent_id, &status, &state, now).await?;
    publish(tx, db.backend(), tenant, &row, &effects, now).await?;
    let updated = IntentRow {
        status,
        state,
        updated_at: now,
        ..row
    };
    Ok(Applied::Changed(Box::new(IntentView::of(&updated)?)))
}

/// The outbox events of `effects`: what other modules (the wallet, gamification, webhooks)
/// react to.
async fn publish(
    tx: &mut Tx,
    backend: faro_store::Backend,
    tenant: &TenantId,
    row: &IntentRow,
    effects: &[Effect],
    now: i64,
) -> Result<(), PaymentsError> {
    let mut events = Vec::new();
    let base = |extra: serde_json::Value| {
        let mut payload = json!({
            "intent_id": row.id,
            "user_id": row.user_id,
            "purpose": row.purpose,
            "reference": row.reference,
            "amount_cents": row.amount_cents,
            "currency": row.currency,
        });
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        payload
    };
    for effect in effects {
        let (kind, payload) = match effect {
            Effect::Fulfil { .. } => {
                let credits = (row.purpose == "wallet_topup")
                    .then(|| row.reference.parse::<i64>().ok())
                    .flatten();
                (
                    "payments.intent_succeeded",
                    base(json!({ "credits": credits })),
                )
            }
            Effect::StatusChanged { from, to } => (
                "payments.intent_status_changed",
                base(json!({ "from": from, "to": to })),
            ),
            Effect::RefundSettled {
                refund_id,
                amount_cents,
            } => (
                "payments.refund_succeeded",
                base(json!({
                    "refund_id": refund_id,
                    "refund_cents": amount_cents,
                    "credits": refunded_credits(row, *amount_cents),
                })),
            ),
            Effect::RefundFailed {
                refund_id,
                amount_cents,
            } => (
                "payments.refund_failed",
                base(json!({ "refund_id": refund_id, "refund_cents": amount_cents })),
            ),
            Effect::RefundReversed {
                refund_id,
                amount_cents,
            } => (
                "payments.refund_reversed",
                base(json!({ "refund_id": refund_id, "refund_cents": amount_cents })),
            ),
            // Asking the provider is the caller's (the test provider settles at once).
            Effect::SendRefund { .. } => continue,
        };
        events.push(NewEvent::new(tenant.as_str(), kind, &row.user_id, &payload)?.at(now));
    }
    if !events.is_empty() {
        faro_store::outbox::append(tx, backend, &events).await?;
    }
    Ok(())
}

/// The credits a refund of a top-up takes back: the refunded share of the credits bought,
/// rounded down (a partial refund never takes more credits than it paid back).
pub fn refunded_credits(row: &IntentRow, refund_cents: i64) -> Option<i64> {
    if row.purpose != "wallet_topup" || row.amount_cents <= 0 {
        return None;
    }
    let credits = row.reference.parse::<i64>().ok()?;
    let share = i128::from(credits) * i128::from(refund_cents) / i128::from(row.amount_cents);
    i64::try_from(share).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topup(credits: i64, cents: i64) -> IntentRow {
        IntentRow {
            id: "i".into(),
            provider: "test".into(),
            provider_ref: None,
            user_id: "u".into(),
            purpose: "wallet_topup".into(),
            reference: credits.to_string(),
            amount_cents: cents,
            currency: "EUR".into(),
            status: "succeeded".into(),
            state: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_refund_takes_back_its_share_of_the_credits_rounded_down() {
        assert_eq!(refunded_credits(&topup(100, 1000), 1000), Some(100));
        assert_eq!(refunded_credits(&topup(100, 1000), 300), Some(30));
        assert_eq!(refunded_credits(&topup(10, 1000), 99), Some(0));
        assert_eq!(refunded_credits(&topup(3, 1000), 500), Some(1));
        let quote = IntentRow {
            purpose: "quote".into(),
            ..topup(1, 10)
        };
        assert_eq!(refunded_credits(&quote, 10), None);
    }
}
