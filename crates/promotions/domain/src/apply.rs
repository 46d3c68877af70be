//! One reward applied to what is left of the lines: how many cents it takes off each.
//!
//! Every step takes off at most what a line has left, so no line goes below zero. And every
//! step is monotone: a line that has more left never ends with less left after the step, and
//! other lines having more never leaves it with less. That is what makes stacking safe: an
//! extra offer slotted in anywhere can only lower what the later ones see, never raise the
//! final total (each step's remainder is a non-decreasing function of its input, composed).
//! The property tests check it ("adding a promotion never makes the best total worse").
//!
//! The shapes that keep it so:
//! - percentages round each line half up (a line one cent dearer gets at most one cent more
//!   off, see [`crate::money`]);
//! - caps (a percentage's maximum, a fixed amount, the spend budget left) are handed to lines
//!   in cart order, each taking what it wants until the cap is used up;
//! - buy X get Y picks its free units by catalogue price, not by what earlier offers left,
//!   and takes off the free units' share of what is left of their line.

use crate::cart::Line;
use crate::money::{percent_of, share};
use crate::promotion::{Reward, Scope};

/// Cents off each line (same order as `lines`) for `reward` on `left` (what is left of each
/// line), at most `limit` in all (the spend budget left; `None`: no budget). Also whether
/// the limit cut the reward down.
pub fn discounts(
    reward: &Reward,
    scope: &Scope,
    lines: &[Line],
    left: &[i64],
    limit: Option<i64>,
) -> (Vec<i64>, bool) {
    let n = lines.len().min(left.len());
    let (lines, left) = (&lines[..n], &left[..n]);
    let scoped = |f: &dyn Fn(&Line, i64) -> i64| -> Vec<i64> {
        lines
            .iter()
            .zip(left)
            // `min`: an unchecked reward (over 100 %) still never takes a line below zero.
            .map(|(l, &x)| {
                if scope.covers(l) {
                    f(l, x).min(x.max(0))
                } else {
                    0
                }
            })
            .collect()
    };
    let (wants, cap): (Vec<i64>, Option<i64>) = match *reward {
        Reward::PercentOff { bps, max_discount } => {
            (scoped(&|_, x| percent_of(x, bps)), max_discount)
        }
        Reward::AmountOff { amount } => (scoped(&|_, x| x.max(0)), Some(amount.max(0))),
        Reward::BuyXGetY { buy, get } => {
            let free = free_units(lines, scope, buy, get);
            (
                lines
                    .iter()
                    .zip(left)
                    .zip(free)
                    .map(|((l, &x), k)| share(x, k, l.quantity))
                    .collect(),
                None,
            )
        }
        Reward::BonusCredits { .. } => (vec![0; n], None),
    };
    let uncut = allocate(&wants, cap);
    let cut = allocate(&uncut, limit.map(|l| l.max(0)));
    let clamped = cut != uncut;
    (cut, clamped)
}

/// Each line takes what it wants, in order, until `cap` is used up.
fn allocate(wants: &[i64], cap: Option<i64>) -> Vec<i64> {
    let Some(mut left) = cap else {
        return wants.to_vec();
    };
    wants
        .iter()
        .map(|&w| {
            let take = w.max(0).min(left);
            left -= take;
            take
        })
        .collect()
}

/// How many units of each line are free under buy `buy` get `get`: the scope's units ranked
/// by catalogue price, dearest first (equal prices: earlier line first), in groups of
/// `buy + get`; the last `get` of each full group are free.
pub fn free_units(lines: &[Line], scope: &Scope, buy: u32, get: u32) -> Vec<i64> {
    let mut free = vec![0i64; lines.len()];
    let group = i64::from(buy) + i64::from(get);
    if buy == 0 || get == 0 {
        return free;
    }
    let mut ranked: Vec<usize> = (0..lines.len())
        .filter(|&i| scope.covers(&lines[i]) && lines[i].quantity > 0)
        .collect();
    ranked.sort_by(|&a, &b| {
        lines[b]
            .unit_price
            .cmp(&lines[a].unit_price)
            .then(a.cmp(&b))
    });
    // Walk the ranked units line by line rather than unit by unit: quantities reach 10,000.
    let total: i64 = ranked.iter().map(|&i| lines[i].quantity).sum();
    let full_groups = total / group;
    let mut position = 0i64; // units ranked before this line
    for i in ranked {
        let q = lines[i].quantity;
        // Units at positions p (0-based) with p mod group ≥ buy, within the full groups.
        let end = (position + q).min(full_groups * group);
        free[i] = free_positions_before(end, group, i64::from(buy))
            - free_positions_before(position.min(end), group, i64::from(buy));
        position += q;
    }
    free
}

/// How many of the positions `0..n` are free ones (p mod group ≥ buy).
fn free_positions_before(n: i64, group: i64, buy: i64) -> i64 {
    let whole = n / group;
    let rest = n % group;
    whole * (group - buy) + (rest - buy).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<Line> {
        vec![
            Line::new("tee", "summer", 1500, 2),
            Line::new("hat", "summer", 500, 1),
            Line::new("mug", "home", 999, 1),
        ]
    }

    fn amounts(lines: &[Line]) -> Vec<i64> {
        lines.iter().map(Line::amount).collect()
    }

    #[test]
    fn percent_off_per_line_half_up_with_a_cap() {
        let l = lines();
        let r = Reward::PercentOff {
            bps: 1250,
            max_discount: None,
        };
        let (d, clamped) = discounts(&r, &Scope::All, &l, &amounts(&l), None);
        assert_eq!(d, [375, 63, 125]); // 62.5 → 63, 124.875 → 125
        assert!(!clamped);
        let r = Reward::PercentOff {
            bps: 1250,
            max_discount: Some(400),
        };
        assert_eq!(
            discounts(&r, &Scope::All, &l, &amounts(&l), None).0,
            [375, 25, 0]
        );
        let (d, clamped) = discounts(&r, &Scope::All, &l, &amounts(&l), Some(100));
        assert_eq!((d, clamped), (vec![100, 0, 0], true));
    }

    #[test]
    fn amount_off_never_below_zero() {
        let l = lines();
        let home = Scope::Categories {
            categories: vec!["home".into()],
        };
        let r = Reward::AmountOff { amount: 5000 };
        assert_eq!(discounts(&r, &home, &l, &amounts(&l), None).0, [0, 0, 999]);
        let r = Reward::AmountOff { amount: 3100 };
        assert_eq!(
            discounts(&r, &Scope::All, &l, &amounts(&l), None).0,
            [3000, 100, 0]
        );
        assert_eq!(
            discounts(&r, &Scope::All, &l, &[0, 50, 10], None).0,
            [0, 50, 10]
        );
    }

    #[test]
    fn buy_one_get_one_frees_the_cheapest_of_each_pair() {
        let l = lines();
        let summer = Scope::Categories {
            categories: vec!["summer".into()],
        };
        // Units: tee 1500, tee 1500, hat 500 → one pair (tee, tee): the second tee free.
        assert_eq!(free_units(&l, &summer, 1, 1), [1, 0, 0]);
        // All: tee, tee, mug 999, hat → pairs (tee, tee) and (mug, hat).
        assert_eq!(free_units(&l, &Scope::All, 1, 1), [1, 1, 0]);
        assert_eq!(free_units(&l, &Scope::All, 2, 1), [0, 0, 1]);
        let r = Reward::BuyXGetY { buy: 1, get: 1 };
        assert_eq!(
            discounts(&r, &Scope::All, &l, &amounts(&l), None).0,
            [1500, 500, 0]
        );
        // After 50 % off, the free tee is worth half.
        assert_eq!(
            discounts(&r, &Scope::All, &l, &[1500, 250, 500], None).0,
            [750, 250, 0]
        );
    }

    #[test]
    fn big_quantities_count_groups_exactly() {
        let l = vec![
            Line::new("a", "x", 300, 10_000),
            Line::new("b", "x", 100, 7),
        ];
        let free = free_units(&l, &Scope::All, 2, 1);
        // 10,007 units → 3,335 groups → 3,335 free: positions 2, 5, ...; b's 7 units are
        // positions 10,000..10,006, of which groups end at 10,002 and 10,005.
        assert_eq!(free, [3333, 2]);
        assert_eq!(free.iter().sum::<i64>(), 10_007 / 3);
        // Brute force on small cases.
        for qa in 0..7 {
            for qb in 0..7 {
                for (buy, get) in [(1, 1), (2, 1), (1, 2), (3, 2)] {
                    let l = vec![Line::new("a", "x", 300, qa), Line::new("b", "x", 100, qb)];
                    let units: Vec<usize> = std::iter::repeat_n(0, qa as usize)
                        .chain(std::iter::repeat_n(1, qb as usize))
                        .collect();
                    let g = (buy + get) as usize;
                    let mut expect = [0i64; 2];
                    for (p, &u) in units.iter().enumerate() {
                        if p < units.len() / g * g && p % g >= buy as usize {
                            expect[u] += 1;
                        }
                    }
                    assert_eq!(
                        free_units(&l, &Scope::All, buy, get),
                        expect,
                        "{qa} {qb} {buy} {get}"
                    );
                }
            }
        }
    }

    #[test]
    fn bonus_credits_take_nothing_off() {
        let l = lines();
        let r = Reward::BonusCredits { credits: 500 };
        assert_eq!(
            discounts(&r, &Scope::All, &l, &amounts(&l), None).0,
            [0, 0, 0]
        );
    }
}
