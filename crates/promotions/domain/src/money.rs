//! Discount arithmetic in integer cents. Percentages are basis points (1/100 of a percent:
//! 12.5 % is 1,250) so a tenant's "12.5 % off" is exact, and every division rounds once,
//! half up (0.5 cent goes to the customer): the same cart always costs the same cents, and
//! a receipt's lines add up to its total.

/// A whole percentage in basis points (10,000 = 100 %).
pub const FULL: u32 = 10_000;

/// `bps` basis points of `cents`, rounded half up. Negative amounts count as 0 (a line is
/// never below zero, so there is nothing to take a share of). i128 inside: no overflow for
/// any i64 amount.
pub fn percent_of(cents: i64, bps: u32) -> i64 {
    share(cents, i64::from(bps), i64::from(FULL))
}

/// `cents × num / den`, rounded half up; 0 for a non-positive amount or denominator. A share
/// is never more than the amount when `num ≤ den`.
pub fn share(cents: i64, num: i64, den: i64) -> i64 {
    if cents <= 0 || den <= 0 || num <= 0 {
        return 0;
    }
    let exact = i128::from(cents) * i128::from(num);
    let den = i128::from(den);
    let rounded = (exact * 2 + den) / (den * 2);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_up_to_the_cent() {
        assert_eq!(percent_of(1000, 1250), 125);
        assert_eq!(percent_of(5, 1000), 1); // 0.5 → 1
        assert_eq!(percent_of(4, 1000), 0); // 0.4 → 0
        assert_eq!(percent_of(15, 1000), 2); // 1.5 → 2
        assert_eq!(percent_of(999, FULL), 999);
        assert_eq!(percent_of(-5, 1000), 0);
        assert_eq!(percent_of(i64::MAX, FULL), i64::MAX);
        assert_eq!(share(10, 1, 3), 3);
        assert_eq!(share(20, 1, 3), 7);
        assert_eq!(share(10, 1, 0), 0);
    }

    #[test]
    fn shares_grow_with_the_amount_by_at_most_a_cent() {
        // What keeps every discount step monotone (see `apply`).
        for bps in [1, 333, 5000, 6667, 9999, FULL] {
            for c in 0..2000 {
                let (a, b) = (percent_of(c, bps), percent_of(c + 1, bps));
                assert!(b == a || b == a + 1, "{c} {bps}");
                assert!(a <= c);
            }
        }
    }
}
