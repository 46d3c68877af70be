//! Coupons of a promotion: one written by hand (`WELCOME10`), or a batch generated with a
//! check character (`FARO7K3QF9XAM`), unique in the tenant even across batches. A coupon
//! brings its promotion; its kind says how often it may be used (once, up to caps, or by one
//! customer) and an expiry ends it whatever the promotion's window says.

use faro_http::audit::{self, Actor, Entry};
use faro_promotions_domain::code::normalize;
use faro_promotions_domain::coupon::Target;
use faro_promotions_domain::{CodeFormat, Coupon, CouponKind, GenerateError, MAX_BATCH, demo};
use faro_store::{StoreError, TenantId, new_id, unix_now};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::Promotions;
use crate::error::PromotionsError;
use crate::store::coupons::{self as store, CouponRow, NewCoupon};

/// How often a batch draws again after a concurrent batch took one of its codes.
const BATCH_ATTEMPTS: usize = 3;

/// The tenant's format of generated codes: the demo's (`FARO`, 8 characters and the check
/// character) until tenants can set their own. Hand-written codes must not look like one.
pub fn code_format() -> CodeFormat {
    demo::code_format()
}

/// A coupon as staff see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PromotionCoupon {
    /// Normalised: upper case, without spaces or dashes.
    #[schema(example = "WELCOME10")]
    pub code: String,
    pub promotion_id: String,
    /// `{"type": "single_use"}`, `{"type": "multi_use", "max_uses"?, "max_uses_per_user"?}` or
    /// `{"type": "per_user", "user_id", "max_uses"}`.
    #[schema(value_type = Object)]
    pub kind: CouponKind,
    /// Unix seconds; the coupon works before this second.
    pub expires_at: Option<i64>,
    /// The batch that generated it (none for a hand-written code).
    pub batch_id: Option<String>,
    /// Uses so far (every customer).
    pub uses: i64,
    pub created_at: String,
}

/// A generated batch: its id and every code, in the order drawn.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CouponBatch {
    pub batch_id: String,
    pub count: usize,
    pub codes: Vec<String>,
}

/// What staff ask of a batch.
pub struct BatchInput {
    pub count: i64,
    /// Replaces the format's prefix (A-Z and 0-9, up to 12 characters; empty for none).
    pub prefix: Option<String>,
    pub kind: CouponKind,
    pub expires_at: Option<i64>,
}

fn kind_word(kind: &CouponKind) -> &'static str {
    match kind {
        CouponKind::SingleUse => "single_use",
        CouponKind::MultiUse { .. } => "multi_use",
        CouponKind::PerUser { .. } => "per_user",
    }
}

fn coupon(code: String, promotion_id: &str, kind: CouponKind, expires_at: Option<i64>) -> Coupon {
    Coupon {
        code,
        kind,
        expires_at,
        target: Target::Promotion {
            promotion_id: promotion_id.to_owned(),
        },
    }
}

/// The coupon's row (its promotion copied out for lists).
pub(crate) fn new_row(c: &Coupon, batch_id: Option<&str>) -> Result<NewCoupon, StoreError> {
    let promotion_id = match &c.target {
        Target::Promotion { promotion_id } => Some(promotion_id.clone()),
        Target::Reward { .. } => None,
    };
    Ok(NewCoupon {
        code: c.code.clone(),
        promotion_id,
        kind: kind_word(&c.kind),
        doc: serde_json::to_string(c).map_err(|e| StoreError::Other(e.to_string()))?,
        expires_at: c.expires_at,
        batch_id: batch_id.map(str::to_owned),
    })
}

fn expiry_problem(expires_at: Option<i64>, now: i64) -> Option<faro_promotions_domain::Problem> {
    expires_at.filter(|&at| at <= now).map(|_| {
        faro_promotions_domain::Problem::new(
            "expires_at",
            "in the future (unix seconds), or leave it out",
        )
    })
}

async fn require_promotion(
    tx: &mut crate::store::Tx,
    tenant: &TenantId,
    promotion_id: &str,
) -> Result<(), PromotionsError> {
    if store::promotion_exists(tx, tenant, promotion_id).await? {
        Ok(())
    } else {
        Err(PromotionsError::NotFound("no such promotion"))
    }
}

/// Adds a hand-written code to the promotion.
pub async fn create(
    p: &Promotions,
    tenant: &TenantId,
    promotion_id: &str,
    code: &str,
    kind: CouponKind,
    expires_at: Option<i64>,
    by: &Actor,
) -> Result<PromotionCoupon, PromotionsError> {
    let now = unix_now();
    let c = coupon(normalize(code), promotion_id, kind, expires_at);
    let mut problems = c.check(&code_format(), &[promotion_id]);
    problems.extend(expiry_problem(expires_at, now));
    if !problems.is_empty() {
        return Err(PromotionsError::problems(problems, ""));
    }
    let mut tx = p.core.db.begin_write().await?;
    require_promotion(&mut tx, tenant, promotion_id).await?;
    if store::insert(&mut tx, tenant, &[new_row(&c, None)?], now).await? == 0 {
        return Err(PromotionsError::CodeTaken(c.code));
    }
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor: by,
            action: "promotions.coupon_created",
            target: promotion_id,
            before: None,
            after: serde_json::to_value(&c).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PromotionCoupon {
        code: c.code,
        promotion_id: promotion_id.to_owned(),
        kind: c.kind,
        expires_at,
        batch_id: None,
        uses: 0,
        created_at: faro_http::respond::rfc3339(now),
    })
}

/// The batch's format, or every problem of the input.
fn batch_format(
    input: &BatchInput,
    promotion_id: &str,
    now: i64,
) -> Result<CodeFormat, PromotionsError> {
    let mut format = code_format();
    if let Some(prefix) = &input.prefix {
        format.prefix = normalize(prefix);
    }
    let mut problems = format.check();
    if !(1..=MAX_BATCH as i64).contains(&input.count) {
        problems.push(faro_promotions_domain::Problem::new(
            "count",
            format!("from 1 to {MAX_BATCH} codes at a time"),
        ));
    }
    // The kind's own problems, judged on a placeholder code.
    let sample = coupon("SAMPLE".into(), promotion_id, input.kind.clone(), None);
    problems.extend(
        sample
            .check(&code_format(), &[promotion_id])
            .into_iter()
            .filter(|p| p.path.starts_with("kind")),
    );
    problems.extend(expiry_problem(input.expires_at, now));
    if problems.is_empty() {
        Ok(format)
    } else {
        Err(PromotionsError::problems(problems, ""))
    }
}

/// Generates `count` new codes for the promotion, none already in the tenant.
pub async fn batch(
    p: &Promotions,
    tenant: &TenantId,
    promotion_id: &str,
    input: BatchInput,
    by: &Actor,
) -> Result<CouponBatch, PromotionsError> {
    let now = unix_now();
    let format = batch_format(&input, promotion_id, now)?;
    let count = usize::try_from(input.count).unwrap_or(0);
    let code_len = format.prefix.len() + format.length + 1;
    let batch_id = new_id();
    for _ in 0..BATCH_ATTEMPTS {
        let mut tx = p.core.db.begin_write().await?;
        require_promotion(&mut tx, tenant, promotion_id).await?;
        let taken = store::taken(&mut tx, tenant, &format.prefix, code_len).await?;
        let codes = {
            let mut rng = rand::rng();
            faro_promotions_domain::generate(&format, count, &mut rng, &taken)
        }
        .map_err(|e| match e {
            GenerateError::SpaceTooSmall { .. } | GenerateError::CountOutOfRange { .. } => {
                PromotionsError::invalid("count", e.to_string())
            }
            GenerateError::InvalidFormat { problems } => PromotionsError::problems(problems, ""),
            GenerateError::TooManyCollisions => PromotionsError::Generate(e),
        })?;
        let rows = codes
            .iter()
            .map(|code| {
                let c = coupon(
                    code.clone(),
                    promotion_id,
                    input.kind.clone(),
                    input.expires_at,
                );
                new_row(&c, Some(&batch_id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Fewer rows written than drawn: a concurrent batch took a code first. Draw again.
        if store::insert(&mut tx, tenant, &rows, now).await? != rows.len() as u64 {
            continue;
        }
        audit::record(
            &mut tx,
            Entry {
                tenant,
                actor: by,
                action: "promotions.coupons_generated",
                target: promotion_id,
                before: None,
                after: Some(json!({"batch_id": batch_id, "count": count,
                    "prefix": format.prefix, "kind": input.kind,
                    "expires_at": input.expires_at})),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(CouponBatch {
            batch_id,
            count,
            codes,
        });
    }
    Err(PromotionsError::Generate(GenerateError::TooManyCollisions))
}

fn view(r: CouponRow, promotion_id: &str) -> Result<PromotionCoupon, PromotionsError> {
    let c: Coupon = serde_json::from_str(&r.doc).map_err(PromotionsError::corrupt)?;
    Ok(PromotionCoupon {
        code: r.code,
        promotion_id: promotion_id.to_owned(),
        kind: c.kind,
        expires_at: c.expires_at,
        batch_id: r.batch_id,
        uses: r.uses,
        created_at: faro_http::respond::rfc3339(r.created_at),
    })
}

/// A page of the promotion's coupons by code, with their use counts (`limit + 1` of them).
pub async fn list(
    p: &Promotions,
    tenant: &TenantId,
    promotion_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<PromotionCoupon>, PromotionsError> {
    if crate::store::promotion(&p.core.db, tenant, promotion_id)
        .await?
        .is_none()
    {
        return Err(PromotionsError::NotFound("no such promotion"));
    }
    store::list(&p.core.db, tenant, promotion_id, after, limit)
        .await?
        .into_iter()
        .map(|r| view(r, promotion_id))
        .collect()
}
