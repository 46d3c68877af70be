//! Session flow, scoring and round trips, on the spec's example document and on small
//! hand-made definitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{answer, at, run, spec_def, spec_value};
use faro_quiz_domain::flow::MAX_ANSWER_PROBLEMS;
use faro_quiz_domain::parse::MAX_PROBLEM_CHARS;
use faro_quiz_domain::{
    AnswerError, AnswerInput, Definition, Format, Jump, Mode, Progress, ScoreError, SessionState,
    Step, normalize, parse_document, parse_value, score,
};
use serde_json::{Value, json};

fn def_from(doc: &Value) -> Definition {
    parse_value(doc, Mode::Draft).unwrap_or_else(|p| panic!("invalid test definition: {p:?}"))
}

/// A one-dimension, weight-1 definition around the given questions and rules.
fn small(questions: Value, rules: Value) -> Definition {
    def_from(&json!({
        "slug": "small", "title": "Small", "lang": "en",
        "dimensions": [{"key": "d", "label": "D"}],
        "questions": questions,
        "rules": rules,
        "profiles": [{"code": "ALL", "title": "All", "min": 0, "max": 100}]
    }))
}

fn single(key: &str, scores: &[i64]) -> Value {
    let options: Vec<Value> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"key": format!("o{i}"), "text": "x", "scores": {"d": s}}))
        .collect();
    json!({"key": key, "type": "single", "text": "?", "options": options})
}

// ---------------------------------------------------------------- the spec's example

#[test]
fn spec_example_parses_with_its_content() {
    let def = spec_def();
    assert_eq!(def.slug, "saver-profile");
    assert_eq!(def.lang, "en");
    assert_eq!(def.tags, ["savings", "risk"]);
    assert_eq!(def.estimated_minutes, 3);
    assert_eq!(def.dimensions.len(), 2);
    assert_eq!(def.dimensions[1].weight, 2);
    let keys: Vec<&str> = def.questions.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(keys, ["q1", "q2", "q3", "q4", "q5"]);
    assert_eq!(
        def.questions[1].options()[1].next,
        Some(Jump::Question("q5".into()))
    );
    assert_eq!(def.rules.len(), 2);
    assert_eq!(def.rules[1].skip_to, Some(Jump::End));
    assert_eq!(def.profiles.len(), 3);
    assert_eq!(def.question_index("q4"), Some(3));
    assert_eq!(def.question_index("nope"), None);
}

/// Worked example on the spec document (weights: horizon 1, tolerance 2).
///
/// Answers: q1 = c (horizon 10), q2 = yes, q3 = {stocks, crypto} (tolerance 3 + 4), the
/// crypto rule fires (+2 tolerance), q4 = 4 (4 × 2 = 8 tolerance; `value_lte 2` does not
/// fire), q5 = grow (tolerance 6).
///
/// raw: horizon = 10, tolerance = 7 + 2 + 8 + 6 = 23; total = 1·10 + 2·23 = 56.
///
/// Weighted bounds per answered question, with w(o) = 1·horizon + 2·tolerance:
/// - q1: w = {0, 5, 10}                      -> [0, 10]
/// - q2: w = {0, 0}                          -> [0, 0]
/// - q3: w = {6, 2, 8}, 0..=3 selected; sorted 2, 6, 8:
///   k=0 [0, 0], k=1 [2, 8], k=2 [8, 14], k=3 [16, 16] -> [0, 16]
/// - q4: 1..=5 × (2·2 = 4)                   -> [4, 20]
/// - q5: w = {0, 12}                         -> [0, 12]
///
/// lo = 4, hi = 58; score = round(100 · (56 − 4) / 54) = round(96.30) = 96 -> HIGH.
///
/// Per dimension (unweighted): horizon bounds [0, 10] (q1 only), raw 10 -> 100.
/// tolerance: q3 {3, 1, 4} -> [0, 8]; q4 [2, 10]; q5 [0, 6]; total [2, 24];
/// raw 23 -> round(100 · 21 / 22) = round(95.45) = 95.
#[test]
fn worked_example_scores_as_computed_by_hand() {
    let def = spec_def();
    let state = run(
        &def,
        &[
            ("q1", &["c"], None),
            ("q2", &["yes"], None),
            ("q3", &["stocks", "crypto"], None),
            ("q4", &[], Some(4)),
            ("q5", &["grow"], None),
        ],
    );
    assert_eq!(state.fired_rules(), [0]);
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 96);
    assert_eq!(def.profiles[outcome.profile].code, "HIGH");
    assert_eq!(outcome.dimensions[0].key, "horizon");
    assert_eq!(outcome.dimensions[0].label, "Time horizon");
    assert_eq!(
        (outcome.dimensions[0].raw, outcome.dimensions[0].score),
        (10, 100)
    );
    assert_eq!(outcome.dimensions[1].key, "tolerance");
    assert_eq!(
        (outcome.dimensions[1].raw, outcome.dimensions[1].score),
        (23, 95)
    );
}

/// q1 = a (0), q2 = no jumps to q5 (q3 and q4 are skipped and leave the bounds),
/// q5 = save (0). Bounds: q1 [0, 10], q2 [0, 0], q5 [0, 12] -> lo 0, hi 22; total 0 -> 0.
#[test]
fn worked_example_with_the_option_jump() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    answer(&mut state, &def, "q1", &["a"], None).unwrap();
    assert_eq!(
        answer(&mut state, &def, "q2", &["no"], None),
        Ok(Step::Next(4))
    );
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 3,
            total_estimate: 3
        }
    );
    assert_eq!(
        answer(&mut state, &def, "q5", &["save"], None),
        Ok(Step::End)
    );
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 0);
    assert_eq!(def.profiles[outcome.profile].code, "LOW");
    assert_eq!(outcome.dimensions[1].score, 0);
}

/// q1 = b (5), q2 = yes, q3 = {bonds} (tolerance 1), q4 = 2 (4 tolerance) and the
/// `value_lte 2` rule ends the session. raw: horizon 5, tolerance 5; total 5 + 10 = 15.
/// Bounds: q1 [0, 10], q2 [0, 0], q3 [0, 16], q4 [4, 20] -> lo 4, hi 46;
/// score = round(100 · 11 / 42) = round(26.19) = 26 -> LOW.
#[test]
fn worked_example_with_the_rule_jump_to_end() {
    let def = spec_def();
    let mut state = run(
        &def,
        &[
            ("q1", &["b"], None),
            ("q2", &["yes"], None),
            ("q3", &["bonds"], None),
        ],
    );
    assert_eq!(answer(&mut state, &def, "q4", &[], Some(2)), Ok(Step::End));
    assert!(state.is_complete());
    assert_eq!(state.fired_rules(), [1]);
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 26);
    assert_eq!(def.profiles[outcome.profile].code, "LOW");
}

// ---------------------------------------------------------------- flow

#[test]
fn start_serves_the_first_question() {
    let def = spec_def();
    let state = SessionState::start(&def);
    assert_eq!(state.current(), Some(0));
    assert!(!state.is_complete());
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 1,
            total_estimate: 5
        }
    );
    assert_eq!(state.answered().count(), 0);
}

#[test]
fn questions_are_served_in_document_order() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    assert_eq!(
        answer(&mut state, &def, "q1", &["a"], None),
        Ok(Step::Next(1))
    );
    assert_eq!(
        answer(&mut state, &def, "q2", &["yes"], None),
        Ok(Step::Next(2))
    );
    assert_eq!(
        answer(&mut state, &def, "q3", &["bonds"], None),
        Ok(Step::Next(3))
    );
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 4,
            total_estimate: 5
        }
    );
    assert_eq!(
        answer(&mut state, &def, "q4", &[], Some(3)),
        Ok(Step::Next(4))
    );
    assert_eq!(
        answer(&mut state, &def, "q5", &["grow"], None),
        Ok(Step::End)
    );
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 5,
            total_estimate: 5
        }
    );
    let answered: Vec<usize> = state.answered().map(|(q, _)| q).collect();
    assert_eq!(answered, [0, 1, 2, 3, 4]);
}

#[test]
fn answering_another_question_is_not_current() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    let before = state.clone();
    let err = answer(&mut state, &def, "q2", &["yes"], None).unwrap_err();
    assert_eq!(
        err,
        AnswerError::NotCurrent {
            current: Some("q1".into())
        }
    );
    assert_eq!(err.code(), "not_current_question");
    assert_eq!(state, before);
    // Replaying an already answered question is refused the same way.
    answer(&mut state, &def, "q1", &["a"], None).unwrap();
    assert!(matches!(
        answer(&mut state, &def, "q1", &["a"], None),
        Err(AnswerError::NotCurrent { current: Some(c) }) if c == "q2"
    ));
}

#[test]
fn answering_a_finished_session_is_refused() {
    let def = spec_def();
    let mut state = run(
        &def,
        &[
            ("q1", &["a"], None),
            ("q2", &["no"], None),
            ("q5", &["save"], None),
        ],
    );
    let before = state.clone();
    let err = answer(&mut state, &def, "q5", &["save"], None).unwrap_err();
    assert_eq!(err, AnswerError::Finished);
    assert_eq!(err.code(), "session_finished");
    assert_eq!(state, before);
}

/// Asserts the answer is refused as invalid with a problem at `path` containing `message`,
/// and that the state did not change.
#[track_caller]
fn expect_invalid(
    def: &Definition,
    state: &mut SessionState,
    question: &str,
    selected: &[&str],
    value: Option<i64>,
    path: &str,
    message: &str,
) {
    let before = state.clone();
    match answer(state, def, question, selected, value) {
        Err(AnswerError::Invalid(problems)) => common::assert_has(&problems, path, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(*state, before, "a refused answer changed the state");
}

#[test]
fn single_needs_exactly_one_option() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    expect_invalid(
        &def,
        &mut state,
        "q1",
        &[],
        None,
        "selected_option_ids",
        "select exactly one option",
    );
    expect_invalid(
        &def,
        &mut state,
        "q1",
        &["a", "b"],
        None,
        "selected_option_ids",
        "select exactly one option",
    );
}

#[test]
fn unknown_option_is_invalid() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    expect_invalid(
        &def,
        &mut state,
        "q1",
        &["z"],
        None,
        "selected_option_ids[0]",
        "unknown option `z`",
    );
}

#[test]
fn duplicate_option_is_invalid() {
    let def = spec_def();
    let mut state = run(&def, &[("q1", &["a"], None), ("q2", &["yes"], None)]);
    expect_invalid(
        &def,
        &mut state,
        "q3",
        &["bonds", "bonds"],
        None,
        "selected_option_ids[1]",
        "selected twice",
    );
}

#[test]
fn value_on_a_choice_question_is_invalid() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    expect_invalid(
        &def,
        &mut state,
        "q1",
        &["a"],
        Some(3),
        "value",
        "only scale questions take a value",
    );
}

#[test]
fn multi_count_outside_min_max_is_invalid() {
    let mut doc = spec_value();
    *at(&mut doc, "/questions/2/min_select") = json!(1);
    *at(&mut doc, "/questions/2/max_select") = json!(2);
    let def = def_from(&doc);
    let mut state = run(&def, &[("q1", &["a"], None), ("q2", &["yes"], None)]);
    expect_invalid(
        &def,
        &mut state,
        "q3",
        &[],
        None,
        "selected_option_ids",
        "select between 1 and 2 options",
    );
    expect_invalid(
        &def,
        &mut state,
        "q3",
        &["stocks", "bonds", "crypto"],
        None,
        "selected_option_ids",
        "select between 1 and 2 options",
    );
    assert_eq!(
        answer(&mut state, &def, "q3", &["crypto", "bonds"], None),
        Ok(Step::Next(3))
    );
    // Options are stored in document order whatever the request order.
    let (_, stored) = state.answered().last().unwrap();
    assert_eq!(stored.options(), [1, 2]);
}

#[test]
fn scale_refuses_options_and_needs_a_value_in_range() {
    let def = spec_def();
    let mut state = run(
        &def,
        &[
            ("q1", &["a"], None),
            ("q2", &["yes"], None),
            ("q3", &[], None),
        ],
    );
    expect_invalid(
        &def,
        &mut state,
        "q4",
        &["a"],
        Some(3),
        "selected_option_ids",
        "take a value, not options",
    );
    expect_invalid(
        &def,
        &mut state,
        "q4",
        &[],
        None,
        "value",
        "a value is required",
    );
    expect_invalid(
        &def,
        &mut state,
        "q4",
        &[],
        Some(6),
        "value",
        "between 1 and 5",
    );
    expect_invalid(
        &def,
        &mut state,
        "q4",
        &[],
        Some(0),
        "value",
        "between 1 and 5",
    );
    assert_eq!(
        answer(&mut state, &def, "q4", &[], Some(5)),
        Ok(Step::Next(4))
    );
}

#[test]
fn every_problem_of_an_answer_is_listed() {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    let before = state.clone();
    let Err(AnswerError::Invalid(problems)) =
        answer(&mut state, &def, "q1", &["z", "a", "a"], Some(1))
    else {
        panic!("expected Invalid");
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert_eq!(state, before);
}

/// Answers q1 of the spec with `ids` through the typed input, returning its problems.
fn answer_problems(ids: &[String], value: Option<i64>) -> Vec<faro_quiz_domain::Problem> {
    let def = spec_def();
    let mut state = SessionState::start(&def);
    let before = state.clone();
    let input = AnswerInput {
        question_id: "q1",
        selected_option_ids: ids,
        value,
    };
    let Err(AnswerError::Invalid(problems)) = state.answer(&def, &input) else {
        panic!("expected Invalid");
    };
    assert_eq!(state, before, "a refused answer changed the state");
    problems
}

#[test]
fn a_flood_of_unknown_options_reports_a_capped_list_with_the_rest_counted() {
    let ids: Vec<String> = (0..100_000).map(|i| format!("bogus-{i}")).collect();
    let problems = answer_problems(&ids, Some(3));
    assert_eq!(
        problems.len(),
        MAX_ANSWER_PROBLEMS + 1,
        "{:?}",
        &problems[..3]
    );
    // The first ones are listed in order, the value problem among them.
    assert_eq!(problems[0].path, "value");
    assert_eq!(problems[1].path, "selected_option_ids[0]");
    assert_eq!(problems[1].message, "unknown option `bogus-0`");
    let last = problems.last().expect("a summary");
    assert_eq!(last.path, "");
    // 100,000 unknown ids + the count + the value = 100,002 problems, 20 listed.
    assert_eq!(last.message, "99982 more problems were not listed");
}

#[test]
fn exactly_the_cap_is_listed_without_a_summary() {
    // 19 unknown ids + "select exactly one option" = 20 problems: all listed.
    let ids: Vec<String> = (0..MAX_ANSWER_PROBLEMS - 1)
        .map(|i| format!("x{i}"))
        .collect();
    let problems = answer_problems(&ids, None);
    assert_eq!(problems.len(), MAX_ANSWER_PROBLEMS, "{problems:?}");
    assert!(problems.iter().all(|p| !p.message.contains("not listed")));
    // One more tips it over: 20 listed and one saying a single problem was left out.
    let ids: Vec<String> = (0..MAX_ANSWER_PROBLEMS).map(|i| format!("x{i}")).collect();
    let problems = answer_problems(&ids, None);
    assert_eq!(problems.len(), MAX_ANSWER_PROBLEMS + 1);
    assert_eq!(
        problems.last().map(|p| p.message.as_str()),
        Some("1 more problem was not listed")
    );
}

#[test]
fn a_huge_option_id_is_quoted_clipped() {
    let ids = vec!["z".repeat(200_000)];
    let problems = answer_problems(&ids, None);
    assert_eq!(problems[0].path, "selected_option_ids[0]");
    let quoted = &problems[0].message;
    assert!(quoted.starts_with("unknown option `zzz"), "{quoted}");
    assert!(quoted.ends_with('…'));
    assert!(quoted.chars().count() <= MAX_PROBLEM_CHARS + 1);
}

#[test]
fn required_multi_with_min_zero_accepts_an_empty_selection_as_an_answer() {
    // q3 of the spec has min_select 0: an empty selection is a real answer worth 0 and its
    // bounds [0, 16] count. Path: q1 = c (10), q2 = yes, q3 = {}, q4 = 5 (20), q5 = grow
    // (12): total 42, bounds lo 4, hi 58: round(100 · 38 / 54) = round(70.37) = 70.
    let def = spec_def();
    let state = run(
        &def,
        &[
            ("q1", &["c"], None),
            ("q2", &["yes"], None),
            ("q3", &[], None),
            ("q4", &[], Some(5)),
            ("q5", &["grow"], None),
        ],
    );
    let (_, q3) = state.answered().nth(2).unwrap();
    assert!(q3.is_empty());
    assert!(!q3.is_skipped(&def));
    assert_eq!(score(&def, &state).unwrap().score, 70);
}

#[test]
fn optional_question_skipped_adds_nothing_fires_nothing_and_leaves_the_bounds() {
    let def = small(
        json!([
            {"key": "a", "type": "single", "text": "?", "required": false,
             "options": [{"key": "x", "text": "x", "scores": {"d": 10}},
                         {"key": "y", "text": "y", "scores": {"d": 0}}]},
            single("b", &[0, 4])
        ]),
        json!([{"if": {"question": "a", "any_of": ["x", "y"]}, "then": {"add": {"d": 100}, "skip_to": "end"}}]),
    );
    let state = run(&def, &[("a", &[], None), ("b", &["o1"], None)]);
    let (_, skipped) = state.answered().next().unwrap();
    assert!(skipped.is_skipped(&def));
    assert!(state.fired_rules().is_empty());
    // Only b counts: bounds [0, 4], total 4 -> 100.
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 100);
    assert_eq!(outcome.dimensions[0].raw, 4);
}

#[test]
fn optional_multi_with_empty_selection_is_a_skip_even_with_min_select() {
    let def = small(
        json!([
            {"key": "m", "type": "multi", "text": "?", "required": false, "min_select": 2,
             "options": [{"key": "x", "text": "x", "scores": {"d": 1}},
                         {"key": "y", "text": "y", "scores": {"d": 2}},
                         {"key": "z", "text": "z", "scores": {"d": 3}}]},
            single("b", &[0, 4])
        ]),
        json!([]),
    );
    let mut state = SessionState::start(&def);
    expect_invalid(
        &def,
        &mut state,
        "m",
        &["x"],
        None,
        "selected_option_ids",
        "select between 2 and 3 options",
    );
    assert_eq!(answer(&mut state, &def, "m", &[], None), Ok(Step::Next(1)));
    answer(&mut state, &def, "b", &["o0"], None).unwrap();
    assert_eq!(score(&def, &state).unwrap().score, 0);
}

#[test]
fn optional_scale_with_null_value_is_a_skip() {
    let def = small(
        json!([
            {"key": "s", "type": "scale", "text": "?", "required": false,
             "scale": {"min": 0, "max": 10, "scores_per_point": {"d": 1}}},
            single("b", &[0, 4])
        ]),
        json!([{"if": {"question": "s", "value_lte": 5}, "then": {"skip_to": "end"}}]),
    );
    let state = run(&def, &[("s", &[], None), ("b", &["o1"], None)]);
    assert!(state.fired_rules().is_empty());
    assert_eq!(score(&def, &state).unwrap().score, 100);
}

#[test]
fn rule_skip_to_wins_over_option_next() {
    let def = small(
        json!([
            {"key": "a", "type": "single", "text": "?",
             "options": [{"key": "x", "text": "x", "next": "c"},
                         {"key": "y", "text": "y"}]},
            single("b", &[0, 1]),
            single("c", &[0, 1]),
            single("d", &[0, 1])
        ]),
        json!([
            {"if": {"question": "a", "option": "x"}, "then": {"add": {"d": 1}}},
            {"if": {"question": "a", "option": "x"}, "then": {"skip_to": "d"}},
            {"if": {"question": "a", "option": "x"}, "then": {"skip_to": "b"}}
        ]),
    );
    let mut state = SessionState::start(&def);
    // The first rule fires without a jump, the second one's skip_to wins over the third
    // and over the option's next.
    assert_eq!(
        answer(&mut state, &def, "a", &["x"], None),
        Ok(Step::Next(3))
    );
    assert_eq!(state.fired_rules(), [0, 1, 2]);
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 2,
            total_estimate: 2
        }
    );
}

#[test]
fn option_next_applies_when_no_rule_jumps() {
    let def = small(
        json!([
            {"key": "a", "type": "single", "text": "?",
             "options": [{"key": "x", "text": "x", "next": "c"}, {"key": "y", "text": "y"}]},
            single("b", &[0, 1]),
            single("c", &[0, 1])
        ]),
        json!([{"if": {"question": "a", "option": "y"}, "then": {"skip_to": "end"}}]),
    );
    let mut state = SessionState::start(&def);
    assert_eq!(
        answer(&mut state, &def, "a", &["x"], None),
        Ok(Step::Next(2))
    );
    let mut other = SessionState::start(&def);
    assert_eq!(answer(&mut other, &def, "a", &["y"], None), Ok(Step::End));
}

#[test]
fn multi_uses_the_first_selected_option_with_next_in_document_order() {
    let def = small(
        json!([
            {"key": "m", "type": "multi", "text": "?",
             "options": [{"key": "p", "text": "p"},
                         {"key": "q", "text": "q", "next": "d"},
                         {"key": "r", "text": "r", "next": "c"}]},
            single("b", &[0, 1]),
            single("c", &[0, 1]),
            single("d", &[0, 1])
        ]),
        json!([]),
    );
    let mut state = SessionState::start(&def);
    // Request order r, q, p: document order puts q first, so the jump is to d.
    assert_eq!(
        answer(&mut state, &def, "m", &["r", "q", "p"], None),
        Ok(Step::Next(3))
    );
    let mut other = SessionState::start(&def);
    assert_eq!(
        answer(&mut other, &def, "m", &["p"], None),
        Ok(Step::Next(1))
    );
}

#[test]
fn rule_conditions_any_of_and_values() {
    let def = small(
        json!([
            {"key": "m", "type": "multi", "text": "?",
             "options": [{"key": "p", "text": "p"}, {"key": "q", "text": "q"}, {"key": "r", "text": "r"}]},
            {"key": "s", "type": "scale", "text": "?", "scale": {"min": 1, "max": 9}},
            single("b", &[0, 1])
        ]),
        json!([
            {"if": {"question": "m", "any_of": ["q", "r"]}, "then": {"add": {"d": 1}}},
            {"if": {"question": "s", "value_gte": 7}, "then": {"add": {"d": 10}}},
            {"if": {"question": "s", "value_lte": 7}, "then": {"add": {"d": 100}}}
        ]),
    );
    let fired = |m: &[&str], s: i64| {
        run(
            &def,
            &[("m", m, None), ("s", &[], Some(s)), ("b", &["o0"], None)],
        )
        .fired_rules()
        .to_vec()
    };
    assert_eq!(fired(&["p"], 1), [2]);
    assert_eq!(fired(&["p", "r"], 7), [0, 1, 2]);
    assert_eq!(fired(&["q"], 9), [0, 1]);
    let state = run(
        &def,
        &[
            ("m", &["q"], None),
            ("s", &[], Some(9)),
            ("b", &["o0"], None),
        ],
    );
    assert_eq!(score(&def, &state).unwrap().dimensions[0].raw, 11);
}

#[test]
fn each_rule_fires_at_most_once() {
    let def = spec_def();
    let state = run(
        &def,
        &[
            ("q1", &["c"], None),
            ("q2", &["yes"], None),
            ("q3", &["crypto"], None),
            ("q4", &[], Some(5)),
            ("q5", &["grow"], None),
        ],
    );
    assert_eq!(state.fired_rules(), [0]);
    // A state claiming the rule fired twice is rejected rather than counted twice.
    let mut json = serde_json::to_value(&state).unwrap();
    json["r"] = json!([0, 0]);
    let tampered: SessionState = serde_json::from_value(json).unwrap();
    assert!(matches!(
        score(&def, &tampered),
        Err(ScoreError::StateMismatch(_))
    ));
}

#[test]
fn session_state_is_compact_json() {
    let def = spec_def();
    let state = run(
        &def,
        &[
            ("q1", &["c"], None),
            ("q2", &["yes"], None),
            ("q3", &["stocks", "crypto"], None),
        ],
    );
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"c":3,"a":[{"q":0,"o":[2]},{"q":1,"o":[0]},{"q":2,"o":[0,2]}],"r":[0]}"#
    );
    let back: SessionState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(back, state);
}

#[test]
fn session_state_with_eight_answers_stays_under_300_bytes() {
    let def = common::demo_def();
    let state = run(
        &def,
        &[
            ("plazo", &["mas-10"], None),
            ("fondo", &["mas-6"], None),
            ("ingresos", &["estables"], None),
            (
                "experiencia",
                &["plazo-fijo", "fci", "bonos", "acciones", "cripto"],
                None,
            ),
            ("caida", &[], Some(5)),
            ("porcentaje", &["mas-30"], None),
            ("objetivo", &["crecer"], None),
            ("conocimiento", &["avanzado"], None),
        ],
    );
    assert_eq!(state.answer_count(), 8);
    let text = serde_json::to_string(&state).unwrap();
    assert!(text.len() < 300, "{} bytes: {text}", text.len());
}

#[test]
fn a_state_from_another_definition_cannot_be_scored() {
    let def = spec_def();
    let other: SessionState = serde_json::from_str(r#"{"a":[{"q":0,"o":[7]}]}"#).unwrap();
    assert!(matches!(
        score(&def, &other),
        Err(ScoreError::StateMismatch(_))
    ));
    let other: SessionState = serde_json::from_str(r#"{"a":[{"q":42,"o":[0]}]}"#).unwrap();
    assert!(matches!(
        score(&def, &other),
        Err(ScoreError::StateMismatch(_))
    ));
    let other: SessionState = serde_json::from_str(r#"{"a":[{"q":3,"v":99}]}"#).unwrap();
    assert!(matches!(
        score(&def, &other),
        Err(ScoreError::StateMismatch(_))
    ));
    // And answering on it does not panic either.
    let mut lost: SessionState = serde_json::from_str(r#"{"c":99}"#).unwrap();
    let err = answer(&mut lost, &def, "q1", &["a"], None).unwrap_err();
    assert_eq!(err, AnswerError::Finished);
}

// ---------------------------------------------------------------- scoring

#[test]
fn scoring_an_unfinished_session_is_incomplete() {
    let def = spec_def();
    let state = run(&def, &[("q1", &["a"], None)]);
    assert_eq!(score(&def, &state), Err(ScoreError::Incomplete));
}

#[test]
fn equal_bounds_score_zero() {
    let def = small(json!([single("a", &[3, 3])]), json!([]));
    let state = run(&def, &[("a", &["o1"], None)]);
    let outcome = score(&def, &state).unwrap();
    assert_eq!((outcome.score, outcome.dimensions[0].score), (0, 0));
    assert_eq!(outcome.dimensions[0].raw, 3);
}

#[test]
fn halves_round_away_from_zero() {
    // Bounds [0, 8]; choosing 1 gives 100 · 1 / 8 = 12.5 -> 13.
    let def = small(json!([single("a", &[0, 1, 8])]), json!([]));
    let state = run(&def, &[("a", &["o1"], None)]);
    assert_eq!(score(&def, &state).unwrap().score, 13);
    assert_eq!(normalize(1, 0, 8), 13);
    assert_eq!(normalize(3, 0, 8), 38); // 37.5
    assert_eq!(normalize(1, 0, 3), 33); // 33.33
    assert_eq!(normalize(2, 0, 3), 67); // 66.67
    assert_eq!(normalize(5, 5, 5), 0);
}

#[test]
fn rule_adds_are_outside_the_bounds_and_clamped() {
    let rules =
        |add: i64| json!([{"if": {"question": "a", "option": "o0"}, "then": {"add": {"d": add}}}]);
    let def = small(json!([single("a", &[5, 10])]), rules(-20));
    let state = run(&def, &[("a", &["o0"], None)]);
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 0);
    assert_eq!(outcome.dimensions[0].raw, -15);
    let def = small(json!([single("a", &[5, 10])]), rules(20));
    let state = run(&def, &[("a", &["o0"], None)]);
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 100);
    assert_eq!(outcome.dimensions[0].raw, 25);
}

#[test]
fn weights_scale_the_total_but_not_dimension_scores() {
    // a scores {x: 10, y: 0} or {x: 0, y: 10}; weights x 3, y 1.
    // Choosing the first: total 30, w = {30, 10} -> bounds [10, 30] -> 100; dimension x
    // [0, 10] raw 10 -> 100, y [0, 10] raw 0 -> 0.
    let def = def_from(&json!({
        "slug": "w", "title": "W", "lang": "en",
        "dimensions": [{"key": "x", "label": "X", "weight": 3}, {"key": "y", "label": "Y"}],
        "questions": [{"key": "a", "type": "single", "text": "?", "options": [
            {"key": "p", "text": "p", "scores": {"x": 10}},
            {"key": "q", "text": "q", "scores": {"y": 10}}]}],
        "profiles": [{"code": "ALL", "title": "All", "min": 0, "max": 100}]
    }));
    let outcome = score(&def, &run(&def, &[("a", &["p"], None)])).unwrap();
    assert_eq!(outcome.score, 100);
    assert_eq!(
        (outcome.dimensions[0].score, outcome.dimensions[1].score),
        (100, 0)
    );
    let outcome = score(&def, &run(&def, &[("a", &["q"], None)])).unwrap();
    assert_eq!(outcome.score, 0);
}

#[test]
fn scale_bounds_are_ordered_for_negative_points() {
    // 1..=5 with -2 per point: bounds [-10, -2]; value 2 -> -4 -> round(100 · 6 / 8) = 75.
    let def = small(
        json!([{"key": "s", "type": "scale", "text": "?",
                "scale": {"min": 1, "max": 5, "scores_per_point": {"d": -2}}}]),
        json!([]),
    );
    let outcome = score(&def, &run(&def, &[("s", &[], Some(2))])).unwrap();
    assert_eq!(outcome.score, 75);
    assert_eq!(outcome.dimensions[0].raw, -4);
}

#[test]
fn a_draft_without_coverage_has_no_profile() {
    let mut doc = spec_value();
    *at(&mut doc, "/profiles/2/min") = json!(99);
    let def = def_from(&doc);
    let state = run(
        &def,
        &[
            ("q1", &["c"], None),
            ("q2", &["yes"], None),
            ("q3", &["stocks", "crypto"], None),
            ("q4", &[], Some(4)),
            ("q5", &["grow"], None),
        ],
    );
    assert_eq!(
        score(&def, &state),
        Err(ScoreError::NoProfile { score: 96 })
    );
}

#[test]
fn scoring_twice_gives_the_same_outcome() {
    let def = spec_def();
    let state = run(
        &def,
        &[
            ("q1", &["b"], None),
            ("q2", &["yes"], None),
            ("q3", &["stocks"], None),
            ("q4", &[], Some(3)),
            ("q5", &["save"], None),
        ],
    );
    assert_eq!(score(&def, &state), score(&def, &state.clone()));
}

// ---------------------------------------------------------------- round trips

#[test]
fn spec_example_round_trips_through_export() {
    let def = spec_def();
    let exported = def.to_json_value();
    assert_eq!(parse_value(&exported, Mode::Publish), Ok(def.clone()));
    let text = serde_json::to_string_pretty(&def).unwrap();
    assert_eq!(
        parse_document(&text, Format::Json, Mode::Publish),
        Ok(def.clone())
    );
    let yaml = yaml_serde::to_string(&def).unwrap();
    assert_eq!(parse_document(&yaml, Format::Yaml, Mode::Publish), Ok(def));
}

#[test]
fn export_uses_the_document_shape() {
    let value = spec_def().to_json_value();
    assert_eq!(value["questions"][0]["type"], "single");
    assert_eq!(value["questions"][1]["options"][1]["next"], "q5");
    assert!(value["questions"][1]["options"][0].get("next").is_none());
    assert_eq!(value["questions"][2]["min_select"], 0);
    assert_eq!(value["questions"][2]["max_select"], 3);
    assert_eq!(
        value["questions"][3]["scale"],
        json!({"min": 1, "max": 5, "scores_per_point": {"tolerance": 2}})
    );
    assert!(value["questions"][3].get("options").is_none());
    assert_eq!(
        value["rules"][0],
        json!({"if": {"question": "q3", "option": "crypto"}, "then": {"add": {"tolerance": 2}}})
    );
    assert_eq!(
        value["rules"][1],
        json!({"if": {"question": "q4", "value_lte": 2}, "then": {"skip_to": "end"}})
    );
    assert_eq!(value["store_answers"], false);
    assert_eq!(value["profiles"][2]["max"], 100);
}

#[test]
fn export_keeps_every_optional_field() {
    let def = def_from(&json!({
        "slug": "all-fields", "title": "All", "description": "d", "lang": "es-AR",
        "tags": ["x"], "estimated_minutes": 7, "store_answers": true,
        "dimensions": [{"key": "d", "label": "D", "weight": 0}],
        "questions": [
            {"key": "a", "type": "single", "text": "?", "required": false, "help": "h",
             "options": [{"key": "x", "text": "x", "scores": {"d": -3}, "next": "end"},
                         {"key": "y", "text": "y"}]},
            {"key": "s", "type": "scale", "text": "?",
             "scale": {"min": -5, "max": 5, "min_label": "lo", "max_label": "hi"}}
        ],
        "rules": [{"if": {"question": "s", "value_gte": 0}, "then": {"add": {"d": 1}, "skip_to": "end"}},
                  {"if": {"question": "a", "any_of": ["x", "y"]}, "then": {"add": {"d": 1}}}],
        "profiles": [{"code": "ALL", "title": "All", "summary": "s", "recommendations": ["r"],
                      "min": 0, "max": 100}]
    }));
    assert_eq!(parse_value(&def.to_json_value(), Mode::Publish), Ok(def));
}

// ---------------------------------------------------------------- the demo test

#[test]
fn demo_is_publishable_and_complete() {
    let def = common::demo_def();
    assert_eq!(def.slug, "que-tipo-de-ahorrista-sos");
    assert_eq!(def.title, "¿Qué tipo de ahorrista sos?");
    assert_eq!(def.lang, "es");
    assert_eq!(def.tags, ["ahorro", "riesgo", "inversión"]);
    assert_eq!(def.estimated_minutes, 4);
    assert!(!def.store_answers);
    let dims: Vec<&str> = def.dimensions.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        dims,
        [
            "horizonte",
            "tolerancia",
            "ingresos",
            "objetivo",
            "conocimiento"
        ]
    );
    assert_eq!(def.questions.len(), 8);
    let types: Vec<&str> = def.questions.iter().map(|q| q.type_name()).collect();
    assert!(types.contains(&"multi") && types.contains(&"scale"));
    let codes: Vec<(&str, &str, u8, u8)> = def
        .profiles
        .iter()
        .map(|p| (p.code.as_str(), p.title.as_str(), p.min, p.max))
        .collect();
    assert_eq!(
        codes,
        [
            ("CONSERVADOR", "Conservador", 0, 33),
            ("MODERADO", "Moderado", 34, 66),
            ("AGRESIVO", "Agresivo", 67, 100)
        ]
    );
    assert!(def.profiles.iter().all(|p| p.recommendations.len() == 3));
    assert_eq!(parse_value(&def.to_json_value(), Mode::Publish), Ok(def));
}

fn demo_outcome(steps: &[(&str, &[&str], Option<i64>)]) -> (String, u8) {
    let def = common::demo_def();
    let state = run(&def, steps);
    assert!(state.is_complete());
    let outcome = score(&def, &state).unwrap();
    (def.profiles[outcome.profile].code.clone(), outcome.score)
}

#[test]
fn demo_without_stable_income_skips_the_advanced_questions() {
    let def = common::demo_def();
    let mut state = run(
        &def,
        &[("plazo", &["1-3"], None), ("fondo", &["1-3"], None)],
    );
    let step = answer(&mut state, &def, "ingresos", &["inestables"], None).unwrap();
    assert_eq!(step, Step::Next(def.question_index("objetivo").unwrap()));
    assert_eq!(
        state.progress(&def),
        Progress {
            index: 4,
            total_estimate: 5
        }
    );
}

#[test]
fn demo_cautious_path_is_conservador() {
    let (code, score) = demo_outcome(&[
        ("plazo", &["menos-1"], None),
        ("fondo", &["nada"], None),
        ("ingresos", &["inestables"], None),
        ("objetivo", &["proteger"], None),
        ("conocimiento", &["nada"], None),
    ]);
    assert_eq!((code.as_str(), score), ("CONSERVADOR", 0));
}

#[test]
fn demo_cautious_path_with_income_is_conservador() {
    let (code, score) = demo_outcome(&[
        ("plazo", &["1-3"], None),
        ("fondo", &["1-3"], None),
        ("ingresos", &["estables"], None),
        ("experiencia", &["plazo-fijo"], None),
        ("caida", &[], Some(1)),
        ("porcentaje", &["nada"], None),
        ("objetivo", &["proteger"], None),
        ("conocimiento", &["basico"], None),
    ]);
    assert_eq!(code, "CONSERVADOR", "score {score}");
}

#[test]
fn demo_balanced_path_is_moderado() {
    let (code, score) = demo_outcome(&[
        ("plazo", &["3-10"], None),
        ("fondo", &["3-6"], None),
        ("ingresos", &["variables"], None),
        ("experiencia", &["plazo-fijo", "fci"], None),
        ("caida", &[], Some(3)),
        ("porcentaje", &["hasta-10"], None),
        ("objetivo", &["meta"], None),
        ("conocimiento", &["basico"], None),
    ]);
    assert_eq!(code, "MODERADO", "score {score}");
}

#[test]
fn demo_aggressive_path_is_agresivo() {
    let (code, score) = demo_outcome(&[
        ("plazo", &["mas-10"], None),
        ("fondo", &["mas-6"], None),
        ("ingresos", &["estables"], None),
        ("experiencia", &["bonos", "acciones", "cripto"], None),
        ("caida", &[], Some(5)),
        ("porcentaje", &["mas-30"], None),
        ("objetivo", &["crecer"], None),
        ("conocimiento", &["avanzado"], None),
    ]);
    assert_eq!(code, "AGRESIVO", "score {score}");
    assert!(score >= 90, "score {score}");
}

#[test]
fn answer_input_borrows_request_fields() {
    // The HTTP layer passes its deserialized body straight through.
    let def = spec_def();
    let mut state = SessionState::start(&def);
    let selected = vec!["a".to_owned()];
    let input = AnswerInput {
        question_id: "q1",
        selected_option_ids: &selected,
        value: None,
    };
    assert_eq!(state.answer(&def, &input), Ok(Step::Next(1)));
}
