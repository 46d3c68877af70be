//! Staff creating, reading, replacing and deleting a tenant's promotions. A promotion is the
//! domain's document, checked whole (every problem with its path, nothing written when there
//! is one); each change is audited in its own transaction.

use faro_http::audit::{self, Actor, Entry};
use faro_promotions_domain::window::Phase;
use faro_promotions_domain::{Promotion, demo};
use faro_store::{StoreError, TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Promotions;
use crate::error::PromotionsError;
use crate::store::{self, PromotionRow, PromotionWrite};

/// Every public read and each run of the window job loads a tenant's promotions whole, so a
/// tenant keeps a bounded number of them.
pub const MAX_PROMOTIONS: usize = 1_000;

/// The loyalty tiers `conditions.min_tier` may name. Loyalty is not a module yet, so every
/// tenant has the demo's table (Bronze, Silver, Gold) and no customer has reached a tier.
pub fn tier_names() -> Vec<String> {
    demo::tiers().names()
}

/// A promotion as staff see it: the document, where its window stands now and its counters.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PromotionView {
    /// The promotion as written (`id`, `name`, `scope`, `conditions`, `reward`, `window`,
    /// `budget`, `stackable`, `priority`, `requires_coupon`).
    #[schema(value_type = Object)]
    pub promotion: Promotion,
    /// `scheduled`, `active` or `ended`, now.
    #[schema(example = "active")]
    pub status: &'static str,
    /// Uses so far (every customer): checkout counts them.
    pub uses: i64,
    /// Given away so far, in the budget's unit (cents, or credits for bonus credits).
    pub spent: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub fn status(p: &Promotion, now: i64) -> &'static str {
    match p.window.phase(now) {
        Phase::NotStarted => "scheduled",
        Phase::Active => "active",
        Phase::Ended => "ended",
    }
}

/// A stored document, parsed (a failure is a corrupt row: it was checked when written).
pub fn parse(doc: &str) -> Result<Promotion, PromotionsError> {
    serde_json::from_str(doc).map_err(PromotionsError::corrupt)
}

fn view(row: PromotionRow, now: i64) -> Result<PromotionView, PromotionsError> {
    let promotion = parse(&row.doc)?;
    Ok(PromotionView {
        status: status(&promotion, now),
        promotion,
        uses: row.uses,
        spent: row.spent,
        created_at: faro_http::respond::rfc3339(row.created_at),
        updated_at: faro_http::respond::rfc3339(row.updated_at),
    })
}

fn check(promotion: &Promotion) -> Result<String, PromotionsError> {
    let problems = promotion.check(&tier_names());
    if !problems.is_empty() {
        return Err(PromotionsError::problems(problems, ""));
    }
    serde_json::to_string(promotion).map_err(|e| StoreError::Other(e.to_string()).into())
}

fn write<'a>(promotion: &'a Promotion, doc: &'a str, at: i64) -> PromotionWrite<'a> {
    PromotionWrite {
        id: &promotion.id,
        name: promotion.name.trim(),
        doc,
        starts_at: promotion.window.starts_at,
        ends_at: promotion.window.ends_at,
        at,
    }
}

pub async fn create(
    p: &Promotions,
    tenant: &TenantId,
    promotion: Promotion,
    by: &Actor,
) -> Result<PromotionView, PromotionsError> {
    let doc = check(&promotion)?;
    let now = unix_now();
    let mut tx = p.core.db.begin_write().await?;
    if store::count_promotions(&mut tx, tenant).await? >= MAX_PROMOTIONS as i64 {
        return Err(PromotionsError::TooManyPromotions(MAX_PROMOTIONS));
    }
    if !store::insert_promotion(&mut tx, tenant, &write(&promotion, &doc, now)).await? {
        return Err(PromotionsError::PromotionExists(promotion.id));
    }
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by,
            action: "promotions.promotion_created",
            target: &promotion.id,
            before: None,
            after: serde_json::to_value(&promotion).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    get(p, tenant, &promotion.id).await
}

/// Replaces the promotion `id` whole (its counters stay). The document's `id` must be `id`:
/// coupons and events name a promotion by it, so it never changes.
pub async fn update(
    p: &Promotions,
    tenant: &TenantId,
    id: &str,
    promotion: Promotion,
    by: &Actor,
) -> Result<PromotionView, PromotionsError> {
    if promotion.id != id {
        return Err(PromotionsError::invalid(
            "id",
            format!("the id in the path, {id:?}: a promotion's id never changes"),
        ));
    }
    let doc = check(&promotion)?;
    let now = unix_now();
    let mut tx = p.core.db.begin_write().await?;
    let before = store::promotion_doc(&mut tx, tenant, id).await?;
    let Some(before) = before else {
        return Err(PromotionsError::NotFound("no such promotion"));
    };
    store::update_promotion(&mut tx, tenant, &write(&promotion, &doc, now)).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by,
            action: "promotions.promotion_updated",
            target: id,
            before: serde_json::from_str(&before).ok(),
            after: serde_json::to_value(&promotion).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    get(p, tenant, id).await
}

/// Deletes the promotion with its coupons: a code of a deleted promotion is unknown from then.
pub async fn delete(
    p: &Promotions,
    tenant: &TenantId,
    id: &str,
    by: &Actor,
) -> Result<(), PromotionsError> {
    let mut tx = p.core.db.begin_write().await?;
    let Some(before) = store::promotion_doc(&mut tx, tenant, id).await? else {
        return Err(PromotionsError::NotFound("no such promotion"));
    };
    store::delete_promotion(&mut tx, tenant, id).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by,
            action: "promotions.promotion_deleted",
            target: id,
            before: serde_json::from_str(&before).ok(),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get(
    p: &Promotions,
    tenant: &TenantId,
    id: &str,
) -> Result<PromotionView, PromotionsError> {
    let row = store::promotion(&p.core.db, tenant, id)
        .await?
        .ok_or(PromotionsError::NotFound("no such promotion"))?;
    view(row, unix_now())
}

/// A page of the tenant's promotions by id (`limit + 1` of them: the caller cuts the page).
pub async fn list(
    p: &Promotions,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<PromotionView>, PromotionsError> {
    let now = unix_now();
    store::list_promotions(&p.core.db, tenant, after, limit)
        .await?
        .into_iter()
        .map(|r| view(r, now))
        .collect()
}
