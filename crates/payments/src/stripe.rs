//! The Stripe adapter: the calls an intent needs (create, retrieve) over the module's HTTPS
//! client, and the webhook (`POST /api/v1/payments/webhooks/stripe/{tenant}`): the raw body's
//! `Stripe-Signature` checked against the tenant's signing secrets (several during a
//! rotation, 300 s tolerance), the event parsed, found by our intent id in its metadata, and
//! its domain events applied through the one event path (de-duplicated by Stripe's event id).
//! The wire formats are the pure `faro_payments_domain::providers::stripe`.

use faro_payments_domain::providers::Request;
use faro_payments_domain::providers::stripe::{api, error, events, signature};
use faro_store::{TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::credentials::{self, Keys};
use crate::error::PaymentsError;
use crate::events::{Applied, Source};
use crate::store::{self, IntentRow};
use crate::{Payments, events as apply};

pub const PROVIDER: &str = "stripe";

/// Sends `request` to Stripe with the tenant's key.
async fn call(p: &Payments, keys: &Keys, request: &Request) -> Result<Vec<u8>, PaymentsError> {
    let url = format!("{}{}", p.stripe_api.trim_end_matches('/'), request.path);
    let mut headers = vec![
        ("authorization", format!("Bearer {}", keys.secret_key)),
        ("stripe-version", "2024-06-20".to_owned()),
    ];
    if let Some(ct) = request.content_type() {
        headers.push(("content-type", ct.to_owned()));
    }
    if let Some(key) = &request.idempotency_key {
        headers.push(("idempotency-key", key.clone()));
    }
    let answer = p
        .client
        .send(
            request.method.as_str(),
            &url,
            &headers,
            request.body_bytes(),
        )
        .await
        .map_err(|e| PaymentsError::Provider(e.to_string()))?;
    if (200..300).contains(&answer.status) {
        return Ok(answer.body.to_vec());
    }
    let e = error::parse_error(answer.status, &answer.body);
    Err(PaymentsError::Provider(format!(
        "Stripe answered {} ({}{}){}",
        e.status,
        e.kind.as_str(),
        e.code
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default(),
        e.message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default(),
    )))
}

/// Creates (or, on a retry, finds again: the idempotency key is our intent's id) the
/// PaymentIntent for `row`; its id and the client secret for the browser. Never inside a
/// database transaction: a slow provider must not hold the writer.
pub async fn create(
    p: &Payments,
    keys: &Keys,
    row: &IntentRow,
) -> Result<(String, String), PaymentsError> {
    let request = api::create_intent(&row.id, row.amount_cents, &row.currency)
        .map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let body = call(p, keys, &request).await?;
    let pi = api::parse_intent(&body).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let secret = pi
        .client_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .ok_or_else(|| PaymentsError::Provider("Stripe sent no client_secret".into()))?;
    Ok((pi.id, secret))
}

/// The client secret of an existing PaymentIntent (Stripe advises against storing it).
pub async fn client_secret(
    p: &Payments,
    keys: &Keys,
    provider_ref: &str,
) -> Result<Option<String>, PaymentsError> {
    let request =
        api::retrieve_intent(provider_ref).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let body = call(p, keys, &request).await?;
    let pi = api::parse_intent(&body).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    Ok(pi.client_secret.map(|s| s.expose().to_owned()))
}

/// Asks Stripe to refund `amount_cents` of PaymentIntent `pi` under our refund id (its
/// idempotency key and metadata); Stripe's Refund as it answered.
pub async fn refund(
    p: &Payments,
    keys: &Keys,
    pi: &str,
    refund_id: &str,
    amount_cents: i64,
) -> Result<api::RefundObject, PaymentsError> {
    let request = api::create_refund(pi, refund_id, amount_cents)
        .map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let body = call(p, keys, &request).await?;
    api::parse_refund(&body).map_err(|e| PaymentsError::Provider(e.to_string()))
}

/// Asks Stripe for the state of an open payment whose events have not come (a webhook
/// missed, an endpoint misconfigured) and applies it like an event, keyed by the status seen
/// so the same state is applied once. The reconciliation job calls it.
pub async fn reconcile(
    p: &Payments,
    tenant: &TenantId,
    row: &IntentRow,
) -> Result<bool, PaymentsError> {
    let Some(pi) = row.provider_ref.as_deref() else {
        return Ok(false);
    };
    let Some(keys) = credentials::stripe(p, tenant).await? else {
        return Ok(false);
    };
    let request = api::retrieve_intent(pi).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let body = call(p, &keys, &request).await?;
    let object = api::parse_intent(&body).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let now = unix_now();
    let Some(event) = object.event(now) else {
        store::touch_intent(&p.core.db, tenant, &row.id, now).await?;
        return Ok(false);
    };
    let event_id = format!("reconcile:{pi}:{:?}", object.status);
    let source = Source {
        provider: PROVIDER,
        event_id: &event_id,
        kind: "reconcile",
    };
    let applied = apply::apply(p, tenant, &row.id, &source, &event, now).await?;
    store::touch_intent(&p.core.db, tenant, &row.id, now).await?;
    Ok(matches!(applied, Applied::Changed(_)))
}

/// What the webhook answers Stripe (any 2xx stops its retries).
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
    /// `applied`, `duplicate` (seen before), or why it was ignored: `unknown_type`,
    /// `not_ours`, `test_mode`, `currency_mismatch`, or a refusal code such as
    /// `amount_mismatch`.
    pub outcome: String,
}

fn received(outcome: impl Into<String>) -> Received {
    Received {
        received: true,
        outcome: outcome.into(),
    }
}

/// Takes one webhook delivery for `tenant`.
pub async fn webhook(
    p: &Payments,
    tenant: &TenantId,
    header: Option<&str>,
    body: &[u8],
) -> Result<Received, PaymentsError> {
    let keys = credentials::stripe(p, tenant)
        .await?
        .ok_or(PaymentsError::NotFound("this site takes no Stripe events"))?;
    let now = unix_now();
    signature::verify(header, body, &keys.webhook_secrets, now).map_err(|e| {
        PaymentsError::Signature {
            code: e.code(),
            message: e.to_string(),
        }
    })?;
    let event = match events::parse_event(body) {
        Ok(events::Notification::Intent(ev)) => ev,
        Ok(events::Notification::Unknown { .. }) => return Ok(received("unknown_type")),
        Err(e) => {
            return Err(PaymentsError::Signature {
                code: e.code(),
                message: e.to_string(),
            });
        }
    };
    if keys.live() && !event.livemode {
        return Ok(received("test_mode"));
    }
    let row = match &event.faro_intent {
        Some(id) => store::intent(&p.core.db, tenant, id).await?,
        None => store::intent_by_ref(&p.core.db, tenant, PROVIDER, &event.intent_id).await?,
    };
    let Some(row) = row.filter(|r| r.provider == PROVIDER) else {
        return Ok(received("not_ours"));
    };
    if !row.currency.eq_ignore_ascii_case(&event.currency) {
        return Ok(received("currency_mismatch"));
    }
    let source = Source {
        provider: PROVIDER,
        event_id: &event.id,
        kind: &event.kind,
    };
    let db = &p.core.db;
    let mut tx = db.begin_write().await?;
    let applied = apply::apply_in(
        p,
        &mut tx,
        tenant,
        &row.id,
        &source,
        &event.events,
        event.created,
    )
    .await?;
    tx.commit().await?;
    p.core.wake.notify();
    Ok(received(match applied {
        Applied::Changed(_) => "applied",
        Applied::Duplicate => "duplicate",
        Applied::Ignored { code } => code,
    }))
}
