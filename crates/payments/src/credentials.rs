//! A tenant's keys at a payment provider (today Stripe): the API secret key and the webhook
//! signing secrets, several at once while one is rotated. Sealed at rest with `DATA_KEYS`
//! (`faro secrets rotate` re-seals them); shown to staff only masked (`sk_test_…4242`).

use faro_http::module::SealedColumn;
use faro_store::{TenantId, unix_now};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::Payments;
use crate::error::PaymentsError;

pub const STRIPE: &str = "stripe";

pub const SECRET_KEY_COLUMN: SealedColumn = SealedColumn {
    table: "payments_credentials",
    key: "id",
    column: "secret_key",
    context: "payments_credentials.secret_key",
    only: None,
    tenantless: false,
};

pub const WEBHOOK_SECRETS_COLUMN: SealedColumn = SealedColumn {
    table: "payments_credentials",
    key: "id",
    column: "webhook_secrets",
    context: "payments_credentials.webhook_secrets",
    only: None,
    tenantless: false,
};

/// The keys, open.
#[derive(Clone)]
pub struct Keys {
    pub secret_key: String,
    pub webhook_secrets: Vec<String>,
}

impl Keys {
    /// A live key: test-mode events are not taken on it.
    pub fn live(&self) -> bool {
        self.secret_key.starts_with("sk_live_") || self.secret_key.starts_with("rk_live_")
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysBody {
    /// The account's secret (or restricted) key: `sk_test_…`, `sk_live_…`, `rk_…`.
    pub secret_key: String,
    /// The webhook endpoint's signing secrets (`whsec_…`), one to three: during a rotation
    /// the old and the new are both accepted.
    pub webhook_secrets: Vec<String>,
}

/// What staff see of the keys.
#[derive(Serialize, ToSchema)]
pub struct KeysView {
    pub provider: &'static str,
    /// The key's prefix and last four characters (`sk_test_…4242`).
    pub secret_key: String,
    /// How many signing secrets are accepted.
    pub webhook_secrets: usize,
    /// Where the provider must send its events for this site.
    pub webhook_path: String,
}

fn mask(key: &str) -> String {
    let prefix: String = key.split('_').take(2).collect::<Vec<_>>().join("_");
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{prefix}_…{tail}")
}

fn view(tenant: &TenantId, keys: &Keys) -> KeysView {
    KeysView {
        provider: STRIPE,
        secret_key: mask(&keys.secret_key),
        webhook_secrets: keys.webhook_secrets.len(),
        webhook_path: format!("/api/v1/payments/webhooks/stripe/{}", tenant.as_str()),
    }
}

fn check(body: &KeysBody) -> Result<(), PaymentsError> {
    let mut problems = Vec::new();
    let k = body.secret_key.trim();
    let known = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];
    if !known.iter().any(|p| k.starts_with(p))
        || k.len() > 255
        || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        problems.push(faro_http::FieldProblem {
            path: "secret_key".into(),
            message: "a Stripe secret or restricted key: sk_test_…, sk_live_…, rk_test_… or \
                      rk_live_…"
                .into(),
        });
    }
    if body.webhook_secrets.is_empty() || body.webhook_secrets.len() > 3 {
        problems.push(faro_http::FieldProblem {
            path: "webhook_secrets".into(),
            message: "one to three signing secrets (whsec_…)".into(),
        });
    }
    for (i, s) in body.webhook_secrets.iter().enumerate() {
        if !s.starts_with("whsec_") || s.len() > 255 || s.chars().any(char::is_whitespace) {
            problems.push(faro_http::FieldProblem {
                path: format!("webhook_secrets[{i}]"),
                message: "a webhook signing secret: whsec_…".into(),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PaymentsError::Invalid(problems))
    }
}

fn id(tenant: &TenantId) -> String {
    format!("{}:{STRIPE}", tenant.as_str())
}

/// Stores the tenant's Stripe keys, sealed.
pub async fn put(
    p: &Payments,
    tenant: &TenantId,
    body: &KeysBody,
) -> Result<KeysView, PaymentsError> {
    check(body)?;
    let keys = Keys {
        secret_key: body.secret_key.trim().to_owned(),
        webhook_secrets: body.webhook_secrets.clone(),
    };
    let sealer = &p.core.sealer;
    let secret = sealer.seal_str(
        &SECRET_KEY_COLUMN.context_for(tenant.as_str()),
        &keys.secret_key,
    );
    let list = serde_json::to_string(&keys.webhook_secrets).map_err(PaymentsError::corrupt)?;
    let hooks = sealer.seal_str(&WEBHOOK_SECRETS_COLUMN.context_for(tenant.as_str()), &list);
    sqlx::query(
        "INSERT INTO payments_credentials (id, tenant_id, provider, secret_key, webhook_secrets, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
         secret_key = excluded.secret_key, webhook_secrets = excluded.webhook_secrets, \
         updated_at = excluded.updated_at",
    )
    .bind(id(tenant))
    .bind(tenant.as_str())
    .bind(STRIPE)
    .bind(secret)
    .bind(hooks)
    .bind(unix_now())
    .execute(p.core.db.writer())
    .await?;
    Ok(view(tenant, &keys))
}

/// The tenant's Stripe keys, open; `None` when it has none.
pub async fn stripe(p: &Payments, tenant: &TenantId) -> Result<Option<Keys>, PaymentsError> {
    let row =
        sqlx::query("SELECT secret_key, webhook_secrets FROM payments_credentials WHERE id = $1")
            .bind(id(tenant))
            .fetch_optional(p.core.db.reader())
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let sealer = &p.core.sealer;
    let secret: String = row.try_get(0)?;
    let hooks: String = row.try_get(1)?;
    let secret_key = sealer
        .open_str(&SECRET_KEY_COLUMN.context_for(tenant.as_str()), &secret)
        .map_err(|e| PaymentsError::corrupt(format!("the Stripe key: {e}")))?;
    let list = sealer
        .open_str(&WEBHOOK_SECRETS_COLUMN.context_for(tenant.as_str()), &hooks)
        .map_err(|e| PaymentsError::corrupt(format!("the Stripe signing secrets: {e}")))?;
    let webhook_secrets = serde_json::from_str(&list).map_err(PaymentsError::corrupt)?;
    Ok(Some(Keys {
        secret_key,
        webhook_secrets,
    }))
}

/// What staff see of the tenant's Stripe keys.
pub async fn get(p: &Payments, tenant: &TenantId) -> Result<KeysView, PaymentsError> {
    let keys = stripe(p, tenant).await?.ok_or(PaymentsError::NotFound(
        "no Stripe keys are set for this site",
    ))?;
    Ok(view(tenant, &keys))
}

/// Forgets the tenant's Stripe keys (payments go back to the test provider, or stop).
pub async fn delete(p: &Payments, tenant: &TenantId) -> Result<bool, PaymentsError> {
    let done = sqlx::query("DELETE FROM payments_credentials WHERE id = $1")
        .bind(id(tenant))
        .execute(p.core.db.writer())
        .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked() {
        assert_eq!(mask("sk_test_51HxYz4242"), "sk_test_…4242");
        assert_eq!(mask("rk_live_abc"), "rk_live_…_abc");
    }
}
