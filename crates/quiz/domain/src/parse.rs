//! Document -> [`Definition`], reporting every problem at once.
//!
//! Authors fix a whole document per round trip, so the walker never stops at the first
//! problem: it goes over the untyped JSON value by hand, records each problem with the path
//! of the offending value, and only builds the typed definition when nothing was found.
//! [`validate`] reuses the same walker on the serialized form of a typed definition, so the
//! rules live in exactly one place.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::definition::{
    Choice, Condition, Definition, Dimension, END, Jump, Profile, Question, QuestionKind, Rule,
};

/// Larger documents are refused before parsing: no real test needs that much, and parsing
/// cost stays bounded for an endpoint that accepts uploads.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Beyond this many problems the list stops growing; a document that broken needs rewriting,
/// not a longer report.
pub const MAX_PROBLEMS: usize = 200;
/// Longest path or message a problem carries: messages quote what the author wrote, and a
/// single 200 KB key quoted a few times would otherwise make the error larger than the
/// document. Real paths and messages are far shorter.
pub const MAX_PROBLEM_CHARS: usize = 300;
/// Bound for every score, weight, add and scale value, so that totals stay far from
/// overflowing even in 64 bits.
pub const MAX_ABS_NUMBER: i64 = 1_000_000;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_DIMENSIONS: usize = 20;
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_WEIGHT: i64 = 1000;
pub const MAX_QUESTIONS: usize = 100;
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_HELP_CHARS: usize = 1000;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 30;
pub const MAX_OPTION_CHARS: usize = 300;
pub const MAX_SCALE_SPAN: i64 = 1000;
pub const MAX_RULES: usize = 200;
pub const MAX_PROFILES: usize = 20;
pub const MAX_SUMMARY_CHARS: usize = 2000;
pub const MAX_RECOMMENDATIONS: usize = 10;
pub const MAX_RECOMMENDATION_CHARS: usize = 500;
pub const MAX_ESTIMATED_MINUTES: i64 = 120;
pub const DEFAULT_ESTIMATED_MINUTES: u32 = 3;

/// One thing wrong with a document, where `path` points at the offending value
/// (`questions[2].options[1].next`; `""` for the document itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: clip(path.into()),
            message: clip(message.into()),
        }
    }
}

/// Cuts `text` to [`MAX_PROBLEM_CHARS`] characters, marking the cut with `…`.
fn clip(mut text: String) -> String {
    if let Some((at, _)) = text.char_indices().nth(MAX_PROBLEM_CHARS) {
        text.truncate(at);
        text.push('…');
    }
    text
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// Drafts may be incomplete in one way only: their profiles need not cover every score yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Draft,
    Publish,
}

/// Parses and validates a definition document (JSON, or YAML of the same shape).
pub fn parse_document(text: &str, format: Format, mode: Mode) -> Result<Definition, Vec<Problem>> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![Problem::new(
            "",
            format!(
                "the document is {} bytes; at most {} KiB are accepted",
                text.len(),
                MAX_DOCUMENT_BYTES / 1024
            ),
        )]);
    }
    let parsed =
        match format {
            Format::Json => serde_json::from_str::<StrictValue>(text)
                .map_err(|e| format!("not valid JSON: {e}")),
            Format::Yaml => yaml_serde::from_str::<StrictValue>(text)
                .map_err(|e| format!("not valid YAML: {e}")),
        };
    match parsed {
        Ok(StrictValue(value)) => parse_value(&value, mode),
        Err(message) => Err(vec![Problem::new("", message)]),
    }
}

/// Same as [`parse_document`] for a body the HTTP layer already decoded.
pub fn parse_value(value: &Value, mode: Mode) -> Result<Definition, Vec<Problem>> {
    let mut walker = Walker::default();
    let def = walker.document(value, mode);
    let problems = walker.finish();
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(problems)
    }
}

/// Every problem of a typed definition; empty when it may be saved (draft) or published.
pub fn validate(def: &Definition, mode: Mode) -> Vec<Problem> {
    match parse_value(&def.to_json_value(), mode) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// `[a-z0-9_-]{1,64}`: keys end up in URLs, analytics and API responses.
pub fn is_valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `[a-z0-9][a-z0-9-]{0,63}`: the slug is the test's public URL segment.
pub fn is_valid_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// `xx` or `xx-XX`, the subset of BCP 47 the catalogue filters on.
pub fn is_valid_lang(lang: &str) -> bool {
    let b = lang.as_bytes();
    match b {
        [l1, l2] => l1.is_ascii_lowercase() && l2.is_ascii_lowercase(),
        [l1, l2, b'-', r1, r2] => {
            l1.is_ascii_lowercase()
                && l2.is_ascii_lowercase()
                && r1.is_ascii_uppercase()
                && r2.is_ascii_uppercase()
        }
        _ => false,
    }
}

/// `[A-Za-z0-9_-]{1,32}`: profile codes are shown to clients and used in analytics.
pub fn is_valid_profile_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const KEY_RULE: &str = "must be 1 to 64 characters among a-z, 0-9, `_` and `-`";

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn at(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A present, non-null field. Null counts as absent so that exporters emitting `null` for
/// unset optional fields are accepted.
fn get<'a>(map: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    map.get(field).filter(|v| !v.is_null())
}

/// Reads an integer, accepting a float only when it has no fractional part (YAML writers
/// sometimes emit `2.0`), so every later computation is exact integer arithmetic.
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

struct QuestionInfo {
    /// `None` when the type is missing or unknown: checks that depend on it are skipped.
    kind: Option<&'static str>,
    option_keys: HashSet<String>,
}

#[derive(Default)]
struct Walker {
    problems: Vec<Problem>,
    dropped: usize,
}

impl Walker {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem::new(path, message));
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            let dropped = self.dropped;
            self.problems.push(Problem::new(
                "",
                format!("{dropped} more problems were not listed"),
            ));
        }
        self.problems
    }

    /// The object at `path`, after reporting every field outside `allowed`.
    fn object<'a>(
        &mut self,
        value: &'a Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        let Value::Object(map) = value else {
            self.push(path, format!("must be an object, not {}", kind_name(value)));
            return None;
        };
        for field in map.keys() {
            if !allowed.contains(&field.as_str()) {
                self.push(join(path, field), "unknown field");
            }
        }
        Some(map)
    }

    fn array<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a Vec<Value>> {
        match value {
            Value::Array(items) => Some(items),
            other => {
                self.push(path, format!("must be an array, not {}", kind_name(other)));
                None
            }
        }
    }

    fn string<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a str> {
        match value {
            Value::String(s) => Some(s),
            other => {
                self.push(path, format!("must be a string, not {}", kind_name(other)));
                None
            }
        }
    }

    fn required<'a>(
        &mut self,
        map: &'a Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<&'a Value> {
        let value = get(map, field);
        if value.is_none() {
            self.push(join(path, field), "is required");
        }
        value
    }

    fn required_string<'a>(
        &mut self,
        map: &'a Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<&'a str> {
        let value = self.required(map, path, field)?;
        self.string(value, &join(path, field))
    }

    fn optional_string<'a>(
        &mut self,
        map: &'a Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<&'a str> {
        let value = get(map, field)?;
        self.string(value, &join(path, field))
    }

    /// Checks the length of a human-readable text in characters, not bytes, so accented
    /// Spanish text gets the same allowance as English.
    fn text(&mut self, path: &str, text: &str, required: bool, max: usize) {
        if required && text.trim().is_empty() {
            self.push(path, "must not be empty");
        }
        let count = text.chars().count();
        if count > max {
            self.push(
                path,
                format!("must be at most {max} characters (has {count})"),
            );
        }
    }

    fn required_text(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        field: &str,
        max: usize,
    ) -> String {
        match self.required_string(map, path, field) {
            Some(s) => {
                self.text(&join(path, field), s, true, max);
                s.to_owned()
            }
            None => String::new(),
        }
    }

    fn optional_text(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        field: &str,
        max: usize,
    ) -> Option<String> {
        let s = self.optional_string(map, path, field)?;
        self.text(&join(path, field), s, false, max);
        Some(s.to_owned())
    }

    fn integer(&mut self, value: &Value, path: &str, min: i64, max: i64) -> Option<i64> {
        let Some(n) = as_integer(value) else {
            let message = if matches!(value, Value::Number(n) if n.is_u64()) {
                format!("must be between {min} and {max}")
            } else {
                "must be a whole number".to_owned()
            };
            self.push(path, message);
            return None;
        };
        if n < min || n > max {
            self.push(path, format!("must be between {min} and {max}"));
            return None;
        }
        Some(n)
    }

    fn optional_integer(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        field: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let value = get(map, field)?;
        self.integer(value, &join(path, field), min, max)
    }

    fn required_integer(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        field: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let value = self.required(map, path, field)?;
        self.integer(value, &join(path, field), min, max)
    }

    fn optional_bool(&mut self, map: &Map<String, Value>, path: &str, field: &str) -> Option<bool> {
        match get(map, field)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.push(
                    join(path, field),
                    format!("must be true or false, not {}", kind_name(other)),
                );
                None
            }
        }
    }

    fn key(&mut self, map: &Map<String, Value>, path: &str, what: &str) -> String {
        let Some(key) = self.required_string(map, path, "key") else {
            return String::new();
        };
        if !is_valid_key(key) {
            self.push(join(path, "key"), format!("{what} key {KEY_RULE}"));
        }
        key.to_owned()
    }

    /// Reports the count of a list against its bounds.
    fn count(&mut self, path: &str, len: usize, min: usize, max: usize, what: &str) {
        if len < min {
            let s = if min == 1 { "" } else { "s" };
            self.push(path, format!("needs at least {min} {what}{s} (has {len})"));
        } else if len > max {
            self.push(path, format!("may have at most {max} {what}s (has {len})"));
        }
    }

    /// A `{dimension: integer}` map (option scores, scale points, rule adds).
    fn scores(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        field: &str,
        dimensions: &HashSet<String>,
    ) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        let Some(value) = get(map, field) else {
            return out;
        };
        let path = join(path, field);
        let Value::Object(entries) = value else {
            self.push(
                &path,
                format!("must be an object, not {}", kind_name(value)),
            );
            return out;
        };
        for (dim, score) in entries {
            let entry_path = join(&path, dim);
            if !dimensions.contains(dim) {
                self.push(&entry_path, format!("unknown dimension `{dim}`"));
            }
            if let Some(n) = self.integer(score, &entry_path, -MAX_ABS_NUMBER, MAX_ABS_NUMBER) {
                out.insert(dim.clone(), n);
            }
        }
        out
    }

    fn jump(&mut self, map: &Map<String, Value>, path: &str, field: &str) -> Option<Jump> {
        let raw = self.optional_string(map, path, field)?;
        if raw != END && !is_valid_key(raw) {
            self.push(
                join(path, field),
                format!("must be a question key or \"{END}\", not `{raw}`"),
            );
            return None;
        }
        Some(Jump::parse(raw))
    }

    /// Checks that a jump made from question `from` lands on a later question or the end.
    fn forward(
        &mut self,
        path: &str,
        jump: &Jump,
        from: Option<usize>,
        index: &HashMap<String, usize>,
        questions: &[Question],
    ) {
        let Jump::Question(target) = jump else {
            return;
        };
        let Some(&to) = index.get(target) else {
            self.push(path, format!("unknown question `{target}`"));
            return;
        };
        let Some(from) = from else {
            return;
        };
        let from_key = questions.get(from).map_or("", |q| q.key.as_str());
        if to == from {
            self.push(
                path,
                format!("`{target}` is the question itself; jumps must go forward"),
            );
        } else if to < from {
            self.push(
                path,
                format!("`{target}` comes before `{from_key}`; jumps must go forward"),
            );
        }
    }

    fn document(&mut self, value: &Value, mode: Mode) -> Definition {
        const FIELDS: &[&str] = &[
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
        ];
        let Some(root) = self.object(value, "", FIELDS) else {
            return empty_definition();
        };
        let slug = self.required_string(root, "", "slug").unwrap_or_default();
        if get(root, "slug").is_some_and(Value::is_string) && !is_valid_slug(slug) {
            self.push(
                "slug",
                "must be 1 to 64 characters among a-z, 0-9 and `-`, not starting with `-`",
            );
        }

        let title = self.required_text(root, "", "title", MAX_TITLE_CHARS);
        let description = self
            .optional_text(root, "", "description", MAX_DESCRIPTION_CHARS)
            .unwrap_or_default();
        let lang = self.required_string(root, "", "lang").unwrap_or_default();
        if get(root, "lang").is_some_and(Value::is_string) && !is_valid_lang(lang) {
            self.push("lang", "must be a language code such as `es` or `es-AR`");
        }
        let tags = self.tags(root);
        let estimated_minutes = self
            .optional_integer(root, "", "estimated_minutes", 1, MAX_ESTIMATED_MINUTES)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_ESTIMATED_MINUTES);
        let store_answers = self
            .optional_bool(root, "", "store_answers")
            .unwrap_or(false);

        let dimensions = self.dimensions(root);
        let dimension_keys: HashSet<String> = dimensions.iter().map(|d| d.key.clone()).collect();

        let (questions, infos) = self.questions(root, &dimension_keys);
        let mut index = HashMap::new();
        for (i, q) in questions.iter().enumerate() {
            if q.key.is_empty() {
                continue;
            }
            if q.key == END {
                self.push(
                    join(&at("questions", i), "key"),
                    format!("`{END}` is reserved for jumps and cannot name a question"),
                );
            }
            if index.contains_key(&q.key) {
                self.push(
                    join(&at("questions", i), "key"),
                    format!("duplicate question key `{}`", q.key),
                );
            } else {
                index.insert(q.key.clone(), i);
            }
        }
        for (i, q) in questions.iter().enumerate() {
            for (j, option) in q.options().iter().enumerate() {
                if let Some(jump) = &option.next {
                    let path = join(&at(&join(&at("questions", i), "options"), j), "next");
                    self.forward(&path, jump, Some(i), &index, &questions);
                }
            }
        }

        let rules = self.rules(root, &dimension_keys, &index, &questions, &infos);
        let profiles = self.profiles(root, mode);

        Definition {
            slug: slug.to_owned(),
            title,
            description,
            lang: lang.to_owned(),
            tags,
            estimated_minutes,
            store_answers,
            dimensions,
            questions,
            rules,
            profiles,
        }
    }

    fn tags(&mut self, root: &Map<String, Value>) -> Vec<String> {
        let mut tags = Vec::new();
        let Some(value) = get(root, "tags") else {
            return tags;
        };
        let Some(items) = self.array(value, "tags") else {
            return tags;
        };
        self.count("tags", items.len(), 0, MAX_TAGS, "tag");
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = at("tags", i);
            let Some(tag) = self.string(item, &path) else {
                continue;
            };
            self.text(&path, tag, true, MAX_TAG_CHARS);
            if !seen.insert(tag) {
                self.push(&path, format!("duplicate tag `{tag}`"));
            }
            tags.push(tag.to_owned());
        }
        tags
    }

    fn dimensions(&mut self, root: &Map<String, Value>) -> Vec<Dimension> {
        let mut out = Vec::new();
        let Some(value) = self.required(root, "", "dimensions") else {
            return out;
        };
        let Some(items) = self.array(value, "dimensions") else {
            return out;
        };
        self.count("dimensions", items.len(), 1, MAX_DIMENSIONS, "dimension");
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = at("dimensions", i);
            let Some(map) = self.object(item, &path, &["key", "label", "weight"]) else {
                continue;
            };
            let key = self.key(map, &path, "a dimension");
            if !key.is_empty() && !seen.insert(key.clone()) {
                self.push(
                    join(&path, "key"),
                    format!("duplicate dimension key `{key}`"),
                );
            }
            let label = self.required_text(map, &path, "label", MAX_LABEL_CHARS);
            let weight = self
                .optional_integer(map, &path, "weight", 0, MAX_WEIGHT)
                .unwrap_or(1);
            out.push(Dimension { key, label, weight });
        }
        out
    }

    fn questions(
        &mut self,
        root: &Map<String, Value>,
        dimensions: &HashSet<String>,
    ) -> (Vec<Question>, Vec<QuestionInfo>) {
        let mut questions = Vec::new();
        let mut infos = Vec::new();
        let Some(value) = self.required(root, "", "questions") else {
            return (questions, infos);
        };
        let Some(items) = self.array(value, "questions") else {
            return (questions, infos);
        };
        self.count("questions", items.len(), 1, MAX_QUESTIONS, "question");
        for (i, item) in items.iter().enumerate() {
            let (question, info) = self.question(item, &at("questions", i), dimensions);
            questions.push(question);
            infos.push(info);
        }
        (questions, infos)
    }

    fn question(
        &mut self,
        value: &Value,
        path: &str,
        dimensions: &HashSet<String>,
    ) -> (Question, QuestionInfo) {
        const COMMON: &[&str] = &["key", "type", "text", "required", "help"];
        const SPECIFIC: &[&str] = &["options", "min_select", "max_select", "scale"];
        let mut info = QuestionInfo {
            kind: None,
            option_keys: HashSet::new(),
        };
        let placeholder = Question {
            key: String::new(),
            kind: QuestionKind::Single {
                options: Vec::new(),
            },
            text: String::new(),
            required: true,
            help: None,
        };
        let all: Vec<&str> = COMMON.iter().chain(SPECIFIC).copied().collect();
        let Some(map) = self.object(value, path, &all) else {
            return (placeholder, info);
        };
        let key = self.key(map, path, "a question");
        let type_name = match self.required_string(map, path, "type") {
            Some(t @ ("single" | "multi" | "scale")) => Some(t),
            Some(other) => {
                self.push(
                    join(path, "type"),
                    format!("must be `single`, `multi` or `scale`, not `{other}`"),
                );
                None
            }
            None => None,
        };
        let text = self.required_text(map, path, "text", MAX_QUESTION_CHARS);
        let required = self.optional_bool(map, path, "required").unwrap_or(true);
        let help = self.optional_text(map, path, "help", MAX_HELP_CHARS);

        let kind = match type_name {
            None => placeholder.kind,
            Some(t) => {
                let allowed: &[&str] = match t {
                    "scale" => &["scale"],
                    "multi" => &["options", "min_select", "max_select"],
                    _ => &["options"],
                };
                for field in SPECIFIC {
                    if map.contains_key(*field) && !allowed.contains(field) {
                        self.push(
                            join(path, field),
                            format!("`{field}` is not allowed on a `{t}` question"),
                        );
                    }
                }
                if t == "scale" {
                    info.kind = Some("scale");
                    self.scale(map, path, dimensions)
                } else {
                    let options = self.options(map, path, dimensions);
                    info.option_keys = options.iter().map(|o| o.key.clone()).collect();
                    if t == "multi" {
                        info.kind = Some("multi");
                        self.multi(map, path, options)
                    } else {
                        info.kind = Some("single");
                        QuestionKind::Single { options }
                    }
                }
            }
        };
        (
            Question {
                key,
                kind,
                text,
                required,
                help,
            },
            info,
        )
    }

    fn options(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        dimensions: &HashSet<String>,
    ) -> Vec<Choice> {
        let mut out = Vec::new();
        let Some(value) = self.required(map, path, "options") else {
            return out;
        };
        let path = join(path, "options");
        let Some(items) = self.array(value, &path) else {
            return out;
        };
        self.count(&path, items.len(), MIN_OPTIONS, MAX_OPTIONS, "option");
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = at(&path, i);
            let Some(map) = self.object(item, &path, &["key", "text", "scores", "next"]) else {
                out.push(Choice {
                    key: String::new(),
                    text: String::new(),
                    scores: BTreeMap::new(),
                    next: None,
                });
                continue;
            };
            let key = self.key(map, &path, "an option");
            if !key.is_empty() && !seen.insert(key.clone()) {
                self.push(join(&path, "key"), format!("duplicate option key `{key}`"));
            }
            let text = self.required_text(map, &path, "text", MAX_OPTION_CHARS);
            let scores = self.scores(map, &path, "scores", dimensions);
            let next = self.jump(map, &path, "next");
            out.push(Choice {
                key,
                text,
                scores,
                next,
            });
        }
        out
    }

    fn multi(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        options: Vec<Choice>,
    ) -> QuestionKind {
        let count = options.len();
        let limit = i64::try_from(MAX_OPTIONS).unwrap_or(i64::MAX);
        let min = self.optional_integer(map, path, "min_select", 0, limit);
        let max = self.optional_integer(map, path, "max_select", 0, limit);
        let min_select = min.and_then(|n| usize::try_from(n).ok()).unwrap_or(1);
        let max_select = max.and_then(|n| usize::try_from(n).ok()).unwrap_or(count);
        if max.is_some() && max_select == 0 {
            self.push(join(path, "max_select"), "must be at least 1");
        }
        if max.is_some() && max_select > count {
            self.push(
                join(path, "max_select"),
                format!("must not exceed the number of options ({count})"),
            );
        }
        if min.is_some() && min_select > count && max.is_none() {
            self.push(
                join(path, "min_select"),
                format!("must not exceed the number of options ({count})"),
            );
        } else if min_select > max_select && (min.is_some() || max.is_some()) {
            self.push(
                join(path, "min_select"),
                format!("must not exceed max_select ({max_select})"),
            );
        }
        QuestionKind::Multi {
            options,
            min_select,
            max_select,
        }
    }

    fn scale(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        dimensions: &HashSet<String>,
    ) -> QuestionKind {
        let mut kind = QuestionKind::Scale {
            min: 0,
            max: 1,
            scores_per_point: BTreeMap::new(),
            min_label: None,
            max_label: None,
        };
        let Some(value) = self.required(map, path, "scale") else {
            return kind;
        };
        let path = join(path, "scale");
        let Some(scale) = self.object(
            value,
            &path,
            &["min", "max", "scores_per_point", "min_label", "max_label"],
        ) else {
            return kind;
        };
        let min = self.required_integer(scale, &path, "min", -MAX_ABS_NUMBER, MAX_ABS_NUMBER);
        let max = self.required_integer(scale, &path, "max", -MAX_ABS_NUMBER, MAX_ABS_NUMBER);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo >= hi {
                self.push(
                    join(&path, "max"),
                    format!("must be greater than min ({lo})"),
                );
            } else if hi - lo > MAX_SCALE_SPAN {
                self.push(
                    join(&path, "max"),
                    format!(
                        "the scale may span at most {MAX_SCALE_SPAN} points (spans {})",
                        hi - lo
                    ),
                );
            }
        }
        let scores_per_point = self.scores(scale, &path, "scores_per_point", dimensions);
        let min_label = self.optional_text(scale, &path, "min_label", MAX_LABEL_CHARS);
        let max_label = self.optional_text(scale, &path, "max_label", MAX_LABEL_CHARS);
        if let QuestionKind::Scale {
            min: kmin,
            max: kmax,
            scores_per_point: kspp,
            min_label: kminl,
            max_label: kmaxl,
        } = &mut kind
        {
            *kmin = min.unwrap_or(0);
            *kmax = max.unwrap_or(1);
            *kspp = scores_per_point;
            *kminl = min_label;
            *kmaxl = max_label;
        }
        kind
    }

    fn rules(
        &mut self,
        root: &Map<String, Value>,
        dimensions: &HashSet<String>,
        index: &HashMap<String, usize>,
        questions: &[Question],
        infos: &[QuestionInfo],
    ) -> Vec<Rule> {
        let mut out = Vec::new();
        let Some(value) = get(root, "rules") else {
            return out;
        };
        let Some(items) = self.array(value, "rules") else {
            return out;
        };
        self.count("rules", items.len(), 0, MAX_RULES, "rule");
        for (i, item) in items.iter().enumerate() {
            let path = at("rules", i);
            let Some(map) = self.object(item, &path, &["if", "then"]) else {
                continue;
            };
            let (cond, from) = match self.required(map, &path, "if") {
                Some(v) => self.condition(v, &join(&path, "if"), index, infos),
                None => (None, None),
            };
            let mut add = BTreeMap::new();
            let mut skip_to = None;
            if let Some(v) = self.required(map, &path, "then") {
                let then_path = join(&path, "then");
                if let Some(then) = self.object(v, &then_path, &["add", "skip_to"]) {
                    add = self.scores(then, &then_path, "add", dimensions);
                    skip_to = self.jump(then, &then_path, "skip_to");
                    if let Some(jump) = &skip_to {
                        self.forward(&join(&then_path, "skip_to"), jump, from, index, questions);
                    }
                    let has_add = get(then, "add")
                        .is_some_and(|a| a.as_object().is_none_or(|m| !m.is_empty()));
                    if !has_add && get(then, "skip_to").is_none() {
                        self.push(&then_path, "needs `add` (not empty) or `skip_to`");
                    }
                }
            }
            if let Some(cond) = cond {
                out.push(Rule { cond, add, skip_to });
            }
        }
        out
    }

    /// The condition and the index of the question it names (the origin of its `skip_to`).
    fn condition(
        &mut self,
        value: &Value,
        path: &str,
        index: &HashMap<String, usize>,
        infos: &[QuestionInfo],
    ) -> (Option<Condition>, Option<usize>) {
        const TESTS: &[&str] = &["option", "any_of", "value_gte", "value_lte"];
        let Some(map) = self.object(
            value,
            path,
            &["question", "option", "any_of", "value_gte", "value_lte"],
        ) else {
            return (None, None);
        };
        let question = self.required_string(map, path, "question");
        let target = question.and_then(|q| index.get(q).copied());
        if let Some(q) = question
            && target.is_none()
        {
            self.push(join(path, "question"), format!("unknown question `{q}`"));
        }
        let info = target.and_then(|i| infos.get(i));
        let present: Vec<&str> = TESTS
            .iter()
            .copied()
            .filter(|t| get(map, t).is_some())
            .collect();
        let test = match present.as_slice() {
            [] => {
                self.push(
                    path,
                    "needs one of `option`, `any_of`, `value_gte` or `value_lte`",
                );
                return (None, target);
            }
            [one] => *one,
            _ => {
                self.push(path, format!("use only one of {}", present.join(", ")));
                return (None, target);
            }
        };
        let kind = info.and_then(|i| i.kind);
        let field_path = join(path, test);
        let question = question.unwrap_or_default().to_owned();
        let cond = match test {
            "option" | "any_of" => {
                if kind == Some("scale") {
                    self.push(
                        &field_path,
                        format!(
                            "`{test}` applies to single or multi questions; \
                             use `value_gte` or `value_lte` on a scale"
                        ),
                    );
                }
                // Option keys can only be checked against a choice question that parsed.
                let known = info
                    .filter(|i| matches!(i.kind, Some("single" | "multi")))
                    .map(|i| &i.option_keys);
                if test == "option" {
                    self.string(map.get("option").unwrap_or(&Value::Null), &field_path)
                        .map(|option| {
                            self.option_ref(&field_path, &question, option, known);
                            Condition::Option {
                                question,
                                option: option.to_owned(),
                            }
                        })
                } else {
                    self.any_of(map, &field_path, &question, known)
                        .map(|any_of| Condition::AnyOf { question, any_of })
                }
            }
            _ => {
                if kind.is_some_and(|k| k != "scale") {
                    self.push(
                        &field_path,
                        format!("`{test}` applies to scale questions only"),
                    );
                }
                let value = map.get(test).unwrap_or(&Value::Null);
                self.integer(value, &field_path, -MAX_ABS_NUMBER, MAX_ABS_NUMBER)
                    .map(|n| {
                        if test == "value_gte" {
                            Condition::ValueGte {
                                question,
                                value_gte: n,
                            }
                        } else {
                            Condition::ValueLte {
                                question,
                                value_lte: n,
                            }
                        }
                    })
            }
        };
        (cond, target)
    }

    /// Reports an option key that the condition's question does not have.
    fn option_ref(
        &mut self,
        path: &str,
        question: &str,
        option: &str,
        known: Option<&HashSet<String>>,
    ) {
        if known.is_some_and(|keys| !keys.contains(option)) {
            self.push(
                path,
                format!("question `{question}` has no option `{option}`"),
            );
        }
    }

    fn any_of(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        question: &str,
        known: Option<&HashSet<String>>,
    ) -> Option<Vec<String>> {
        let items = self.array(map.get("any_of").unwrap_or(&Value::Null), path)?;
        if items.is_empty() {
            self.push(path, "must list at least one option");
        }
        let mut keys: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut complete = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = at(path, i);
            let Some(key) = self.string(item, &item_path) else {
                complete = false;
                continue;
            };
            self.option_ref(&item_path, question, key, known);
            if !seen.insert(key) {
                self.push(&item_path, format!("duplicate option `{key}`"));
            }
            keys.push(key.to_owned());
        }
        complete.then_some(keys)
    }

    fn profiles(&mut self, root: &Map<String, Value>, mode: Mode) -> Vec<Profile> {
        let mut out = Vec::new();
        let Some(value) = self.required(root, "", "profiles") else {
            return out;
        };
        let Some(items) = self.array(value, "profiles") else {
            return out;
        };
        self.count("profiles", items.len(), 1, MAX_PROFILES, "profile");
        // Ranges that parsed cleanly, with their positions, for the coverage check.
        let mut ranges: Vec<(usize, String, u8, u8)> = Vec::new();
        let mut codes = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = at("profiles", i);
            let Some(map) = self.object(
                item,
                &path,
                &["code", "title", "summary", "recommendations", "min", "max"],
            ) else {
                continue;
            };
            let code = self.required_string(map, &path, "code").unwrap_or_default();
            if get(map, "code").is_some_and(Value::is_string) {
                if !is_valid_profile_code(code) {
                    self.push(
                        join(&path, "code"),
                        "must be 1 to 32 characters among A-Z, a-z, 0-9, `_` and `-`",
                    );
                } else if !codes.insert(code.to_owned()) {
                    self.push(
                        join(&path, "code"),
                        format!("duplicate profile code `{code}`"),
                    );
                }
            }
            let title = self.required_text(map, &path, "title", MAX_TITLE_CHARS);
            let summary = self
                .optional_text(map, &path, "summary", MAX_SUMMARY_CHARS)
                .unwrap_or_default();
            let recommendations = self.recommendations(map, &path);
            let min = self.required_integer(map, &path, "min", 0, 100);
            let max = self.required_integer(map, &path, "max", 0, 100);
            let min = min.and_then(|n| u8::try_from(n).ok());
            let max = max.and_then(|n| u8::try_from(n).ok());
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    self.push(join(&path, "max"), format!("must not be below min ({lo})"));
                } else {
                    ranges.push((i, code.to_owned(), lo, hi));
                }
            }
            out.push(Profile {
                code: code.to_owned(),
                title,
                summary,
                recommendations,
                min: min.unwrap_or(0),
                max: max.unwrap_or(0),
            });
        }
        if mode == Mode::Publish && items.len() <= MAX_PROFILES {
            self.coverage(&ranges);
        }
        out
    }

    fn recommendations(&mut self, map: &Map<String, Value>, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(value) = get(map, "recommendations") else {
            return out;
        };
        let path = join(path, "recommendations");
        let Some(items) = self.array(value, &path) else {
            return out;
        };
        self.count(&path, items.len(), 0, MAX_RECOMMENDATIONS, "recommendation");
        for (i, item) in items.iter().enumerate() {
            let item_path = at(&path, i);
            if let Some(s) = self.string(item, &item_path) {
                self.text(&item_path, s, true, MAX_RECOMMENDATION_CHARS);
                out.push(s.to_owned());
            }
        }
        out
    }

    /// Publishing requires each whole score 0..=100 to map to exactly one profile, otherwise
    /// some visitor would finish without a result, or with one chosen by document order.
    fn coverage(&mut self, ranges: &[(usize, String, u8, u8)]) {
        for (n, (j, _, lo_j, hi_j)) in ranges.iter().enumerate() {
            for (i, code_i, lo_i, hi_i) in ranges.iter().take(n) {
                let lo = (*lo_i).max(*lo_j);
                let hi = (*hi_i).min(*hi_j);
                if lo <= hi {
                    self.push(
                        at("profiles", *j),
                        format!(
                            "{} also covered by profile `{code_i}` (profiles[{i}]); ranges must not overlap",
                            describe_scores(lo, hi, "is", "are"),
                        ),
                    );
                }
            }
        }
        let mut covered = [false; 101];
        for (_, _, lo, hi) in ranges {
            for s in *lo..=*hi {
                if let Some(slot) = covered.get_mut(usize::from(s)) {
                    *slot = true;
                }
            }
        }
        let mut s = 0usize;
        while s <= 100 {
            if covered.get(s).copied().unwrap_or(true) {
                s += 1;
                continue;
            }
            let start = s;
            while s <= 100 && !covered.get(s).copied().unwrap_or(true) {
                s += 1;
            }
            let (lo, hi) = (
                u8::try_from(start).unwrap_or(0),
                u8::try_from(s - 1).unwrap_or(100),
            );
            self.push(
                "profiles",
                format!(
                    "{} not covered by any profile",
                    describe_scores(lo, hi, "is", "are")
                ),
            );
        }
    }
}

fn describe_scores(lo: u8, hi: u8, singular: &str, plural: &str) -> String {
    if lo == hi {
        format!("score {lo} {singular}")
    } else {
        format!("scores {lo}..={hi} {plural}")
    }
}

fn empty_definition() -> Definition {
    Definition {
        slug: String::new(),
        title: String::new(),
        description: String::new(),
        lang: String::new(),
        tags: Vec::new(),
        estimated_minutes: DEFAULT_ESTIMATED_MINUTES,
        store_answers: false,
        dimensions: Vec::new(),
        questions: Vec::new(),
        rules: Vec::new(),
        profiles: Vec::new(),
    }
}

/// A JSON value read from text that refuses duplicate keys: both serde_json and YAML
/// loaders would otherwise keep the last one silently, hiding an author's mistake.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-compatible value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::from)
            .or_else(|_| u64::try_from(v).map(Value::from))
            .map_err(|_| E::custom("number out of range"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(Value::from)
            .map_err(|_| E::custom("number out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("numbers must be finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(deserializer).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let StrictValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(is_valid_key("q1"));
        assert!(is_valid_key("a_b-c"));
        assert!(is_valid_key(&"k".repeat(64)));
        assert!(!is_valid_key(&"k".repeat(65)));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("Q1"));
        assert!(!is_valid_key("a b"));
        assert!(!is_valid_key("ñ"));
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("que-tipo-de-ahorrista-sos"));
        assert!(is_valid_slug("0"));
        assert!(!is_valid_slug("-a"));
        assert!(!is_valid_slug("a_b"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug(&"s".repeat(65)));
    }

    #[test]
    fn langs() {
        assert!(is_valid_lang("es"));
        assert!(is_valid_lang("es-AR"));
        assert!(!is_valid_lang("es-ar"));
        assert!(!is_valid_lang("ES"));
        assert!(!is_valid_lang("esp"));
        assert!(!is_valid_lang("es-AR-x"));
    }

    #[test]
    fn profile_codes() {
        assert!(is_valid_profile_code("LOW"));
        assert!(is_valid_profile_code("Mid_2-b"));
        assert!(!is_valid_profile_code(""));
        assert!(!is_valid_profile_code("A B"));
        assert!(!is_valid_profile_code(&"C".repeat(33)));
    }

    #[test]
    fn integers_accept_integral_floats_only() {
        assert_eq!(as_integer(&serde_json::json!(3)), Some(3));
        assert_eq!(as_integer(&serde_json::json!(-3.0)), Some(-3));
        assert_eq!(as_integer(&serde_json::json!(3.5)), None);
        assert_eq!(as_integer(&serde_json::json!(1e300)), None);
        assert_eq!(as_integer(&serde_json::json!("3")), None);
        assert_eq!(as_integer(&serde_json::json!(u64::MAX)), None);
    }

    #[test]
    fn paths() {
        assert_eq!(join("", "slug"), "slug");
        assert_eq!(join(&at("questions", 2), "key"), "questions[2].key");
    }

    #[test]
    fn problems_display_with_their_path() {
        assert_eq!(
            Problem::new("slug", "is required").to_string(),
            "slug: is required"
        );
        assert_eq!(Problem::new("", "bad").to_string(), "bad");
    }
}
