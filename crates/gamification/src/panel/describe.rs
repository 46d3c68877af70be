//! The design in words, for the design page's tables: what a rule awards and when, what
//! unlocks a badge, what a challenge asks.

use faro_gamification_domain::badges::Criterion;
use faro_gamification_domain::challenges::Goal;
use faro_gamification_domain::filter::Filter;
use faro_gamification_domain::rules::{Award, Rule};
use faro_web::panel::datetime;

use super::number;

/// A serde enum's name (`day`, `gte`, `rare`).
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `10 points`, `10 points per amount_eur (at most 500)`, `the badge primer_paso`.
pub fn award(a: &Award) -> String {
    match a {
        Award::Points { points } => format!("{} points", number(*points)),
        Award::PointsPer {
            prop,
            per_unit,
            max,
        } => {
            let at_most = max.map_or(String::new(), |m| format!(" (at most {})", number(m)));
            format!("{per_unit} points per {prop}{at_most}")
        }
        Award::Badge { badge } => format!("the badge {badge}"),
    }
}

/// `size_mb gt 100`.
pub fn filter(f: &Filter) -> String {
    let value = if f.value.is_null() {
        String::new()
    } else {
        format!(" {}", f.value)
    };
    format!("{} {}{value}", f.prop, name_of(&f.op))
}

/// The conditions of a rule besides its event, or "always".
pub fn conditions(r: &Rule) -> String {
    let mut parts: Vec<String> = r.filters.iter().map(filter).collect();
    if r.once_per_user {
        parts.push("once per user".into());
    }
    if let Some(cap) = r.cap {
        parts.push(format!(
            "at most {} points a {}",
            number(cap.points),
            name_of(&cap.period)
        ));
    }
    if let Some(from) = r.active_from {
        parts.push(format!("from {}", datetime(from)));
    }
    if let Some(until) = r.active_until {
        parts.push(format!("until {}", datetime(until)));
    }
    if parts.is_empty() {
        "always".into()
    } else {
        parts.join("; ")
    }
}

/// What unlocks a badge.
pub fn criterion(c: &Criterion) -> String {
    match c {
        Criterion::Milestone { event, count } => format!("{count} × {event}"),
        Criterion::Streak { days } => format!("{days} days in a row"),
        Criterion::Level { level } => format!("reaching level {level}"),
        Criterion::PropertyOver {
            event,
            prop,
            threshold,
        } => format!("one {event} with {prop} over {threshold}"),
        Criterion::Burst {
            event,
            count,
            within_secs,
        } => format!("{count} × {event} within {}", span(*within_secs)),
        Criterion::FirstUsers { users } => format!("among the first {users} players"),
        Criterion::Manual => "given by a rule or by staff".into(),
    }
}

/// What a challenge asks within its week.
pub fn goal(g: &Goal) -> String {
    match g {
        Goal::Count {
            event,
            filters,
            count,
        } => {
            let with: Vec<String> = filters.iter().map(filter).collect();
            if with.is_empty() {
                format!("{count} × {event}")
            } else {
                format!("{count} × {event} with {}", with.join(", "))
            }
        }
        Goal::Distinct { event, prop, count } => {
            format!("{count} different {prop} among {event}")
        }
        Goal::Streak { days } => format!("{days} days in a row"),
        Goal::CountOver {
            event,
            prop,
            threshold,
            count,
        } => format!("{count} × {event} with {prop} over {threshold}"),
    }
}

/// `1 h`, `90 min`, `45 s`.
fn span(secs: i64) -> String {
    if secs >= 3600 && secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else if secs >= 60 && secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_demo_reads_in_words() {
        let r: Rule =
            serde_json::from_value(json!({"key": "daily_login", "event": "user.daily_login",
            "cap": {"points": 5, "period": "day"}, "award": {"type": "points", "points": 5}}))
            .expect("rule");
        assert_eq!(award(&r.award), "5 points");
        assert_eq!(conditions(&r), "at most 5 points a day");
        let r: Rule = serde_json::from_value(json!({"key": "big", "event": "conversion.completed",
            "filters": [{"prop": "size_mb", "op": "gt", "value": 100}],
            "award": {"type": "points_per", "prop": "amount_eur", "per_unit": 10, "max": 500}}))
        .expect("rule");
        assert_eq!(award(&r.award), "10 points per amount_eur (at most 500)");
        assert_eq!(conditions(&r), "size_mb gt 100");
        let c: Criterion = serde_json::from_value(
            json!({"type": "burst", "event": "conversion.completed", "count": 5, "within_secs": 3600}),
        )
        .expect("criterion");
        assert_eq!(criterion(&c), "5 × conversion.completed within 1 h");
    }
}
