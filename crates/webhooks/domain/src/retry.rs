//! When to try a delivery again. Attempt 1 is made at once; after failed attempt `n` the next
//! one waits the schedule's `n`-th delay; after a failed last attempt the delivery is failed
//! (until replayed). The standard schedule is 5 s, 20 s, 60 s: four attempts over about 85 s.

use std::time::Duration;

/// Delays between attempts: `delays[n - 1]` after failed attempt `n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// Most retries a schedule may have.
pub const MAX_RETRIES: usize = 10;
/// Longest single delay: one day.
pub const MAX_DELAY: Duration = Duration::from_secs(86_400);

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::standard()
    }
}

/// What a delivery does after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A 2xx answer: done.
    Delivered,
    /// Failed; the next attempt is due at this time (the unit of `now` passed in).
    RetryAt(i64),
    /// Failed, and it was the last attempt.
    Failed,
}

impl RetrySchedule {
    /// 5 s, 20 s, 60 s.
    pub fn standard() -> RetrySchedule {
        RetrySchedule {
            delays: [5, 20, 60].map(Duration::from_secs).to_vec(),
        }
    }

    /// A schedule from comma-separated seconds, decimals allowed: `"5,20,60"`, `"0.2,0.2"`.
    /// An empty text means no retry (one attempt).
    pub fn parse(text: &str) -> Result<RetrySchedule, String> {
        let mut delays = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let secs: f64 = part
                .parse()
                .map_err(|_| format!("{part:?} is not a number of seconds"))?;
            if !secs.is_finite() || secs < 0.001 || secs > MAX_DELAY.as_secs_f64() {
                return Err(format!(
                    "{part:?}: each delay must be between 0.001 and {} seconds",
                    MAX_DELAY.as_secs()
                ));
            }
            delays.push(Duration::from_secs_f64(secs));
        }
        if delays.len() > MAX_RETRIES {
            return Err(format!("at most {MAX_RETRIES} retries"));
        }
        Ok(RetrySchedule { delays })
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// The wait after failed attempt `attempt` (1-based), or `None` when it was the last.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let i = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.delays.get(i).copied()
    }

    /// What follows attempt `attempt` made at `now_ms` (unix milliseconds).
    pub fn after_attempt(&self, attempt: u32, succeeded: bool, now_ms: i64) -> Next {
        if succeeded {
            return Next::Delivered;
        }
        match self.delay_after(attempt) {
            Some(d) => Next::RetryAt(now_ms.saturating_add(d.as_millis() as i64)),
            None => Next::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_schedule_is_four_attempts() {
        let s = RetrySchedule::standard();
        assert_eq!(s.max_attempts(), 4);
        assert_eq!(s.delay_after(1), Some(Duration::from_secs(5)));
        assert_eq!(s.delay_after(2), Some(Duration::from_secs(20)));
        assert_eq!(s.delay_after(3), Some(Duration::from_secs(60)));
        assert_eq!(s.delay_after(4), None);
        assert_eq!(s.delay_after(0), None);
        assert_eq!(s.after_attempt(1, false, 1_000), Next::RetryAt(6_000));
        assert_eq!(s.after_attempt(3, false, 0), Next::RetryAt(60_000));
        assert_eq!(s.after_attempt(4, false, 0), Next::Failed);
        assert_eq!(s.after_attempt(4, true, 0), Next::Delivered);
        assert_eq!(RetrySchedule::parse("5,20,60"), Ok(s));
    }

    #[test]
    fn schedules_parse_fractions_and_refuse_nonsense() {
        let s = RetrySchedule::parse(" 0.2, 0.25 ").expect("fractions");
        assert_eq!(
            s.delays(),
            [Duration::from_millis(200), Duration::from_millis(250)]
        );
        assert_eq!(RetrySchedule::parse("").map(|s| s.max_attempts()), Ok(1));
        for bad in [
            "x",
            "-1",
            "0",
            "NaN",
            "inf",
            "86401",
            "1,1,1,1,1,1,1,1,1,1,1",
        ] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
