//! The design form: what was typed (level rows, the JSON lists, the settings) read into a
//! `Design`, with every problem that stops it from being read, each at its path. Checking the
//! design itself is `Design::check`, called by `design::save`.

use std::collections::HashSet;

use faro_gamification_domain::Problem;
use faro_gamification_domain::levels::Level;
use faro_web::panel::FormData;
use serde::de::DeserializeOwned;

use crate::design::Design;

/// The form as typed (or as stored, pretty-printed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Typed {
    pub levels: Vec<(String, String)>,
    pub rules: String,
    pub multipliers: String,
    pub badges: String,
    pub templates: String,
    pub streak_bonus: String,
    pub points_per_credit: String,
    pub min_points: String,
    pub user_events: String,
}

fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

impl Typed {
    pub fn of(d: &Design) -> Typed {
        Typed {
            levels: d
                .levels
                .iter()
                .map(|l| (l.title.clone(), l.min_points.to_string()))
                .collect(),
            rules: pretty(&d.rules),
            multipliers: pretty(&d.multipliers),
            badges: pretty(&d.badges),
            templates: pretty(&d.templates),
            streak_bonus: d.streak_bonus.to_string(),
            points_per_credit: d.redemption.points_per_credit.to_string(),
            min_points: d.redemption.min_points.to_string(),
            user_events: d.user_events.join("\n"),
        }
    }

    /// The posted form: level rows in order, without the removed and the blank ones.
    pub fn read(form: &FormData) -> Typed {
        let titles: Vec<&str> = form.all("level_title").collect();
        let mins: Vec<&str> = form.all("level_min").collect();
        let removed: HashSet<&str> = form.all("level_remove").collect();
        let levels = (0..titles.len().max(mins.len()))
            .filter(|i| !removed.contains(i.to_string().as_str()))
            .map(|i| {
                let title = titles.get(i).copied().unwrap_or_default().trim();
                let min = mins.get(i).copied().unwrap_or_default().trim();
                (title.to_owned(), min.to_owned())
            })
            .filter(|(t, m)| !(t.is_empty() && m.is_empty()))
            .collect();
        let raw = |name: &str| form.get(name).unwrap_or_default().to_owned();
        Typed {
            levels,
            rules: raw("rules"),
            multipliers: raw("multipliers"),
            badges: raw("badges"),
            templates: raw("templates"),
            streak_bonus: form.text("streak_bonus").to_owned(),
            points_per_credit: form.text("points_per_credit").to_owned(),
            min_points: form.text("min_points").to_owned(),
            user_events: raw("user_events"),
        }
    }

    /// The design typed, and every problem reading it. A part that cannot be read keeps the
    /// stored design's, so the rest is still checked (its problems are listed too, except
    /// those inside the unreadable part).
    pub fn parse(&self, stored: &Design) -> (Design, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut unreadable: Vec<&str> = Vec::new();
        let mut d = stored.clone();
        let mut levels = Vec::with_capacity(self.levels.len());
        for (i, (title, min)) in self.levels.iter().enumerate() {
            match min.parse::<i64>() {
                Ok(min_points) => levels.push(Level {
                    title: title.clone(),
                    min_points,
                }),
                Err(_) => problems.push(Problem::new(
                    format!("levels[{i}].min_points"),
                    "a whole number of points",
                )),
            }
        }
        if levels.len() == self.levels.len() {
            d.levels = levels;
        } else {
            unreadable.push("levels");
        }
        if let Some(v) = read_list("rules", &self.rules, &mut problems, &mut unreadable) {
            d.rules = v;
        }
        if let Some(v) = read_list(
            "multipliers",
            &self.multipliers,
            &mut problems,
            &mut unreadable,
        ) {
            d.multipliers = v;
        }
        if let Some(v) = read_list("badges", &self.badges, &mut problems, &mut unreadable) {
            d.badges = v;
        }
        if let Some(v) = read_list("templates", &self.templates, &mut problems, &mut unreadable) {
            d.templates = v;
        }
        for (path, text, slot) in [
            ("streak_bonus", &self.streak_bonus, &mut d.streak_bonus),
            (
                "redemption.points_per_credit",
                &self.points_per_credit,
                &mut d.redemption.points_per_credit,
            ),
            (
                "redemption.min_points",
                &self.min_points,
                &mut d.redemption.min_points,
            ),
        ] {
            match text.parse::<i64>() {
                Ok(n) => *slot = n,
                Err(_) => {
                    unreadable.push(path);
                    problems.push(Problem::new(path, "a whole number"));
                }
            }
        }
        d.user_events = self
            .user_events
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        if !problems.is_empty() {
            problems.extend(
                d.check()
                    .into_iter()
                    .filter(|p| !unreadable.iter().any(|u| part_of(&p.path) == *u)),
            );
        }
        (d, problems)
    }
}

/// A JSON list, or `None` with its problem noted and the part marked unreadable.
fn read_list<T: DeserializeOwned>(
    name: &'static str,
    text: &str,
    problems: &mut Vec<Problem>,
    unreadable: &mut Vec<&'static str>,
) -> Option<Vec<T>> {
    match json_list(name, text) {
        Ok(v) => Some(v),
        Err(p) => {
            problems.push(p);
            unreadable.push(name);
            None
        }
    }
}

/// A JSON list (blank: empty), or the problem reading it at the list's path.
fn json_list<T: DeserializeOwned>(name: &str, text: &str) -> Result<Vec<T>, Problem> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|e| {
        Problem::new(
            name,
            format!("not a list of the right shape (a JSON array): {e}"),
        )
    })
}

/// The design part a problem's path is in: `rules` of `rules[2].award`,
/// `redemption.min_points` as is.
pub fn part_of(path: &str) -> &str {
    if path.starts_with("redemption.") {
        return path;
    }
    let end = path.find(['[', '.']).unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_design_reads_back_unchanged() {
        let d = Design::demo();
        let (back, problems) = Typed::of(&d).parse(&Design::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, d);
    }

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let mut t = Typed::of(&Design::demo());
        t.levels[1].1 = "lots".into();
        t.rules = "[{\"key\": ".into();
        t.streak_bonus = "-5".into();
        t.points_per_credit = "1.5".into();
        let (_, problems) = t.parse(&Design::demo());
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "levels[1].min_points",
                "rules",
                "redemption.points_per_credit",
                "streak_bonus"
            ]
        );
    }

    #[test]
    fn blank_and_removed_level_rows_are_dropped() {
        let form = FormData {
            fields: [
                ("level_title", "A"),
                ("level_min", "0"),
                ("level_title", "B"),
                ("level_min", "10"),
                ("level_remove", "1"),
                ("level_title", " "),
                ("level_min", ""),
                ("level_title", "C"),
                ("level_min", " 20 "),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            files: Vec::new(),
        };
        let t = Typed::read(&form);
        assert_eq!(
            t.levels,
            [
                ("A".to_owned(), "0".to_owned()),
                ("C".to_owned(), "20".to_owned())
            ]
        );
        assert_eq!(part_of("rules[2].award.points"), "rules");
        assert_eq!(part_of("redemption.min_points"), "redemption.min_points");
        assert_eq!(part_of("streak_bonus"), "streak_bonus");
    }
}
