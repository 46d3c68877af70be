//! A tenant's pricing tables, as JSON: which formats exist and their category, the conversion
//! types and their base prices, size tiers, quality levels, features, the load curve, the
//! currency and how long a quote lasts. [`Pricing::new`] checks a configuration and reports
//! every problem with its path; only a checked [`Pricing`] can price a request.
//!
//! ```json
//! {"currency": "EUR",
//!  "formats": {"jpg": "image", "pdf": "document"},
//!  "conversion_types": [{"key": "image_to_image", "base_price": 0.05, "routes": ["image->image"]}],
//!  "size_tiers": [{"key": "small", "max_mb": 10, "multiplier": 1.0},
//!                 {"key": "xxl", "multiplier": 4.0}],
//!  "max_file_size_mb": 1000,
//!  "qualities": {"standard": 1.3},
//!  "features": {"batch_processing": {"type": "add_on", "price": 0.0}},
//!  "load": {"min": 1.0, "max": 1.5, "per_queued_job": 0.02},
//!  "quote_validity_secs": 600}
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::decimal::{Factor, MICROS_PER_UNIT, Megabytes, Money};
use crate::load::LoadCurve;
use crate::routes;

/// The highest base price or add-on: 10,000 units of the currency.
pub const MAX_PRICE: Money = Money::from_micros(10_000 * MICROS_PER_UNIT);
/// The highest multiplier (a size tier's, a quality's, a feature's).
pub const MAX_MULTIPLIER: Factor = Factor::from_ten_thousandths(100 * Factor::DENOMINATOR);
/// The shortest and longest life of a quote, in seconds.
pub const QUOTE_VALIDITY_SECS: (i64, i64) = (60, 3_600);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// ISO 4217, three capital letters. Totals are rounded to its hundredths (cents).
    pub currency: String,
    /// Every format a client may name (lowercase, like a file extension: `jpg`) and its
    /// category (`image`), which routes may name instead of each format.
    pub formats: BTreeMap<String, String>,
    pub conversion_types: Vec<ConversionType>,
    /// Ascending by `max_mb`; the last may have none (no upper bound but the maximum size).
    pub size_tiers: Vec<SizeTier>,
    pub max_file_size_mb: Megabytes,
    /// Quality levels (`standard`) and their multipliers.
    pub qualities: BTreeMap<String, Factor>,
    #[serde(default)]
    pub features: BTreeMap<String, Feature>,
    pub load: LoadCurve,
    pub quote_validity_secs: i64,
}

/// A kind of conversion with its base price, and the format pairs it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionType {
    pub key: String,
    pub base_price: Money,
    /// `from->to`, each side a category (`image->image`) or a format (`pdf->image`). A pair
    /// of formats takes the most specific route that covers it (see [`crate::routes`]).
    pub routes: Vec<String>,
}

/// Files up to `max_mb` (inclusive) and over the tier before's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeTier {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mb: Option<Megabytes>,
    pub multiplier: Factor,
}

/// An extra a request may ask for: a multiplier on the price so far, or a flat add-on (which
/// does not grow with size or quality; the load factor applies to it like to the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Feature {
    Multiplier { multiplier: Factor },
    AddOn { price: Money },
}

/// A configuration that passed [`Pricing::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pricing {
    config: PricingConfig,
}

impl Pricing {
    /// The configuration, or every problem of it.
    pub fn new(config: PricingConfig) -> Result<Pricing, Vec<Problem>> {
        let problems = check(&config);
        if problems.is_empty() {
            Ok(Pricing { config })
        } else {
            Err(problems)
        }
    }

    pub fn config(&self) -> &PricingConfig {
        &self.config
    }

    /// The tier of a size within (0, max]: the first whose `max_mb` is at least the size.
    pub fn size_tier(&self, size: Megabytes) -> Option<&SizeTier> {
        self.config
            .size_tiers
            .iter()
            .find(|t| t.max_mb.is_none_or(|max| size <= max))
    }
}

/// A key (category, conversion type, tier, quality, feature): 1 to 40 lowercase letters,
/// digits or `_`.
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("1 to 40 lowercase letters, digits or '_'".into())
    }
}

/// A format, as a file extension: 1 to 10 lowercase letters or digits.
pub fn check_format(format: &str) -> Result<(), String> {
    let ok = !format.is_empty()
        && format.len() <= 10
        && format
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err("1 to 10 lowercase letters or digits, like a file extension".into())
    }
}

fn check_price(price: Money) -> Option<String> {
    (price < Money::ZERO || price > MAX_PRICE).then(|| format!("from 0.00 to {MAX_PRICE}"))
}

fn check_multiplier(f: Factor) -> Option<String> {
    (f.ten_thousandths() <= 0 || f > MAX_MULTIPLIER)
        .then(|| format!("more than 0.0 and at most {MAX_MULTIPLIER}"))
}

fn check(c: &PricingConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |path: String, message: String| problems.push(Problem::new(path, message));
    let cur = &c.currency;
    if cur.len() != 3 || !cur.bytes().all(|b| b.is_ascii_uppercase()) {
        push(
            "currency".into(),
            "three capital letters (ISO 4217), like EUR".into(),
        );
    }

    if c.formats.is_empty() || c.formats.len() > 200 {
        push("formats".into(), "from 1 to 200 formats".into());
    }
    for (format, category) in &c.formats {
        if let Err(m) = check_format(format) {
            push(format!("formats.{format}"), m);
        }
        if let Err(m) = check_key(category) {
            push(format!("formats.{format}"), format!("a category: {m}"));
        } else if c.formats.contains_key(category) {
            push(
                format!("formats.{format}"),
                format!("'{category}' is a format too: a route naming it would be ambiguous"),
            );
        }
    }

    if c.conversion_types.is_empty() || c.conversion_types.len() > 50 {
        push(
            "conversion_types".into(),
            "from 1 to 50 conversion types".into(),
        );
    }
    let mut keys = HashSet::new();
    for (i, t) in c.conversion_types.iter().enumerate() {
        let at = format!("conversion_types[{i}]");
        if let Err(m) = check_key(&t.key) {
            push(format!("{at}.key"), m);
        } else if !keys.insert(t.key.as_str()) {
            push(
                format!("{at}.key"),
                "used by another conversion type".into(),
            );
        }
        if let Some(m) = check_price(t.base_price) {
            push(format!("{at}.base_price"), m);
        }
    }
    problems.extend(routes::check_routes(c));

    check_tiers(c, &mut problems);

    if c.qualities.is_empty() || c.qualities.len() > 20 {
        problems.push(Problem::new("qualities", "from 1 to 20 quality levels"));
    }
    for (key, f) in &c.qualities {
        let at = format!("qualities.{key}");
        if let Err(m) = check_key(key) {
            problems.push(Problem::new(&at, m));
        }
        if let Some(m) = check_multiplier(*f) {
            problems.push(Problem::new(&at, m));
        }
    }

    if c.features.len() > 50 {
        problems.push(Problem::new("features", "at most 50 features"));
    }
    for (key, feature) in &c.features {
        let at = format!("features.{key}");
        if let Err(m) = check_key(key) {
            problems.push(Problem::new(&at, m));
        }
        let problem = match feature {
            Feature::Multiplier { multiplier } => {
                check_multiplier(*multiplier).map(|m| Problem::new("multiplier", m))
            }
            Feature::AddOn { price } => check_price(*price).map(|m| Problem::new("price", m)),
        };
        problems.extend(problem.map(|p| p.under(&at)));
    }

    problems.extend(c.load.check().into_iter().map(|p| p.under("load")));

    let (shortest, longest) = QUOTE_VALIDITY_SECS;
    if !(shortest..=longest).contains(&c.quote_validity_secs) {
        problems.push(Problem::new(
            "quote_validity_secs",
            format!("from {shortest} to {longest} seconds"),
        ));
    }
    problems
}

/// Tiers rise in size and never fall in multiplier (a bigger file never costs less: else
/// padding a file would lower its price), and together they cover every size up to the
/// maximum.
fn check_tiers(c: &PricingConfig, problems: &mut Vec<Problem>) {
    if c.max_file_size_mb.thousandths() <= 0 {
        problems.push(Problem::new("max_file_size_mb", "more than 0"));
    }
    let tiers = &c.size_tiers;
    if tiers.is_empty() || tiers.len() > 20 {
        problems.push(Problem::new("size_tiers", "from 1 to 20 size tiers"));
    }
    let mut keys = HashSet::new();
    for (i, t) in tiers.iter().enumerate() {
        let at = format!("size_tiers[{i}]");
        if let Err(m) = check_key(&t.key) {
            problems.push(Problem::new(format!("{at}.key"), m));
        } else if !keys.insert(t.key.as_str()) {
            problems.push(Problem::new(format!("{at}.key"), "used by another tier"));
        }
        if let Some(m) = check_multiplier(t.multiplier) {
            problems.push(Problem::new(format!("{at}.multiplier"), m));
        }
        let before = i.checked_sub(1).map(|j| &tiers[j]);
        if let Some(b) = before
            && t.multiplier < b.multiplier
        {
            problems.push(Problem::new(
                format!("{at}.multiplier"),
                "at least the smaller tier's: a bigger file never costs less",
            ));
        }
        match t.max_mb {
            None if i + 1 < tiers.len() => problems.push(Problem::new(
                format!("{at}.max_mb"),
                "only the last tier may be unbounded",
            )),
            None => {}
            Some(max) if max.thousandths() <= 0 => {
                problems.push(Problem::new(format!("{at}.max_mb"), "more than 0"));
            }
            Some(max) => {
                if let Some(prev) = before.and_then(|b| b.max_mb)
                    && max <= prev
                {
                    problems.push(Problem::new(
                        format!("{at}.max_mb"),
                        format!(
                            "more than the tier before's ({prev}): tiers rise and never overlap"
                        ),
                    ));
                }
            }
        }
    }
    if let Some(last) = tiers.last()
        && let Some(max) = last.max_mb
        && max < c.max_file_size_mb
    {
        problems.push(Problem::new(
            "size_tiers",
            format!(
                "no tier covers files from {max} MB to max_file_size_mb ({} MB)",
                c.max_file_size_mb
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use serde_json::json;

    fn paths(config: serde_json::Value) -> Vec<String> {
        let config: PricingConfig = serde_json::from_value(config).expect("the shape");
        match Pricing::new(config) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|p| p.path).collect(),
        }
    }

    fn demo_with(patch: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
        let mut v = json!(demo::config());
        patch(&mut v);
        v
    }

    #[test]
    fn the_demo_round_trips_through_json() {
        let v = json!(demo::config());
        let back: PricingConfig = serde_json::from_value(v.clone()).expect("the demo");
        assert_eq!(&back, demo::pricing().config());
        assert_eq!(v["conversion_types"][0]["base_price"], json!(0.05));
        assert!(paths(v).is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let v = demo_with(|v| {
            v["currency"] = json!("euro");
            v["formats"]["JPG"] = json!("image");
            v["formats"]["heic"] = json!("Image");
            v["conversion_types"][1]["base_price"] = json!(-0.10);
            v["conversion_types"][2]["key"] = json!("image_to_image");
            v["qualities"]["basic"] = json!(0);
            v["features"]["ocr"] = json!({"type": "multiplier", "multiplier": -1.5});
            v["features"]["rush"] = json!({"type": "add_on", "price": 20000});
            v["load"]["max"] = json!(2.0);
            v["quote_validity_secs"] = json!(5);
        });
        assert_eq!(
            paths(v),
            [
                "currency",
                "formats.JPG",
                "formats.heic",
                "conversion_types[1].base_price",
                "conversion_types[2].key",
                "qualities.basic",
                "features.ocr.multiplier",
                "features.rush.price",
                "load.max",
                "quote_validity_secs",
            ]
        );
    }

    #[test]
    fn tiers_must_rise_never_overlap_and_cover_the_maximum() {
        let v = demo_with(|v| {
            v["size_tiers"] = json!([
                {"key": "small", "max_mb": 10, "multiplier": 1.0},
                {"key": "medium", "max_mb": 10, "multiplier": 1.5},
                {"key": "open", "multiplier": 2.0},
                {"key": "large", "max_mb": 100, "multiplier": 1.2},
                {"key": "small", "max_mb": 0, "multiplier": 0}
            ]);
        });
        assert_eq!(
            paths(v),
            [
                "size_tiers[1].max_mb",
                "size_tiers[2].max_mb",
                "size_tiers[3].multiplier",
                "size_tiers[4].key",
                "size_tiers[4].multiplier",
                "size_tiers[4].multiplier",
                "size_tiers[4].max_mb",
                "size_tiers",
            ]
        );
        let v = demo_with(|v| v["max_file_size_mb"] = json!(0));
        assert_eq!(paths(v), ["max_file_size_mb"]);
    }

    #[test]
    fn a_category_named_like_a_format_is_ambiguous() {
        let v = demo_with(|v| v["formats"]["gif"] = json!("pdf"));
        assert!(paths(v).contains(&"formats.gif".to_owned()));
    }

    #[test]
    fn tiers_are_found_by_size() {
        let p = demo::pricing();
        let key = |mb: &str| {
            let size = Megabytes::parse(mb).expect("a size");
            p.size_tier(size).map(|t| t.key.as_str())
        };
        assert_eq!(key("0.001"), Some("small"));
        assert_eq!(key("10"), Some("small"));
        assert_eq!(key("10.001"), Some("medium"));
        assert_eq!(key("50"), Some("medium"));
        assert_eq!(key("500.5"), Some("xxl"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v = json!(demo::config());
        v["surge"] = json!(2);
        assert!(serde_json::from_value::<PricingConfig>(v).is_err());
    }
}
