//! The JSON shapes of the quiz API, documented in OpenAPI. Built from domain values; never
//! expose scores, answers or internal ids to visitors.

use faro_quiz_domain::{Definition, Progress, Question, QuestionKind};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TestSummary {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub lang: String,
    pub tags: Vec<String>,
    pub estimated_minutes: i64,
    /// The served version number.
    pub version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TestList {
    pub items: Vec<TestSummary>,
    /// Opaque; pass as `cursor` for the next page. Null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DimensionLabel {
    pub key: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct TestDetail {
    #[serde(flatten)]
    pub summary: TestSummary,
    pub question_count: usize,
    pub dimensions: Vec<DimensionLabel>,
}

#[derive(Serialize, ToSchema)]
pub struct OptionView {
    /// The option's key in the definition.
    pub id: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ScaleView {
    pub min: i64,
    pub max: i64,
    pub min_label: Option<String>,
    pub max_label: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressView {
    /// 1-based position of this question.
    pub index: usize,
    /// Questions this session will have, if no jump skips any.
    pub total_estimate: usize,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        ProgressView {
            index: p.index,
            total_estimate: p.total_estimate,
        }
    }
}

/// A question as a visitor sees it: no scores, no jumps.
#[derive(Serialize, ToSchema)]
pub struct QuestionView {
    /// The question's key in the definition; send it back as `question_id`.
    pub id: String,
    /// `single`, `multi` or `scale`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    pub help: Option<String>,
    pub required: bool,
    /// Empty for `scale`.
    pub options: Vec<OptionView>,
    /// For `multi`: how many options may be chosen. For `single`: 1 and 1.
    pub min_select: Option<usize>,
    pub max_select: Option<usize>,
    /// For `scale` only.
    pub scale: Option<ScaleView>,
    pub progress: ProgressView,
}

impl QuestionView {
    pub fn new(q: &Question, progress: Progress) -> Self {
        let options = q
            .options()
            .iter()
            .map(|o| OptionView {
                id: o.key.clone(),
                text: o.text.clone(),
            })
            .collect();
        let (min_select, max_select, scale) = match &q.kind {
            QuestionKind::Single { .. } => (Some(usize::from(q.required)), Some(1), None),
            QuestionKind::Multi {
                min_select,
                max_select,
                ..
            } => (Some(*min_select), Some(*max_select), None),
            QuestionKind::Scale {
                min,
                max,
                min_label,
                max_label,
                ..
            } => (
                None,
                None,
                Some(ScaleView {
                    min: *min,
                    max: *max,
                    min_label: min_label.clone(),
                    max_label: max_label.clone(),
                }),
            ),
        };
        QuestionView {
            id: q.key.clone(),
            kind: q.type_name(),
            text: q.text.clone(),
            help: q.help.clone(),
            required: q.required,
            options,
            min_select,
            max_select,
            scale,
            progress: progress.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionStarted {
    pub session_id: String,
    pub test_version: i64,
    pub first_question: QuestionView,
}

#[derive(Serialize, ToSchema)]
pub struct AnswerAccepted {
    /// The next question, or null when `result_ready` is true.
    pub next_question: Option<QuestionView>,
    /// True when every question is answered: POST `/finish` for the result.
    pub result_ready: bool,
}

#[derive(Serialize, serde::Deserialize, ToSchema, Clone)]
pub struct DimensionResult {
    pub key: String,
    pub label: String,
    /// 0..=100.
    pub score: u8,
}

#[derive(Serialize, ToSchema)]
pub struct FinishResult {
    pub profile_code: String,
    pub title: String,
    pub summary: String,
    pub recommendations: Vec<String>,
    /// 0..=100.
    pub score: u8,
    pub dimensions: Vec<DimensionResult>,
    pub share_url: String,
}

#[derive(Serialize, ToSchema, Clone)]
pub struct SharedTest {
    pub slug: String,
    pub title: String,
    pub lang: String,
}

/// What a share link shows: nothing personal, no ids.
#[derive(Serialize, ToSchema, Clone)]
pub struct SharedResult {
    pub test: SharedTest,
    pub profile_code: String,
    pub title: String,
    pub summary: String,
    pub recommendations: Vec<String>,
    pub score: u8,
    pub dimensions: Vec<DimensionResult>,
    pub share_url: String,
    /// Where a visitor arriving from a share can take the test.
    pub take_url: String,
}

impl TestDetail {
    pub fn new(summary: TestSummary, def: &Definition) -> Self {
        TestDetail {
            summary,
            question_count: def.questions.len(),
            dimensions: def
                .dimensions
                .iter()
                .map(|d| DimensionLabel {
                    key: d.key.clone(),
                    label: d.label.clone(),
                })
                .collect(),
        }
    }
}
