//! Which events an endpoint receives. A pattern is an exact kind, `module.action`
//! (`quiz.finished`), or every action of a module, `module.*` (`quiz.*`). Parts are lowercase
//! letters, digits and `_`, as the outbox requires of kinds.

use crate::Problem;

/// Most patterns one endpoint may list.
pub const MAX_PATTERNS: usize = 20;
/// Longest pattern accepted.
pub const MAX_PATTERN_LEN: usize = 100;

fn is_part(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Why `pattern` is not a valid pattern, if it is not.
pub fn pattern_problem(pattern: &str) -> Option<String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Some(format!("at most {MAX_PATTERN_LEN} characters"));
    }
    let ok = pattern
        .split_once('.')
        .is_some_and(|(module, action)| is_part(module) && (action == "*" || is_part(action)));
    (!ok).then(|| {
        format!(
            "{pattern:?} is not an event kind: write module.action (quiz.finished) or module.* \
             (quiz.*), lowercase letters, digits and _"
        )
    })
}

/// Whether an event of `kind` matches `pattern`.
pub fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(module) => kind
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == kind,
    }
}

/// Whether an event of `kind` matches any of `patterns`.
pub fn matches_any(patterns: &[String], kind: &str) -> bool {
    patterns.iter().any(|p| matches(p, kind))
}

/// The patterns as stored: trimmed, duplicates dropped (first kept), every one valid, at least
/// one and at most [`MAX_PATTERNS`]. Problems are named `event_kinds` or `event_kinds[i]`.
pub fn normalize_patterns(input: &[String]) -> Result<Vec<String>, Vec<Problem>> {
    let mut problems = Vec::new();
    if input.is_empty() {
        problems.push(Problem::new(
            "event_kinds",
            "list at least one event kind (quiz.finished, quiz.*)",
        ));
    }
    if input.len() > MAX_PATTERNS {
        problems.push(Problem::new(
            "event_kinds",
            format!(
                "at most {MAX_PATTERNS} event kinds per endpoint (use module.* for a whole module)"
            ),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for (i, raw) in input.iter().enumerate().take(MAX_PATTERNS) {
        let p = raw.trim();
        if let Some(message) = pattern_problem(p) {
            problems.push(Problem::new(format!("event_kinds[{i}]"), message));
        } else if !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_module_patterns_match() {
        assert!(matches("quiz.finished", "quiz.finished"));
        assert!(!matches("quiz.finished", "quiz.started"));
        assert!(matches("quiz.*", "quiz.finished"));
        assert!(!matches("quiz.*", "quizzes.finished"));
        assert!(!matches("quiz.*", "leads.qualified"));
        assert!(!matches("quiz.*", "quiz"));
    }

    #[test]
    fn patterns_are_checked_and_deduplicated() {
        let ok = normalize_patterns(&[
            " quiz.finished ".into(),
            "quiz.*".into(),
            "quiz.finished".into(),
        ]);
        assert_eq!(ok, Ok(vec!["quiz.finished".into(), "quiz.*".into()]));
        for bad in [
            "quiz",
            "*",
            "*.finished",
            "Quiz.finished",
            "quiz.fin-ished",
            "quiz.",
            ".x",
            "a.b.c",
            "quiz.f*",
        ] {
            let e = normalize_patterns(&[bad.into()]).expect_err(bad);
            assert_eq!(e[0].path, "event_kinds[0]", "{bad}");
        }
        assert_eq!(
            normalize_patterns(&[]).expect_err("empty")[0].path,
            "event_kinds"
        );
        let many: Vec<String> = (0..=MAX_PATTERNS).map(|i| format!("m{i}.a")).collect();
        assert!(normalize_patterns(&many).is_err());
    }
}
