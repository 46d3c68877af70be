//! Staff refunding a payment, fully or partly, once per `Idempotency-Key`: the domain checks
//! the amount against what is left (settled and pending refunds both count, so two refunds at
//! once cannot both take the last euro), the provider is asked, and a settled refund is
//! published (`payments.refund_succeeded`), from which the wallet takes back a top-up's
//! credits. The test provider settles at once, in the same transaction.

use faro_payments_domain::intent::Event;
use faro_store::idempotency::{self, Reply};
use faro_store::{StoreError, TenantId, unix_now};
use serde::Serialize;

use crate::error::PaymentsError;
use crate::events::{self, Applied, OURS, Source};
use crate::intents::{IntentView, TEST_PROVIDER};
use crate::{Payments, credentials, store, stripe};
use faro_payments_domain::Intent;
use faro_payments_domain::refund::RefundState;

const SCOPE: &str = "payments.refund";

/// What a refund asks (hashed for its key).
#[derive(Clone, Debug, Serialize)]
pub struct RefundInput {
    pub intent: String,
    pub amount_cents: i64,
    pub reason: String,
}

/// Refunds `input.amount_cents` of the intent; `actor` is the staff member (or API key).
pub async fn refund(
    p: &Payments,
    tenant: &TenantId,
    actor: &str,
    key: Option<&str>,
    input: RefundInput,
) -> Result<Reply, PaymentsError> {
    let key = idempotency::key(key)?;
    let mut problems = Vec::new();
    if input.amount_cents < 1 {
        problems.push(faro_http::FieldProblem {
            path: "amount_cents".into(),
            message: "the amount to refund in cents, at least 1".into(),
        });
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        problems.push(faro_http::FieldProblem {
            path: "reason".into(),
            message: "why: 1 to 300 characters".into(),
        });
    }
    if !problems.is_empty() {
        return Err(PaymentsError::Invalid(problems));
    }
    let hash = idempotency::hash(&input)?;
    // Read before the write transaction: nothing slow happens while it holds the writer.
    let keys = credentials::stripe(p, tenant).await?;
    let db = &p.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let row = store::lock_intent(&mut tx, db.backend(), tenant, &input.intent)
        .await?
        .ok_or(PaymentsError::NotFound("no such payment"))?;
    let stripe_keys = if row.provider == stripe::PROVIDER {
        Some(keys.ok_or(PaymentsError::NotConfigured(
            "this payment was made through Stripe, and the site has no Stripe keys now",
        ))?)
    } else {
        None
    };
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, actor, &key, &hash).await? {
        drop(tx);
        // A retry after Stripe failed asks it again (same idempotency key at Stripe).
        return match &stripe_keys {
            Some(keys) => send_to_stripe(p, tenant, keys, first).await,
            None => Ok(first),
        };
    }
    // `_`, not `:`: the id travels to the provider, which takes letters, digits, `_` and `-`.
    let refund_id = idempotency::derived_id("refund", actor, &key).replace(':', "_");
    let mut asked = vec![Event::RefundRequested {
        refund_id: refund_id.clone(),
        amount_cents: input.amount_cents,
    }];
    // The test provider settles at once; Stripe answers after the call below.
    if row.provider == TEST_PROVIDER {
        asked.push(Event::RefundSucceeded {
            refund_id: refund_id.clone(),
            amount_cents: input.amount_cents,
        });
    }
    let source = Source {
        provider: OURS,
        event_id: &refund_id,
        kind: "refund",
    };
    let view =
        match events::apply_in(p, &mut tx, tenant, &input.intent, &source, &asked, now).await? {
            Applied::Changed(view) => *view,
            Applied::Duplicate | Applied::Ignored { .. } => IntentView::of(&row)?,
        };
    let body = Refunded {
        refund_id,
        amount_cents: input.amount_cents,
        reason: reason.to_owned(),
        status: if row.provider == TEST_PROVIDER {
            "succeeded"
        } else {
            "pending"
        },
        payment: view,
    };
    let reply =
        match idempotency::remember(&mut tx, tenant, SCOPE, actor, &key, &hash, 201, &body, now)
            .await
        {
            Err(StoreError::Conflict(_)) => return Err(PaymentsError::KeyInFlight),
            other => other?,
        };
    tx.commit().await?;
    p.core.wake.notify();
    match &stripe_keys {
        Some(keys) => send_to_stripe(p, tenant, keys, reply).await,
        None => Ok(reply),
    }
}

/// Asks Stripe for a refund recorded as pending (its first answer committed, the amount
/// already held against what is refundable), outside any transaction; a retry of the
/// request asks again under the same idempotency key, so Stripe refunds once. Stripe's
/// answer is applied like its webhook would be: a settled refund takes effect now.
async fn send_to_stripe(
    p: &Payments,
    tenant: &TenantId,
    keys: &crate::credentials::Keys,
    reply: Reply,
) -> Result<Reply, PaymentsError> {
    let refund_id = reply.body["refund_id"]
        .as_str()
        .ok_or_else(|| PaymentsError::corrupt("a stored refund reply without its id"))?
        .to_owned();
    let intent_id = reply.body["payment"]["id"]
        .as_str()
        .ok_or_else(|| PaymentsError::corrupt("a stored refund reply without its payment"))?
        .to_owned();
    let row = store::intent(&p.core.db, tenant, &intent_id)
        .await?
        .ok_or(PaymentsError::NotFound("no such payment"))?;
    let state: Intent = serde_json::from_str(&row.state).map_err(PaymentsError::corrupt)?;
    let Some(refund) = state.refunds.iter().find(|r| r.id == refund_id) else {
        return Ok(reply);
    };
    let mut body = reply.body.clone();
    if refund.state != RefundState::Pending {
        body["status"] = serde_json::json!(refund.state);
        body["payment"] =
            serde_json::to_value(IntentView::of(&row)?).map_err(PaymentsError::corrupt)?;
        return Ok(Reply { body, ..reply });
    }
    let pi = row.provider_ref.as_deref().ok_or(PaymentsError::Provider(
        "the payment never reached Stripe".into(),
    ))?;
    let answer = stripe::refund(p, keys, pi, &refund_id, refund.amount_cents).await?;
    if let Some(event) = answer.event() {
        let event_id = format!("{}:{}", answer.id, refund_status_word(&event));
        let source = Source {
            provider: stripe::PROVIDER,
            event_id: &event_id,
            kind: "refund.create",
        };
        events::apply(p, tenant, &intent_id, &source, &event, unix_now()).await?;
    }
    let row = store::intent(&p.core.db, tenant, &intent_id)
        .await?
        .ok_or(PaymentsError::NotFound("no such payment"))?;
    let state: Intent = serde_json::from_str(&row.state).map_err(PaymentsError::corrupt)?;
    if let Some(r) = state.refunds.iter().find(|r| r.id == refund_id) {
        body["status"] = serde_json::json!(r.state);
    }
    body["payment"] =
        serde_json::to_value(IntentView::of(&row)?).map_err(PaymentsError::corrupt)?;
    Ok(Reply { body, ..reply })
}

fn refund_status_word(event: &Event) -> &'static str {
    match event {
        Event::RefundSucceeded { .. } => "succeeded",
        _ => "failed",
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Refunded {
    pub refund_id: String,
    pub amount_cents: i64,
    pub reason: String,
    /// `succeeded`, `pending` (Stripe has not settled it yet) or `failed`.
    #[schema(example = "succeeded")]
    pub status: &'static str,
    /// The payment after the refund.
    pub payment: IntentView,
}
