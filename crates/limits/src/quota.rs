//! Quotas as operators write them in configuration.

use std::fmt;
use std::time::Duration;

/// A budget of `count` requests per `period`, refilled continuously rather than per calendar
/// window (see [`crate::gcra`]), so there is no window edge at which a client can double up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub period: Duration,
}

impl Quota {
    /// Upper bound accepted by [`parse_quota`]: larger numbers are almost certainly a typo, and
    /// the limiter's microsecond resolution stays exact up to a million a second.
    pub const MAX_COUNT: u32 = 1_000_000;
}

impl fmt::Display for Quota {
    /// Renders the configuration syntax back, so logs show what the operator wrote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.period.as_secs();
        let unit = [
            (86_400, "day"),
            (3600, "hour"),
            (60, "minute"),
            (1, "second"),
        ]
        .into_iter()
        .find(|(u, _)| secs > 0 && secs.is_multiple_of(*u) && secs / u <= 1000);
        match unit {
            Some((u, unit)) if self.period.subsec_nanos() == 0 => match secs / u {
                1 => write!(f, "{}/{unit}", self.count),
                n => write!(f, "{}/{n} {unit}s", self.count),
            },
            _ => write!(f, "{} per {:?}", self.count, self.period),
        }
    }
}

/// Why a rate-limit setting was rejected; each message quotes the input so a bad line in a
/// config file or environment variable can be found without guessing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("rate limit is empty; expected COUNT/PERIOD such as \"30/hour\", or \"off\"")]
    Empty,
    #[error(
        "rate limit {input:?} has no '/'; expected COUNT/PERIOD such as \"30/hour\", or \"off\""
    )]
    MissingSlash { input: String },
    #[error("rate limit {input:?}: count {count:?} is not a whole number")]
    InvalidCount { input: String, count: String },
    #[error("rate limit {input:?}: count must be between 1 and {max} (use \"off\" for no limit)", max = Quota::MAX_COUNT)]
    CountOutOfRange { input: String },
    #[error(
        "rate limit {input:?}: unknown period {period:?}; expected second, minute, hour or day, optionally after a number up to 1000 (\"10 minutes\")"
    )]
    UnknownPeriod { input: String, period: String },
}

/// Parses `"30/hour"`, `"5/minute"`, `"10/second"`, `"2/day"` (plural units too), with an
/// optional multiplier up to 1000 (`"400/10 minutes"`), or `"off"`.
///
/// Case and surrounding spaces are ignored because these values come from hand-edited
/// configuration. `Ok(None)` means the limit is switched off; `0/hour` is rejected rather than
/// read as "refuse everything", which is never what an operator means.
pub fn parse_quota(s: &str) -> Result<Option<Quota>, QuotaError> {
    let input = s.trim();
    if input.is_empty() {
        return Err(QuotaError::Empty);
    }
    if input.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let Some((count, period)) = input.split_once('/') else {
        return Err(QuotaError::MissingSlash {
            input: input.to_owned(),
        });
    };
    let (count, period) = (count.trim(), period.trim());
    // `u32::from_str` would also take "+5"; only plain digits are a count.
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuotaError::InvalidCount {
            input: input.to_owned(),
            count: count.to_owned(),
        });
    }
    let count = match count.parse::<u32>() {
        Ok(n) if (1..=Quota::MAX_COUNT).contains(&n) => n,
        // All digits, so the only parse failure left is overflow: out of range as well.
        _ => {
            return Err(QuotaError::CountOutOfRange {
                input: input.to_owned(),
            });
        }
    };
    // An optional whole multiplier: "400/10 minutes".
    let digits = period.bytes().take_while(u8::is_ascii_digit).count();
    let (times, unit) = period.split_at(digits);
    let times: u64 = match times {
        "" => 1,
        t => match t.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(QuotaError::UnknownPeriod {
                    input: input.to_owned(),
                    period: period.to_owned(),
                });
            }
        },
    };
    let unit = unit.trim();
    let secs = match unit.to_ascii_lowercase().as_str() {
        "second" | "seconds" => 1,
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => {
            return Err(QuotaError::UnknownPeriod {
                input: input.to_owned(),
                period: period.to_owned(),
            });
        }
    };
    Ok(Some(Quota {
        count,
        period: Duration::from_secs(secs * times),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(count: u32, secs: u64) -> Option<Quota> {
        Some(Quota {
            count,
            period: Duration::from_secs(secs),
        })
    }

    #[test]
    fn accepts_the_documented_forms() {
        let cases = [
            ("30/hour", q(30, 3600)),
            ("120/hour", q(120, 3600)),
            ("5/minute", q(5, 60)),
            ("10/second", q(10, 1)),
            ("2/day", q(2, 86_400)),
            ("3/hours", q(3, 3600)),
            ("1/SECONDS", q(1, 1)),
            ("  30 / Hour  ", q(30, 3600)),
            ("30/HOUR", q(30, 3600)),
            ("007/minute", q(7, 60)),
            ("1000000/second", q(1_000_000, 1)),
            ("1/day", q(1, 86_400)),
            ("400/10 minutes", q(400, 600)),
            ("400/10minutes", q(400, 600)),
            ("5/2 hours", q(5, 7200)),
            ("off", None),
            ("OFF", None),
            (" Off ", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_quota(input), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn quotas_print_as_they_are_written() {
        for text in [
            "30/hour",
            "400/10 minutes",
            "5/2 hours",
            "1/day",
            "10/second",
            "7/90 seconds",
        ] {
            let quota = parse_quota(text).expect("valid").expect("on");
            assert_eq!(quota.to_string(), text);
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        let input = |s: &str| s.trim().to_owned();
        assert_eq!(parse_quota(""), Err(QuotaError::Empty));
        assert_eq!(parse_quota("   "), Err(QuotaError::Empty));
        for s in ["30", "hour", "30 per hour", "on", "none", "30hour"] {
            assert_eq!(
                parse_quota(s),
                Err(QuotaError::MissingSlash { input: input(s) }),
                "{s:?}"
            );
        }
        for (s, count) in [
            ("/hour", ""),
            ("-1/hour", "-1"),
            ("+5/hour", "+5"),
            ("1.5/hour", "1.5"),
            ("ten/hour", "ten"),
            ("3 0/hour", "3 0"),
            ("1e3/hour", "1e3"),
        ] {
            assert_eq!(
                parse_quota(s),
                Err(QuotaError::InvalidCount {
                    input: input(s),
                    count: count.to_owned()
                }),
                "{s:?}"
            );
        }
        for s in [
            "0/hour",
            "000/hour",
            "1000001/second",
            "4294967296/hour",
            "99999999999999999999999/hour",
        ] {
            assert_eq!(
                parse_quota(s),
                Err(QuotaError::CountOutOfRange { input: input(s) }),
                "{s:?}"
            );
        }
        for (s, period) in [
            ("30/", ""),
            ("30/fortnight", "fortnight"),
            ("30/h", "h"),
            ("30/0 hours", "0 hours"),
            ("30/1001 hours", "1001 hours"),
            ("30/2", "2"),
            ("30/hour/x", "hour/x"),
            ("30/ms", "ms"),
        ] {
            assert_eq!(
                parse_quota(s),
                Err(QuotaError::UnknownPeriod {
                    input: input(s),
                    period: period.to_owned()
                }),
                "{s:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_problem_and_quote_the_input() {
        let msg = |s| {
            parse_quota(s)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(msg("30/fortnight").contains("\"fortnight\""));
        assert!(msg("30/fortnight").contains("30/fortnight"));
        assert!(msg("0/hour").contains("between 1 and 1000000"));
        assert!(msg("abc/hour").contains("not a whole number"));
        assert!(msg("30").contains("no '/'"));
    }

    #[test]
    fn display_round_trips() {
        for s in ["30/hour", "5/minute", "10/second", "2/day"] {
            let quota = parse_quota(s).ok().flatten().expect("valid quota");
            assert_eq!(quota.to_string(), s);
            assert_eq!(parse_quota(&quota.to_string()), Ok(Some(quota)));
        }
        let odd = Quota {
            count: 3,
            period: Duration::from_millis(1500),
        };
        assert_eq!(odd.to_string(), "3 per 1.5s");
    }
}
