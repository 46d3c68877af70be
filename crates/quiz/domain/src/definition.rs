//! The typed form of a quiz definition document (spec/quiz.md section 1).
//!
//! Values of these types are normally produced by [`crate::parse`], which guarantees the
//! invariants listed in the spec. They serialize back to exactly the document shape, so an
//! exported definition can be imported again unchanged.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

/// The keyword a jump uses to finish the session; reserved so it can never name a question.
pub const END: &str = "end";

/// One version of a test: metadata, scoring dimensions, questions, rules and result profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub lang: String,
    pub tags: Vec<String>,
    pub estimated_minutes: u32,
    /// Opt-in for keeping individual answers; the requirement makes "no" the default so that
    /// nothing personal is stored unless the author asks for it.
    pub store_answers: bool,
    pub dimensions: Vec<Dimension>,
    pub questions: Vec<Question>,
    pub rules: Vec<Rule>,
    pub profiles: Vec<Profile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dimension {
    pub key: String,
    pub label: String,
    pub weight: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub key: String,
    pub kind: QuestionKind,
    pub text: String,
    pub required: bool,
    pub help: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    Single {
        options: Vec<Choice>,
    },
    Multi {
        options: Vec<Choice>,
        min_select: usize,
        max_select: usize,
    },
    Scale {
        min: i64,
        max: i64,
        scores_per_point: BTreeMap<String, i64>,
        min_label: Option<String>,
        max_label: Option<String>,
    },
}

/// An answer option of a `single` or `multi` question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub key: String,
    pub text: String,
    pub scores: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Jump>,
}

/// Where the flow goes instead of the next question in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jump {
    Question(String),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub cond: Condition,
    pub add: BTreeMap<String, i64>,
    pub skip_to: Option<Jump>,
}

/// A rule's `if`: every form names one question, so a rule is only evaluated right after
/// that question is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Condition {
    Option {
        question: String,
        option: String,
    },
    AnyOf {
        question: String,
        any_of: Vec<String>,
    },
    ValueGte {
        question: String,
        value_gte: i64,
    },
    ValueLte {
        question: String,
        value_lte: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub code: String,
    pub title: String,
    pub summary: String,
    pub recommendations: Vec<String>,
    pub min: u8,
    pub max: u8,
}

impl Definition {
    /// Index of the question with this key (the first one, should a draft hold duplicates).
    pub fn question_index(&self, key: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.key == key)
    }

    pub fn dimension_index(&self, key: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.key == key)
    }

    /// The profile holding `score`; the first in document order wins should a draft overlap.
    pub fn profile_for(&self, score: u8) -> Option<usize> {
        self.profiles
            .iter()
            .position(|p| p.min <= score && score <= p.max)
    }

    /// The document form, as stored and exported.
    pub fn to_json_value(&self) -> serde_json::Value {
        // Every field serializes to plain strings, integers, booleans, arrays and string-keyed
        // maps, which serde_json always accepts; the fallback is unreachable but keeps the
        // function total.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Question {
    /// The options of a `single`/`multi` question; empty for `scale`.
    pub fn options(&self) -> &[Choice] {
        match &self.kind {
            QuestionKind::Single { options } | QuestionKind::Multi { options, .. } => options,
            QuestionKind::Scale { .. } => &[],
        }
    }

    pub fn option_index(&self, key: &str) -> Option<usize> {
        self.options().iter().position(|o| o.key == key)
    }

    /// The document's `type` value.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

impl QuestionKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multi { .. } => "multi",
            QuestionKind::Scale { .. } => "scale",
        }
    }
}

impl Condition {
    /// The question whose answer the condition reads.
    pub fn question(&self) -> &str {
        match self {
            Condition::Option { question, .. }
            | Condition::AnyOf { question, .. }
            | Condition::ValueGte { question, .. }
            | Condition::ValueLte { question, .. } => question,
        }
    }
}

impl Jump {
    /// The document form: a question key or `"end"`.
    pub fn as_str(&self) -> &str {
        match self {
            Jump::Question(key) => key,
            Jump::End => END,
        }
    }

    pub fn parse(text: &str) -> Jump {
        if text == END {
            Jump::End
        } else {
            Jump::Question(text.to_owned())
        }
    }
}

impl Serialize for Jump {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for Question {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("key", &self.key)?;
        map.serialize_entry("type", self.type_name())?;
        map.serialize_entry("text", &self.text)?;
        map.serialize_entry("required", &self.required)?;
        if let Some(help) = &self.help {
            map.serialize_entry("help", help)?;
        }
        match &self.kind {
            QuestionKind::Single { options } => {
                map.serialize_entry("options", options)?;
            }
            QuestionKind::Multi {
                options,
                min_select,
                max_select,
            } => {
                map.serialize_entry("min_select", min_select)?;
                map.serialize_entry("max_select", max_select)?;
                map.serialize_entry("options", options)?;
            }
            QuestionKind::Scale {
                min,
                max,
                scores_per_point,
                min_label,
                max_label,
            } => {
                map.serialize_entry(
                    "scale",
                    &ScaleDoc {
                        min: *min,
                        max: *max,
                        scores_per_point,
                        min_label: min_label.as_deref(),
                        max_label: max_label.as_deref(),
                    },
                )?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ScaleDoc<'a> {
    min: i64,
    max: i64,
    scores_per_point: &'a BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_label: Option<&'a str>,
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Then<'a> {
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            add: &'a BTreeMap<String, i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skip_to: &'a Option<Jump>,
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("if", &self.cond)?;
        map.serialize_entry(
            "then",
            &Then {
                add: &self.add,
                skip_to: &self.skip_to,
            },
        )?;
        map.end()
    }
}

/// Deserializing goes through the validating parser (in draft mode), so a stored definition
/// read back with serde holds the same invariants as one that was imported.
impl<'de> Deserialize<'de> for Definition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        crate::parse::parse_value(&value, crate::parse::Mode::Draft).map_err(|problems| {
            let text = problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            serde::de::Error::custom(format!("invalid quiz definition: {text}"))
        })
    }
}
