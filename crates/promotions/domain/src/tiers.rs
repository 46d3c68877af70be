//! Loyalty tiers: thresholds of points earned over a rolling window (365 days in the demo).
//! Unlike gamification's levels, which count lifetime points and are kept once reached, a
//! tier is earned again every day: when old earnings leave the window the customer may go
//! down. The module records each customer's tier and, on a change, emits
//! `loyalty.upgraded` or `loyalty.downgraded` ([`Change::event`]).

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::money::FULL;

pub const DAY: i64 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    /// Points in the window from which the tier is held; the first tier's is 0.
    pub min_points: i64,
    /// What the tier gives, in words ("free shipping"), for pages and e-mails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub perks: Vec<String>,
    /// A standing discount for the tier, basis points; promotions with `min_tier` are the
    /// way to apply it at checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_bps: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// The rolling window, days (1 to 3,650).
    pub window_days: i64,
    pub tiers: Vec<Tier>,
}

/// A tier table, checked: see [`Tiers::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tiers(TierConfig);

/// Points earned (or, negative, taken back) at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earning {
    /// Unix seconds.
    pub at: i64,
    pub points: i64,
}

/// Where a customer stands now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub tier: String,
    /// Points in the window (never below 0).
    pub points: i64,
    /// The next tier up and the points still missing; `None` at the top.
    pub next: Option<NextTier>,
    /// The current tier and every one below it: what [`crate::Customer::tiers_reached`]
    /// takes.
    pub reached: Vec<String>,
    /// If nothing more is earned, when earnings leaving the window drop the customer below
    /// this tier (unix seconds); `None` on the first tier.
    pub holds_until: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextTier {
    pub name: String,
    pub min_points: i64,
    pub points_to_go: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Upgraded,
    Downgraded,
    Same,
}

impl Change {
    /// The event the module emits, if any.
    pub fn event(self) -> Option<&'static str> {
        match self {
            Change::Upgraded => Some("loyalty.upgraded"),
            Change::Downgraded => Some("loyalty.downgraded"),
            Change::Same => None,
        }
    }
}

impl Tiers {
    /// The table, or every problem of it (`window_days`, `tiers[1].min_points`): 1 to 20
    /// tiers, unique names, the first at 0 points, thresholds rising.
    pub fn new(config: TierConfig) -> Result<Tiers, Vec<Problem>> {
        let mut problems = Vec::new();
        if !(1..=3_650).contains(&config.window_days) {
            problems.push(Problem::new("window_days", "from 1 to 3650 days"));
        }
        let tiers = &config.tiers;
        if tiers.is_empty() || tiers.len() > 20 {
            problems.push(Problem::new("tiers", "from 1 to 20 tiers"));
        }
        for (i, t) in tiers.iter().enumerate() {
            let at = format!("tiers[{i}]");
            let name = t.name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                problems.push(Problem::new("name", "1 to 80 characters").under(&at));
            } else if tiers[..i].iter().any(|u| u.name.trim() == name) {
                problems.push(Problem::new("name", "already used by another tier").under(&at));
            }
            if i == 0 && t.min_points != 0 {
                problems.push(Problem::new("min_points", "the first tier starts at 0").under(&at));
            }
            if i > 0 && t.min_points <= tiers[i - 1].min_points {
                problems.push(Problem::new("min_points", "more than the tier before").under(&at));
            }
            if t.perks.len() > 20 || t.perks.iter().any(|p| p.trim().is_empty() || p.len() > 200) {
                problems
                    .push(Problem::new("perks", "up to 20, each 1 to 200 characters").under(&at));
            }
            if t.discount_bps.is_some_and(|d| !(1..=FULL).contains(&d)) {
                problems
                    .push(Problem::new("discount_bps", "basis points from 1 to 10000").under(&at));
            }
        }
        if problems.is_empty() {
            Ok(Tiers(config))
        } else {
            Err(problems)
        }
    }

    pub fn all(&self) -> &[Tier] {
        &self.0.tiers
    }

    pub fn window_days(&self) -> i64 {
        self.0.window_days
    }

    pub fn names(&self) -> Vec<String> {
        self.all().iter().map(|t| t.name.clone()).collect()
    }

    /// Points earned in the window ending at `now`: earnings with `now - window < at ≤ now`
    /// (a later earning, from a clock ahead of ours, does not count yet), never below 0.
    pub fn points(&self, earnings: &[Earning], now: i64) -> i64 {
        let from = now.saturating_sub(self.0.window_days * DAY);
        earnings
            .iter()
            .filter(|e| e.at > from && e.at <= now)
            .fold(0i64, |s, e| s.saturating_add(e.points))
            .max(0)
    }

    /// The index of the tier held with `points`.
    pub fn index_for(&self, points: i64) -> usize {
        self.all()
            .iter()
            .take_while(|t| t.min_points <= points)
            .count()
            .saturating_sub(1)
    }

    pub fn tier_for(&self, points: i64) -> &Tier {
        &self.all()[self.index_for(points)]
    }

    /// The names of the tier held with `points` and of every tier below it.
    pub fn reached(&self, points: i64) -> Vec<String> {
        self.all()[..=self.index_for(points)]
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    pub fn standing(&self, earnings: &[Earning], now: i64) -> Standing {
        let points = self.points(earnings, now);
        let index = self.index_for(points);
        let tier = &self.all()[index];
        Standing {
            tier: tier.name.clone(),
            points,
            next: self.all().get(index + 1).map(|n| NextTier {
                name: n.name.clone(),
                min_points: n.min_points,
                points_to_go: n.min_points - points,
            }),
            reached: self.reached(points),
            holds_until: (index > 0).then(|| self.holds_until(earnings, now, tier.min_points)),
        }
    }

    /// The first second after `now` at which, earning nothing more, the window's points fall
    /// below `min`: earnings leave the window one by one, oldest first.
    fn holds_until(&self, earnings: &[Earning], now: i64, min: i64) -> i64 {
        let window = self.0.window_days * DAY;
        let from = now.saturating_sub(window);
        let mut inside: Vec<Earning> = earnings
            .iter()
            .filter(|e| e.at > from && e.at <= now)
            .copied()
            .collect();
        inside.sort_by_key(|e| e.at);
        let mut points = inside.iter().fold(0i64, |s, e| s.saturating_add(e.points));
        let mut i = 0;
        while i < inside.len() {
            // Every earning at the same second leaves together.
            let at = inside[i].at;
            while i < inside.len() && inside[i].at == at {
                points = points.saturating_sub(inside[i].points);
                i += 1;
            }
            if points < min {
                return at.saturating_add(window);
            }
        }
        now.saturating_add(window)
    }

    /// Upgrade, downgrade or the same, from the tier recorded before to the one now. A
    /// customer with no tier recorded, or one since removed from the table, counts as on the
    /// first tier (everyone starts there; no event for simply arriving).
    pub fn change(&self, previous: Option<&str>, current: &str) -> Change {
        let rank = |name: Option<&str>| {
            name.and_then(|n| self.all().iter().position(|t| t.name == n))
                .unwrap_or(0)
        };
        match rank(Some(current)).cmp(&rank(previous)) {
            std::cmp::Ordering::Greater => Change::Upgraded,
            std::cmp::Ordering::Less => Change::Downgraded,
            std::cmp::Ordering::Equal => Change::Same,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn earned(days_ago: i64, points: i64) -> Earning {
        Earning {
            at: NOW - days_ago * DAY,
            points,
        }
    }

    #[test]
    fn points_count_in_the_window_only() {
        let t = demo::tiers();
        let e = [
            earned(365, 1000),
            earned(364, 300),
            earned(10, 250),
            earned(-1, 999),
        ];
        // 365 days ago exactly is out; tomorrow's is not yet in.
        assert_eq!(t.points(&e, NOW), 550);
        assert_eq!(t.points(&[earned(1, 100), earned(0, -300)], NOW), 0);
    }

    #[test]
    fn standing_and_the_way_up() {
        let t = demo::tiers();
        let s = t.standing(&[earned(100, 400), earned(5, 200)], NOW);
        assert_eq!(s.tier, "Silver");
        assert_eq!(s.points, 600);
        assert_eq!(s.reached, ["Bronze", "Silver"]);
        let next = s.next.expect("Gold above");
        assert_eq!((next.name.as_str(), next.points_to_go), ("Gold", 1400));
        // The 400 leave in 265 days: 200 left, below Silver's 500.
        assert_eq!(s.holds_until, Some(NOW - 100 * DAY + 365 * DAY));
        let top = t.standing(&[earned(1, 5000)], NOW);
        assert_eq!((top.tier.as_str(), top.next), ("Gold", None));
        let bottom = t.standing(&[], NOW);
        assert_eq!((bottom.tier.as_str(), bottom.holds_until), ("Bronze", None));
        assert_eq!(bottom.reached, ["Bronze"]);
    }

    #[test]
    fn tiers_go_down_as_earnings_age() {
        let t = demo::tiers();
        let e = [earned(300, 2000)];
        assert_eq!(t.standing(&e, NOW).tier, "Gold");
        let later = NOW + 65 * DAY;
        let now_tier = t.standing(&e, later).tier;
        assert_eq!(now_tier, "Bronze");
        assert_eq!(t.change(Some("Gold"), &now_tier), Change::Downgraded);
        assert_eq!(Change::Downgraded.event(), Some("loyalty.downgraded"));
        assert_eq!(t.change(Some("Bronze"), "Gold"), Change::Upgraded);
        assert_eq!(t.change(Some("Silver"), "Silver"), Change::Same);
        assert_eq!(t.change(None, "Bronze"), Change::Same);
        assert_eq!(t.change(Some("Platinum"), "Silver"), Change::Upgraded);
        assert_eq!(Change::Same.event(), None);
        // A holds_until is exactly when the tier is lost.
        let s = t.standing(&e, NOW);
        let until = s.holds_until.expect("above the first tier");
        assert_eq!(t.standing(&e, until - 1).tier, "Gold");
        assert_eq!(t.standing(&e, until).tier, "Bronze");
    }

    #[test]
    fn configuration_problems_with_paths() {
        let config: TierConfig = serde_json::from_value(json!({
            "window_days": 0,
            "tiers": [
                {"name": "Bronze", "min_points": 10},
                {"name": "Bronze", "min_points": 5, "discount_bps": 0},
                {"name": " ", "min_points": 500, "perks": [""]}
            ]
        }))
        .expect("parses");
        let paths: Vec<String> = Tiers::new(config)
            .expect_err("problems")
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "window_days",
                "tiers[0].min_points",
                "tiers[1].name",
                "tiers[1].min_points",
                "tiers[1].discount_bps",
                "tiers[2].name",
                "tiers[2].perks",
            ]
        );
        let empty = TierConfig {
            window_days: 365,
            tiers: vec![],
        };
        assert_eq!(Tiers::new(empty).expect_err("no tiers")[0].path, "tiers");
    }
}
