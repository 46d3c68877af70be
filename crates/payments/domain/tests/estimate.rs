//! Requests the demo tenant cannot price, each with its error, code and field; the order in
//! which multipliers and add-ons apply; names read case-insensitively.

use faro_payments_domain::config::{Feature, Pricing};
use faro_payments_domain::{
    Breakdown, EstimateRequest, Factor, Money, PricingError, breakdown, demo,
};
use serde_json::json;

fn price(patch: serde_json::Value) -> Result<Breakdown, PricingError> {
    let mut v = json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 5,
        "quality": "standard"});
    for (k, val) in patch.as_object().expect("an object") {
        v[k] = val.clone();
    }
    let request: EstimateRequest = serde_json::from_value(v).expect("a request");
    breakdown(&demo::pricing(), &request, 0)
}

fn code(patch: serde_json::Value) -> &'static str {
    price(patch).expect_err("refused").code()
}

#[test]
fn names_are_read_case_insensitively() {
    let b = price(json!({"source_format": ".JPG", "target_format": " Png ",
        "quality": "STANDARD", "features": ["Batch_Processing"]}))
    .expect("priced");
    assert_eq!(b.total_price, "0.07");
    assert_eq!(b.features[0].key, "batch_processing");
}

#[test]
fn unknown_formats() {
    let e = price(json!({"source_format": "heic"})).expect_err("refused");
    assert_eq!(
        e,
        PricingError::UnknownFormat {
            field: "source_format",
            format: "heic".into()
        }
    );
    assert_eq!((e.code(), e.field()), ("unknown_format", "source_format"));
    assert_eq!(e.to_string(), "unknown format 'heic'");
    let e = price(json!({"target_format": "exe"})).expect_err("refused");
    assert_eq!(e.field(), "target_format");
}

#[test]
fn pairs_no_route_covers_or_the_same_format() {
    assert_eq!(
        code(json!({"target_format": "mp3"})),
        "unsupported_conversion"
    );
    assert_eq!(
        price(json!({"source_format": "docx", "target_format": "png"}))
            .expect_err("refused")
            .to_string(),
        "docx cannot be converted to png"
    );
    assert_eq!(code(json!({"target_format": "JPG"})), "same_format");
}

#[test]
fn sizes_out_of_range() {
    assert_eq!(code(json!({"file_size_mb": 0})), "size_not_positive");
    assert_eq!(code(json!({"file_size_mb": -3})), "size_not_positive");
    let e = price(json!({"file_size_mb": 1000.001})).expect_err("refused");
    assert_eq!(e.to_string(), "files up to 1000 MB");
    assert!(price(json!({"file_size_mb": 1000})).is_ok());
    // The smallest size counted: a thousandth of a MB.
    assert!(price(json!({"file_size_mb": 0.0000001})).is_ok());
}

#[test]
fn unknown_quality_lists_the_known_ones() {
    let e = price(json!({"quality": "ultra"})).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "unknown quality 'ultra': one of basic, high, premium, standard"
    );
}

#[test]
fn unknown_and_repeated_features() {
    assert_eq!(code(json!({"features": ["ocr"]})), "unknown_feature");
    let twice = json!({"features": ["batch_processing", "BATCH_PROCESSING"]});
    assert_eq!(code(twice), "repeated_feature");
}

#[test]
fn what_if_load_outside_the_curve() {
    for load in [0.99, 1.51, 0.0] {
        let e = price(json!({"server_load_factor": load})).expect_err("refused");
        assert_eq!(
            (e.code(), e.field()),
            ("load_out_of_range", "server_load_factor")
        );
    }
    let e = price(json!({"server_load_factor": 2})).expect_err("refused");
    assert_eq!(e.to_string(), "load factor 2.0 is outside 1.0 to 1.5");
    assert!(price(json!({"server_load_factor": 1.5})).is_ok());
}

#[test]
fn multipliers_and_add_ons_apply_in_order() {
    let mut c = demo::config();
    c.features.insert(
        "ocr".into(),
        Feature::Multiplier {
            multiplier: Factor::parse("1.25").expect("f"),
        },
    );
    c.features.insert(
        "rush".into(),
        Feature::AddOn {
            price: Money::parse("0.015").expect("m"),
        },
    );
    let p = Pricing::new(c).expect("valid");
    let request: EstimateRequest = serde_json::from_value(json!({
        "source_format": "pdf", "target_format": "docx", "file_size_mb": 15,
        "quality": "high", "features": ["rush", "ocr"], "server_load_factor": 1.1
    }))
    .expect("a request");
    let b = breakdown(&p, &request, 0).expect("priced");
    // (0.10 × 1.5 × 1.8 × 1.25 + 0.015) × 1.1 = (0.3375 + 0.015) × 1.1 = 0.38775
    assert_eq!(b.subtotal, "0.3525");
    assert_eq!(b.exact_total, "0.38775");
    assert_eq!(b.total_price, "0.39");
    assert_eq!(b.feature_cost, Money::parse("0.015").expect("m"));
    let keys: Vec<_> = b.features.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["rush", "ocr"]);
    let v = serde_json::to_value(&b).expect("json");
    assert_eq!(
        v["features"][1],
        json!({"key": "ocr", "type": "multiplier", "multiplier": 1.25})
    );
    assert_eq!(serde_json::from_value::<Breakdown>(v).expect("back"), b);
}
