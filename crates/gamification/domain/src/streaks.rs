//! Streaks: consecutive calendar days (in the tenant's time zone) with activity. A gauge, not a
//! counter: a missed day starts it again at 1, and a streak whose last day is before
//! yesterday reads 0. The longest is kept. Every 7th consecutive day is a milestone (the
//! converter's 25-point bonus).

use jiff::civil::Date;

use crate::calendar::{add_days, days_between};

/// Every how many consecutive days a milestone bonus is due.
pub const MILESTONE_DAYS: u32 = 7;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    pub current: u32,
    pub longest: u32,
    /// The last local day with activity.
    pub last_day: Option<Date>,
}

impl Streak {
    /// The streak after activity on local day `day`, and whether this day completed a
    /// milestone (`current` became a multiple of [`MILESTONE_DAYS`]). The same day again, or an
    /// earlier day arriving late, changes nothing.
    pub fn record(self, day: Date) -> (Streak, bool) {
        let current = match self.last_day {
            Some(last) if day <= last => return (self, false),
            Some(last) if days_between(last, day) == 1 => self.current.saturating_add(1),
            _ => 1,
        };
        let next = Streak {
            current,
            longest: self.longest.max(current),
            last_day: Some(day),
        };
        (next, current.is_multiple_of(MILESTONE_DAYS))
    }

    /// The current streak as of local day `today`: 0 once a whole day was missed.
    pub fn current_on(&self, today: Date) -> u32 {
        match self.last_day {
            Some(last) if last >= add_days(today, -1) => self.current,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use jiff::civil::date;

    #[test]
    fn days_in_a_row_then_a_gap() {
        let mut s = Streak::default();
        let mut milestones = 0;
        for d in 1..=14 {
            let (next, milestone) = s.record(date(2026, 3, d));
            s = next;
            milestones += u32::from(milestone);
        }
        assert_eq!((s.current, s.longest, milestones), (14, 14, 2));
        // The same day twice, and a late earlier day: nothing moves.
        assert_eq!(s.record(date(2026, 3, 14)), (s, false));
        assert_eq!(s.record(date(2026, 3, 2)), (s, false));
        assert_eq!(
            s.current_on(date(2026, 3, 15)),
            14,
            "yesterday still counts"
        );
        assert_eq!(s.current_on(date(2026, 3, 16)), 0, "a whole day missed");
        let (s, milestone) = s.record(date(2026, 3, 16));
        assert_eq!((s.current, s.longest, milestone), (1, 14, false));
    }

    #[test]
    fn across_midnight_in_the_tenants_zone() {
        // Buenos Aires (UTC-3): 23:50 on the 9th and 00:10 on the 10th are two days in a row,
        // though both are the 10th in UTC.
        let ba = Calendar::new("America/Argentina/Buenos_Aires").expect("tz");
        let t1 = "2026-03-10T02:50:00Z"
            .parse::<jiff::Timestamp>()
            .expect("ts")
            .as_second();
        let t2 = t1 + 20 * 60;
        let (s, _) = Streak::default().record(ba.day(t1));
        let (s, _) = s.record(ba.day(t2));
        assert_eq!(s.current, 2);
        let utc = Calendar::utc();
        let (u, _) = Streak::default().record(utc.day(t1));
        let (u, _) = u.record(utc.day(t2));
        assert_eq!(u.current, 1, "in UTC they are the same day");
        // Madrid's spring-forward night (29 March 2026) is still one day after the 28th.
        let madrid = Calendar::new("Europe/Madrid").expect("tz");
        let sat = "2026-03-28T22:30:00Z"
            .parse::<jiff::Timestamp>()
            .expect("ts")
            .as_second();
        let sun = "2026-03-29T22:30:00Z"
            .parse::<jiff::Timestamp>()
            .expect("ts")
            .as_second();
        assert_eq!(madrid.day(sat), date(2026, 3, 28));
        assert_eq!(
            madrid.day(sun),
            date(2026, 3, 30),
            "00:30 on Monday, summer time"
        );
        let (s, _) = Streak::default().record(madrid.day(sat));
        let (s, _) = s.record(date(2026, 3, 29));
        let (s, _) = s.record(madrid.day(sun));
        assert_eq!(s.current, 3);
    }
}
