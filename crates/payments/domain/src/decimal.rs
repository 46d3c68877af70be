//! Fixed-point decimals. Money is an integer count of micro-units (1 EUR = 1,000,000), a
//! factor (multiplier) an integer count of ten-thousandths (1.14 = 11,400), a file size an
//! integer count of thousandths of a megabyte. Prices are computed on these integers only.
//!
//! In JSON they are plain numbers (`"base_price": 0.05`, `"multiplier": 1.3`), as in the
//! converter's tables, or strings (`"0.05"`). A number is read through its shortest decimal
//! text (`0.1` is read as "0.1", never as the binary fraction nearest to it), so no float
//! arithmetic touches a value; more decimals than the unit holds are refused for money and
//! factors, and rounded up for sizes (a file of 10.0001 MB is over 10 MB).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Micro-units in one unit of a currency.
pub const MICROS_PER_UNIT: i64 = 1_000_000;
/// Micro-units in one cent.
pub const MICROS_PER_CENT: i64 = 10_000;

/// An amount in micro-units of the tenant's currency (signed, so a negative price in a
/// configuration is reported by validation rather than refused by the parser).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// A multiplier in ten-thousandths: `Factor::ONE` is 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Factor(i64);

/// A file size in thousandths of a megabyte (decimal: 1 MB = 1,000 kB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Megabytes(i64);

impl Money {
    pub const ZERO: Money = Money(0);
    /// Decimal places of a micro-unit.
    pub const SCALE: u32 = 6;

    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// "0.05" → 50,000 micro-units; more than six decimals is an error.
    pub fn parse(text: &str) -> Result<Money, String> {
        parse_scaled(text, Self::SCALE, false).map(Money)
    }
}

impl Factor {
    pub const ONE: Factor = Factor(10_000);
    /// Decimal places of a ten-thousandth.
    pub const SCALE: u32 = 4;
    /// Ten-thousandths in 1.0.
    pub const DENOMINATOR: i64 = 10_000;

    pub const fn from_ten_thousandths(n: i64) -> Factor {
        Factor(n)
    }

    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// "1.14" → 11,400; more than four decimals is an error.
    pub fn parse(text: &str) -> Result<Factor, String> {
        parse_scaled(text, Self::SCALE, false).map(Factor)
    }
}

impl Megabytes {
    pub const SCALE: u32 = 3;

    pub const fn from_thousandths(n: i64) -> Megabytes {
        Megabytes(n)
    }

    pub const fn whole(mb: i64) -> Megabytes {
        Megabytes(mb * 1_000)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    /// "15.5" → 15,500; decimals past the third round the size up.
    pub fn parse(text: &str) -> Result<Megabytes, String> {
        parse_scaled(text, Self::SCALE, true).map(Megabytes)
    }
}

impl fmt::Display for Money {
    /// At least two decimals: "0.05", "0.297", "1.00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, Self::SCALE, 2))
    }
}

impl fmt::Display for Factor {
    /// At least one decimal: "1.0", "1.14".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, Self::SCALE, 1))
    }
}

impl fmt::Display for Megabytes {
    /// "5", "15.5".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, Self::SCALE, 0))
    }
}

/// `text` (`-12.345`) as an integer count of 10^-`scale` units. Past `scale` decimals: refused,
/// or, with `round_up`, rounded towards +∞.
pub fn parse_scaled(text: &str, scale: u32, round_up: bool) -> Result<i64, String> {
    const SHAPE: &str = "a decimal number like 1.25";
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return Err(SHAPE.into());
    }
    let too_large = || "too large".to_owned();
    let mut value: i128 = 0;
    let kept = frac.len().min(scale as usize);
    for b in int.bytes().chain(frac[..kept].bytes()) {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(i64::MAX) {
            return Err(too_large());
        }
    }
    for _ in kept..scale as usize {
        value *= 10;
    }
    if frac[kept..].bytes().any(|b| b != b'0') {
        if !round_up {
            return Err(format!("at most {scale} decimals"));
        }
        // Towards +∞: up for a positive value; truncation already did it for a negative one.
        if !negative {
            value += 1;
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| too_large())
}

/// `value` 10^-`scale` units as decimal text with at least `min_decimals` decimals and no
/// trailing zeros past them.
pub fn format_scaled(value: i64, scale: u32, min_decimals: usize) -> String {
    let unit = 10u64.pow(scale);
    let abs = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    let mut frac = format!("{:0width$}", abs % unit, width = scale as usize);
    while frac.len() > min_decimals && frac.ends_with('0') {
        frac.pop();
    }
    let point = if frac.is_empty() { "" } else { "." };
    format!("{sign}{}{point}{frac}", abs / unit)
}

/// Written as a JSON number: the shortest double for the decimal text prints as that text.
fn serialize_scaled<S: Serializer>(value: i64, scale: u32, s: S) -> Result<S::Ok, S::Error> {
    let text = format_scaled(value, scale, 0);
    match text.parse::<f64>() {
        Ok(f) => s.serialize_f64(f),
        Err(_) => s.serialize_str(&text),
    }
}

struct ScaledVisitor {
    scale: u32,
    round_up: bool,
}

impl de::Visitor<'_> for ScaledVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a decimal number with at most {} decimals", self.scale)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        parse_scaled(&v.to_string(), self.scale, self.round_up).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        parse_scaled(&v.to_string(), self.scale, self.round_up).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if !v.is_finite() {
            return Err(E::custom("a finite number"));
        }
        // Rust prints a double as the shortest decimal that reads back as it, never in
        // exponent form: 0.1 → "0.1", 1e-7 → "0.0000001".
        parse_scaled(&v.to_string(), self.scale, self.round_up).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        parse_scaled(v, self.scale, self.round_up).map_err(E::custom)
    }
}

fn deserialize_scaled<'de, D: Deserializer<'de>>(
    d: D,
    scale: u32,
    round_up: bool,
) -> Result<i64, D::Error> {
    d.deserialize_any(ScaledVisitor { scale, round_up })
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0, Self::SCALE, s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_scaled(d, Self::SCALE, false).map(Money)
    }
}

impl Serialize for Factor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0, Self::SCALE, s)
    }
}

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_scaled(d, Self::SCALE, false).map(Factor)
    }
}

impl Serialize for Megabytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0, Self::SCALE, s)
    }
}

impl<'de> Deserialize<'de> for Megabytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_scaled(d, Self::SCALE, true).map(Megabytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimal_text_is_read_exactly() {
        assert_eq!(Money::parse("0.05"), Ok(Money::from_micros(50_000)));
        assert_eq!(Money::parse("-1.5"), Ok(Money::from_micros(-1_500_000)));
        assert_eq!(Money::parse(".1"), Ok(Money::from_micros(100_000)));
        assert_eq!(
            Factor::parse("1.14"),
            Ok(Factor::from_ten_thousandths(11_400))
        );
        assert_eq!(Factor::parse("2"), Ok(Factor::from_ten_thousandths(20_000)));
        assert!(Factor::parse("1.00001").is_err());
        assert_eq!(Factor::parse("1.00000"), Ok(Factor::ONE));
        for bad in ["", ".", "-", "1e3", "1.2.3", "abc", "1,5", " - 1"] {
            assert!(Money::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Money::parse("99999999999999999999"),
            Err("too large".into())
        );
    }

    #[test]
    fn sizes_round_up_past_a_kilobyte() {
        assert_eq!(
            Megabytes::parse("10.0001"),
            Ok(Megabytes::from_thousandths(10_001))
        );
        assert_eq!(Megabytes::parse("10.0000"), Ok(Megabytes::whole(10)));
        assert_eq!(
            Megabytes::parse("-0.0001"),
            Ok(Megabytes::from_thousandths(0))
        );
    }

    #[test]
    fn json_numbers_and_strings() {
        let m: Money = serde_json::from_value(json!(0.1)).expect("money");
        assert_eq!(m, Money::from_micros(100_000));
        let m: Money = serde_json::from_value(json!("0.3")).expect("money");
        assert_eq!(m, Money::from_micros(300_000));
        let f: Factor = serde_json::from_value(json!(3)).expect("factor");
        assert_eq!(f, Factor::from_ten_thousandths(30_000));
        let s: Megabytes = serde_json::from_value(json!(1e-7)).expect("size");
        assert_eq!(s, Megabytes::from_thousandths(1));
        assert!(serde_json::from_value::<Factor>(json!(1.23456)).is_err());
        assert!(serde_json::from_value::<Money>(json!(true)).is_err());
        assert_eq!(json!(Money::from_micros(50_000)), json!(0.05));
        assert_eq!(json!(Factor::from_ten_thousandths(13_000)), json!(1.3));
        assert_eq!(json!(Megabytes::whole(5)), json!(5.0));
    }

    #[test]
    fn display() {
        assert_eq!(Money::from_micros(297_000).to_string(), "0.297");
        assert_eq!(Money::from_micros(1_000_000).to_string(), "1.00");
        assert_eq!(Money::from_micros(-50_000).to_string(), "-0.05");
        assert_eq!(Factor::ONE.to_string(), "1.0");
        assert_eq!(Factor::from_ten_thousandths(11_400).to_string(), "1.14");
        assert_eq!(Megabytes::from_thousandths(15_500).to_string(), "15.5");
        assert_eq!(format_scaled(30, 2, 2), "0.30");
    }
}
