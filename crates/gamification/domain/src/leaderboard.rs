//! The leaderboard's order and the names it shows. Ranks are a total order: more points
//! first; at equal points, whoever reached that score first; then the user id, so two rows
//! never tie and a page never repeats or skips anyone.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    AllTime,
    Weekly,
    Monthly,
}

impl Board {
    pub fn parse(s: &str) -> Option<Board> {
        match s {
            "all_time" => Some(Board::AllTime),
            "weekly" => Some(Board::Weekly),
            "monthly" => Some(Board::Monthly),
            _ => None,
        }
    }
}

/// One user's line before ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    pub user: String,
    pub points: i64,
    /// Unix milliseconds (or any increasing clock) when the user reached `points`.
    pub reached_at: i64,
}

/// The leaderboard's order: more points, then earlier, then user id.
pub fn order(a: &Score, b: &Score) -> Ordering {
    b.points
        .cmp(&a.points)
        .then(a.reached_at.cmp(&b.reached_at))
        .then(a.user.cmp(&b.user))
}

/// Most rows one page shows, and the default.
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_LIMIT: usize = 50;

/// A name as others see it: the first name and the initial of the last ("María García
/// López" → "María L."); a single word stays as it is; an email shows its local part's
/// first word ("maria.garcia@x.es" → "Maria G."). Empty: `None` (the caller says
/// "Anonymous").
pub fn mask(name: &str) -> Option<String> {
    let name = name.trim();
    let words: Vec<String> = if let Some((local, _)) = name.split_once('@') {
        local
            .split(['.', '_', '-', '+'])
            .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
            .map(capitalise)
            .collect()
    } else {
        name.split_whitespace().map(str::to_owned).collect()
    };
    match words.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [first, .., last] => {
            let initial: String = last
                .chars()
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .collect();
            Some(format!("{first} {initial}."))
        }
    }
}

fn capitalise(w: &str) -> String {
    let mut chars = w.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked() {
        assert_eq!(mask("María García").as_deref(), Some("María G."));
        assert_eq!(mask("  María   García López ").as_deref(), Some("María L."));
        assert_eq!(mask("Jordi").as_deref(), Some("Jordi"));
        assert_eq!(
            mask("maria.garcia@example.com").as_deref(),
            Some("Maria G.")
        );
        assert_eq!(mask("ana@example.com").as_deref(), Some("Ana"));
        assert_eq!(mask("ana.2024@example.com").as_deref(), Some("Ana"));
        assert_eq!(mask("álvaro ñúñez").as_deref(), Some("álvaro Ñ."));
        assert_eq!(mask(" "), None);
        assert_eq!(mask("123@x.es"), None);
    }

    #[test]
    fn ties_go_to_who_got_there_first() {
        let s = |user: &str, points, reached_at| Score {
            user: user.into(),
            points,
            reached_at,
        };
        let mut rows = [s("c", 10, 5), s("a", 20, 9), s("b", 10, 3), s("d", 10, 3)];
        rows.sort_by(order);
        let users: Vec<&str> = rows.iter().map(|r| r.user.as_str()).collect();
        assert_eq!(users, ["a", "b", "d", "c"]);
        assert_eq!(Board::parse("weekly"), Some(Board::Weekly));
        assert_eq!(Board::parse("daily"), None);
    }
}
