//! Coupon codes people read off a screen or a flyer and type back. The alphabet is the
//! digits and capitals without the look-alikes 0/O and 1/I (32 characters, 5 bits each),
//! and a generated code ends in a check character (Luhn mod 32), so a single mistyped
//! character or two swapped neighbours is caught before any lookup (all but the swap of '2'
//! and 'Z', the pair Luhn mod N cannot see): the customer hears "check the code" at once,
//! and a guesser gets no free database probes for 31 guesses in 32.
//!
//! A generated code is `prefix + body + check` (`SUMMER` + `7K3QF9XA` + `M`). Hand-written
//! codes (`WELCOME10`) have no check character; they are looked up as typed, which is why
//! one may not have the shape of a generated code ([`CodeFormat::check_manual`]).

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::reason::{Code, Reason};

pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Longest code a customer may type (after normalising).
pub const MAX_CODE_LEN: usize = 40;

/// What the customer typed, ready to compare: trimmed, upper case, without spaces or dashes
/// (codes are printed in groups, `SUMM-ER7K-3QF9`).
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// How a tenant's generated codes look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeFormat {
    /// Fixed start, A-Z and 0-9, up to 12 characters; may be empty.
    #[serde(default)]
    pub prefix: String,
    /// Random characters after the prefix, 4 to 24; the check character comes on top.
    pub length: usize,
}

impl Default for CodeFormat {
    /// 8 random characters: 2^40 codes, so a batch of 100,000 fills one in eleven million.
    fn default() -> Self {
        CodeFormat {
            prefix: String::new(),
            length: 8,
        }
    }
}

/// What a typed code looks like under a format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A generated code with a good check character: look it up.
    Generated,
    /// The shape of a generated code with a bad check character (or a look-alike): a typo.
    Typo,
    /// Anything else in coupon characters: a hand-written code, look it up.
    Other,
}

impl CodeFormat {
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.prefix.len() > 12
            || !self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            problems.push(Problem::new("prefix", "up to 12 characters, A-Z and 0-9"));
        }
        if !(4..=24).contains(&self.length) {
            problems.push(Problem::new("length", "from 4 to 24 characters"));
        }
        problems
    }

    /// A code from a body of alphabet characters: prefix, body, check character.
    pub fn assemble(&self, body: &[u8]) -> String {
        let mut code = String::with_capacity(self.prefix.len() + body.len() + 1);
        code.push_str(&self.prefix);
        code.extend(body.iter().map(|&b| char::from(b)));
        code.push(char::from(check_char(body)));
        code
    }

    /// Whether a normalised code is a generated one, a typo of one, or something else.
    pub fn shape(&self, code: &str) -> Shape {
        let Some(rest) = code.strip_prefix(self.prefix.as_str()) else {
            return Shape::Other;
        };
        if rest.len() != self.length + 1 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Shape::Other;
        }
        if rest.bytes().all(|b| index(b).is_some()) && luhn_ok(rest.as_bytes()) {
            Shape::Generated
        } else {
            Shape::Typo
        }
    }

    /// A hand-written code's problems: coupon characters only, and not the shape of a
    /// generated code (typo detection would refuse it unless its last character happened to
    /// check).
    pub fn check_manual(&self, code: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !(3..=MAX_CODE_LEN).contains(&code.len())
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            problems.push(Problem::new(
                "code",
                format!("3 to {MAX_CODE_LEN} characters, A-Z and 0-9"),
            ));
        } else if self.shape(code) != Shape::Other {
            problems.push(Problem::new(
                "code",
                format!(
                    "looks like a generated code ({} and {} more characters): choose another length",
                    if self.prefix.is_empty() { "no prefix" } else { &self.prefix },
                    self.length + 1
                ),
            ));
        }
        problems
    }

    /// The typed text, normalised, if it is worth a lookup; otherwise why not
    /// (`coupon_malformed`, `coupon_typo`).
    pub fn precheck(&self, input: &str) -> Result<String, Reason> {
        let code = normalize(input);
        if code.is_empty()
            || code.len() > MAX_CODE_LEN
            || !code.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Reason::new(
                Code::CouponMalformed,
                format!("a coupon code is 1 to {MAX_CODE_LEN} letters and digits"),
            ));
        }
        if self.shape(&code) == Shape::Typo {
            return Err(Reason::new(
                Code::CouponTypo,
                "this code has a typo: check it and type it again",
            ));
        }
        Ok(code)
    }
}

fn index(b: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == b)
}

/// Luhn mod 32 over `body`: the character that makes the whole code check.
fn check_char(body: &[u8]) -> u8 {
    let sum = luhn_sum(body, true);
    ALPHABET[(32 - sum % 32) % 32]
}

fn luhn_ok(code: &[u8]) -> bool {
    luhn_sum(code, false).is_multiple_of(32)
}

/// Sum from the right, doubling every other character (the rightmost when `double_first`,
/// as when the check character is still to come).
fn luhn_sum(chars: &[u8], double_first: bool) -> usize {
    let mut double = double_first;
    let mut sum = 0;
    for &c in chars.iter().rev() {
        let v = index(c).unwrap_or(0) * if double { 2 } else { 1 };
        sum += v / 32 + v % 32;
        double = !double;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::generate;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::collections::HashSet;

    fn summer() -> CodeFormat {
        CodeFormat {
            prefix: "SUMMER".into(),
            length: 6,
        }
    }

    #[test]
    fn normalising_forgives_case_spaces_and_dashes() {
        assert_eq!(normalize("  summ-er 7k3q\t"), "SUMMER7K3Q");
        assert_eq!(normalize("welcome10"), "WELCOME10");
        assert_eq!(normalize(" - "), "");
    }

    #[test]
    fn generated_codes_check_and_typos_do_not() {
        let f = summer();
        let mut rng = StdRng::seed_from_u64(7);
        let codes = generate(&f, 200, &mut rng, &HashSet::new()).expect("codes");
        for code in &codes {
            assert!(code.starts_with("SUMMER"));
            assert_eq!(code.len(), 6 + 6 + 1);
            assert_eq!(f.shape(code), Shape::Generated, "{code}");
            assert_eq!(
                f.precheck(&code.to_lowercase()).as_deref(),
                Ok(code.as_str())
            );
            let body = code.as_bytes();
            // Every single substitution in the body or check character is caught.
            for at in 6..body.len() {
                for &other in ALPHABET {
                    if other == body[at] {
                        continue;
                    }
                    let mut typo = body.to_vec();
                    typo[at] = other;
                    let typo = String::from_utf8(typo).expect("ascii");
                    assert_eq!(f.shape(&typo), Shape::Typo, "{code} → {typo}");
                }
            }
            // Every swap of two different neighbours too, but for '2' and 'Z' (values 0 and
            // 31, the one pair Luhn mod N cannot tell apart, like 09 and 90 in Luhn mod 10).
            for at in 6..body.len() - 1 {
                let pair = [body[at], body[at + 1]];
                if body[at] != body[at + 1] && pair != *b"2Z" && pair != *b"Z2" {
                    let mut typo = body.to_vec();
                    typo.swap(at, at + 1);
                    let typo = String::from_utf8(typo).expect("ascii");
                    assert_eq!(f.shape(&typo), Shape::Typo, "{code} → {typo}");
                }
            }
        }
        // Misread look-alikes are typos too.
        let mut misread = codes[0].clone().into_bytes();
        misread[7] = b'O';
        let misread = String::from_utf8(misread).expect("ascii");
        assert_eq!(
            f.precheck(&misread).map_err(|r| r.code),
            Err(Code::CouponTypo)
        );
    }

    #[test]
    fn precheck_sorts_input() {
        let f = summer();
        assert_eq!(f.precheck(" welcome-10 ").as_deref(), Ok("WELCOME10"));
        assert_eq!(
            f.precheck("").map_err(|r| r.code),
            Err(Code::CouponMalformed)
        );
        assert_eq!(
            f.precheck("ñandú").map_err(|r| r.code),
            Err(Code::CouponMalformed)
        );
        assert_eq!(
            f.precheck(&"A".repeat(MAX_CODE_LEN + 1))
                .map_err(|r| r.code),
            Err(Code::CouponMalformed)
        );
        assert_eq!(f.shape("SUMMERABC"), Shape::Other);
        assert_eq!(f.shape("WINTER2345678"), Shape::Other);
    }

    #[test]
    fn manual_codes_must_not_look_generated() {
        let f = CodeFormat::default();
        assert!(f.check_manual("WELCOME10").iter().any(|p| p.path == "code")); // 9 = 8 + 1
        assert!(f.check_manual("WELCOME1").is_empty());
        assert!(f.check_manual("SUMMER2026").is_empty());
        assert_eq!(f.check_manual("ab").len(), 1);
        assert_eq!(summer().check_manual("WELCOME10"), []);
    }
}
