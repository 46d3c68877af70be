//! What customers see: the tenant's promotions running now (public fields only), and whether
//! one applies to the signed-in customer, with every reason why not.
//!
//! The customer is who the module knows: their id and their paid orders (from the outbox,
//! [`crate::orders`]). Segments, loyalty tiers and customer attributes are not kept by any
//! module yet, so they are empty: a promotion that needs one reports it as unmet.
//!
//! The cart is optional and has one line (`sku`, `category`, `price_cents`, `quantity`): with
//! it, every condition is judged; without it, only the customer's side (the window, first
//! purchase, segments, tier, `customer.*` rules and the budgets), since "no item in scope"
//! says nothing about an empty cart.

use faro_promotions_domain::reason::Code;
use faro_promotions_domain::{
    Cart, Customer, Line, Promotion, Reward, Scope, Usage, eligibility as judge,
};
use faro_store::{TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Promotions;
use crate::error::PromotionsError;
use crate::manage::parse;
use crate::store;

/// A running promotion as anyone may see it: no budgets, segments or attribute rules.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActivePromotion {
    #[schema(example = "bonus-200")]
    pub id: String,
    pub name: String,
    /// `{"type": "all"}`, `{"type": "categories", "categories": [..]}` or
    /// `{"type": "items", "skus": [..]}`.
    #[schema(value_type = Object)]
    pub scope: Scope,
    /// `percent_off` (`bps`, `max_discount`?), `amount_off` (`amount`), `buy_x_get_y`
    /// (`buy`, `get`) or `bonus_credits` (`credits`); amounts in cents.
    #[schema(value_type = Object)]
    pub reward: Reward,
    /// Unix seconds: the window `[starts_at, ends_at)`.
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    /// The smallest cart it applies to, in cents.
    pub min_ticket: Option<i64>,
    /// Only on a customer's first paid order.
    pub first_purchase: bool,
    /// The loyalty tier needed (this one or above).
    pub min_tier: Option<String>,
    /// Combines with other stackable offers.
    pub stackable: bool,
    /// Only through one of its coupon codes.
    pub requires_coupon: bool,
}

impl From<Promotion> for ActivePromotion {
    fn from(p: Promotion) -> Self {
        ActivePromotion {
            id: p.id,
            name: p.name,
            scope: p.scope,
            reward: p.reward,
            starts_at: p.window.starts_at,
            ends_at: p.window.ends_at,
            min_ticket: p.conditions.min_ticket,
            first_purchase: p.conditions.first_purchase,
            min_tier: p.conditions.min_tier,
            stackable: p.stackable,
            requires_coupon: p.requires_coupon,
        }
    }
}

/// The tenant's promotions whose window holds now, by id.
pub async fn active(
    p: &Promotions,
    tenant: &TenantId,
) -> Result<Vec<ActivePromotion>, PromotionsError> {
    store::active_promotions(&p.core.db, tenant, unix_now())
        .await?
        .into_iter()
        .map(|r| parse(&r.doc).map(ActivePromotion::from))
        .collect()
}

/// One reason a promotion does not apply.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PromotionReason {
    /// Stable: `not_started`, `ended`, `below_minimum_ticket`, `not_first_purchase`,
    /// `segment`, `tier`, `attribute`, `global_budget_exhausted`, `user_budget_exhausted`,
    /// `spend_budget_exhausted`, `no_item_in_scope`, `not_enough_items`.
    #[schema(example = "below_minimum_ticket")]
    pub code: &'static str,
    #[schema(example = "the cart is 10.00 below the minimum of 30.00")]
    pub message: String,
}

/// Eligible exactly when there is no reason against.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PromotionEligibility {
    pub eligible: bool,
    pub reasons: Vec<PromotionReason>,
}

/// The one-line cart of the query, as given (every field optional).
#[derive(Clone, Debug, Default)]
pub struct CartInput {
    pub sku: Option<String>,
    pub category: Option<String>,
    pub price_cents: Option<i64>,
    pub quantity: Option<i64>,
}

/// The cart, `None` when the query names none, or every problem named by its parameter.
fn cart(input: CartInput) -> Result<Option<Cart>, PromotionsError> {
    if input.sku.is_none()
        && input.category.is_none()
        && input.price_cents.is_none()
        && input.quantity.is_none()
    {
        return Ok(None);
    }
    let (Some(sku), Some(price)) = (input.sku, input.price_cents) else {
        return Err(PromotionsError::invalid(
            "sku",
            "a cart needs at least `sku` and `price_cents` (with `category` and `quantity` \
             optional)",
        ));
    };
    let line = Line {
        sku,
        category: input.category.unwrap_or_default(),
        unit_price: price,
        quantity: input.quantity.unwrap_or(1),
    };
    let cart = Cart::new(vec![line]);
    let problems: Vec<_> = cart
        .check()
        .into_iter()
        .map(|mut p| {
            // `lines[0].unit_price` is the query's `price_cents`.
            let field = p.path.rsplit('.').next().unwrap_or_default();
            p.path = match field {
                "unit_price" => "price_cents".to_owned(),
                other => other.to_owned(),
            };
            p
        })
        .collect();
    if problems.is_empty() {
        Ok(Some(cart))
    } else {
        Err(PromotionsError::problems(problems, ""))
    }
}

/// The promotion without what only a cart can meet, and the codes that only a cart can clear.
fn customer_side(mut promotion: Promotion) -> Promotion {
    promotion.conditions.min_ticket = None;
    promotion
        .conditions
        .attributes
        .retain(|rule| !rule.prop.starts_with("cart."));
    promotion
}

/// Whether `promotion_id` applies to `user` (with the cart, when given) now.
pub async fn check(
    p: &Promotions,
    tenant: &TenantId,
    user: &str,
    promotion_id: &str,
    input: CartInput,
) -> Result<PromotionEligibility, PromotionsError> {
    let cart = cart(input)?;
    let row = store::promotion(&p.core.db, tenant, promotion_id)
        .await?
        .ok_or(PromotionsError::NotFound("no such promotion"))?;
    let promotion = parse(&row.doc)?;
    let offer = format!("promotion:{}", promotion.id);
    let user_uses = store::user_uses(&p.core.db, tenant, &offer, user).await?;
    let orders = store::paid_orders(&p.core.db, tenant, user).await?;
    let mut customer = Customer::new(user);
    customer.previous_orders = u64::try_from(orders).unwrap_or(0);
    let usage = Usage {
        uses: u64::try_from(row.uses).unwrap_or(0),
        user_uses: u64::try_from(user_uses).unwrap_or(0),
        spent: row.spent,
    };
    let now = unix_now();
    let judged = match cart {
        Some(cart) => judge(&promotion, &customer, &cart, usage, now).reasons,
        None => judge(
            &customer_side(promotion),
            &customer,
            &Cart::default(),
            usage,
            now,
        )
        .reasons
        .into_iter()
        .filter(|r| !matches!(r.code, Code::NoItemInScope | Code::NotEnoughItems))
        .collect(),
    };
    Ok(PromotionEligibility {
        eligible: judged.is_empty(),
        reasons: judged
            .into_iter()
            .map(|r| PromotionReason {
                code: r.code.as_str(),
                message: r.message,
            })
            .collect(),
    })
}
