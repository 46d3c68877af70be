//! Which conversion type (and so which base price) a pair of formats has.
//!
//! A route is `from->to`, each side a category (`image`) or a format (`pdf`). A pair of
//! distinct formats takes the route that covers it most specifically: a side naming the
//! format itself scores 2, a side naming its category 1, and the highest sum wins. So
//! `pdf->image` (3) beats `document->image` (2) for pdf → png, and a tenant can price or
//! allow one pair apart from its category. Two conversion types covering a pair equally
//! closely are a configuration problem, found by [`check_routes`]; a pair no route covers is
//! not supported. Converting a format to itself is never priced.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::Problem;
use crate::config::{ConversionType, PricingConfig};

/// The most routes a configuration may have in all (each pair of formats is checked against
/// each route for ambiguity).
pub const MAX_ROUTES: usize = 200;

/// How a pair of formats is priced.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    One(&'a ConversionType),
    /// No route covers the pair.
    Unsupported,
    /// Conversion types that cover it equally closely (never in a checked configuration).
    Ambiguous(Vec<&'a str>),
}

/// `from->to` split in its sides, or `None` when it is not shaped so.
pub fn parse_route(route: &str) -> Option<(&str, &str)> {
    let (from, to) = route.split_once("->")?;
    (!from.is_empty() && !to.is_empty() && !to.contains("->")).then_some((from, to))
}

/// How closely `side` names `format`: 2 the format, 1 its category, `None` neither.
fn score(c: &PricingConfig, side: &str, format: &str) -> Option<u8> {
    if side == format {
        Some(2)
    } else if c
        .formats
        .get(format)
        .is_some_and(|category| category == side)
    {
        Some(1)
    } else {
        None
    }
}

/// The conversion type of `from` → `to` (both known formats, distinct).
pub fn resolve<'a>(c: &'a PricingConfig, from: &str, to: &str) -> Resolution<'a> {
    let mut best = 0;
    let mut winners: Vec<&ConversionType> = Vec::new();
    for t in &c.conversion_types {
        for (a, b) in t.routes.iter().filter_map(|r| parse_route(r)) {
            let (Some(x), Some(y)) = (score(c, a, from), score(c, b, to)) else {
                continue;
            };
            if x + y > best {
                best = x + y;
                winners = vec![t];
            } else if x + y == best && !winners.iter().any(|w| w.key == t.key) {
                winners.push(t);
            }
        }
    }
    match winners.as_slice() {
        [] => Resolution::Unsupported,
        [one] => Resolution::One(one),
        many => Resolution::Ambiguous(many.iter().map(|t| t.key.as_str()).collect()),
    }
}

/// Every problem of the routes: their shape, names that are neither a format nor a category,
/// a route listed twice, and, when those are fine, pairs of formats that two conversion
/// types cover equally closely.
pub fn check_routes(c: &PricingConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    let categories: HashSet<&str> = c.formats.values().map(String::as_str).collect();
    let known = |side: &str| c.formats.contains_key(side) || categories.contains(side);
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let total: usize = c.conversion_types.iter().map(|t| t.routes.len()).sum();
    if total > MAX_ROUTES {
        problems.push(Problem::new(
            "conversion_types",
            format!("at most {MAX_ROUTES} routes in all"),
        ));
    }
    for (i, t) in c.conversion_types.iter().enumerate() {
        let at = format!("conversion_types[{i}].routes");
        if t.routes.is_empty() {
            problems.push(Problem::new(&at, "at least one route, like image->image"));
        }
        for (j, route) in t.routes.iter().enumerate() {
            let at = format!("{at}[{j}]");
            let Some((from, to)) = parse_route(route) else {
                problems.push(Problem::new(&at, "from->to, like image->image or pdf->png"));
                continue;
            };
            for side in [from, to] {
                if !known(side) {
                    problems.push(Problem::new(
                        &at,
                        format!("'{side}' is neither a format nor a category"),
                    ));
                }
            }
            if from == to && c.formats.contains_key(from) {
                problems.push(Problem::new(&at, "a format is never converted to itself"));
            }
            if let Some(other) = seen.insert((from, to), i) {
                problems.push(Problem::new(
                    &at,
                    format!("also a route of conversion_types[{other}]"),
                ));
            }
        }
    }
    if problems.is_empty() {
        problems.extend(ambiguities(c));
    }
    problems
}

/// One problem per set of conversion types that tie on some pair of formats (its first pair).
fn ambiguities(c: &PricingConfig) -> Vec<Problem> {
    let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
    let mut problems = Vec::new();
    for from in c.formats.keys() {
        for to in c.formats.keys().filter(|to| *to != from) {
            if let Resolution::Ambiguous(keys) = resolve(c, from, to)
                && reported.insert(keys.clone())
            {
                problems.push(Problem::new(
                    "conversion_types",
                    format!(
                        "{from}->{to} is covered as closely by {}: give one a more specific route",
                        keys.join(" and ")
                    ),
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn key<'a>(c: &'a PricingConfig, from: &str, to: &str) -> Option<&'a str> {
        match resolve(c, from, to) {
            Resolution::One(t) => Some(t.key.as_str()),
            _ => None,
        }
    }

    #[test]
    fn the_demo_routes() {
        let p = demo::pricing();
        let c = p.config();
        assert_eq!(key(c, "jpg", "png"), Some("image_to_image"));
        assert_eq!(key(c, "pdf", "docx"), Some("document_to_document"));
        assert_eq!(key(c, "mp4", "mp3"), Some("complex"));
        assert_eq!(key(c, "pdf", "png"), Some("complex"));
        assert_eq!(key(c, "png", "pdf"), Some("complex"));
        assert_eq!(key(c, "docx", "png"), None);
        assert_eq!(key(c, "mp3", "mp4"), None);
    }

    #[test]
    fn the_most_specific_route_wins() {
        let mut c = demo::config();
        c.conversion_types[1].routes.push("document->image".into());
        // pdf->image (in `complex`) is more specific than document->image.
        assert_eq!(key(&c, "pdf", "png"), Some("complex"));
        assert_eq!(key(&c, "docx", "png"), Some("document_to_document"));
        assert!(check_routes(&c).is_empty());
    }

    #[test]
    fn equally_close_routes_of_two_types_are_a_problem() {
        let mut c = demo::config();
        // Both score 3 on pdf->jpg: pdf->image (complex) and document->jpg (here).
        c.conversion_types[1].routes.push("document->jpg".into());
        assert!(matches!(
            resolve(&c, "pdf", "jpg"),
            Resolution::Ambiguous(_)
        ));
        let problems = check_routes(&c);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.starts_with("pdf->jpg is covered"));
    }

    #[test]
    fn shapes_names_and_repeats() {
        let mut c = demo::config();
        c.conversion_types[0].routes = ["image", "image->sound", "png->png", "video->audio"]
            .map(String::from)
            .to_vec();
        c.conversion_types[1].routes.clear();
        let problems = check_routes(&c);
        let got: Vec<_> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "conversion_types[0].routes[0]",
                    "from->to, like image->image or pdf->png"
                ),
                (
                    "conversion_types[0].routes[1]",
                    "'sound' is neither a format nor a category"
                ),
                (
                    "conversion_types[0].routes[2]",
                    "a format is never converted to itself"
                ),
                (
                    "conversion_types[1].routes",
                    "at least one route, like image->image"
                ),
                (
                    "conversion_types[4].routes[0]",
                    "also a route of conversion_types[0]"
                ),
            ]
        );
    }
}
