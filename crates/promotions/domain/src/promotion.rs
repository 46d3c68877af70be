//! A promotion as a tenant configures it: which lines it covers ([`Scope`]), who may have it
//! ([`Conditions`]), what it gives ([`Reward`]), when ([`Window`]) and how much ([`Budget`]),
//! and how it combines with others (`stackable`, `priority`). [`Promotion::check`] lists
//! every problem of a configuration with its field path, as the other modules do, so the
//! panel can mark every bad field at once.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::attributes::{self, AttributeRule};
use crate::budget::Budget;
use crate::cart::Line;
use crate::money::FULL;
use crate::window::Window;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub conditions: Conditions,
    pub reward: Reward,
    pub window: Window,
    #[serde(default)]
    pub budget: Budget,
    /// Combines with other stackable offers. A non-stackable one excludes the other
    /// non-stackable ones: checkout keeps the one that gives most.
    #[serde(default)]
    pub stackable: bool,
    /// Higher first: stackable offers apply in this order (then by id), each on what the ones
    /// before left of the lines; ties between equal non-stackable offers go to the higher.
    #[serde(default)]
    pub priority: i32,
    /// Only through a coupon that points at it; otherwise it applies by itself to every
    /// eligible cart.
    #[serde(default)]
    pub requires_coupon: bool,
}

/// The lines a promotion covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    #[default]
    All,
    Categories {
        categories: Vec<String>,
    },
    Items {
        skus: Vec<String>,
    },
}

impl Scope {
    pub fn covers(&self, line: &Line) -> bool {
        match self {
            Scope::All => true,
            Scope::Categories { categories } => categories.contains(&line.category),
            Scope::Items { skus } => skus.contains(&line.sku),
        }
    }

    /// Problems, paths relative to the scope.
    pub fn check(&self) -> Vec<Problem> {
        let (field, list) = match self {
            Scope::All => return Vec::new(),
            Scope::Categories { categories } => ("categories", categories),
            Scope::Items { skus } => ("skus", skus),
        };
        names(field, list, 1_000, true)
    }
}

/// Every condition must hold; an empty list or `None` is no condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The customer belongs to at least one of these segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// The customer's loyalty tier is this one or above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tier: Option<String>,
    /// The cart's subtotal at catalogue prices is at least this many cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ticket: Option<i64>,
    /// Only on the customer's first paid order.
    #[serde(default)]
    pub first_purchase: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeRule>,
}

/// What a promotion gives. Amounts are cents, percentages basis points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reward {
    /// `bps` off each line in scope, rounded half up, at most `max_discount` cents in all.
    PercentOff {
        bps: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_discount: Option<i64>,
    },
    /// `amount` cents off the lines in scope together, never taking a line below zero (a
    /// smaller cart gets its whole scoped amount off, not a negative total).
    AmountOff { amount: i64 },
    /// Of every `buy + get` units in scope, the `get` cheapest are free: units are ranked by
    /// catalogue price, dearest first, and grouped; a group short of `buy + get` gives nothing.
    BuyXGetY { buy: u32, get: u32 },
    /// Wallet credits awarded after payment; no discount.
    BonusCredits { credits: i64 },
}

/// A reward's kind, as applied benefits report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    PercentOff,
    AmountOff,
    BuyXGetY,
    BonusCredits,
}

impl Reward {
    pub fn kind(&self) -> RewardKind {
        match self {
            Reward::PercentOff { .. } => RewardKind::PercentOff,
            Reward::AmountOff { .. } => RewardKind::AmountOff,
            Reward::BuyXGetY { .. } => RewardKind::BuyXGetY,
            Reward::BonusCredits { .. } => RewardKind::BonusCredits,
        }
    }

    /// Problems, paths relative to the reward.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        match *self {
            Reward::PercentOff { bps, max_discount } => {
                if !(1..=FULL).contains(&bps) {
                    problems.push(Problem::new(
                        "bps",
                        "basis points from 1 to 10000 (12.5 % is 1250)",
                    ));
                }
                if max_discount.is_some_and(|m| m <= 0) {
                    problems.push(Problem::new(
                        "max_discount",
                        "cents, more than 0, or leave it out",
                    ));
                }
            }
            Reward::AmountOff { amount } if amount <= 0 => {
                problems.push(Problem::new("amount", "cents, more than 0"));
            }
            Reward::BuyXGetY { buy, get } => {
                if !(1..=1_000).contains(&buy) {
                    problems.push(Problem::new("buy", "from 1 to 1000 units"));
                }
                if !(1..=1_000).contains(&get) {
                    problems.push(Problem::new("get", "from 1 to 1000 units"));
                }
            }
            Reward::BonusCredits { credits } if credits <= 0 => {
                problems.push(Problem::new("credits", "more than 0"));
            }
            _ => {}
        }
        problems
    }
}

impl Conditions {
    /// Problems, paths relative to the conditions. `tiers`: the tenant's tier names.
    pub fn check(&self, tiers: &[String]) -> Vec<Problem> {
        let mut problems = names("segments", &self.segments, 100, false);
        if let Some(t) = &self.min_tier
            && !tiers.contains(t)
        {
            problems.push(Problem::new(
                "min_tier",
                format!("one of the loyalty tiers ({})", tiers.join(", ")),
            ));
        }
        if self.min_ticket.is_some_and(|m| m <= 0) {
            problems.push(Problem::new(
                "min_ticket",
                "cents, more than 0, or leave it out",
            ));
        }
        problems.extend(
            attributes::check_all(&self.attributes)
                .into_iter()
                .map(|p| p.under("attributes")),
        );
        problems
    }
}

impl Promotion {
    /// Every problem of the configuration (paths like `reward.bps`, `window.ends_at`,
    /// `conditions.attributes[0].value`). `tiers`: the tenant's loyalty tier names, which
    /// `conditions.min_tier` must name.
    pub fn check(&self, tiers: &[String]) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !is_id(&self.id) {
            problems.push(Problem::new(
                "id",
                "1 to 64 characters: letters, digits, '-' and '_'",
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(Problem::new("name", "1 to 200 characters"));
        }
        let nested = [
            ("scope", self.scope.check()),
            ("conditions", self.conditions.check(tiers)),
            ("reward", self.reward.check()),
            ("window", self.window.check()),
            ("budget", self.budget.check()),
        ];
        for (at, list) in nested {
            problems.extend(list.into_iter().map(|p| p.under(at)));
        }
        problems
    }
}

/// Every problem of a tenant's promotions (`[i].reward.bps`), ids unique among them.
pub fn check_all(promotions: &[Promotion], tiers: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, p) in promotions.iter().enumerate() {
        let at = format!("[{i}]");
        problems.extend(p.check(tiers).into_iter().map(|x| x.under(&at)));
        if promotions[..i].iter().any(|q| q.id == p.id) {
            problems.push(Problem::new("id", "already used by another promotion").under(&at));
        }
    }
    problems
}

/// Letters, digits, `-` and `_`, 1 to 64 of them: safe in a URL and a ledger account name.
pub fn is_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A list (non-empty when `required`, at most `max`) of non-empty names, under `field`.
fn names(field: &str, list: &[String], max: usize, required: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    if list.is_empty() && required {
        problems.push(Problem::new(field, "at least one"));
    }
    if list.len() > max {
        problems.push(Problem::new(field, format!("at most {max}")));
    }
    for (i, n) in list.iter().enumerate() {
        if n.trim().is_empty() || n.len() > 100 {
            problems.push(Problem::new(format!("{field}[{i}]"), "1 to 100 characters"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use serde_json::json;

    fn tiers() -> Vec<String> {
        demo::tiers().names()
    }

    #[test]
    fn the_demo_promotions_are_valid() {
        assert_eq!(check_all(&demo::promotions(), &tiers()), []);
    }

    #[test]
    fn every_problem_with_its_path() {
        let p: Promotion = serde_json::from_value(json!({
            "id": "bad id",
            "name": " ",
            "scope": {"type": "categories", "categories": []},
            "conditions": {"segments": [""], "min_tier": "Platinum", "min_ticket": 0,
                "attributes": [{"prop": "customer.age", "op": "gte", "value": "x"}]},
            "reward": {"type": "percent_off", "bps": 10001, "max_discount": 0},
            "window": {"starts_at": 100, "ends_at": 100},
            "budget": {"max_uses": 0, "max_spend": 0}
        }))
        .expect("parses");
        let paths: Vec<String> = p.check(&tiers()).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "id",
                "name",
                "scope.categories",
                "conditions.segments[0]",
                "conditions.min_tier",
                "conditions.min_ticket",
                "conditions.attributes[0].value",
                "reward.bps",
                "reward.max_discount",
                "window.ends_at",
                "budget.max_uses",
                "budget.max_spend",
            ]
        );
    }

    #[test]
    fn reward_limits() {
        let bad = |r: Reward| r.check().into_iter().map(|p| p.path).collect::<Vec<_>>();
        assert_eq!(
            bad(Reward::PercentOff {
                bps: 0,
                max_discount: None
            }),
            ["bps"]
        );
        assert!(
            bad(Reward::PercentOff {
                bps: FULL,
                max_discount: Some(1)
            })
            .is_empty()
        );
        assert!(
            bad(Reward::PercentOff {
                bps: 1,
                max_discount: None
            })
            .is_empty()
        );
        assert_eq!(bad(Reward::AmountOff { amount: 0 }), ["amount"]);
        assert_eq!(bad(Reward::BuyXGetY { buy: 0, get: 0 }), ["buy", "get"]);
        assert!(bad(Reward::BuyXGetY { buy: 1, get: 1 }).is_empty());
        assert_eq!(bad(Reward::BonusCredits { credits: -5 }), ["credits"]);
        assert_eq!(Scope::Items { skus: vec![] }.check()[0].path, "skus");
    }

    #[test]
    fn ids_are_unique() {
        let mut all = demo::promotions();
        all.push(all[0].clone());
        let problems = check_all(&all, &tiers());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, format!("[{}].id", all.len() - 1));
    }

    #[test]
    fn scope_covers_lines() {
        let line = Line::new("tee-1", "summer", 1000, 1);
        assert!(Scope::All.covers(&line));
        assert!(
            Scope::Categories {
                categories: vec!["summer".into()]
            }
            .covers(&line)
        );
        assert!(
            !Scope::Categories {
                categories: vec!["winter".into()]
            }
            .covers(&line)
        );
        assert!(
            Scope::Items {
                skus: vec!["x".into(), "tee-1".into()]
            }
            .covers(&line)
        );
        let unknown: Result<Reward, _> =
            serde_json::from_value(json!({"type": "percent_off", "bps": 10, "extra": 1}));
        assert!(unknown.is_err());
    }
}
