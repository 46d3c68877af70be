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
use crate::{Payments, store};

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
    let db = &p.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let row = store::lock_intent(&mut tx, db.backend(), tenant, &input.intent)
        .await?
        .ok_or(PaymentsError::NotFound("no such payment"))?;
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, actor, &key, &hash).await? {
        return Ok(first);
    }
    if row.provider != TEST_PROVIDER {
        return Err(PaymentsError::NotConfigured(
            "refunds through this payment's provider are not supported yet",
        ));
    }
    let refund_id = idempotency::derived_id("refund", actor, &key);
    let asked = Event::RefundRequested {
        refund_id: refund_id.clone(),
        amount_cents: input.amount_cents,
    };
    let settled = Event::RefundSucceeded {
        refund_id: refund_id.clone(),
        amount_cents: input.amount_cents,
    };
    let source = Source {
        provider: OURS,
        event_id: &refund_id,
        kind: "refund",
    };
    let view = match events::apply_in(
        p,
        &mut tx,
        tenant,
        &input.intent,
        &source,
        &[asked, settled],
        now,
    )
    .await?
    {
        Applied::Changed(view) => *view,
        Applied::Duplicate | Applied::Ignored { .. } => IntentView::of(&row)?,
    };
    let body = Refunded {
        refund_id,
        amount_cents: input.amount_cents,
        reason: reason.to_owned(),
        status: "succeeded",
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
    Ok(reply)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Refunded {
    pub refund_id: String,
    pub amount_cents: i64,
    pub reason: String,
    /// `succeeded` (the test provider settles at once).
    #[schema(example = "succeeded")]
    pub status: &'static str,
    /// The payment after the refund.
    pub payment: IntentView,
}
