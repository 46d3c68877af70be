//! Calendar days, weeks (Monday to Sunday) and months in a tenant's time zone. A streak, a
//! cap "per day", a weekly challenge and a monthly leaderboard all mean the tenant's local
//! calendar, not UTC: a visit at 23:30 in Buenos Aires is still that day there.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A tenant's time zone, resolved once.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
}

/// A span of local time as unix seconds: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    pub fn contains(&self, at: i64) -> bool {
        self.start <= at && at < self.end
    }
}

/// How often a cap refills, or which points a leaderboard sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Calendar {
    /// The IANA time zone `name` (`Europe/Madrid`); an unknown name is an error.
    pub fn new(name: &str) -> Result<Calendar, String> {
        TimeZone::get(name)
            .map(|tz| Calendar { tz })
            .map_err(|_| format!("unknown time zone {name:?}"))
    }

    pub fn utc() -> Calendar {
        Calendar { tz: TimeZone::UTC }
    }

    /// The local calendar day of the instant `at` (unix seconds).
    pub fn day(&self, at: i64) -> Date {
        let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
        ts.to_zoned(self.tz.clone()).date()
    }

    /// When the local day `day` starts (its first instant: 00:00, or later where a DST jump
    /// skips midnight), as unix seconds.
    pub fn start_of(&self, day: Date) -> i64 {
        day.to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(i64::MIN)
    }

    /// The local day, week (Monday to Sunday) or month holding the instant `at`.
    pub fn window(&self, period: Period, at: i64) -> Window {
        let day = self.day(at);
        let (first, next) = match period {
            Period::Day => (day, day.tomorrow().unwrap_or(day)),
            Period::Week => {
                let monday = monday_of(day);
                (monday, add_days(monday, 7))
            }
            Period::Month => {
                let first = day.first_of_month();
                let next = first
                    .checked_add(jiff::Span::new().months(1))
                    .unwrap_or(first);
                (first, next)
            }
        };
        Window {
            start: self.start_of(first),
            end: self.start_of(next),
        }
    }
}

/// The Monday on or before `day`.
pub fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    add_days(day, -back)
}

/// `day` moved by `n` days (saturating at the calendar's ends).
pub fn add_days(day: Date, n: i64) -> Date {
    day.checked_add(jiff::Span::new().days(n)).unwrap_or(day)
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().expect("a timestamp").as_second()
    }

    #[test]
    fn the_local_day_is_the_tenants() {
        let ba = Calendar::new("America/Argentina/Buenos_Aires").expect("tz");
        let madrid = Calendar::new("Europe/Madrid").expect("tz");
        // 02:30 UTC on the 10th is 23:30 on the 9th in Buenos Aires (UTC-3), 03:30 in Madrid.
        let t = at("2026-03-10T02:30:00Z");
        assert_eq!(ba.day(t), date(2026, 3, 9));
        assert_eq!(madrid.day(t), date(2026, 3, 10));
        assert_eq!(Calendar::utc().day(t), date(2026, 3, 10));
        assert!(Calendar::new("Mars/Olympus").is_err());
    }

    #[test]
    fn weeks_run_monday_to_sunday_locally() {
        let madrid = Calendar::new("Europe/Madrid").expect("tz");
        // Sunday 2026-03-15 23:59 local is still the week of Monday the 9th.
        let w = madrid.window(Period::Week, at("2026-03-15T22:59:00Z"));
        assert_eq!(w.start, at("2026-03-08T23:00:00Z"));
        assert_eq!(w.end, at("2026-03-15T23:00:00Z"));
        assert!(
            !w.contains(at("2026-03-15T23:00:00Z")),
            "Monday 00:00 is the next week"
        );
        // The week of the DST change (Sunday 29 March 2026 at 02:00) is an hour short.
        let w = madrid.window(Period::Week, at("2026-03-25T12:00:00Z"));
        assert_eq!(w.end - w.start, 7 * 86_400 - 3600);
        assert_eq!(monday_of(date(2026, 3, 9)), date(2026, 3, 9));
        assert_eq!(monday_of(date(2026, 3, 15)), date(2026, 3, 9));
    }

    #[test]
    fn days_and_months() {
        let ba = Calendar::new("America/Argentina/Buenos_Aires").expect("tz");
        let d = ba.window(Period::Day, at("2026-03-10T02:30:00Z"));
        assert_eq!(d.start, at("2026-03-09T03:00:00Z"));
        assert_eq!(d.end - d.start, 86_400);
        let m = ba.window(Period::Month, at("2026-02-28T12:00:00Z"));
        assert_eq!(m.start, at("2026-02-01T03:00:00Z"));
        assert_eq!(m.end, at("2026-03-01T03:00:00Z"));
        assert_eq!(days_between(date(2026, 2, 27), date(2026, 3, 1)), 2);
        assert_eq!(days_between(date(2026, 3, 1), date(2026, 2, 27)), -2);
    }
}
