//! Property tests: random valid definitions driven by random answer sequences, and
//! fuzzing of the parser with random values, mutated documents and random text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use faro_quiz_domain::{
    AnswerError, AnswerInput, Choice, Condition, Definition, Dimension, Format, Jump, Mode,
    Profile, Question, QuestionKind, Rule, SessionState, Step, parse_document, parse_value, score,
    validate,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- valid definitions

#[derive(Debug, Clone)]
struct QuestionSeed {
    kind: u8,
    option_count: usize,
    /// Per option, per possible dimension; 0 is left out of the map.
    scores: Vec<Vec<i64>>,
    required: bool,
    /// Per option: `None` = no jump, `Some(s)` = a forward target picked by `s`.
    next: Vec<Option<u8>>,
    min_select: u8,
    max_select: u8,
    scale_min: i64,
    scale_span: i64,
    per_point: Vec<i64>,
}

#[derive(Debug, Clone)]
struct RuleSeed {
    question: u8,
    test: u8,
    option: u8,
    threshold: i64,
    add: Vec<i64>,
    skip: Option<u8>,
}

#[derive(Debug, Clone)]
struct DefinitionSeed {
    weights: Vec<i64>,
    questions: Vec<QuestionSeed>,
    rules: Vec<RuleSeed>,
    cuts: Vec<u8>,
}

fn question_seed() -> impl Strategy<Value = QuestionSeed> {
    (
        0u8..3,
        2usize..=5,
        vec(vec(-5i64..=10, 4), 5),
        prop::bool::weighted(0.8),
        vec(option::weighted(0.25, any::<u8>()), 5),
        any::<u8>(),
        any::<u8>(),
        -3i64..=3,
        1i64..=6,
        vec(-3i64..=5, 4),
    )
        .prop_map(
            |(
                kind,
                option_count,
                scores,
                required,
                next,
                min_select,
                max_select,
                scale_min,
                scale_span,
                per_point,
            )| QuestionSeed {
                kind,
                option_count,
                scores,
                required,
                next,
                min_select,
                max_select,
                scale_min,
                scale_span,
                per_point,
            },
        )
}

fn rule_seed() -> impl Strategy<Value = RuleSeed> {
    (
        any::<u8>(),
        0u8..4,
        any::<u8>(),
        -3i64..=8,
        vec(-4i64..=4, 4),
        option::weighted(0.5, any::<u8>()),
    )
        .prop_map(|(question, test, option, threshold, add, skip)| RuleSeed {
            question,
            test,
            option,
            threshold,
            add,
            skip,
        })
}

fn definition_seed() -> impl Strategy<Value = DefinitionSeed> {
    (
        vec(0i64..=4, 1..=4),
        vec(question_seed(), 1..=8),
        vec(rule_seed(), 0..=5),
        vec(1u8..=100, 0..=3),
    )
        .prop_map(|(weights, questions, rules, cuts)| DefinitionSeed {
            weights,
            questions,
            rules,
            cuts,
        })
}

/// A jump forward from question `from` picked by `seed`: a later question or the end.
fn forward_jump(seed: u8, from: usize, count: usize) -> Jump {
    let targets = count - from; // later questions + "end"
    let pick = usize::from(seed) % targets;
    if pick + from + 1 >= count {
        Jump::End
    } else {
        Jump::Question(format!("q{}", from + 1 + pick))
    }
}

fn score_map(values: &[i64], dims: usize) -> BTreeMap<String, i64> {
    values
        .iter()
        .take(dims)
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(d, v)| (format!("d{d}"), *v))
        .collect()
}

fn build(seed: &DefinitionSeed) -> Definition {
    let dims = seed.weights.len();
    let count = seed.questions.len();
    let dimensions = seed
        .weights
        .iter()
        .enumerate()
        .map(|(d, w)| Dimension {
            key: format!("d{d}"),
            label: format!("Dimension {d}"),
            weight: *w,
        })
        .collect();
    let questions: Vec<Question> = seed
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let options: Vec<Choice> = (0..q.option_count)
                .map(|o| Choice {
                    key: format!("o{o}"),
                    text: format!("Option {o}"),
                    scores: score_map(&q.scores[o], dims),
                    next: q.next[o].map(|s| forward_jump(s, i, count)),
                })
                .collect();
            let kind = match q.kind {
                0 => QuestionKind::Single { options },
                1 => {
                    let n = options.len();
                    let max_select = 1 + usize::from(q.max_select) % n;
                    let min_select = usize::from(q.min_select) % (max_select + 1);
                    QuestionKind::Multi {
                        options,
                        min_select,
                        max_select,
                    }
                }
                _ => QuestionKind::Scale {
                    min: q.scale_min,
                    max: q.scale_min + q.scale_span,
                    scores_per_point: score_map(&q.per_point, dims),
                    min_label: None,
                    max_label: Some("Max".into()),
                },
            };
            Question {
                key: format!("q{i}"),
                kind,
                text: format!("Question {i}?"),
                required: q.required,
                help: None,
            }
        })
        .collect();
    let rules = seed
        .rules
        .iter()
        .map(|r| {
            let target = usize::from(r.question) % count;
            let question = &questions[target];
            let key = question.key.clone();
            let cond = match &question.kind {
                QuestionKind::Scale { .. } if r.test % 2 == 0 => Condition::ValueGte {
                    question: key,
                    value_gte: r.threshold,
                },
                QuestionKind::Scale { .. } => Condition::ValueLte {
                    question: key,
                    value_lte: r.threshold,
                },
                _ => {
                    let n = question.options().len();
                    let first = format!("o{}", usize::from(r.option) % n);
                    if r.test % 2 == 0 {
                        Condition::Option {
                            question: key,
                            option: first,
                        }
                    } else {
                        let second = format!("o{}", usize::from(r.option / 7) % n);
                        let mut any_of = vec![first];
                        if !any_of.contains(&second) {
                            any_of.push(second);
                        }
                        Condition::AnyOf {
                            question: key,
                            any_of,
                        }
                    }
                }
            };
            let mut add = score_map(&r.add, dims);
            let skip_to = r.skip.map(|s| forward_jump(s, target, count));
            if add.is_empty() && skip_to.is_none() {
                add.insert("d0".into(), 1);
            }
            Rule { cond, add, skip_to }
        })
        .collect();
    let mut cuts = seed.cuts.clone();
    cuts.sort_unstable();
    cuts.dedup();
    let mut profiles = Vec::new();
    let mut start = 0u8;
    for (i, cut) in cuts.iter().chain(std::iter::once(&101)).enumerate() {
        profiles.push(Profile {
            code: format!("P{i}"),
            title: format!("Profile {i}"),
            summary: String::new(),
            recommendations: vec!["Do something".into()],
            min: start,
            max: cut - 1,
        });
        start = *cut;
    }
    Definition {
        slug: "generated".into(),
        title: "Generated".into(),
        description: String::new(),
        lang: "en".into(),
        tags: vec!["x".into()],
        estimated_minutes: 3,
        store_answers: false,
        dimensions,
        questions,
        rules,
        profiles,
    }
}

fn definition() -> impl Strategy<Value = Definition> {
    definition_seed().prop_map(|seed| build(&seed))
}

#[derive(Debug, Clone)]
struct AnswerSeed {
    pick: u32,
    skip: bool,
    /// Send an invalid answer first (and check that it changes nothing).
    invalid: Option<u8>,
}

fn answer_seeds() -> impl Strategy<Value = Vec<AnswerSeed>> {
    vec(
        (
            any::<u32>(),
            prop::bool::weighted(0.2),
            option::weighted(0.3, 0u8..6),
        )
            .prop_map(|(pick, skip, invalid)| AnswerSeed {
                pick,
                skip,
                invalid,
            }),
        1..=10,
    )
}

/// A valid answer to `question` chosen by `seed`: (option ids, value).
fn valid_answer(question: &Question, seed: &AnswerSeed) -> (Vec<String>, Option<i64>) {
    if seed.skip && !question.required {
        return (Vec::new(), None);
    }
    let keys: Vec<String> = question.options().iter().map(|o| o.key.clone()).collect();
    match &question.kind {
        QuestionKind::Single { .. } => {
            let i = seed.pick as usize % keys.len();
            (vec![keys[i].clone()], None)
        }
        QuestionKind::Multi {
            min_select,
            max_select,
            ..
        } => {
            let k = min_select + seed.pick as usize % (max_select - min_select + 1);
            // A rotation of the keys, so requests are not always in document order.
            let start = (seed.pick as usize / 7) % keys.len();
            let chosen = (0..k)
                .map(|j| keys[(start + j) % keys.len()].clone())
                .collect();
            (chosen, None)
        }
        QuestionKind::Scale { min, max, .. } => {
            let span = (max - min + 1) as u32;
            (Vec::new(), Some(min + i64::from(seed.pick % span)))
        }
    }
}

/// An answer that `answer()` must refuse, picked by `kind`.
fn invalid_answer(
    def: &Definition,
    current: usize,
    kind: u8,
) -> Option<(String, Vec<String>, Option<i64>)> {
    let question = &def.questions[current];
    let key = question.key.clone();
    match (kind, &question.kind) {
        (0, _) => def
            .questions
            .iter()
            .find(|q| q.key != key)
            .map(|other| (other.key.clone(), Vec::new(), None)),
        (1, QuestionKind::Scale { .. }) => Some((key, vec!["o0".into()], Some(0))),
        (1, _) => Some((key, vec!["nope".into()], None)),
        (2, QuestionKind::Scale { max, .. }) => Some((key, Vec::new(), Some(max + 1))),
        (2, _) => Some((key, vec!["o0".into(), "o0".into()], None)),
        (3, QuestionKind::Scale { .. }) => None,
        (3, _) => Some((key, vec!["o0".into()], Some(1))),
        (4, QuestionKind::Multi { options, .. }) => {
            let all: Vec<String> = options.iter().map(|o| o.key.clone()).collect();
            let max = match &question.kind {
                QuestionKind::Multi { max_select, .. } => *max_select,
                _ => 0,
            };
            (max < all.len()).then_some((key, all, None))
        }
        (4, QuestionKind::Single { .. }) => Some((key, vec!["o0".into(), "o1".into()], None)),
        (_, QuestionKind::Scale { .. }) if question.required => Some((key, Vec::new(), None)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_definitions_are_valid_and_round_trip(def in definition()) {
        let problems = validate(&def, Mode::Publish);
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert_eq!(parse_value(&def.to_json_value(), Mode::Publish), Ok(def.clone()));
        let yaml = yaml_serde::to_string(&def).unwrap();
        prop_assert_eq!(parse_document(&yaml, Format::Yaml, Mode::Publish), Ok(def));
    }

    #[test]
    fn sessions_end_and_score_within_bounds(def in definition(), seeds in answer_seeds()) {
        let mut state = SessionState::start(&def);
        let mut answers = 0usize;
        let mut last_estimate = state.progress(&def).total_estimate;
        while let Some(current) = state.current() {
            prop_assert!(answers < def.questions.len(), "more answers than questions");
            let seed = &seeds[answers % seeds.len()];
            let question = &def.questions[current];

            if let Some((qid, selected, value)) =
                seed.invalid.and_then(|k| invalid_answer(&def, current, k))
            {
                let before = state.clone();
                let input = AnswerInput { question_id: &qid, selected_option_ids: &selected, value };
                let result = state.answer(&def, &input);
                match &result {
                    Err(AnswerError::NotCurrent { current: Some(c) }) => prop_assert_eq!(c, &question.key),
                    Err(AnswerError::Invalid(problems)) => prop_assert!(!problems.is_empty()),
                    other => prop_assert!(false, "invalid answer accepted: {:?}", other),
                }
                prop_assert_eq!(&state, &before);
            }

            let (selected, value) = valid_answer(question, seed);
            let input = AnswerInput { question_id: &question.key, selected_option_ids: &selected, value };
            let step = state.answer(&def, &input);
            prop_assert!(step.is_ok(), "valid answer refused: {:?} for {:?}", step, input);
            answers += 1;
            match step.unwrap() {
                Step::Next(i) => {
                    prop_assert!(i > current, "jumped backwards");
                    prop_assert_eq!(state.current(), Some(i));
                }
                Step::End => prop_assert!(state.is_complete()),
            }
            let progress = state.progress(&def);
            prop_assert!(progress.total_estimate <= last_estimate, "estimate grew");
            last_estimate = progress.total_estimate;
            if !state.is_complete() {
                prop_assert_eq!(progress.index, answers + 1);
                prop_assert!(progress.index <= progress.total_estimate);
            }
        }
        prop_assert!(answers <= def.questions.len());
        prop_assert_eq!(state.answer_count(), answers);

        // Finished sessions refuse further answers without changing.
        let before = state.clone();
        let first = &def.questions[0];
        let again = state.answer(&def, &AnswerInput { question_id: &first.key, selected_option_ids: &[], value: None });
        prop_assert_eq!(again, Err(AnswerError::Finished));
        prop_assert_eq!(&state, &before);

        let outcome = score(&def, &state).unwrap();
        prop_assert!(outcome.score <= 100);
        prop_assert_eq!(outcome.dimensions.len(), def.dimensions.len());
        for d in &outcome.dimensions {
            prop_assert!(d.score <= 100);
        }
        let profile = &def.profiles[outcome.profile];
        prop_assert!(profile.min <= outcome.score && outcome.score <= profile.max);
        prop_assert_eq!(score(&def, &state), Ok(outcome.clone()));

        let text = serde_json::to_string(&state).unwrap();
        let back: SessionState = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &state);
        prop_assert_eq!(score(&def, &back), Ok(outcome));
    }

    #[test]
    fn random_answer_inputs_never_panic_and_refusals_change_nothing(
        def in definition(),
        inputs in vec(("[a-z0-9]{1,3}", vec("o[0-9]|x", 0..4), option::of(-5i64..12)), 1..20),
    ) {
        let mut state = SessionState::start(&def);
        for (qid, selected, value) in &inputs {
            let before = state.clone();
            let input = AnswerInput { question_id: qid, selected_option_ids: selected, value: *value };
            match state.answer(&def, &input) {
                Ok(_) => prop_assert!(state.answer_count() == before.answer_count() + 1),
                Err(AnswerError::Invalid(problems)) => {
                    prop_assert!(!problems.is_empty());
                    prop_assert_eq!(&state, &before);
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
        prop_assert!(state.answer_count() <= def.questions.len());
        if state.is_complete() {
            let outcome = score(&def, &state).unwrap();
            prop_assert!(outcome.score <= 100);
        }
    }
}

// ---------------------------------------------------------------- fuzzing the parser

/// Field names of the document, so random values often look almost right.
const VOCABULARY: &[&str] = &[
    "slug",
    "title",
    "description",
    "lang",
    "tags",
    "estimated_minutes",
    "store_answers",
    "dimensions",
    "questions",
    "rules",
    "profiles",
    "key",
    "label",
    "weight",
    "type",
    "text",
    "required",
    "help",
    "options",
    "min_select",
    "max_select",
    "scale",
    "min",
    "max",
    "scores_per_point",
    "scores",
    "next",
    "if",
    "then",
    "question",
    "option",
    "any_of",
    "value_gte",
    "value_lte",
    "add",
    "skip_to",
    "code",
    "summary",
    "recommendations",
    "end",
    "single",
    "multi",
    "q1",
    "horizon",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e7f64..1.0e7).prop_map(Value::from),
        prop::sample::select(VOCABULARY).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Value::Array),
            vec((prop::sample::select(VOCABULARY), inner), 0..8).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// Replaces, removes or adds something at a random place of `doc`, steered by `path`.
fn mutate(node: &mut Value, path: &[u16], action: u8, replacement: Value) {
    let Some((step, rest)) = path.split_first() else {
        *node = replacement;
        return;
    };
    let step = usize::from(*step);
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(step % map.len()).unwrap().clone();
            if !rest.is_empty() {
                return mutate(map.get_mut(&key).unwrap(), rest, action, replacement);
            }
            match action % 3 {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert("surprise".into(), replacement);
                }
                _ => {
                    map.insert(key, replacement);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = step % items.len();
            if !rest.is_empty() {
                return mutate(&mut items[i], rest, action, replacement);
            }
            match action % 3 {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.push(copy);
                }
                _ => items[i] = replacement,
            }
        }
        other => *other = replacement,
    }
}

/// The guarantee of the parser: no panic, and either a definition that validates cleanly
/// and round-trips, or at least one problem.
fn check_parse_result(
    result: Result<Definition, Vec<faro_quiz_domain::Problem>>,
    mode: Mode,
) -> Result<(), TestCaseError> {
    match result {
        Ok(def) => {
            prop_assert!(validate(&def, mode).is_empty());
            prop_assert_eq!(parse_value(&def.to_json_value(), mode), Ok(def));
        }
        Err(problems) => prop_assert!(!problems.is_empty()),
    }
    Ok(())
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Draft), Just(Mode::Publish)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn random_values_never_panic(value in json_value(), mode in mode()) {
        check_parse_result(parse_value(&value, mode), mode)?;
        let text = serde_json::to_string(&value).unwrap();
        check_parse_result(parse_document(&text, Format::Json, mode), mode)?;
        if let Ok(yaml) = yaml_serde::to_string(&value) {
            check_parse_result(parse_document(&yaml, Format::Yaml, mode), mode)?;
        }
    }

    #[test]
    fn mutated_spec_documents_never_panic(
        mutations in vec((vec(any::<u16>(), 1..6), any::<u8>(), json_value()), 1..4),
        mode in mode(),
    ) {
        let mut doc = common::spec_value();
        for (path, action, replacement) in mutations {
            mutate(&mut doc, &path, action, replacement);
        }
        check_parse_result(parse_value(&doc, mode), mode)?;
    }

    #[test]
    fn mutated_generated_documents_never_panic(
        def in definition(),
        path in vec(any::<u16>(), 1..6),
        action in any::<u8>(),
        replacement in json_value(),
        mode in mode(),
    ) {
        let mut doc = def.to_json_value();
        mutate(&mut doc, &path, action, replacement);
        check_parse_result(parse_value(&doc, mode), mode)?;
    }

    #[test]
    fn random_text_never_panics(text in ".{0,200}", mode in mode()) {
        check_parse_result(parse_document(&text, Format::Json, mode), mode)?;
        check_parse_result(parse_document(&text, Format::Yaml, mode), mode)?;
    }

    #[test]
    fn structured_random_text_never_panics(
        text in r#"([\[\]{}:,"'\-\n &*!|>#?]|[a-z]{1,6}|[0-9]{1,4}| {1,4}){0,60}"#,
        mode in mode(),
    ) {
        check_parse_result(parse_document(&text, Format::Json, mode), mode)?;
        check_parse_result(parse_document(&text, Format::Yaml, mode), mode)?;
    }

    #[test]
    fn truncated_documents_never_panic(cut in 0usize..2000, mode in mode()) {
        let yaml = common::DEMO_YAML;
        let json = common::SPEC_EXAMPLE;
        let cut_at = |s: &str| s.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut).last().unwrap_or(0);
        check_parse_result(parse_document(&yaml[..cut_at(yaml)], Format::Yaml, mode), mode)?;
        check_parse_result(parse_document(&json[..cut_at(json)], Format::Json, mode), mode)?;
    }
}

#[test]
fn deeply_nested_text_is_refused_without_overflow() {
    let deep_json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let problems = parse_document(&deep_json, Format::Json, Mode::Draft).unwrap_err();
    assert!(
        problems[0].message.contains("recursion limit"),
        "{problems:?}"
    );
    let problems = parse_document(&deep_json, Format::Yaml, Mode::Draft).unwrap_err();
    assert!(
        problems[0].message.contains("recursion limit"),
        "{problems:?}"
    );
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = if i == 0 {
            "a"
        } else {
            ["b", "c", "d", "e", "f", "g", "h"][i - 1]
        };
        text.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let problems = parse_document(&text, Format::Yaml, Mode::Draft).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.starts_with("not valid YAML"),
        "{problems:?}"
    );
}

#[test]
fn largest_allowed_numbers_do_not_overflow() {
    // Every bound at its limit: 20 dimensions of weight 1000, 100 scale questions of span
    // 1000 at ±1_000_000 points, 200 rules adding 1_000_000 everywhere.
    let dims: Vec<Value> = (0..20)
        .map(|d| json!({"key": format!("d{d}"), "label": "D", "weight": 1000}))
        .collect();
    let points: serde_json::Map<String, Value> = (0..20)
        .map(|d| (format!("d{d}"), json!(1_000_000)))
        .collect();
    let questions: Vec<Value> = (0..100)
        .map(|i| {
            json!({"key": format!("q{i}"), "type": "scale", "text": "?",
                   "scale": {"min": 999_000, "max": 1_000_000, "scores_per_point": points}})
        })
        .collect();
    let rules: Vec<Value> = (0..200)
        .map(|i| {
            json!({"if": {"question": format!("q{}", i % 100), "value_gte": -1_000_000},
                   "then": {"add": points}})
        })
        .collect();
    let def = parse_value(
        &json!({"slug": "big", "title": "Big", "lang": "en", "dimensions": dims,
                "questions": questions, "rules": rules,
                "profiles": [{"code": "ALL", "title": "All", "min": 0, "max": 100}]}),
        Mode::Publish,
    )
    .unwrap();
    let mut state = SessionState::start(&def);
    for q in &def.questions {
        let input = AnswerInput {
            question_id: &q.key,
            selected_option_ids: &[],
            value: Some(1_000_000),
        };
        state.answer(&def, &input).unwrap();
    }
    let outcome = score(&def, &state).unwrap();
    assert_eq!(outcome.score, 100);
    assert_eq!(
        outcome.dimensions[0].raw,
        100 * 1_000_000 * 1_000_000 + 200 * 1_000_000
    );
}

// ---------------------------------------------------------------- the validator on typed input

/// Strings the typed mutations draw from: valid keys, near misses, the reserved `end`, keys
/// the generated definitions use (so collisions and dangling references happen), and junk.
const TYPED_STRINGS: &[&str] = &[
    "q0",
    "q1",
    "q2",
    "q5",
    "o0",
    "o1",
    "o9",
    "d0",
    "d1",
    "d7",
    "P0",
    "end",
    "",
    " ",
    "Q1",
    "a b",
    "ñ",
    "-",
    "_",
    "x/y",
    "<b>",
    "\u{0}",
    "é",
    "generated",
];

fn typed_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(TYPED_STRINGS).prop_map(str::to_owned),
        1 => "[a-z0-9_-]{60,70}",
        1 => ".{0,8}",
    ]
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        Just(1_000_001),
        -20i64..120,
    ]
}

fn extreme_usize() -> impl Strategy<Value = usize> {
    prop_oneof![Just(usize::MAX), Just(0), 0usize..40]
}

/// One change to a typed definition, bypassing the parser: the validator must judge values
/// that no document could spell directly (usize::MAX bounds, u32 minutes, any string).
#[derive(Debug, Clone)]
enum TypedMutation {
    QuestionKey(usize, String),
    OptionKey(usize, usize, String),
    DimensionKey(usize, String),
    Weight(usize, i64),
    Score(usize, usize, String, i64),
    Select(usize, usize, usize),
    ScaleBounds(usize, i64, i64),
    OptionNext(usize, usize, Option<String>),
    RuleQuestion(usize, String),
    RuleSkip(usize, Option<String>),
    RuleAdd(usize, String, i64),
    ProfileBounds(usize, u8, u8),
    ProfileCode(usize, String),
    DropQuestion(usize),
    DuplicateQuestion(usize),
    SwapQuestions(usize, usize),
    DropProfile(usize),
    Metadata(String, String, u32),
}

fn typed_mutation() -> impl Strategy<Value = TypedMutation> {
    use TypedMutation as M;
    let i = || 0usize..8;
    prop_oneof![
        (i(), typed_string()).prop_map(|(a, s)| M::QuestionKey(a, s)),
        (i(), i(), typed_string()).prop_map(|(a, b, s)| M::OptionKey(a, b, s)),
        (i(), typed_string()).prop_map(|(a, s)| M::DimensionKey(a, s)),
        (i(), extreme_i64()).prop_map(|(a, n)| M::Weight(a, n)),
        (i(), i(), typed_string(), extreme_i64()).prop_map(|(a, b, s, n)| M::Score(a, b, s, n)),
        (i(), extreme_usize(), extreme_usize()).prop_map(|(a, lo, hi)| M::Select(a, lo, hi)),
        (i(), extreme_i64(), extreme_i64()).prop_map(|(a, lo, hi)| M::ScaleBounds(a, lo, hi)),
        (i(), i(), option::of(typed_string())).prop_map(|(a, b, s)| M::OptionNext(a, b, s)),
        (i(), typed_string()).prop_map(|(a, s)| M::RuleQuestion(a, s)),
        (i(), option::of(typed_string())).prop_map(|(a, s)| M::RuleSkip(a, s)),
        (i(), typed_string(), extreme_i64()).prop_map(|(a, s, n)| M::RuleAdd(a, s, n)),
        (i(), any::<u8>(), any::<u8>()).prop_map(|(a, lo, hi)| M::ProfileBounds(a, lo, hi)),
        (i(), typed_string()).prop_map(|(a, s)| M::ProfileCode(a, s)),
        i().prop_map(M::DropQuestion),
        i().prop_map(M::DuplicateQuestion),
        (i(), i()).prop_map(|(a, b)| M::SwapQuestions(a, b)),
        i().prop_map(M::DropProfile),
        (typed_string(), typed_string(), any::<u32>()).prop_map(|(s, l, m)| M::Metadata(s, l, m)),
    ]
}

fn jump_of(s: Option<String>) -> Option<Jump> {
    s.map(|s| {
        if s == "end" {
            Jump::End
        } else {
            Jump::Question(s)
        }
    })
}

fn rule_question(cond: &mut Condition) -> &mut String {
    match cond {
        Condition::Option { question, .. }
        | Condition::AnyOf { question, .. }
        | Condition::ValueGte { question, .. }
        | Condition::ValueLte { question, .. } => question,
    }
}

fn options_mut(kind: &mut QuestionKind) -> Option<&mut Vec<Choice>> {
    match kind {
        QuestionKind::Single { options } | QuestionKind::Multi { options, .. } => Some(options),
        QuestionKind::Scale { .. } => None,
    }
}

fn apply(def: &mut Definition, m: TypedMutation) {
    use TypedMutation as M;
    let nq = def.questions.len();
    match m {
        M::QuestionKey(q, s) if q < nq => def.questions[q].key = s,
        M::OptionKey(q, o, s) if q < nq => {
            if let Some(opt) = options_mut(&mut def.questions[q].kind).and_then(|v| v.get_mut(o)) {
                opt.key = s;
            }
        }
        M::DimensionKey(d, s) => {
            if let Some(dim) = def.dimensions.get_mut(d) {
                dim.key = s;
            }
        }
        M::Weight(d, n) => {
            if let Some(dim) = def.dimensions.get_mut(d) {
                dim.weight = n;
            }
        }
        M::Score(q, o, dim, n) if q < nq => match &mut def.questions[q].kind {
            QuestionKind::Scale {
                scores_per_point, ..
            } => {
                scores_per_point.insert(dim, n);
            }
            kind => {
                if let Some(opt) = options_mut(kind).and_then(|v| v.get_mut(o)) {
                    opt.scores.insert(dim, n);
                }
            }
        },
        M::Select(q, lo, hi) if q < nq => {
            let question = &mut def.questions[q];
            let options = match &mut question.kind {
                QuestionKind::Single { options } | QuestionKind::Multi { options, .. } => {
                    std::mem::take(options)
                }
                QuestionKind::Scale { .. } => return,
            };
            question.kind = QuestionKind::Multi {
                options,
                min_select: lo,
                max_select: hi,
            };
        }
        M::ScaleBounds(q, lo, hi) if q < nq => {
            if let QuestionKind::Scale { min, max, .. } = &mut def.questions[q].kind {
                *min = lo;
                *max = hi;
            }
        }
        M::OptionNext(q, o, s) if q < nq => {
            if let Some(opt) = options_mut(&mut def.questions[q].kind).and_then(|v| v.get_mut(o)) {
                opt.next = jump_of(s);
            }
        }
        M::RuleQuestion(r, s) => {
            if let Some(rule) = def.rules.get_mut(r) {
                *rule_question(&mut rule.cond) = s;
            }
        }
        M::RuleSkip(r, s) => {
            if let Some(rule) = def.rules.get_mut(r) {
                rule.skip_to = jump_of(s);
            }
        }
        M::RuleAdd(r, dim, n) => {
            if let Some(rule) = def.rules.get_mut(r) {
                rule.add.insert(dim, n);
            }
        }
        M::ProfileBounds(p, lo, hi) => {
            if let Some(profile) = def.profiles.get_mut(p) {
                profile.min = lo;
                profile.max = hi;
            }
        }
        M::ProfileCode(p, s) => {
            if let Some(profile) = def.profiles.get_mut(p) {
                profile.code = s;
            }
        }
        M::DropQuestion(q) if q < nq => {
            def.questions.remove(q);
        }
        M::DuplicateQuestion(q) if q < nq => {
            let copy = def.questions[q].clone();
            def.questions.insert(q, copy);
        }
        M::SwapQuestions(a, b) if a < nq && b < nq => def.questions.swap(a, b),
        M::DropProfile(p) if p < def.profiles.len() => {
            def.profiles.remove(p);
        }
        M::Metadata(slug, lang, minutes) => {
            def.slug = slug;
            def.lang = lang;
            def.estimated_minutes = minutes;
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// `validate` on typed definitions changed behind the parser's back: it never panics,
    /// its list stays bounded, publishable implies saveable, and whatever it accepts for
    /// publication plays to an end and scores within 0..=100 (the guarantees the visitor
    /// API relies on once a version is published).
    #[test]
    fn the_validator_judges_typed_mutations_and_what_it_accepts_plays_safely(
        def in definition(),
        mutations in vec(typed_mutation(), 1..4),
        seeds in answer_seeds(),
    ) {
        let mut def = def;
        for m in mutations {
            apply(&mut def, m);
        }
        let publish = validate(&def, Mode::Publish);
        let draft = validate(&def, Mode::Draft);
        prop_assert!(publish.len() <= faro_quiz_domain::parse::MAX_PROBLEMS + 1);
        prop_assert!(draft.len() <= publish.len(), "a draft is held to more than publication");
        if !publish.is_empty() {
            return Ok(());
        }
        let mut state = SessionState::start(&def);
        let mut answers = 0usize;
        while let Some(current) = state.current() {
            prop_assert!(answers < def.questions.len(), "more answers than questions");
            let question = &def.questions[current];
            let (selected, value) = valid_answer(question, &seeds[answers % seeds.len()]);
            let input = AnswerInput { question_id: &question.key, selected_option_ids: &selected, value };
            let step = state.answer(&def, &input);
            prop_assert!(step.is_ok(), "valid answer refused: {:?}", step);
            answers += 1;
        }
        let outcome = score(&def, &state);
        prop_assert!(outcome.is_ok(), "{:?}", outcome);
        let outcome = outcome.unwrap();
        prop_assert!(outcome.score <= 100);
        let profile = &def.profiles[outcome.profile];
        prop_assert!(profile.min <= outcome.score && outcome.score <= profile.max);
    }
}
