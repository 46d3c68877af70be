//! Properties of the pricing engine over generated configurations and requests: a price
//! never falls when the file grows, the load rises or a feature that does not discount is
//! added; and the price is exactly the reference (the same formula on `i128`, one half-up
//! rounding to the cent), ties included.

use std::collections::BTreeMap;

use faro_payments_domain::config::{ConversionType, Feature, PricingConfig, SizeTier};
use faro_payments_domain::load::LoadCurve;
use faro_payments_domain::{EstimateRequest, Factor, Megabytes, Money, Pricing, breakdown};
use proptest::prelude::*;

fn factor(range: std::ops::RangeInclusive<i64>) -> impl Strategy<Value = Factor> {
    range.prop_map(Factor::from_ten_thousandths)
}

fn feature() -> impl Strategy<Value = Feature> {
    prop_oneof![
        factor(1..=100_000).prop_map(|multiplier| Feature::Multiplier { multiplier }),
        (0i64..=5_000_000).prop_map(|m| Feature::AddOn {
            price: Money::from_micros(m)
        }),
    ]
}

/// A feature that never lowers a price: a multiplier of at least 1.0, or an add-on.
fn raising_feature() -> impl Strategy<Value = Feature> {
    prop_oneof![
        factor(10_000..=100_000).prop_map(|multiplier| Feature::Multiplier { multiplier }),
        (0i64..=5_000_000).prop_map(|m| Feature::AddOn {
            price: Money::from_micros(m)
        }),
    ]
}

prop_compose! {
    /// Tiers rising in size with multipliers that never fall; the last one open or not.
    fn tiers()(
        maxes in prop::collection::btree_set(1i64..=2_000_000, 1..5),
        first in 1i64..=50_000,
        steps in prop::collection::vec(0i64..=30_000, 5),
        open in any::<bool>(),
    ) -> (Vec<SizeTier>, Megabytes) {
        let maxes: Vec<i64> = maxes.into_iter().collect();
        let mut multiplier = first;
        let mut tiers = Vec::new();
        for (i, max) in maxes.iter().enumerate() {
            multiplier += steps[i];
            let last = i + 1 == maxes.len();
            tiers.push(SizeTier {
                key: format!("t{i}"),
                max_mb: (!(last && open)).then_some(Megabytes::from_thousandths(*max)),
                multiplier: Factor::from_ten_thousandths(multiplier),
            });
        }
        (tiers, Megabytes::from_thousandths(*maxes.last().unwrap_or(&1)))
    }
}

prop_compose! {
    fn load_curve()(min in 10_000i64..=15_000)(
        min in Just(min),
        max in min..=15_000,
        per_job in 0i64..=2_000,
    ) -> LoadCurve {
        LoadCurve {
            min: Factor::from_ten_thousandths(min),
            max: Factor::from_ten_thousandths(max),
            per_queued_job: Factor::from_ten_thousandths(per_job),
        }
    }
}

prop_compose! {
    /// One conversion (a → b) with a base price up to 100.00, one quality, up to three
    /// features: small enough for the `i128` reference.
    fn config()(
        base in 0i64..=100_000_000,
        (size_tiers, max_file_size_mb) in tiers(),
        quality in factor(1..=50_000),
        features in prop::collection::vec(feature(), 0..=3),
        load in load_curve(),
    ) -> PricingConfig {
        PricingConfig {
            currency: "EUR".into(),
            formats: BTreeMap::from([("a".into(), "x".into()), ("b".into(), "x".into())]),
            conversion_types: vec![ConversionType {
                key: "t".into(),
                base_price: Money::from_micros(base),
                routes: vec!["x->x".into()],
            }],
            size_tiers,
            max_file_size_mb,
            qualities: BTreeMap::from([("q".into(), quality)]),
            features: features
                .into_iter()
                .enumerate()
                .map(|(i, f)| (format!("f{i}"), f))
                .collect(),
            load,
            quote_validity_secs: 600,
        }
    }
}

fn pricing(c: PricingConfig) -> Pricing {
    Pricing::new(c).unwrap_or_else(|p| panic!("a generated configuration is valid: {p:?}"))
}

fn request(size: i64, features: Vec<String>, load: Option<Factor>) -> EstimateRequest {
    EstimateRequest {
        source_format: "a".into(),
        target_format: "b".into(),
        file_size_mb: Megabytes::from_thousandths(size),
        quality: "q".into(),
        features,
        server_load_factor: load,
    }
}

fn cents(p: &Pricing, r: &EstimateRequest, depth: u64) -> i64 {
    breakdown(p, r, depth).expect("priced").total_cents
}

/// The features whose bit is set in `mask`.
fn chosen(c: &PricingConfig, mask: u8) -> Vec<String> {
    c.features
        .keys()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, k)| k.clone())
        .collect()
}

/// The price as the formula says, on `i128`: (exact total in 10^-(6 + 4k) units, cents).
fn reference(p: &Pricing, r: &EstimateRequest, load: Factor) -> Option<(i128, u32, i128)> {
    let c = p.config();
    let tier = p.size_tier(r.file_size_mb)?;
    let mut value = i128::from(c.conversion_types[0].base_price.micros());
    value = value.checked_mul(i128::from(tier.multiplier.ten_thousandths()))?;
    value = value.checked_mul(i128::from(c.qualities["q"].ten_thousandths()))?;
    let mut scale = 8u32;
    let mut add_ons = 0i128;
    for key in &r.features {
        match c.features[key] {
            Feature::Multiplier { multiplier } => {
                value = value.checked_mul(i128::from(multiplier.ten_thousandths()))?;
                scale += 4;
            }
            Feature::AddOn { price } => add_ons += i128::from(price.micros()),
        }
    }
    value = value.checked_add(add_ons.checked_mul(10i128.checked_pow(scale)?)?)?;
    value = value.checked_mul(i128::from(load.ten_thousandths()))?;
    scale += 4;
    let cent = 10i128.checked_pow(scale + 4)?;
    Some((value, scale, (value + cent / 2) / cent))
}

/// `value` 10^-(6 + scale) units as decimal text, at least two decimals.
fn decimal(value: i128, scale: u32) -> String {
    let places = (6 + scale) as usize;
    let digits = format!("{value:0>width$}", width = places + 1);
    let (int, frac) = digits.split_at(digits.len() - places);
    let frac = frac.trim_end_matches('0');
    format!("{int}.{frac:0<2}")
}

proptest! {
    #[test]
    fn a_bigger_file_never_costs_less(c in config(), a in 1i64..=2_000_000, b in 1i64..=2_000_000, mask in any::<u8>()) {
        let max = c.max_file_size_mb.thousandths();
        let (small, big) = (a.min(b).min(max), a.max(b).min(max));
        let features = chosen(&c, mask);
        let p = pricing(c);
        prop_assert!(cents(&p, &request(small, features.clone(), None), 3) <= cents(&p, &request(big, features, None), 3));
    }

    #[test]
    fn a_busier_queue_never_costs_less(c in config(), size in 1i64..=2_000_000, d1 in 0u64..100, d2 in 0u64..100, l1 in 0i64..=5_000, l2 in 0i64..=5_000, mask in any::<u8>()) {
        let size = size.min(c.max_file_size_mb.thousandths());
        let features = chosen(&c, mask);
        let (lo, hi) = (c.load.min.ten_thousandths(), c.load.max.ten_thousandths());
        let what_if = |l: i64| Some(Factor::from_ten_thousandths((lo + l).min(hi)));
        let p = pricing(c);
        let r = request(size, features.clone(), None);
        prop_assert!(cents(&p, &r, d1.min(d2)) <= cents(&p, &r, d1.max(d2)));
        let (low, high) = (l1.min(l2), l1.max(l2));
        prop_assert!(
            cents(&p, &request(size, features.clone(), what_if(low)), 0)
                <= cents(&p, &request(size, features, what_if(high)), 0)
        );
    }

    #[test]
    fn a_feature_that_does_not_discount_never_lowers_the_price(c in config(), extra in raising_feature(), size in 1i64..=2_000_000, mask in any::<u8>(), depth in 0u64..40) {
        let size = size.min(c.max_file_size_mb.thousandths());
        let without = chosen(&c, mask);
        let mut c = c;
        c.features.insert("extra".into(), extra);
        let mut with = without.clone();
        with.push("extra".into());
        let p = pricing(c);
        prop_assert!(cents(&p, &request(size, without, None), depth) <= cents(&p, &request(size, with, None), depth));
    }

    #[test]
    fn the_price_is_the_exact_formula_rounded_half_up_once(c in config(), size in 1i64..=2_000_000, mask in any::<u8>(), depth in 0u64..40) {
        let size = size.min(c.max_file_size_mb.thousandths());
        let r = request(size, chosen(&c, mask), None);
        let p = pricing(c);
        let b = breakdown(&p, &r, depth).expect("priced");
        let (value, scale, expected) = reference(&p, &r, b.server_load_factor).expect("fits in i128");
        prop_assert_eq!(i128::from(b.total_cents), expected);
        prop_assert_eq!(b.exact_total, decimal(value, scale));
        prop_assert_eq!(b.total_price, format!("{}.{:02}", expected / 100, expected % 100));
    }

    #[test]
    fn half_a_cent_rounds_up_and_less_rounds_down(cents_part in 0i64..1_000_000, below in 0i64..5_000, above in 5_000i64..10_000) {
        let mut c = faro_payments_domain::demo::config();
        let one = Factor::ONE;
        c.size_tiers.iter_mut().for_each(|t| t.multiplier = one);
        c.qualities.insert("basic".into(), one);
        let price = |micros: i64| {
            let mut c = c.clone();
            c.conversion_types[0].base_price = Money::from_micros(micros);
            let r = EstimateRequest {
                source_format: "jpg".into(),
                target_format: "png".into(),
                file_size_mb: Megabytes::whole(1),
                quality: "basic".into(),
                features: Vec::new(),
                server_load_factor: Some(one),
            };
            breakdown(&pricing(c), &r, 0).expect("priced").total_cents
        };
        let base = cents_part * 10_000;
        prop_assert_eq!(price(base + below), cents_part);
        prop_assert_eq!(price(base + above), cents_part + 1);
    }
}
