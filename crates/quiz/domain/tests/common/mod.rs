//! Shared fixtures for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use faro_quiz_domain::{
    AnswerError, AnswerInput, Definition, Format, Mode, Problem, SessionState, Step,
    parse_document, parse_value,
};
use serde_json::Value;

/// The example document of spec/quiz.md section 1, copied verbatim.
pub const SPEC_EXAMPLE: &str = include_str!("spec_example.json");

/// The published demo test.
pub const DEMO_YAML: &str = include_str!("../../../demo/ahorrista.yaml");

pub fn spec_value() -> Value {
    serde_json::from_str(SPEC_EXAMPLE).expect("the spec example is JSON")
}

pub fn spec_def() -> Definition {
    parse_value(&spec_value(), Mode::Publish).expect("the spec example is valid")
}

pub fn demo_def() -> Definition {
    parse_document(DEMO_YAML, Format::Yaml, Mode::Publish).expect("the demo is valid")
}

/// Problems of a document, checked to be the same whether it arrives as a value, as JSON
/// text or as YAML text.
pub fn problems(doc: &Value, mode: Mode) -> Vec<Problem> {
    let from_value = match parse_value(doc, mode) {
        Ok(_) => Vec::new(),
        Err(p) => p,
    };
    let json = serde_json::to_string(doc).unwrap();
    let from_json = parse_document(&json, Format::Json, mode)
        .err()
        .unwrap_or_default();
    assert_eq!(from_value, from_json, "value and JSON text disagree");
    let yaml = yaml_serde::to_string(doc).unwrap();
    let from_yaml = parse_document(&yaml, Format::Yaml, mode)
        .err()
        .unwrap_or_default();
    assert_eq!(
        from_value, from_yaml,
        "value and YAML text disagree:\n{yaml}"
    );
    from_value
}

#[track_caller]
pub fn assert_has(problems: &[Problem], path: &str, message: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.path == path && p.message.contains(message)),
        "expected a problem at `{path}` containing `{message}`, got:\n{}",
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Applies `mutate` to the spec example and asserts the problem is reported.
#[track_caller]
pub fn expect_problem(mutate: impl FnOnce(&mut Value), path: &str, message: &str) {
    expect_problem_in(Mode::Draft, mutate, path, message);
}

#[track_caller]
pub fn expect_problem_in(mode: Mode, mutate: impl FnOnce(&mut Value), path: &str, message: &str) {
    let mut doc = spec_value();
    mutate(&mut doc);
    let found = problems(&doc, mode);
    assert_has(&found, path, message);
}

/// Applies `mutate` to the spec example and asserts the result is still valid.
#[track_caller]
pub fn expect_valid(mode: Mode, mutate: impl FnOnce(&mut Value)) -> Definition {
    let mut doc = spec_value();
    mutate(&mut doc);
    let found = problems(&doc, mode);
    assert!(found.is_empty(), "unexpected problems: {found:?}");
    parse_value(&doc, mode).unwrap()
}

/// Mutable access by a JSON pointer that must exist.
pub fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

pub fn options(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// Answers the named question with options and/or a value.
pub fn answer(
    state: &mut SessionState,
    def: &Definition,
    question: &str,
    selected: &[&str],
    value: Option<i64>,
) -> Result<Step, AnswerError> {
    let selected = options(selected);
    state.answer(
        def,
        &AnswerInput {
            question_id: question,
            selected_option_ids: &selected,
            value,
        },
    )
}

/// Runs a whole session from `(question, options, value)` triples; panics on any refusal.
pub fn run(def: &Definition, steps: &[(&str, &[&str], Option<i64>)]) -> SessionState {
    let mut state = SessionState::start(def);
    for (question, selected, value) in steps {
        answer(&mut state, def, question, selected, *value)
            .unwrap_or_else(|e| panic!("answer to {question} refused: {e:?}"));
    }
    state
}
