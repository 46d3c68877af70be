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

/// Applies `event` to the intent `intent_id` of `tenant`.
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
    let Some(row) = store::lock_intent(&mut tx, db.backend(), tenant, intent_id).await? else {
        return Err(PaymentsError::NotFound("no such payment"));
    };
    if !store::take_event(
        &mut tx,
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
    let intent: Intent = serde_json::from_str(&row.state).map_err(PaymentsError::corrupt)?;
    let (next, effects) = match transition(&intent, event) {
        Ok(moved) => moved,
        // Not yet: roll back (the event is not recorded) so the provider's retry applies it.
        Err(refusal) if refusal.retryable() => return Err(PaymentsError::Refused(refusal)),
        Err(refusal) => {
            tx.commit().await?;
            return Ok(Applied::Ignored {
                code: refusal.code(),
            });
        }
    };
    let status = status_name(&next)?;
    let state = serde_json::to_string(&next).map_err(PaymentsError::corrupt)?;
    store::update_intent(&mut tx, tenant, intent_id, &status, &state, now).await?;
    publish(&mut tx, db.backend(), tenant, &row, &effects, now).await?;
    tx.commit().await?;
    if !effects.is_empty() {
        p.core.wake.notify();
    }
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
                base(json!({ "refund_id": refund_id, "refund_cents": amount_cents })),
            ),
            // Asking the provider and failed refunds are handled with refunds (next step).
            Effect::SendRefund { .. }
            | Effect::RefundFailed { .. }
            | Effect::RefundReversed { .. } => continue,
        };
        events.push(NewEvent::new(tenant.as_str(), kind, &row.user_id, &payload)?.at(now));
    }
    if !events.is_empty() {
        faro_store::outbox::append(tx, backend, &events).await?;
    }
    Ok(())
}
