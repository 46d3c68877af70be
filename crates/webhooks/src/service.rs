//! The use cases behind the admin API and the panel alike: registering, changing and removing
//! endpoints, reading them, and replaying a delivery. No HTTP types here.

use faro_http::audit::Actor;
use faro_store::{TenantId, unix_now_ms};
use faro_webhooks_domain::signing::{SECRET_BYTES, SigningKey};
use faro_webhooks_domain::{Problem, check_url, normalize_patterns};

use crate::Webhooks;
use crate::error::WebhooksError;
use crate::store::{self, DeliveryRow, EndpointChange, EndpointRow};

/// Most endpoints one tenant may register.
pub const MAX_ENDPOINTS: usize = 50;

/// The URL as stored, or the problem for the `url` field.
fn valid_url(wh: &Webhooks, url: &str) -> Result<String, Problem> {
    check_url(url, wh.cfg.allow_private_targets)
        .map(|t| t.url)
        .map_err(|m| Problem::new("url", m))
}

/// Checks a whole endpoint's input, every problem at once.
fn validate(
    wh: &Webhooks,
    url: &str,
    kinds: &[String],
) -> Result<(String, Vec<String>), WebhooksError> {
    let url = valid_url(wh, url);
    let kinds = normalize_patterns(kinds);
    match (url, kinds) {
        (Ok(u), Ok(k)) => Ok((u, k)),
        (u, k) => Err(WebhooksError::Invalid(
            u.err()
                .into_iter()
                .chain(k.err().into_iter().flatten())
                .collect(),
        )),
    }
}

/// Where endpoints' signing secrets are kept, sealed with `DATA_KEYS`.
pub const SECRET_COLUMN: faro_http::module::SealedColumn = faro_http::module::SealedColumn {
    table: "webhook_endpoints",
    key: "id",
    column: "secret",
    context: "webhook_endpoints.secret",
    only: None,
    tenantless: false,
};

/// An endpoint's signing secret as stored (sealed; rows from before sealing hold it in clear
/// until `faro secrets rotate`) → the `whsec_...` text.
pub fn open_secret(wh: &Webhooks, tenant: &TenantId, stored: &str) -> Result<String, String> {
    if !faro_auth::seal::is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    wh.core
        .sealer
        .open_str(&SECRET_COLUMN.context_for(tenant.as_str()), stored)
        .map_err(|e| format!("the endpoint's secret: {e}"))
}

/// Registers an endpoint, enabled, with a fresh secret (returned in the row: the only time a
/// caller sees it; stored sealed).
pub async fn create(
    wh: &Webhooks,
    tenant: &TenantId,
    url: &str,
    kinds: &[String],
    by: &Actor,
) -> Result<EndpointRow, WebhooksError> {
    let (url, event_kinds) = validate(wh, url, kinds)?;
    let db = &wh.core.db;
    let now = unix_now_ms();
    let row = EndpointRow {
        id: faro_store::new_id(),
        url,
        secret: SigningKey::from_bytes(rand::random::<[u8; SECRET_BYTES]>()).secret(),
        event_kinds,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    let sealed = EndpointRow {
        secret: wh
            .core
            .sealer
            .seal_str(&SECRET_COLUMN.context_for(tenant.as_str()), &row.secret),
        ..row.clone()
    };
    match store::insert_endpoint(db, tenant, &sealed, MAX_ENDPOINTS, Some(by)).await? {
        Ok(()) => Ok(row),
        Err(store::NoRoom::Cap(cap)) => Err(WebhooksError::TooMany(cap)),
        Err(store::NoRoom::Quota(over)) => Err(WebhooksError::Quota(over)),
    }
}

pub async fn endpoint(
    wh: &Webhooks,
    tenant: &TenantId,
    id: &str,
) -> Result<EndpointRow, WebhooksError> {
    store::get_endpoint(&wh.core.db, tenant, id)
        .await?
        .ok_or(WebhooksError::NotFound("no such webhook"))
}

/// What a change asks for; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub url: Option<String>,
    pub event_kinds: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Changes an endpoint. Disabling it stops new deliveries being queued for it and pauses the
/// retries of those already queued; enabling it resumes them.
pub async fn update(
    wh: &Webhooks,
    tenant: &TenantId,
    id: &str,
    change: Change,
    by: &Actor,
) -> Result<EndpointRow, WebhooksError> {
    let mut problems = Vec::new();
    let url = match change.url.as_deref().map(|u| valid_url(wh, u)) {
        Some(Ok(u)) => Some(u),
        Some(Err(p)) => {
            problems.push(p);
            None
        }
        None => None,
    };
    let event_kinds = match change.event_kinds.as_deref().map(normalize_patterns) {
        Some(Ok(k)) => Some(k),
        Some(Err(ps)) => {
            problems.extend(ps);
            None
        }
        None => None,
    };
    if !problems.is_empty() {
        return Err(WebhooksError::Invalid(problems));
    }
    let applied = EndpointChange {
        url,
        event_kinds,
        enabled: change.enabled,
    };
    if !store::update_endpoint(&wh.core.db, tenant, id, &applied, unix_now_ms(), Some(by)).await? {
        return Err(WebhooksError::NotFound("no such webhook"));
    }
    if change.enabled == Some(true) {
        // Paused retries may be due already.
        wh.kick.notify();
    }
    endpoint(wh, tenant, id).await
}

/// Removes an endpoint and its deliveries.
pub async fn delete(
    wh: &Webhooks,
    tenant: &TenantId,
    id: &str,
    by: &Actor,
) -> Result<(), WebhooksError> {
    if store::delete_endpoint(&wh.core.db, tenant, id, Some(by)).await? {
        Ok(())
    } else {
        Err(WebhooksError::NotFound("no such webhook"))
    }
}

/// Queues a delivery again (failed or not), due now, and wakes this instance's sender.
pub async fn replay(
    wh: &Webhooks,
    tenant: &TenantId,
    delivery_id: &str,
) -> Result<DeliveryRow, WebhooksError> {
    let db = &wh.core.db;
    let row = store::replay(db, tenant, delivery_id, unix_now_ms())
        .await?
        .ok_or(WebhooksError::NotFound("no such delivery"))?;
    wh.kick.notify();
    Ok(row)
}
