//! The converter's price tables (seed 002: "Modelo de Precios", `GET /api/payments/pricing-tiers`
//! and the estimate endpoint) as data: what the demo tenant ships, and a tenant's starting
//! point. Its worked examples are the tests below.
//!
//! Readings of the seed, where it is silent or contradicts itself:
//! - Formats and categories are the seed's `format_categories`. Its `supported_conversions`
//!   lists only conversions within a category; "Conversiones complejas: €0.40" names no
//!   pair, so `complex` covers video → audio (a soundtrack), pdf → image and image → pdf. (The
//!   seed's `total_conversions: 144` matches no listing it gives; ours is 127 pairs.)
//! - Size tiers: "Pequeño (≤10MB)", "Mediano (10-50MB)"…: a bound belongs to the smaller
//!   tier (10 MB is small, 10.001 MB medium), as "≤10MB" says. The seed's upload limit
//!   (`MAX_CONTENT_LENGTH=500MB`) would leave its XXL tier (">500MB", 4.0×) unreachable;
//!   we keep the tier and accept files up to 1,000 MB.
//! - Features: the seed names one, `batch_processing`, and its example prices it at
//!   `feature_cost: 0.0` (0.05 × 1.0 × 1.3 × 1.14 = 0.0741 → €0.07 only holds if it adds
//!   nothing). It is a €0.00 add-on here; a tenant prices its own features.
//! - Load: the line 1.0 + 0.02 per queued job up to 1.5 (see [`crate::load`]).
//! - A quote lasts 10 minutes ("valid for a few minutes", issue 12).

use serde_json::json;

use crate::config::{Pricing, PricingConfig};

/// The demo tenant's pricing configuration.
pub fn config() -> PricingConfig {
    let mut formats = serde_json::Map::new();
    for (category, list) in [
        (
            "image",
            ["jpg", "png", "gif", "bmp", "tiff", "webp"].as_slice(),
        ),
        ("document", &["pdf", "docx", "txt", "rtf", "odt"]),
        ("audio", &["mp3", "wav", "flac", "aac", "ogg"]),
        ("video", &["mp4", "avi", "mov", "wmv", "flv"]),
    ] {
        for format in list {
            formats.insert((*format).to_owned(), json!(category));
        }
    }
    let value = json!({
        "currency": "EUR",
        "formats": formats,
        "conversion_types": [
            {"key": "image_to_image", "base_price": 0.05, "routes": ["image->image"]},
            {"key": "document_to_document", "base_price": 0.10, "routes": ["document->document"]},
            {"key": "audio_to_audio", "base_price": 0.15, "routes": ["audio->audio"]},
            {"key": "video_to_video", "base_price": 0.25, "routes": ["video->video"]},
            {"key": "complex", "base_price": 0.40,
             "routes": ["video->audio", "pdf->image", "image->pdf"]}
        ],
        "size_tiers": [
            {"key": "small", "max_mb": 10, "multiplier": 1.0},
            {"key": "medium", "max_mb": 50, "multiplier": 1.5},
            {"key": "large", "max_mb": 100, "multiplier": 2.0},
            {"key": "extra_large", "max_mb": 500, "multiplier": 3.0},
            {"key": "xxl", "multiplier": 4.0}
        ],
        "max_file_size_mb": 1000,
        "qualities": {"basic": 1.0, "standard": 1.3, "high": 1.8, "premium": 2.5},
        "features": {"batch_processing": {"type": "add_on", "price": 0.0}},
        "load": {"min": 1.0, "max": 1.5, "per_queued_job": 0.02},
        "quote_validity_secs": 600
    });
    // The data above is ours and fixed: a failure is a bug caught by the tests.
    serde_json::from_value(value).unwrap_or_else(|e| panic!("demo pricing: {e}"))
}

/// The demo configuration, checked.
pub fn pricing() -> Pricing {
    Pricing::new(config()).unwrap_or_else(|p| panic!("demo pricing: {p:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::{Factor, Money};
    use crate::estimate::{EstimateRequest, LoadSource, breakdown};
    use crate::routes::{Resolution, resolve};

    fn request(v: serde_json::Value) -> EstimateRequest {
        serde_json::from_value(v).expect("a request")
    }

    fn jpg_to_png(load: Option<f64>) -> EstimateRequest {
        let mut v = json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 5,
            "quality": "standard", "features": ["batch_processing"]});
        if let Some(load) = load {
            v["server_load_factor"] = json!(load);
        }
        request(v)
    }

    fn pdf_to_docx(load: Option<f64>) -> EstimateRequest {
        let mut v = json!({"source_format": "pdf", "target_format": "docx", "file_size_mb": 15,
            "quality": "high"});
        if let Some(load) = load {
            v["server_load_factor"] = json!(load);
        }
        request(v)
    }

    #[test]
    fn jpg_to_png_5_mb_standard_with_batch_processing_at_load_1_14_is_7_cents() {
        let b = breakdown(&pricing(), &jpg_to_png(Some(1.14)), 0).expect("priced");
        // The seed's response, field by field.
        assert_eq!(b.base_price, Money::parse("0.05").expect("money"));
        assert_eq!(b.conversion_type, "image_to_image");
        assert_eq!(b.size_category, "small");
        assert_eq!(b.size_multiplier, Factor::ONE);
        assert_eq!(b.quality, "standard");
        assert_eq!(b.quality_multiplier, Factor::parse("1.3").expect("factor"));
        assert_eq!(b.feature_cost, Money::ZERO);
        assert_eq!(b.server_load_factor, Factor::parse("1.14").expect("factor"));
        assert_eq!(b.load, LoadSource::WhatIf);
        assert_eq!(b.subtotal, "0.065");
        assert_eq!(b.exact_total, "0.0741");
        assert_eq!(b.total_cents, 7);
        assert_eq!(b.total_price, "0.07");
        assert_eq!(b.currency, "EUR");
    }

    #[test]
    fn the_same_from_a_queue_of_7_jobs() {
        let b = breakdown(&pricing(), &jpg_to_png(None), 7).expect("priced");
        assert_eq!(b.server_load_factor, Factor::parse("1.14").expect("factor"));
        assert_eq!(b.load, LoadSource::Queue { depth: 7 });
        assert_eq!(b.total_price, "0.07");
    }

    #[test]
    fn pdf_to_docx_15_mb_high_at_load_1_1_is_30_cents() {
        let b = breakdown(&pricing(), &pdf_to_docx(Some(1.1)), 0).expect("priced");
        assert_eq!(b.conversion_type, "document_to_document");
        assert_eq!(b.size_category, "medium");
        assert_eq!(b.size_multiplier, Factor::parse("1.5").expect("factor"));
        assert_eq!(b.quality_multiplier, Factor::parse("1.8").expect("factor"));
        assert_eq!(b.subtotal, "0.27");
        // The seed's €0.10 × 1.5 × 1.8 × 1.1 = €0.297 ≈ €0.30.
        assert_eq!(b.exact_total, "0.297");
        assert_eq!(b.total_cents, 30);
        assert_eq!(b.total_price, "0.30");
        // "carga media": 5 jobs on the demo's line.
        let b = breakdown(&pricing(), &pdf_to_docx(None), 5).expect("priced");
        assert_eq!(b.total_price, "0.30");
    }

    #[test]
    fn pdf_to_docx_15_mb_high_at_load_1_0_is_27_cents() {
        let b = breakdown(&pricing(), &pdf_to_docx(Some(1.0)), 0).expect("priced");
        assert_eq!(b.exact_total, "0.27");
        assert_eq!(b.total_price, "0.27");
        // An empty queue: the seed's create-payment-intent example (amount 0.27).
        let b = breakdown(&pricing(), &pdf_to_docx(None), 0).expect("priced");
        assert_eq!(b.total_cents, 27);
    }

    #[test]
    fn the_tables_are_the_seeds() {
        let p = pricing();
        let c = p.config();
        let base = |key: &str| {
            c.conversion_types
                .iter()
                .find(|t| t.key == key)
                .map(|t| t.base_price.to_string())
        };
        assert_eq!(base("image_to_image").as_deref(), Some("0.05"));
        assert_eq!(base("document_to_document").as_deref(), Some("0.10"));
        assert_eq!(base("audio_to_audio").as_deref(), Some("0.15"));
        assert_eq!(base("video_to_video").as_deref(), Some("0.25"));
        assert_eq!(base("complex").as_deref(), Some("0.40"));
        let tiers: Vec<String> = c
            .size_tiers
            .iter()
            .map(|t| {
                format!(
                    "{}≤{:?}×{}",
                    t.key,
                    t.max_mb.map(|m| m.to_string()),
                    t.multiplier
                )
            })
            .collect();
        assert_eq!(
            tiers,
            [
                "small≤Some(\"10\")×1.0",
                "medium≤Some(\"50\")×1.5",
                "large≤Some(\"100\")×2.0",
                "extra_large≤Some(\"500\")×3.0",
                "xxl≤None×4.0"
            ]
        );
        assert_eq!(c.formats.len(), 21);
        let supported = c
            .formats
            .keys()
            .flat_map(|a| c.formats.keys().map(move |b| (a, b)))
            .filter(|(a, b)| a != b && matches!(resolve(c, a, b), Resolution::One(_)))
            .count();
        assert_eq!(supported, 127);
    }

    #[test]
    fn every_size_tier_and_quality_of_a_video() {
        let p = pricing();
        let price = |mb: u32, quality: &str| {
            let r = request(json!({"source_format": "mp4", "target_format": "avi",
                "file_size_mb": mb, "quality": quality}));
            breakdown(&p, &r, 0).expect("priced").total_price
        };
        assert_eq!(price(10, "basic"), "0.25");
        assert_eq!(price(11, "basic"), "0.38"); // 0.375 rounds half-up
        assert_eq!(price(100, "standard"), "0.65");
        assert_eq!(price(500, "premium"), "1.88"); // 1.875
        assert_eq!(price(1000, "premium"), "2.50");
    }
}
