//! Mercado Pago writes amounts as JSON decimals in currency units (`"transaction_amount":
//! 12.34`); the domain counts integer cents. The conversion goes through the number's text,
//! never through float arithmetic, and refuses what is not a whole number of cents (a third
//! decimal, a negative), so a rounding can never decide what was paid.

use serde_json::Number;

/// Why an amount cannot be read as cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmountError(pub String);

impl std::fmt::Display for AmountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not an amount in cents", self.0)
    }
}

impl std::error::Error for AmountError {}

/// `12.34` → 1234, `12.3` → 1230, `12` → 1200.
pub fn to_cents(n: &Number) -> Result<i64, AmountError> {
    let text = n.to_string();
    let err = || AmountError(text.clone());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) || fraction.len() > 2 {
        return Err(err());
    }
    let whole: i64 = whole.parse().map_err(|_| err())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| err())?;
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction))
        .ok_or_else(err)
}

/// 1234 → `12.34` as a JSON number (what MP's `unit_price` and refund `amount` take).
/// `None` for a negative amount or one too large to be exact (beyond 2^53 cents).
pub fn from_cents(cents: i64) -> Option<Number> {
    if !(0..=(1 << 53)).contains(&cents) {
        return None;
    }
    // Exact: the nearest double to cents/100, whose shortest text is the two-decimal one
    // (checked by the roundtrip property below).
    #[allow(clippy::cast_precision_loss)]
    Number::from_f64(cents as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).expect("a JSON number")
    }

    #[test]
    fn reads_decimals_exactly() {
        for (text, cents) in [
            ("12.34", 1234),
            ("12.3", 1230),
            ("12", 1200),
            ("0.01", 1),
            ("0", 0),
            ("100.50", 10050),
            ("1999.99", 199_999),
        ] {
            assert_eq!(to_cents(&number(text)), Ok(cents), "{text}");
        }
        assert_eq!(
            to_cents(&number("1.5e2")),
            Ok(15_000),
            "an exact exponent is fine"
        );
        for bad in ["12.345", "-1", "-0.5", "1e-3"] {
            assert!(to_cents(&number(bad)).is_err(), "{bad}");
        }
        assert!(to_cents(&number("92233720368547759")).is_err(), "overflow");
        assert!(!AmountError("x".into()).to_string().is_empty());
    }

    #[test]
    fn writes_two_decimals() {
        assert_eq!(
            from_cents(1234).map(|n| n.to_string()).as_deref(),
            Some("12.34")
        );
        assert_eq!(
            from_cents(1230).map(|n| n.to_string()).as_deref(),
            Some("12.3")
        );
        assert_eq!(
            from_cents(1).map(|n| n.to_string()).as_deref(),
            Some("0.01")
        );
        assert_eq!(from_cents(-1), None);
        assert_eq!(from_cents(i64::MAX), None);
    }

    proptest! {
        #[test]
        fn cents_roundtrip(cents in 0i64..100_000_000_000) {
            let n = from_cents(cents).expect("in range");
            prop_assert_eq!(to_cents(&n), Ok(cents));
            // And through the wire: MP parses the text we send.
            prop_assert_eq!(to_cents(&number(&n.to_string())), Ok(cents));
        }
    }
}
