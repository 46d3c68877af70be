//! Levels: thresholds of lifetime points with titles. The level of a total is the highest
//! threshold it reaches; progress is the way from that threshold to the next, in percent with
//! one decimal (1,250 points between 1,000 and 1,500 is 50.0). A level once reached is kept
//! ([`reached`]): a reversal lowers points, never the level.

use serde::{Deserialize, Serialize};

use crate::Problem;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub title: String,
    /// Lifetime points from which it is reached; the first level's is 0.
    pub min_points: i64,
}

/// A tenant's level table, checked: at least one level, the first at 0, thresholds rising.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Levels(Vec<Level>);

/// Where a points total stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Standing {
    /// From 1.
    pub number: u32,
    pub title: String,
    pub min_points: i64,
    /// The next level, `None` at the top.
    pub next: Option<NextLevel>,
    /// 0.0 to 100.0, one decimal; 100.0 at the top level.
    pub progress_percent: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextLevel {
    pub number: u32,
    pub title: String,
    pub min_points: i64,
}

impl Levels {
    /// The table, or every problem of it (paths `[i].field`).
    pub fn new(levels: Vec<Level>) -> Result<Levels, Vec<Problem>> {
        let mut problems = Vec::new();
        if levels.is_empty() || levels.len() > 100 {
            problems.push(Problem::new("", "from 1 to 100 levels"));
        }
        for (i, l) in levels.iter().enumerate() {
            let at = format!("[{i}]");
            let title = l.title.trim();
            if title.is_empty() || title.chars().count() > 80 {
                problems.push(Problem::new("title", "1 to 80 characters").under(&at));
            }
            if i == 0 && l.min_points != 0 {
                problems.push(Problem::new("min_points", "the first level starts at 0").under(&at));
            }
            if i > 0 && l.min_points <= levels[i - 1].min_points {
                problems.push(Problem::new("min_points", "more than the level before").under(&at));
            }
        }
        if problems.is_empty() {
            Ok(Levels(levels))
        } else {
            Err(problems)
        }
    }

    pub fn all(&self) -> &[Level] {
        &self.0
    }

    /// The level number (from 1) of a lifetime total.
    pub fn number_for(&self, points: i64) -> u32 {
        let reached = self.0.iter().take_while(|l| l.min_points <= points).count();
        reached.max(1) as u32
    }

    /// The standing of a total at level `number` (from [`reached`]; a number past the table is
    /// its top level).
    pub fn standing(&self, number: u32, points: i64) -> Standing {
        let index = (number.max(1) as usize - 1).min(self.0.len() - 1);
        let level = &self.0[index];
        let next = self.0.get(index + 1);
        let progress_percent = match next {
            None => 100.0,
            Some(n) => {
                let span = (n.min_points - level.min_points) as f64;
                let done = (points - level.min_points).clamp(0, n.min_points - level.min_points);
                // Rounded down to one decimal: 99.96 is not "100.0" until it is.
                ((done as f64 / span) * 1000.0).floor() / 10.0
            }
        };
        Standing {
            number: index as u32 + 1,
            title: level.title.clone(),
            min_points: level.min_points,
            next: next.map(|n| NextLevel {
                number: index as u32 + 2,
                title: n.title.clone(),
                min_points: n.min_points,
            }),
            progress_percent,
        }
    }
}

/// The level after earning up to `lifetime` points, having already reached `before`: never
/// lower than before.
pub fn reached(levels: &Levels, before: u32, lifetime: i64) -> u32 {
    before.max(levels.number_for(lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn the_converters_table() {
        let levels = demo::levels();
        assert_eq!(levels.all().len(), 10);
        let s = levels.standing(levels.number_for(1250), 1250);
        assert_eq!((s.number, s.title.as_str()), (5, "Experto en Conversión"));
        assert_eq!(s.progress_percent, 50.0);
        assert_eq!(s.next.as_ref().map(|n| n.min_points), Some(1500));
        assert_eq!(levels.number_for(0), 1);
        assert_eq!(levels.number_for(99), 1);
        assert_eq!(levels.number_for(100), 2);
        assert_eq!(levels.number_for(-5), 1);
        let top = levels.standing(levels.number_for(25_000), 25_000);
        assert_eq!(
            (top.number, top.progress_percent, top.next),
            (10, 100.0, None)
        );
        // 1,499 of the way from 1,000 to 1,500 is 99.8, not rounded up to 100.0.
        assert_eq!(levels.standing(5, 1499).progress_percent, 99.8);
        // A reached level is kept after a reversal; progress then reads 0.
        let kept = reached(&levels, 5, 900);
        assert_eq!(kept, 5);
        assert_eq!(levels.standing(kept, 900).progress_percent, 0.0);
    }

    #[test]
    fn bad_tables() {
        let l = |t: &str, m: i64| Level {
            title: t.into(),
            min_points: m,
        };
        let problems = Levels::new(vec![l("A", 10), l("", 5), l("C", 5)]).expect_err("bad");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "[0].min_points",
                "[1].title",
                "[1].min_points",
                "[2].min_points"
            ]
        );
        assert!(Levels::new(vec![]).is_err());
    }
}
