//! Payment intents: a quote's amount, or credits for the wallet, charged through the tenant's
//! provider. Created once per `Idempotency-Key` (and once per quote), then moved only by the
//! provider's events ([`crate::events`]). Today's provider is the built-in test provider;
//! Stripe and Mercado Pago adapters plug in behind the same row.

use faro_payments_domain::Intent;
use faro_payments_domain::decimal::format_scaled;
use faro_payments_domain::intent::ChargeError;
use faro_payments_domain::quote::Quote;
use faro_store::idempotency::{self, Reply};
use faro_store::{StoreError, TenantId, new_id, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::PaymentsError;
use crate::store::{self, IntentRow};
use crate::{Payments, credentials, settings, stripe};

/// The built-in provider (development and demos).
pub const TEST_PROVIDER: &str = "test";

/// What an intent pays for.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum Purpose {
    /// A quote from `POST /api/v1/payments/estimate`.
    Quote { quote_id: String },
    /// Credits for the payer's wallet (`POST /api/v1/wallet/topup`).
    WalletTopup { credits: i64 },
}

impl Purpose {
    fn scope(&self) -> &'static str {
        match self {
            Purpose::Quote { .. } => "payments.intent",
            Purpose::WalletTopup { .. } => "payments.topup",
        }
    }
}

/// An intent as its payer (and staff) see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IntentView {
    pub id: String,
    /// `requires_payment_method`, `requires_action`, `processing`, `succeeded` or `canceled`.
    #[schema(example = "requires_payment_method")]
    pub status: String,
    pub amount_cents: i64,
    /// The amount with two decimals ("0.30").
    #[schema(example = "0.30")]
    pub amount: String,
    #[schema(example = "EUR")]
    pub currency: String,
    /// `quote` or `wallet_topup`.
    pub purpose: String,
    /// The quote's id, or the number of credits bought.
    pub reference: String,
    /// `stripe`, or `test` (the built-in provider).
    pub provider: String,
    /// What the provider's client library needs to confirm the payment in the browser
    /// (Stripe.js's `confirmPayment`): in the answer to the create and its replays.
    pub client_secret: Option<String>,
    /// Why the last attempt failed, until one succeeds.
    pub last_error: Option<String>,
    pub refunded_cents: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl IntentView {
    pub fn of(row: &IntentRow) -> Result<IntentView, PaymentsError> {
        let intent: Intent = serde_json::from_str(&row.state).map_err(PaymentsError::corrupt)?;
        Ok(IntentView {
            id: row.id.clone(),
            status: row.status.clone(),
            amount_cents: row.amount_cents,
            amount: format_scaled(row.amount_cents, 2, 2),
            currency: row.currency.clone(),
            purpose: row.purpose.clone(),
            reference: row.reference.clone(),
            provider: row.provider.clone(),
            client_secret: (row.provider == TEST_PROVIDER).then(|| format!("test_{}", row.id)),
            last_error: intent.last_error.clone(),
            refunded_cents: intent.refunded_cents(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The status's wire name (`requires_payment_method`).
pub fn status_name(intent: &Intent) -> Result<String, PaymentsError> {
    match serde_json::to_value(intent.status).map_err(PaymentsError::corrupt)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(PaymentsError::corrupt(format!("status {other}"))),
    }
}

/// Creates an intent for `purpose`, paid by `user`, once per `Idempotency-Key`.
pub async fn create(
    p: &Payments,
    tenant: &TenantId,
    user: &str,
    key: Option<&str>,
    purpose: Purpose,
) -> Result<Reply, PaymentsError> {
    let key = idempotency::key(key)?;
    let db = &p.core.db;
    let (checked, _) = settings::load(db, tenant).await?;
    // The tenant's Stripe account when it has one; the test provider only when switched on.
    let stripe = credentials::stripe(p, tenant).await?;
    let provider = match (&stripe, checked.test_provider) {
        (Some(_), _) => stripe::PROVIDER,
        (None, true) => TEST_PROVIDER,
        (None, false) => {
            return Err(PaymentsError::NotConfigured(
                "this site takes no payments yet: an admin sets up a payment provider first",
            ));
        }
    };
    let hash = idempotency::hash(&purpose)?;
    let scope = purpose.scope();
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    // On PostgreSQL two requests with one key can both get past this; they meet at the reply's
    // primary key, where the second is refused (409 `idempotency_key_in_use`) and its retry
    // replays the first, as Stripe answers concurrent requests with one key.
    if let Some(first) = idempotency::earlier(&mut tx, tenant, scope, user, &key, &hash).await? {
        drop(tx);
        return match &stripe {
            Some(keys) => finish_stripe(p, tenant, keys, first).await,
            None => Ok(first),
        };
    }
    let (intent, reference) =
        match &purpose {
            Purpose::Quote { quote_id } => {
                let text = store::quote(&mut tx, tenant, quote_id).await?.ok_or(
                    PaymentsError::NotFound("no such quote (or it expired long ago)"),
                )?;
                let quote: Quote = serde_json::from_str(&text).map_err(PaymentsError::corrupt)?;
                let intent = Intent::for_quote(&quote, now).map_err(PaymentsError::Charge)?;
                (intent, quote_id.clone())
            }
            Purpose::WalletTopup { credits } => {
                let topup = checked.topup.ok_or(PaymentsError::NotConfigured(
                    "this site sells no credits: an admin sets a credit price first",
                ))?;
                if !(topup.min_credits..=topup.max_credits).contains(credits) {
                    return Err(PaymentsError::invalid(
                        "credits",
                        format!(
                            "between {} and {} credits per top-up",
                            topup.min_credits, topup.max_credits
                        ),
                    ));
                }
                let amount = credits
                    .checked_mul(topup.credit_price_cents)
                    .ok_or(PaymentsError::Charge(ChargeError::NothingToCharge))?;
                let intent = Intent::new(amount, &topup.currency).map_err(PaymentsError::Charge)?;
                (intent, credits.to_string())
            }
        };
    let id = new_id();
    let row = IntentRow {
        id: id.clone(),
        provider: provider.to_owned(),
        // The test provider's payment is ours; Stripe's id arrives after the call.
        provider_ref: (provider == TEST_PROVIDER).then(|| id.clone()),
        user_id: user.to_owned(),
        purpose: match purpose {
            Purpose::Quote { .. } => "quote".into(),
            Purpose::WalletTopup { .. } => "wallet_topup".into(),
        },
        reference,
        amount_cents: intent.amount_cents,
        currency: intent.currency.clone(),
        status: status_name(&intent)?,
        state: serde_json::to_string(&intent).map_err(PaymentsError::corrupt)?,
        created_at: now,
        updated_at: now,
    };
    match store::insert_intent(&mut tx, tenant, &row).await {
        Err(StoreError::Conflict(_)) => {
            return Err(PaymentsError::QuoteCharged);
        }
        other => other?,
    }
    let body = IntentView::of(&row)?;
    let reply =
        match idempotency::remember(&mut tx, tenant, scope, user, &key, &hash, 201, &body, now)
            .await
        {
            Err(StoreError::Conflict(_)) => return Err(PaymentsError::KeyInFlight),
            other => other?,
        };
    tx.commit().await?;
    match &stripe {
        Some(keys) => finish_stripe(p, tenant, keys, reply).await,
        None => Ok(reply),
    }
}

/// The provider's side of a Stripe intent, after its row and first reply are committed: the
/// PaymentIntent created (idempotently, so a retry after a failure here finds the same one)
/// and the reply completed with the client secret, which is never stored (Stripe's advice)
/// and so is fetched again for a replay.
async fn finish_stripe(
    p: &Payments,
    tenant: &TenantId,
    keys: &crate::credentials::Keys,
    reply: Reply,
) -> Result<Reply, PaymentsError> {
    let id = reply.body["id"]
        .as_str()
        .ok_or_else(|| PaymentsError::corrupt("a stored intent reply without an id"))?;
    let row = store::intent(&p.core.db, tenant, id)
        .await?
        .ok_or_else(|| PaymentsError::corrupt("a stored intent reply for no intent"))?;
    if row.provider != stripe::PROVIDER {
        return Ok(reply);
    }
    let secret = match &row.provider_ref {
        Some(pi) => stripe::client_secret(p, keys, pi).await?,
        None => {
            let (pi, secret) = stripe::create(p, keys, &row).await?;
            store::set_provider_ref(&p.core.db, tenant, &row.id, &pi).await?;
            Some(secret)
        }
    };
    let mut body = reply.body;
    body["client_secret"] = secret.map_or(serde_json::Value::Null, serde_json::Value::String);
    Ok(Reply { body, ..reply })
}

/// The intent `id`; with `user`, only if it is theirs (another user's is not found).
pub async fn one(
    p: &Payments,
    tenant: &TenantId,
    user: Option<&str>,
    id: &str,
) -> Result<IntentView, PaymentsError> {
    let row = store::intent(&p.core.db, tenant, id)
        .await?
        .filter(|r| user.is_none_or(|u| r.user_id == u))
        .ok_or(PaymentsError::NotFound("no such payment"))?;
    IntentView::of(&row)
}

/// The tenant's intents (`user`'s alone when given), newest first.
pub async fn list(
    p: &Payments,
    tenant: &TenantId,
    user: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> Result<Vec<IntentView>, PaymentsError> {
    store::list_intents(&p.core.db, tenant, user, before, limit)
        .await?
        .iter()
        .map(IntentView::of)
        .collect()
}
