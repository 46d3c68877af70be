//! A request's price, factor by factor, as the converter's estimate endpoint shows it:
//!
//! ```text
//! price = (base × size × quality × each feature's multiplier + each add-on) × load
//! ```
//!
//! Every step is exact: base and add-ons are micro-units, each factor ten-thousandths, and the
//! product is kept whole ([`crate::exact`]) until the one rounding, half-up to the cent, at
//! the end. No float is involved. The breakdown also shows the exact subtotal (before load)
//! and total ("0.297") next to the rounded price ("0.30").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{Feature, Pricing};
use crate::decimal::{Factor, Megabytes, Money};
use crate::exact::Natural;
use crate::quote::Quote;
use crate::routes::{self, Resolution};

/// Decimal places between a micro-unit and a cent (1 cent = 10^4 micro-units).
const CENT_DIGITS: u32 = 4;

/// What a client asks to price (the seed's and the spec's request body). Formats, quality and
/// features are read case-insensitively; a format may carry its dot (`.PDF`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    pub source_format: String,
    pub target_format: String,
    pub file_size_mb: Megabytes,
    pub quality: String,
    #[serde(default)]
    pub features: Vec<String>,
    /// A what-if load factor. Only staff may set it: the caller must refuse it from anyone
    /// else, since it overrides the queue's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_load_factor: Option<Factor>,
}

impl EstimateRequest {
    /// Formats without their dot, and every name in lowercase.
    pub fn normalized(&self) -> EstimateRequest {
        let name = |s: &str| s.trim().to_ascii_lowercase();
        let format = |s: &str| name(s).trim_start_matches('.').to_owned();
        EstimateRequest {
            source_format: format(&self.source_format),
            target_format: format(&self.target_format),
            quality: name(&self.quality),
            features: self.features.iter().map(|f| name(f)).collect(),
            ..self.clone()
        }
    }
}

/// Where the load factor came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoadSource {
    /// The tenant's curve at this many queued and running conversions.
    Queue { depth: u64 },
    /// Staff's explicit factor.
    WhatIf,
}

/// One requested feature and what it does to the price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureLine {
    pub key: String,
    #[serde(flatten)]
    pub feature: Feature,
}

/// Each factor of a price, in the order they apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub currency: String,
    pub conversion_type: String,
    pub base_price: Money,
    /// The size tier's key (the seed's `size_category`: small, medium…).
    pub size_category: String,
    pub size_multiplier: Factor,
    pub quality: String,
    pub quality_multiplier: Factor,
    pub features: Vec<FeatureLine>,
    /// The add-ons' sum (the seed's `feature_cost`), before load.
    pub feature_cost: Money,
    pub server_load_factor: Factor,
    pub load: LoadSource,
    /// Exact, before load: base × size × quality × multipliers + add-ons ("0.27").
    pub subtotal: String,
    /// Exact, after load ("0.297").
    pub exact_total: String,
    /// Rounded half-up to the cent: what a payment charges.
    pub total_cents: i64,
    /// The same with two decimals ("0.30").
    pub total_price: String,
}

/// Why a request cannot be priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PricingError {
    /// `field` is `source_format` or `target_format`.
    UnknownFormat {
        field: &'static str,
        format: String,
    },
    SameFormat {
        format: String,
    },
    UnsupportedConversion {
        from: String,
        to: String,
    },
    SizeNotPositive,
    SizeTooLarge {
        max_mb: Megabytes,
    },
    UnknownQuality {
        quality: String,
        known: Vec<String>,
    },
    UnknownFeature {
        feature: String,
    },
    RepeatedFeature {
        feature: String,
    },
    LoadOutOfRange {
        factor: Factor,
        min: Factor,
        max: Factor,
    },
    /// The price does not fit in 64 bits of cents (only with extreme multipliers).
    TooLarge,
}

impl PricingError {
    /// A stable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            PricingError::UnknownFormat { .. } => "unknown_format",
            PricingError::SameFormat { .. } => "same_format",
            PricingError::UnsupportedConversion { .. } => "unsupported_conversion",
            PricingError::SizeNotPositive => "size_not_positive",
            PricingError::SizeTooLarge { .. } => "size_too_large",
            PricingError::UnknownQuality { .. } => "unknown_quality",
            PricingError::UnknownFeature { .. } => "unknown_feature",
            PricingError::RepeatedFeature { .. } => "repeated_feature",
            PricingError::LoadOutOfRange { .. } => "load_out_of_range",
            PricingError::TooLarge => "price_too_large",
        }
    }

    /// The request field it is about.
    pub fn field(&self) -> &'static str {
        match self {
            PricingError::UnknownFormat { field, .. } => field,
            PricingError::SameFormat { .. } | PricingError::UnsupportedConversion { .. } => {
                "target_format"
            }
            PricingError::SizeNotPositive | PricingError::SizeTooLarge { .. } => "file_size_mb",
            PricingError::UnknownQuality { .. } => "quality",
            PricingError::UnknownFeature { .. } | PricingError::RepeatedFeature { .. } => {
                "features"
            }
            PricingError::LoadOutOfRange { .. } => "server_load_factor",
            PricingError::TooLarge => "",
        }
    }
}

impl fmt::Display for PricingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PricingError::UnknownFormat { format, .. } => write!(f, "unknown format '{format}'"),
            PricingError::SameFormat { format } => {
                write!(
                    f,
                    "the file is already {format}: pick another target format"
                )
            }
            PricingError::UnsupportedConversion { from, to } => {
                write!(f, "{from} cannot be converted to {to}")
            }
            PricingError::SizeNotPositive => f.write_str("the file size must be more than 0 MB"),
            PricingError::SizeTooLarge { max_mb } => write!(f, "files up to {max_mb} MB"),
            PricingError::UnknownQuality { quality, known } => {
                write!(
                    f,
                    "unknown quality '{quality}': one of {}",
                    known.join(", ")
                )
            }
            PricingError::UnknownFeature { feature } => write!(f, "unknown feature '{feature}'"),
            PricingError::RepeatedFeature { feature } => {
                write!(f, "feature '{feature}' is listed twice")
            }
            PricingError::LoadOutOfRange { factor, min, max } => {
                write!(f, "load factor {factor} is outside {min} to {max}")
            }
            PricingError::TooLarge => f.write_str("the price is too large"),
        }
    }
}

impl std::error::Error for PricingError {}

/// The request priced now, valid for the tenant's quote validity from `now` (unix seconds).
/// `queue_depth` is the conversions queued and running; a what-if factor in the request
/// replaces the curve's. The quote's id is the caller's.
pub fn estimate(
    pricing: &Pricing,
    request: &EstimateRequest,
    queue_depth: u64,
    now: i64,
) -> Result<Quote, PricingError> {
    let request = request.normalized();
    let breakdown = breakdown(pricing, &request, queue_depth)?;
    Ok(Quote {
        request,
        breakdown,
        issued_at: now,
        expires_at: now.saturating_add(pricing.config().quote_validity_secs),
    })
}

/// Each factor of the request's price and the total.
pub fn breakdown(
    pricing: &Pricing,
    request: &EstimateRequest,
    queue_depth: u64,
) -> Result<Breakdown, PricingError> {
    let r = request.normalized();
    let c = pricing.config();
    for (field, format) in [
        ("source_format", &r.source_format),
        ("target_format", &r.target_format),
    ] {
        if !c.formats.contains_key(format) {
            return Err(PricingError::UnknownFormat {
                field,
                format: format.clone(),
            });
        }
    }
    if r.source_format == r.target_format {
        return Err(PricingError::SameFormat {
            format: r.source_format,
        });
    }
    let conversion = match routes::resolve(c, &r.source_format, &r.target_format) {
        Resolution::One(t) => t,
        // Ambiguity never survives a checked configuration; refuse rather than guess.
        Resolution::Unsupported | Resolution::Ambiguous(_) => {
            return Err(PricingError::UnsupportedConversion {
                from: r.source_format,
                to: r.target_format,
            });
        }
    };

    if r.file_size_mb.thousandths() <= 0 {
        return Err(PricingError::SizeNotPositive);
    }
    let too_large = PricingError::SizeTooLarge {
        max_mb: c.max_file_size_mb,
    };
    if r.file_size_mb > c.max_file_size_mb {
        return Err(too_large);
    }
    let tier = pricing.size_tier(r.file_size_mb).ok_or(too_large)?;

    let quality_multiplier =
        *c.qualities
            .get(&r.quality)
            .ok_or_else(|| PricingError::UnknownQuality {
                quality: r.quality.clone(),
                known: c.qualities.keys().cloned().collect(),
            })?;

    let mut features: Vec<FeatureLine> = Vec::new();
    for key in &r.features {
        let feature = *c
            .features
            .get(key)
            .ok_or_else(|| PricingError::UnknownFeature {
                feature: key.clone(),
            })?;
        if features.iter().any(|l| &l.key == key) {
            return Err(PricingError::RepeatedFeature {
                feature: key.clone(),
            });
        }
        features.push(FeatureLine {
            key: key.clone(),
            feature,
        });
    }

    let (load_factor, load) = match r.server_load_factor {
        Some(factor) if !c.load.allows(factor) => {
            return Err(PricingError::LoadOutOfRange {
                factor,
                min: c.load.min,
                max: c.load.max,
            });
        }
        Some(factor) => (factor, LoadSource::WhatIf),
        None => (
            c.load.factor(queue_depth),
            LoadSource::Queue { depth: queue_depth },
        ),
    };

    // The exact value counts 10^-(6 + scale) units of the currency.
    let mut value = Natural::from_u64(whole(conversion.base_price.micros())?);
    value.mul_small(small(tier.multiplier)?);
    value.mul_small(small(quality_multiplier)?);
    let mut scale = 2 * Factor::SCALE;
    let mut feature_cost: i64 = 0;
    for line in &features {
        match line.feature {
            Feature::Multiplier { multiplier } => {
                value.mul_small(small(multiplier)?);
                scale += Factor::SCALE;
            }
            Feature::AddOn { price } => {
                feature_cost = feature_cost
                    .checked_add(price.micros())
                    .ok_or(PricingError::TooLarge)?;
            }
        }
    }
    let mut add_ons = Natural::from_u64(whole(feature_cost)?);
    add_ons.mul_pow10(scale);
    value.add(&add_ons);
    let subtotal = value.to_decimal(Money::SCALE + scale, 2);
    value.mul_small(small(load_factor)?);
    scale += Factor::SCALE;
    let exact_total = value.to_decimal(Money::SCALE + scale, 2);
    let total_cents = value
        .round_half_up(scale + CENT_DIGITS)
        .to_u64()
        .and_then(|c| i64::try_from(c).ok())
        .ok_or(PricingError::TooLarge)?;

    Ok(Breakdown {
        currency: c.currency.clone(),
        conversion_type: conversion.key.clone(),
        base_price: conversion.base_price,
        size_category: tier.key.clone(),
        size_multiplier: tier.multiplier,
        quality: r.quality,
        quality_multiplier,
        features,
        feature_cost: Money::from_micros(feature_cost),
        server_load_factor: load_factor,
        load,
        subtotal,
        exact_total,
        total_cents,
        total_price: crate::decimal::format_scaled(total_cents, 2, 2),
    })
}

/// A checked configuration's amounts are never negative; refuse rather than wrap if one is.
fn whole(micros: i64) -> Result<u64, PricingError> {
    u64::try_from(micros).map_err(|_| PricingError::TooLarge)
}

/// A checked multiplier is at most 100.0 (1,000,000 ten-thousandths), well within `u32`.
fn small(f: Factor) -> Result<u32, PricingError> {
    u32::try_from(f.ten_thousandths()).map_err(|_| PricingError::TooLarge)
}
