//! Exact arithmetic on naturals of any size, just what a price needs: multiply by a small
//! factor, add, divide by a power of ten, print as decimal text.
//!
//! Why not `i128`: a price is base × size × quality × each feature × load, each factor in
//! ten-thousandths, and rounding is done once, at the end. With a few features of a large
//! multiplier the exact product no longer fits in 128 bits; rounding in between would
//! change the cent on some ties. Limbs of 32 bits keep every step a plain `u64` operation.

/// A natural number, little-endian base-2^32 limbs, no trailing zero limbs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Natural(Vec<u32>);

impl Natural {
    pub fn from_u64(v: u64) -> Natural {
        let mut n = Natural(vec![v as u32, (v >> 32) as u32]);
        n.trim();
        n
    }

    /// 10^`exp`.
    pub fn pow10(exp: u32) -> Natural {
        let mut n = Natural::from_u64(1);
        n.mul_pow10(exp);
        n
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    pub fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    pub fn mul_pow10(&mut self, mut exp: u32) {
        while exp > 0 {
            let step = exp.min(9);
            self.mul_small(10u32.pow(step));
            exp -= step;
        }
    }

    pub fn add(&mut self, other: &Natural) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut carry = 0u64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let v = u64::from(*limb) + u64::from(other.0.get(i).copied().unwrap_or(0)) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// Divides in place (floor) by `d` > 0 and returns the remainder.
    pub fn div_small(&mut self, d: u32) -> u32 {
        let d = u64::from(d.max(1));
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / d) as u32;
            rem = v % d;
        }
        self.trim();
        rem as u32
    }

    /// Divides in place (floor) by 10^`exp`; whether anything was left over.
    pub fn div_pow10(&mut self, mut exp: u32) -> bool {
        let mut inexact = false;
        while exp > 0 {
            let step = exp.min(9);
            inexact |= self.div_small(10u32.pow(step)) != 0;
            exp -= step;
        }
        inexact
    }

    /// Divided by 10^`exp`, rounded half-up (a tie goes to the larger neighbour).
    pub fn round_half_up(&self, exp: u32) -> Natural {
        let mut n = self.clone();
        if exp > 0 {
            let mut half = Natural::from_u64(5);
            half.mul_pow10(exp - 1);
            n.add(&half);
            n.div_pow10(exp);
        }
        n
    }

    pub fn to_u64(&self) -> Option<u64> {
        match self.0.as_slice() {
            [] => Some(0),
            [lo] => Some(u64::from(*lo)),
            [lo, hi] => Some(u64::from(*lo) | (u64::from(*hi) << 32)),
            _ => None,
        }
    }

    /// Decimal digits, most significant first ("0" for zero).
    pub fn digits(&self) -> String {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut text = chunks.pop().map_or("0".to_owned(), |c| c.to_string());
        for c in chunks.iter().rev() {
            text.push_str(&format!("{c:09}"));
        }
        text
    }

    /// As a decimal of `scale` places (the value counts 10^-`scale` units), with at least
    /// `min_decimals` decimals and no trailing zeros past them: 297 at scale 3 is "0.297".
    pub fn to_decimal(&self, scale: u32, min_decimals: usize) -> String {
        let digits = self.digits();
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        let mut frac = frac.to_owned();
        while frac.len() > min_decimals && frac.ends_with('0') {
            frac.pop();
        }
        while frac.len() < min_decimals {
            frac.push('0');
        }
        if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_u128() {
        let mut n = Natural::from_u64(u64::MAX);
        n.mul_small(u32::MAX);
        let expected = u128::from(u64::MAX) * u128::from(u32::MAX);
        assert_eq!(n.digits(), expected.to_string());
        n.add(&Natural::from_u64(12_345));
        assert_eq!(n.digits(), (expected + 12_345).to_string());
        let rem = n.div_small(1_000);
        assert_eq!(u128::from(rem), (expected + 12_345) % 1_000);
        assert_eq!(n.digits(), ((expected + 12_345) / 1_000).to_string());
        assert_eq!(Natural::pow10(30).digits(), format!("1{}", "0".repeat(30)));
        assert_eq!(Natural::default().digits(), "0");
    }

    #[test]
    fn rounding_half_up() {
        assert_eq!(Natural::from_u64(2_970).round_half_up(2).to_u64(), Some(30));
        assert_eq!(Natural::from_u64(2_950).round_half_up(2).to_u64(), Some(30));
        assert_eq!(Natural::from_u64(2_949).round_half_up(2).to_u64(), Some(29));
        assert_eq!(Natural::from_u64(7).round_half_up(0).to_u64(), Some(7));
        assert_eq!(Natural::pow10(40).to_u64(), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(Natural::from_u64(297).to_decimal(3, 2), "0.297");
        assert_eq!(Natural::from_u64(270).to_decimal(3, 2), "0.27");
        assert_eq!(Natural::from_u64(5).to_decimal(4, 2), "0.0005");
        assert_eq!(Natural::default().to_decimal(6, 2), "0.00");
        assert_eq!(Natural::from_u64(123_000).to_decimal(3, 0), "123");
        assert_eq!(Natural::from_u64(30).to_decimal(2, 2), "0.30");
    }
}
