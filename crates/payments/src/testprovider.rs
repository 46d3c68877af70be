//! The built-in test provider: the payer says how the payment ends, and the provider's event
//! goes through the same path a webhook's does ([`crate::events`]). For development, demos and
//! end-to-end tests of the money path without a provider account; a tenant switches it on in
//! its settings (`test_provider`), and never should on a live site.

use faro_payments_domain::intent::Event;
use faro_store::{TenantId, new_id, unix_now};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::PaymentsError;
use crate::events::{self, Applied, Source};
use crate::intents::{IntentView, TEST_PROVIDER};
use crate::{Payments, settings, store};

/// How the test payment ends.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The card is charged: the intent succeeds and what it pays for is delivered.
    Succeed,
    /// The card is declined: the intent waits for another payment method.
    Fail,
    /// The bank asks for 3-D Secure: the intent waits for the payer.
    RequireAction,
    /// The payment is being processed (a bank transfer, say).
    Process,
    /// The payer gives up.
    Cancel,
}

/// The test provider's event for `outcome` on `user`'s intent `id`.
pub async fn confirm(
    p: &Payments,
    tenant: &TenantId,
    user: &str,
    id: &str,
    outcome: Outcome,
) -> Result<IntentView, PaymentsError> {
    let db = &p.core.db;
    let (checked, _) = settings::load(db, tenant).await?;
    let row = store::intent(db, tenant, id)
        .await?
        .filter(|r| r.user_id == user && r.provider == TEST_PROVIDER)
        .ok_or(PaymentsError::NotFound("no such test payment"))?;
    if !checked.test_provider {
        return Err(PaymentsError::NotConfigured(
            "the test provider is switched off for this site",
        ));
    }
    let now = unix_now();
    let event = match outcome {
        Outcome::Succeed => Event::Succeeded {
            at: now,
            amount_cents: row.amount_cents,
        },
        Outcome::Fail => Event::PaymentFailed {
            at: now,
            reason: "card_declined: the test card was declined".into(),
        },
        Outcome::RequireAction => Event::RequiresAction { at: now },
        Outcome::Process => Event::Processing { at: now },
        Outcome::Cancel => Event::Canceled { at: now },
    };
    let event_id = format!("test_evt_{}", new_id());
    let source = Source {
        provider: TEST_PROVIDER,
        event_id: &event_id,
        kind: "test.confirm",
    };
    match events::apply(p, tenant, id, &source, &event, now).await? {
        Applied::Changed(view) => Ok(*view),
        Applied::Duplicate | Applied::Ignored { .. } => {
            let row = store::intent(db, tenant, id)
                .await?
                .ok_or(PaymentsError::NotFound("no such test payment"))?;
            IntentView::of(&row)
        }
    }
}
