//! One test per validation rule of the definition document: each asserts the path and the
//! message of the problem, for the value, JSON text and YAML text forms alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    assert_has, at, expect_problem, expect_problem_in, expect_valid, problems, spec_value,
};
use faro_quiz_domain::parse::{MAX_PROBLEM_CHARS, MAX_PROBLEMS};
use faro_quiz_domain::{Format, Jump, Mode, QuestionKind, parse_document, parse_value, validate};
use serde_json::{Value, json};

fn obj<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut serde_json::Map<String, Value> {
    at(doc, pointer).as_object_mut().unwrap()
}

fn set(pointer: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |doc| *at(doc, pointer) = value
}

fn insert(pointer: &'static str, field: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |doc| {
        obj(doc, pointer).insert(field.to_owned(), value);
    }
}

fn remove(pointer: &'static str, field: &'static str) -> impl FnOnce(&mut Value) {
    move |doc| {
        obj(doc, pointer).remove(field);
    }
}

fn long(n: usize) -> Value {
    Value::String("x".repeat(n))
}

// ---------------------------------------------------------------- the document as a whole

#[test]
fn spec_example_is_valid_for_publish() {
    let found = problems(&spec_value(), Mode::Publish);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn root_must_be_an_object() {
    let found = problems(&json!([1, 2]), Mode::Draft);
    assert_eq!(found.len(), 1);
    assert_has(&found, "", "must be an object, not an array");
}

#[test]
fn invalid_json_text_is_one_problem_with_position() {
    let found = parse_document(
        "{\"slug\": \"a\",\n  \"title\": }",
        Format::Json,
        Mode::Draft,
    )
    .unwrap_err();
    assert_eq!(found.len(), 1);
    assert_has(&found, "", "not valid JSON");
    assert_has(&found, "", "line 2 column");
}

#[test]
fn invalid_yaml_text_is_one_problem_with_position() {
    let found =
        parse_document("slug: a\ntitle: [unclosed\n", Format::Yaml, Mode::Draft).unwrap_err();
    assert_eq!(found.len(), 1);
    assert_has(&found, "", "not valid YAML");
    assert_has(&found, "", "line");
}

#[test]
fn empty_text_is_refused() {
    assert!(parse_document("", Format::Json, Mode::Draft).is_err());
    let found = parse_document("", Format::Yaml, Mode::Draft).unwrap_err();
    assert_has(&found, "", "must be an object, not null");
}

#[test]
fn duplicate_keys_in_json_text_are_refused() {
    let text = r#"{"slug": "a", "slug": "b"}"#;
    let found = parse_document(text, Format::Json, Mode::Draft).unwrap_err();
    assert_has(&found, "", "duplicate key `slug`");
}

#[test]
fn duplicate_keys_in_yaml_text_are_refused() {
    let found = parse_document("slug: a\nslug: b\n", Format::Yaml, Mode::Draft).unwrap_err();
    assert_has(&found, "", "duplicate key `slug`");
}

#[test]
fn documents_over_256_kib_are_refused_before_parsing() {
    let text = format!("{{\"description\": \"{}\"}}", "x".repeat(256 * 1024));
    let found = parse_document(&text, Format::Json, Mode::Draft).unwrap_err();
    assert_eq!(found.len(), 1);
    assert_has(&found, "", "at most 256 KiB");
}

#[test]
fn yaml_document_with_same_shape_parses() {
    let yaml = yaml_serde::to_string(&spec_value()).unwrap();
    let from_yaml = parse_document(&yaml, Format::Yaml, Mode::Publish).unwrap();
    assert_eq!(from_yaml, common::spec_def());
}

#[test]
fn unknown_root_field() {
    expect_problem(
        insert("", "colour", json!("red")),
        "colour",
        "unknown field",
    );
}

#[test]
fn null_counts_as_absent_for_optional_fields() {
    let def = expect_valid(Mode::Publish, |doc| {
        obj(doc, "").insert("description".into(), Value::Null);
        obj(doc, "/questions/0").insert("help".into(), Value::Null);
        obj(doc, "/questions/1/options/0").insert("next".into(), Value::Null);
    });
    assert_eq!(def.description, "");
    assert_eq!(def.questions[0].help, None);
}

#[test]
fn integral_floats_are_accepted_as_whole_numbers() {
    let def = expect_valid(Mode::Publish, set("/dimensions/1/weight", json!(2.0)));
    assert_eq!(def.dimensions[1].weight, 2);
}

#[test]
fn several_problems_are_reported_at_once() {
    let mut doc = spec_value();
    obj(&mut doc, "").insert("slug".into(), json!("Not A Slug"));
    obj(&mut doc, "").insert("extra".into(), json!(true));
    *at(&mut doc, "/dimensions/0/weight") = json!(1.5);
    *at(&mut doc, "/questions/1/options/1/next") = json!("q1");
    *at(&mut doc, "/questions/2/options/0/scores") = json!({"nerve": 3});
    *at(&mut doc, "/rules/1/if/value_lte") = json!("two");
    *at(&mut doc, "/profiles/1/min") = json!(40);
    let found = problems(&doc, Mode::Publish);
    assert_has(&found, "slug", "must be 1 to 64 characters");
    assert_has(&found, "extra", "unknown field");
    assert_has(&found, "dimensions[0].weight", "must be a whole number");
    assert_has(&found, "questions[1].options[1].next", "comes before `q2`");
    assert_has(
        &found,
        "questions[2].options[0].scores.nerve",
        "unknown dimension `nerve`",
    );
    assert_has(&found, "rules[1].if.value_lte", "must be a whole number");
    assert_has(&found, "profiles", "scores 34..=39 are not covered");
    assert_eq!(found.len(), 7, "{found:?}");
}

#[test]
fn the_problem_list_is_capped() {
    let tags: Vec<Value> = (0..400).map(|_| json!(5)).collect();
    let found = problems(&json!({"tags": tags}), Mode::Draft);
    assert_eq!(found.len(), MAX_PROBLEMS + 1);
    assert_has(&found, "", "more problems were not listed");
}

#[test]
fn thousands_of_bad_questions_give_a_capped_list() {
    // Every question is broken in several ways (no key, no text, unknown type, extra field):
    // tens of thousands of problems, of which MAX_PROBLEMS are listed plus one count.
    let questions: Vec<Value> = (0..5000)
        .map(|i| json!({"type": "nope", "junk": i}))
        .collect();
    let mut doc = spec_value();
    doc["questions"] = json!(questions);
    let text = serde_json::to_string(&doc).unwrap();
    assert!(text.len() < faro_quiz_domain::parse::MAX_DOCUMENT_BYTES);
    let Err(found) = parse_document(&text, Format::Json, Mode::Publish) else {
        panic!("a broken document was accepted");
    };
    assert_eq!(found.len(), MAX_PROBLEMS + 1);
    let last = found.last().unwrap();
    assert_eq!(last.path, "");
    let left_out: usize = last
        .message
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", last.message));
    assert!(left_out > 10_000, "{}", last.message);
    let bytes = serde_json::to_string(&found).unwrap().len();
    assert!(bytes < 40_000, "{bytes} bytes of problems");
}

#[test]
fn huge_author_strings_are_quoted_clipped() {
    // A 100 KB field name and a 100 KB jump target (the document stays under its 256 KiB
    // limit): each quoted problem stays short.
    let long = "x".repeat(100_000);
    let mut doc = spec_value();
    obj(&mut doc, "").insert(long.clone(), json!(true));
    *at(&mut doc, "/questions/1/options/1/next") = json!(long);
    let found = problems(&doc, Mode::Publish);
    assert!(found.len() >= 2, "{}", found.len());
    for p in &found {
        assert!(
            p.path.chars().count() <= MAX_PROBLEM_CHARS + 1,
            "path too long"
        );
        assert!(
            p.message.chars().count() <= MAX_PROBLEM_CHARS + 1,
            "message too long"
        );
    }
    assert!(
        found
            .iter()
            .any(|p| p.path.starts_with("xxx") && p.path.ends_with('…'))
    );
}

// ---------------------------------------------------------------- metadata

#[test]
fn slug_is_required() {
    expect_problem(remove("", "slug"), "slug", "is required");
}

#[test]
fn slug_must_be_a_string() {
    expect_problem(
        set("/slug", json!(12)),
        "slug",
        "must be a string, not a number",
    );
}

#[test]
fn slug_pattern() {
    for bad in [
        "Saver",
        "saver profile",
        "-saver",
        "",
        "sáver",
        "saver_profile",
    ] {
        expect_problem(
            set("/slug", json!(bad)),
            "slug",
            "must be 1 to 64 characters",
        );
    }
    expect_problem(set("/slug", long(65)), "slug", "must be 1 to 64 characters");
    expect_valid(Mode::Draft, set("/slug", json!("0-saver-2")));
    expect_valid(Mode::Draft, set("/slug", Value::String("a".repeat(64))));
}

#[test]
fn title_is_required() {
    expect_problem(remove("", "title"), "title", "is required");
}

#[test]
fn title_must_not_be_blank() {
    expect_problem(set("/title", json!("   ")), "title", "must not be empty");
}

#[test]
fn title_is_at_most_200_characters() {
    expect_problem(set("/title", long(201)), "title", "at most 200 characters");
    // Characters, not bytes: 200 accented letters are fine.
    expect_valid(Mode::Draft, set("/title", json!("á".repeat(200))));
}

#[test]
fn description_is_at_most_2000_characters() {
    expect_problem(
        set("/description", long(2001)),
        "description",
        "at most 2000 characters",
    );
}

#[test]
fn lang_is_required() {
    expect_problem(remove("", "lang"), "lang", "is required");
}

#[test]
fn lang_pattern() {
    for bad in ["ES", "spanish", "es_AR", "es-ar", "e", "es-ARG"] {
        expect_problem(set("/lang", json!(bad)), "lang", "language code");
    }
    expect_valid(Mode::Draft, set("/lang", json!("es-AR")));
}

#[test]
fn tags_must_be_an_array() {
    expect_problem(set("/tags", json!("savings")), "tags", "must be an array");
}

#[test]
fn at_most_ten_tags() {
    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    expect_problem(
        set("/tags", json!(tags)),
        "tags",
        "at most 10 tags (has 11)",
    );
}

#[test]
fn tag_length() {
    expect_problem(set("/tags/1", json!("")), "tags[1]", "must not be empty");
    expect_problem(set("/tags/1", long(33)), "tags[1]", "at most 32 characters");
}

#[test]
fn tag_must_be_a_string() {
    expect_problem(set("/tags/0", json!(3)), "tags[0]", "must be a string");
}

#[test]
fn tags_are_unique() {
    expect_problem(set("/tags/1", json!("savings")), "tags[1]", "duplicate tag");
}

#[test]
fn estimated_minutes_defaults_to_three() {
    let def = expect_valid(Mode::Draft, remove("", "estimated_minutes"));
    assert_eq!(def.estimated_minutes, 3);
}

#[test]
fn estimated_minutes_range() {
    expect_problem(
        set("/estimated_minutes", json!(0)),
        "estimated_minutes",
        "between 1 and 120",
    );
    expect_problem(
        set("/estimated_minutes", json!(121)),
        "estimated_minutes",
        "between 1 and 120",
    );
}

#[test]
fn estimated_minutes_must_be_whole() {
    expect_problem(
        set("/estimated_minutes", json!(2.5)),
        "estimated_minutes",
        "must be a whole number",
    );
    expect_problem(
        set("/estimated_minutes", json!("3")),
        "estimated_minutes",
        "must be a whole number",
    );
}

#[test]
fn store_answers_defaults_to_false_and_must_be_boolean() {
    assert!(!common::spec_def().store_answers);
    let def = expect_valid(Mode::Draft, insert("", "store_answers", json!(true)));
    assert!(def.store_answers);
    expect_problem(
        insert("", "store_answers", json!("yes")),
        "store_answers",
        "must be true or false",
    );
}

// ---------------------------------------------------------------- dimensions

#[test]
fn dimensions_are_required() {
    expect_problem(remove("", "dimensions"), "dimensions", "is required");
}

#[test]
fn at_least_one_dimension() {
    expect_problem(
        set("/dimensions", json!([])),
        "dimensions",
        "needs at least 1 dimension",
    );
}

#[test]
fn at_most_twenty_dimensions() {
    let dims: Vec<Value> = (0..21)
        .map(|i| json!({"key": format!("d{i}"), "label": "x"}))
        .collect();
    expect_problem(
        set("/dimensions", json!(dims)),
        "dimensions",
        "at most 20 dimensions",
    );
}

#[test]
fn dimension_must_be_an_object() {
    expect_problem(
        set("/dimensions/0", json!("horizon")),
        "dimensions[0]",
        "must be an object",
    );
}

#[test]
fn dimension_unknown_field() {
    expect_problem(
        insert("/dimensions/0", "colour", json!("red")),
        "dimensions[0].colour",
        "unknown field",
    );
}

#[test]
fn dimension_key_pattern() {
    expect_problem(
        set("/dimensions/0/key", json!("Horizon")),
        "dimensions[0].key",
        "must be 1 to 64 characters among a-z",
    );
    expect_problem(
        set("/dimensions/0/key", long(65)),
        "dimensions[0].key",
        "must be 1 to 64 characters",
    );
}

#[test]
fn dimension_key_is_required() {
    expect_problem(
        remove("/dimensions/0", "key"),
        "dimensions[0].key",
        "is required",
    );
}

#[test]
fn dimension_keys_are_unique() {
    expect_problem(
        set("/dimensions/1/key", json!("horizon")),
        "dimensions[1].key",
        "duplicate dimension key `horizon`",
    );
}

#[test]
fn dimension_label_is_required_and_bounded() {
    expect_problem(
        remove("/dimensions/0", "label"),
        "dimensions[0].label",
        "is required",
    );
    expect_problem(
        set("/dimensions/0/label", long(101)),
        "dimensions[0].label",
        "at most 100 characters",
    );
}

#[test]
fn dimension_weight_defaults_to_one() {
    let def = expect_valid(Mode::Draft, remove("/dimensions/1", "weight"));
    assert_eq!(def.dimensions[1].weight, 1);
}

#[test]
fn dimension_weight_range() {
    expect_problem(
        set("/dimensions/0/weight", json!(1001)),
        "dimensions[0].weight",
        "between 0 and 1000",
    );
    expect_problem(
        set("/dimensions/0/weight", json!(-1)),
        "dimensions[0].weight",
        "between 0 and 1000",
    );
    expect_valid(Mode::Draft, set("/dimensions/0/weight", json!(0)));
}

#[test]
fn dimension_weight_must_be_whole() {
    expect_problem(
        set("/dimensions/0/weight", json!(1.5)),
        "dimensions[0].weight",
        "must be a whole number",
    );
}

// ---------------------------------------------------------------- questions

#[test]
fn questions_are_required() {
    expect_problem(remove("", "questions"), "questions", "is required");
}

#[test]
fn at_least_one_question() {
    expect_problem(
        set("/questions", json!([])),
        "questions",
        "needs at least 1 question",
    );
}

#[test]
fn at_most_a_hundred_questions() {
    let questions: Vec<Value> = (0..101)
        .map(|i| {
            json!({"key": format!("q{i}"), "type": "scale", "text": "t",
                   "scale": {"min": 0, "max": 1}})
        })
        .collect();
    expect_problem(
        set("/questions", json!(questions)),
        "questions",
        "at most 100 questions (has 101)",
    );
}

#[test]
fn question_must_be_an_object() {
    expect_problem(
        set("/questions/0", json!(null)),
        "questions[0]",
        "must be an object, not null",
    );
}

#[test]
fn question_unknown_field() {
    expect_problem(
        insert("/questions/0", "image", json!("x.png")),
        "questions[0].image",
        "unknown field",
    );
}

#[test]
fn question_key_is_required() {
    expect_problem(
        remove("/questions/0", "key"),
        "questions[0].key",
        "is required",
    );
}

#[test]
fn question_key_pattern() {
    expect_problem(
        set("/questions/0/key", json!("Q1")),
        "questions[0].key",
        "must be 1 to 64 characters among a-z",
    );
}

#[test]
fn question_keys_are_unique() {
    expect_problem(
        set("/questions/2/key", json!("q1")),
        "questions[2].key",
        "duplicate question key `q1`",
    );
}

#[test]
fn question_key_end_is_reserved() {
    expect_problem(
        set("/questions/4/key", json!("end")),
        "questions[4].key",
        "reserved",
    );
}

#[test]
fn question_type_is_required() {
    expect_problem(
        remove("/questions/0", "type"),
        "questions[0].type",
        "is required",
    );
}

#[test]
fn question_type_is_known() {
    expect_problem(
        set("/questions/0/type", json!("text")),
        "questions[0].type",
        "must be `single`, `multi` or `scale`, not `text`",
    );
}

#[test]
fn question_text_is_required_and_bounded() {
    expect_problem(
        remove("/questions/0", "text"),
        "questions[0].text",
        "is required",
    );
    expect_problem(
        set("/questions/0/text", json!("")),
        "questions[0].text",
        "must not be empty",
    );
    expect_problem(
        set("/questions/0/text", long(501)),
        "questions[0].text",
        "at most 500 characters",
    );
}

#[test]
fn question_required_defaults_to_true_and_must_be_boolean() {
    assert!(common::spec_def().questions.iter().all(|q| q.required));
    expect_problem(
        insert("/questions/0", "required", json!("no")),
        "questions[0].required",
        "must be true or false",
    );
}

#[test]
fn question_help_is_bounded() {
    expect_problem(
        insert("/questions/0", "help", long(1001)),
        "questions[0].help",
        "at most 1000 characters",
    );
}

#[test]
fn fields_of_other_question_types_are_refused() {
    expect_problem(
        insert("/questions/0", "scale", json!({"min": 1, "max": 2})),
        "questions[0].scale",
        "`scale` is not allowed on a `single` question",
    );
    expect_problem(
        insert("/questions/0", "min_select", json!(1)),
        "questions[0].min_select",
        "`min_select` is not allowed on a `single` question",
    );
    expect_problem(
        insert("/questions/3", "options", json!([])),
        "questions[3].options",
        "`options` is not allowed on a `scale` question",
    );
}

// ---------------------------------------------------------------- options

#[test]
fn options_are_required_on_choice_questions() {
    expect_problem(
        remove("/questions/0", "options"),
        "questions[0].options",
        "is required",
    );
}

#[test]
fn at_least_two_options() {
    expect_problem(
        |doc| {
            at(doc, "/questions/1/options")
                .as_array_mut()
                .unwrap()
                .truncate(1)
        },
        "questions[1].options",
        "needs at least 2 options (has 1)",
    );
}

#[test]
fn at_most_thirty_options() {
    let options: Vec<Value> = (0..31)
        .map(|i| json!({"key": format!("o{i}"), "text": "x", "scores": {}}))
        .collect();
    expect_problem(
        set("/questions/0/options", json!(options)),
        "questions[0].options",
        "at most 30 options (has 31)",
    );
}

#[test]
fn option_must_be_an_object() {
    expect_problem(
        set("/questions/0/options/1", json!("b")),
        "questions[0].options[1]",
        "must be an object",
    );
}

#[test]
fn option_unknown_field() {
    expect_problem(
        insert("/questions/0/options/1", "value", json!(2)),
        "questions[0].options[1].value",
        "unknown field",
    );
}

#[test]
fn option_key_pattern_and_uniqueness() {
    expect_problem(
        set("/questions/0/options/1/key", json!("B")),
        "questions[0].options[1].key",
        "must be 1 to 64 characters",
    );
    expect_problem(
        set("/questions/0/options/1/key", json!("a")),
        "questions[0].options[1].key",
        "duplicate option key `a`",
    );
}

#[test]
fn option_text_is_required_and_bounded() {
    expect_problem(
        remove("/questions/0/options/1", "text"),
        "questions[0].options[1].text",
        "is required",
    );
    expect_problem(
        set("/questions/0/options/1/text", long(301)),
        "questions[0].options[1].text",
        "at most 300 characters",
    );
}

#[test]
fn option_scores_default_to_empty() {
    let def = expect_valid(Mode::Draft, remove("/questions/0/options/1", "scores"));
    assert!(def.questions[0].options()[1].scores.is_empty());
}

#[test]
fn scores_must_be_an_object() {
    expect_problem(
        set("/questions/0/options/1/scores", json!([5])),
        "questions[0].options[1].scores",
        "must be an object",
    );
}

#[test]
fn scores_name_declared_dimensions() {
    expect_problem(
        set("/questions/0/options/1/scores", json!({"luck": 2})),
        "questions[0].options[1].scores.luck",
        "unknown dimension `luck`",
    );
}

#[test]
fn scores_are_whole_numbers() {
    expect_problem(
        set("/questions/0/options/1/scores/horizon", json!(1.5)),
        "questions[0].options[1].scores.horizon",
        "must be a whole number",
    );
    expect_problem(
        set("/questions/0/options/1/scores/horizon", json!("5")),
        "questions[0].options[1].scores.horizon",
        "must be a whole number",
    );
}

#[test]
fn scores_are_bounded() {
    expect_problem(
        set("/questions/0/options/1/scores/horizon", json!(1_000_001)),
        "questions[0].options[1].scores.horizon",
        "between -1000000 and 1000000",
    );
    expect_problem(
        set("/questions/0/options/1/scores/horizon", json!(u64::MAX)),
        "questions[0].options[1].scores.horizon",
        "between -1000000 and 1000000",
    );
    expect_valid(
        Mode::Draft,
        set("/questions/0/options/1/scores/horizon", json!(-1_000_000)),
    );
}

// ---------------------------------------------------------------- multi

#[test]
fn multi_selection_defaults() {
    let def = expect_valid(Mode::Draft, |doc| {
        let q = obj(doc, "/questions/2");
        q.remove("min_select");
        q.remove("max_select");
    });
    let QuestionKind::Multi {
        min_select,
        max_select,
        ..
    } = def.questions[2].kind
    else {
        panic!("not multi");
    };
    assert_eq!((min_select, max_select), (1, 3));
}

#[test]
fn min_select_must_not_exceed_max_select() {
    expect_problem(
        |doc| {
            *at(doc, "/questions/2/min_select") = json!(3);
            *at(doc, "/questions/2/max_select") = json!(2);
        },
        "questions[2].min_select",
        "must not exceed max_select (2)",
    );
}

#[test]
fn max_select_must_not_exceed_option_count() {
    expect_problem(
        set("/questions/2/max_select", json!(4)),
        "questions[2].max_select",
        "must not exceed the number of options (3)",
    );
}

#[test]
fn min_select_alone_must_not_exceed_option_count() {
    expect_problem(
        |doc| {
            obj(doc, "/questions/2").remove("max_select");
            *at(doc, "/questions/2/min_select") = json!(4);
        },
        "questions[2].min_select",
        "must not exceed the number of options (3)",
    );
}

#[test]
fn max_select_must_be_at_least_one() {
    expect_problem(
        set("/questions/2/max_select", json!(0)),
        "questions[2].max_select",
        "must be at least 1",
    );
}

#[test]
fn selection_bounds_are_non_negative_whole_numbers() {
    expect_problem(
        set("/questions/2/min_select", json!(-1)),
        "questions[2].min_select",
        "between 0 and 30",
    );
    expect_problem(
        set("/questions/2/max_select", json!(2.5)),
        "questions[2].max_select",
        "must be a whole number",
    );
}

// ---------------------------------------------------------------- scale

#[test]
fn scale_object_is_required() {
    expect_problem(
        remove("/questions/3", "scale"),
        "questions[3].scale",
        "is required",
    );
}

#[test]
fn scale_must_be_an_object() {
    expect_problem(
        set("/questions/3/scale", json!([1, 5])),
        "questions[3].scale",
        "must be an object",
    );
}

#[test]
fn scale_unknown_field() {
    expect_problem(
        insert("/questions/3/scale", "step", json!(1)),
        "questions[3].scale.step",
        "unknown field",
    );
}

#[test]
fn scale_bounds_are_required() {
    expect_problem(
        remove("/questions/3/scale", "min"),
        "questions[3].scale.min",
        "is required",
    );
    expect_problem(
        remove("/questions/3/scale", "max"),
        "questions[3].scale.max",
        "is required",
    );
}

#[test]
fn scale_min_must_be_below_max() {
    expect_problem(
        set("/questions/3/scale/max", json!(1)),
        "questions[3].scale.max",
        "must be greater than min (1)",
    );
}

#[test]
fn scale_spans_at_most_a_thousand_points() {
    expect_problem(
        set("/questions/3/scale/max", json!(1002)),
        "questions[3].scale.max",
        "at most 1000 points",
    );
    expect_valid(Mode::Draft, set("/questions/3/scale/max", json!(1001)));
}

#[test]
fn scale_bounds_are_whole_numbers() {
    expect_problem(
        set("/questions/3/scale/min", json!(0.5)),
        "questions[3].scale.min",
        "must be a whole number",
    );
}

#[test]
fn scale_scores_per_point_name_declared_dimensions() {
    expect_problem(
        set("/questions/3/scale/scores_per_point", json!({"calm": 1})),
        "questions[3].scale.scores_per_point.calm",
        "unknown dimension `calm`",
    );
    expect_problem(
        set("/questions/3/scale/scores_per_point/tolerance", json!(0.25)),
        "questions[3].scale.scores_per_point.tolerance",
        "must be a whole number",
    );
}

#[test]
fn scale_labels_are_optional_and_bounded() {
    let def = expect_valid(
        Mode::Draft,
        insert("/questions/3/scale", "min_label", json!("Panicked")),
    );
    let QuestionKind::Scale { min_label, .. } = &def.questions[3].kind else {
        panic!("not a scale");
    };
    assert_eq!(min_label.as_deref(), Some("Panicked"));
    expect_problem(
        insert("/questions/3/scale", "max_label", long(101)),
        "questions[3].scale.max_label",
        "at most 100 characters",
    );
}

// ---------------------------------------------------------------- jumps

#[test]
fn option_next_to_unknown_question() {
    expect_problem(
        set("/questions/1/options/1/next", json!("q9")),
        "questions[1].options[1].next",
        "unknown question `q9`",
    );
}

#[test]
fn option_next_backwards() {
    expect_problem(
        set("/questions/1/options/1/next", json!("q1")),
        "questions[1].options[1].next",
        "`q1` comes before `q2`; jumps must go forward",
    );
}

#[test]
fn option_next_to_itself() {
    expect_problem(
        set("/questions/1/options/1/next", json!("q2")),
        "questions[1].options[1].next",
        "is the question itself",
    );
}

#[test]
fn option_next_must_be_a_key_or_end() {
    expect_problem(
        set("/questions/1/options/1/next", json!("Q 5")),
        "questions[1].options[1].next",
        "must be a question key or \"end\"",
    );
    expect_problem(
        set("/questions/1/options/1/next", json!(5)),
        "questions[1].options[1].next",
        "must be a string",
    );
}

#[test]
fn option_next_end_and_forward_are_fine() {
    let def = expect_valid(
        Mode::Publish,
        set("/questions/1/options/1/next", json!("end")),
    );
    assert_eq!(def.questions[1].options()[1].next, Some(Jump::End));
    let def = expect_valid(
        Mode::Publish,
        set("/questions/1/options/1/next", json!("q3")),
    );
    assert_eq!(
        def.questions[1].options()[1].next,
        Some(Jump::Question("q3".into()))
    );
}

// ---------------------------------------------------------------- rules

#[test]
fn rules_are_optional() {
    let def = expect_valid(Mode::Publish, remove("", "rules"));
    assert!(def.rules.is_empty());
}

#[test]
fn rules_must_be_an_array() {
    expect_problem(set("/rules", json!({})), "rules", "must be an array");
}

#[test]
fn at_most_two_hundred_rules() {
    let rule =
        json!({"if": {"question": "q3", "option": "crypto"}, "then": {"add": {"tolerance": 1}}});
    let rules: Vec<Value> = (0..201).map(|_| rule.clone()).collect();
    expect_problem(
        set("/rules", json!(rules)),
        "rules",
        "at most 200 rules (has 201)",
    );
}

#[test]
fn rule_must_be_an_object() {
    expect_problem(set("/rules/0", json!(7)), "rules[0]", "must be an object");
}

#[test]
fn rule_unknown_field() {
    expect_problem(
        insert("/rules/0", "else", json!({})),
        "rules[0].else",
        "unknown field",
    );
    expect_problem(
        insert("/rules/0/then", "multiply", json!(2)),
        "rules[0].then.multiply",
        "unknown field",
    );
    expect_problem(
        insert("/rules/0/if", "value", json!(2)),
        "rules[0].if.value",
        "unknown field",
    );
}

#[test]
fn rule_if_and_then_are_required() {
    expect_problem(remove("/rules/0", "if"), "rules[0].if", "is required");
    expect_problem(remove("/rules/0", "then"), "rules[0].then", "is required");
}

#[test]
fn rule_needs_an_effect() {
    expect_problem(
        set("/rules/0/then", json!({})),
        "rules[0].then",
        "needs `add`",
    );
    expect_problem(
        set("/rules/0/then", json!({"add": {}})),
        "rules[0].then",
        "needs `add`",
    );
}

#[test]
fn rule_add_names_declared_dimensions_with_whole_numbers() {
    expect_problem(
        set("/rules/0/then/add", json!({"luck": 1})),
        "rules[0].then.add.luck",
        "unknown dimension `luck`",
    );
    expect_problem(
        set("/rules/0/then/add", json!({"tolerance": 0.5})),
        "rules[0].then.add.tolerance",
        "must be a whole number",
    );
}

#[test]
fn rule_condition_names_a_known_question() {
    expect_problem(
        set("/rules/0/if/question", json!("q9")),
        "rules[0].if.question",
        "unknown question `q9`",
    );
    expect_problem(
        remove("/rules/0/if", "question"),
        "rules[0].if.question",
        "is required",
    );
}

#[test]
fn rule_condition_needs_exactly_one_test() {
    expect_problem(
        remove("/rules/0/if", "option"),
        "rules[0].if",
        "needs one of `option`, `any_of`, `value_gte` or `value_lte`",
    );
    expect_problem(
        insert("/rules/0/if", "any_of", json!(["stocks"])),
        "rules[0].if",
        "use only one of option, any_of",
    );
}

#[test]
fn rule_option_must_exist_on_the_question() {
    expect_problem(
        set("/rules/0/if/option", json!("gold")),
        "rules[0].if.option",
        "question `q3` has no option `gold`",
    );
}

#[test]
fn rule_option_test_is_for_choice_questions() {
    expect_problem(
        set("/rules/0/if", json!({"question": "q4", "option": "x"})),
        "rules[0].if.option",
        "applies to single or multi questions",
    );
}

#[test]
fn rule_any_of_lists_existing_distinct_options() {
    let base = |any_of: Value| set("/rules/0/if", json!({"question": "q3", "any_of": any_of}));
    expect_problem(base(json!([])), "rules[0].if.any_of", "at least one option");
    expect_problem(
        base(json!(["stocks", "gold"])),
        "rules[0].if.any_of[1]",
        "has no option `gold`",
    );
    expect_problem(
        base(json!(["stocks", "stocks"])),
        "rules[0].if.any_of[1]",
        "duplicate option `stocks`",
    );
    expect_problem(
        base(json!("stocks")),
        "rules[0].if.any_of",
        "must be an array",
    );
    let def = expect_valid(Mode::Publish, base(json!(["stocks", "crypto"])));
    assert!(matches!(
        &def.rules[0].cond,
        faro_quiz_domain::Condition::AnyOf { any_of, .. } if any_of.len() == 2
    ));
}

#[test]
fn rule_value_tests_are_for_scale_questions() {
    expect_problem(
        set("/rules/0/if", json!({"question": "q3", "value_gte": 2})),
        "rules[0].if.value_gte",
        "applies to scale questions only",
    );
    expect_problem(
        set("/rules/1/if/value_lte", json!(2.5)),
        "rules[1].if.value_lte",
        "must be a whole number",
    );
}

#[test]
fn rule_skip_to_unknown_question() {
    expect_problem(
        set("/rules/1/then/skip_to", json!("q9")),
        "rules[1].then.skip_to",
        "unknown question `q9`",
    );
}

#[test]
fn rule_skip_to_backwards_relative_to_condition_question() {
    // The rule reads q4, so q3 is behind it even though the rule itself has no position.
    expect_problem(
        set("/rules/1/then/skip_to", json!("q3")),
        "rules[1].then.skip_to",
        "`q3` comes before `q4`",
    );
    expect_problem(
        set("/rules/1/then/skip_to", json!("q4")),
        "rules[1].then.skip_to",
        "is the question itself",
    );
    expect_valid(Mode::Publish, set("/rules/1/then/skip_to", json!("q5")));
}

// ---------------------------------------------------------------- profiles

#[test]
fn profiles_are_required() {
    expect_problem(remove("", "profiles"), "profiles", "is required");
}

#[test]
fn at_least_one_profile() {
    expect_problem(
        set("/profiles", json!([])),
        "profiles",
        "needs at least 1 profile",
    );
}

#[test]
fn at_most_twenty_profiles() {
    let profiles: Vec<Value> = (0..21)
        .map(|i| json!({"code": format!("P{i}"), "title": "t", "min": i, "max": i}))
        .collect();
    expect_problem(
        set("/profiles", json!(profiles)),
        "profiles",
        "at most 20 profiles (has 21)",
    );
}

#[test]
fn profile_unknown_field() {
    expect_problem(
        insert("/profiles/0", "image", json!("x")),
        "profiles[0].image",
        "unknown field",
    );
}

#[test]
fn profile_code_pattern_and_uniqueness() {
    expect_problem(
        set("/profiles/0/code", json!("LOW RISK")),
        "profiles[0].code",
        "must be 1 to 32 characters",
    );
    expect_problem(
        set("/profiles/0/code", long(33)),
        "profiles[0].code",
        "must be 1 to 32 characters",
    );
    expect_problem(
        set("/profiles/1/code", json!("LOW")),
        "profiles[1].code",
        "duplicate profile code `LOW`",
    );
    expect_problem(
        remove("/profiles/1", "code"),
        "profiles[1].code",
        "is required",
    );
}

#[test]
fn profile_title_is_required() {
    expect_problem(
        remove("/profiles/1", "title"),
        "profiles[1].title",
        "is required",
    );
}

#[test]
fn profile_summary_is_bounded() {
    expect_problem(
        set("/profiles/1/summary", long(2001)),
        "profiles[1].summary",
        "at most 2000 characters",
    );
}

#[test]
fn profile_recommendations() {
    let many: Vec<String> = (0..11).map(|i| format!("r{i}")).collect();
    expect_problem(
        set("/profiles/1/recommendations", json!(many)),
        "profiles[1].recommendations",
        "at most 10 recommendations",
    );
    expect_problem(
        set("/profiles/1/recommendations", json!([" "])),
        "profiles[1].recommendations[0]",
        "must not be empty",
    );
    expect_problem(
        set("/profiles/1/recommendations", json!([1])),
        "profiles[1].recommendations[0]",
        "must be a string",
    );
}

#[test]
fn profile_range_is_within_0_and_100() {
    expect_problem(
        set("/profiles/2/max", json!(101)),
        "profiles[2].max",
        "between 0 and 100",
    );
    expect_problem(
        set("/profiles/0/min", json!(-1)),
        "profiles[0].min",
        "between 0 and 100",
    );
    expect_problem(
        remove("/profiles/0", "min"),
        "profiles[0].min",
        "is required",
    );
}

#[test]
fn profile_max_must_not_be_below_min() {
    expect_problem(
        set("/profiles/1/max", json!(30)),
        "profiles[1].max",
        "must not be below min (34)",
    );
}

#[test]
fn publish_reports_gaps_precisely() {
    let gap = |doc: &mut Value| *at(doc, "/profiles/1/max") = json!(60);
    expect_problem_in(
        Mode::Publish,
        gap,
        "profiles",
        "scores 61..=66 are not covered by any profile",
    );
    expect_problem_in(
        Mode::Publish,
        set("/profiles/2/min", json!(68)),
        "profiles",
        "score 67 is not covered by any profile",
    );
    expect_problem_in(
        Mode::Publish,
        set("/profiles/0/min", json!(1)),
        "profiles",
        "score 0 is not covered",
    );
}

#[test]
fn publish_reports_overlaps_precisely() {
    expect_problem_in(
        Mode::Publish,
        set("/profiles/1/min", json!(30)),
        "profiles[1]",
        "scores 30..=33 are also covered by profile `LOW` (profiles[0])",
    );
}

#[test]
fn drafts_may_leave_gaps() {
    expect_valid(Mode::Draft, set("/profiles/1/max", json!(60)));
}

#[test]
fn validate_agrees_with_parse() {
    let mut def = common::spec_def();
    assert!(validate(&def, Mode::Publish).is_empty());
    def.profiles[2].min = 70;
    assert!(validate(&def, Mode::Draft).is_empty());
    let found = validate(&def, Mode::Publish);
    assert_has(&found, "profiles", "scores 67..=69 are not covered");
}

#[test]
fn validate_reports_problems_of_hand_built_definitions() {
    let mut def = common::spec_def();
    if let QuestionKind::Single { options } = &mut def.questions[1].kind {
        options[1].next = Some(Jump::Question("q1".into()));
    }
    def.dimensions[0].weight = 5000;
    def.slug = "Bad".into();
    let found = validate(&def, Mode::Draft);
    assert_has(&found, "questions[1].options[1].next", "comes before");
    assert_has(&found, "dimensions[0].weight", "between 0 and 1000");
    assert_has(&found, "slug", "must be 1 to 64");
    assert_eq!(found.len(), 3);
}

#[test]
fn definition_deserializes_through_the_validator() {
    let def: faro_quiz_domain::Definition = serde_json::from_str(common::SPEC_EXAMPLE).unwrap();
    assert_eq!(def, common::spec_def());
    let err = serde_json::from_str::<faro_quiz_domain::Definition>(r#"{"slug": 1}"#).unwrap_err();
    assert!(err.to_string().contains("slug: must be a string"), "{err}");
}

#[test]
fn parse_value_does_not_need_text() {
    assert!(parse_value(&spec_value(), Mode::Publish).is_ok());
}
