//! The session state machine: which question is current, what was answered, which rules
//! fired.
//!
//! The state refers to questions, options and rules by their position in the definition.
//! That is safe because a session is bound to one published version and published versions
//! are frozen, and it keeps the state small enough to live as a short JSON text in the
//! session row (`{"c":3,"a":[{"q":0,"o":[1]},{"q":2,"v":4}],"r":[1]}`).

use serde::{Deserialize, Serialize};

use crate::definition::{Condition, Definition, Jump, Question, QuestionKind};
use crate::parse::Problem;

/// Most problems one answer reports; the rest are counted in one last problem. An answer is
/// a handful of fields, so a longer list only repeats itself, and a hostile body with 100,000
/// bogus option ids must not get a multi-megabyte 422 back.
pub const MAX_ANSWER_PROBLEMS: usize = 20;

/// Collects an answer's problems up to [`MAX_ANSWER_PROBLEMS`], counting the ones left out.
#[derive(Default)]
struct Problems {
    listed: Vec<Problem>,
    left_out: usize,
}

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.listed.len() < MAX_ANSWER_PROBLEMS {
            self.listed.push(Problem::new(path, message));
        } else {
            self.left_out += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    fn finish(mut self) -> Vec<Problem> {
        if self.left_out > 0 {
            let n = self.left_out;
            let message = if n == 1 {
                "1 more problem was not listed".to_owned()
            } else {
                format!("{n} more problems were not listed")
            };
            self.listed.push(Problem::new("", message));
        }
        self.listed
    }
}

/// Progress of a session; the estimate shrinks when a jump skips questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// 1-based position of the current question (answers so far + 1); once finished, the
    /// number of answers.
    pub index: usize,
    /// Answers so far + the current question + the questions after it in document order;
    /// once finished, the number of answers.
    pub total_estimate: usize,
}

/// Raw answer fields as the HTTP body carries them.
#[derive(Debug, Clone, Copy)]
pub struct AnswerInput<'a> {
    pub question_id: &'a str,
    pub selected_option_ids: &'a [String],
    pub value: Option<i64>,
}

/// Where the session goes after an accepted answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Index of the new current question.
    Next(usize),
    /// No question left: the result can be computed.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The answer is for another question than the current one (a stale tab, a replay).
    #[error("this is not the current question")]
    NotCurrent { current: Option<String> },
    #[error("the session has no question left")]
    Finished,
    /// The selection or value does not fit the question; every problem is listed, with
    /// paths naming the request fields (`selected_option_ids[1]`, `value`).
    #[error("the answer is not valid for this question")]
    Invalid(Vec<Problem>),
}

impl AnswerError {
    /// Stable snake_case code for the HTTP error body.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::NotCurrent { .. } => "not_current_question",
            AnswerError::Finished => "session_finished",
            AnswerError::Invalid(_) => "invalid_answer",
        }
    }
}

/// One accepted answer. An answer without options and without value to an optional
/// question is a skip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    #[serde(rename = "q")]
    question: usize,
    /// Option indexes in ascending (document) order, without duplicates.
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<usize>,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    value: Option<i64>,
}

impl Answer {
    /// Index of the answered question in the definition.
    pub fn question(&self) -> usize {
        self.question
    }

    /// Indexes of the selected options, ascending.
    pub fn options(&self) -> &[usize] {
        &self.options
    }

    /// The value given to a scale question.
    pub fn value(&self) -> Option<i64> {
        self.value
    }

    /// Whether nothing was selected or given. On an optional question that is a skip; on a
    /// required `multi` with `min_select: 0` it is a real (zero) answer.
    pub fn is_empty(&self) -> bool {
        self.options.is_empty() && self.value.is_none()
    }

    /// Skipped answers add nothing, stay out of the scoring bounds and satisfy no condition.
    pub fn is_skipped(&self, def: &Definition) -> bool {
        self.is_empty()
            && def
                .questions
                .get(self.question)
                .is_some_and(|q| !q.required)
    }

    /// The selected option keys, for conditions and raw-answer storage.
    pub fn option_keys<'d>(&self, question: &'d Question) -> impl Iterator<Item = &'d str> {
        let options = question.options();
        self.options
            .iter()
            .filter_map(move |&i| options.get(i).map(|o| o.key.as_str()))
    }
}

/// Everything a session needs to carry between requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Index of the current question; absent once the session has no question left.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    current: Option<usize>,
    /// Answers in the order given, which is also document order since jumps only go forward.
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    answers: Vec<Answer>,
    /// Indexes of the rules that fired, in firing order, so each fires at most once and its
    /// `add` is counted when scoring.
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    fired: Vec<usize>,
}

impl SessionState {
    pub fn start(def: &Definition) -> Self {
        SessionState {
            current: (!def.questions.is_empty()).then_some(0),
            answers: Vec::new(),
            fired: Vec::new(),
        }
    }

    /// Index of the current question; `None` once finished.
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    pub fn is_complete(&self) -> bool {
        self.current.is_none()
    }

    /// Indexes of the rules that fired, in firing order.
    pub fn fired_rules(&self) -> &[usize] {
        &self.fired
    }

    /// The answers given, with the index of the question each one answers.
    pub fn answered(&self) -> impl Iterator<Item = (usize, &Answer)> {
        self.answers.iter().map(|a| (a.question, a))
    }

    pub fn answer_count(&self) -> usize {
        self.answers.len()
    }

    pub fn progress(&self, def: &Definition) -> Progress {
        let answered = self.answers.len();
        match self.current.filter(|&c| c < def.questions.len()) {
            Some(current) => Progress {
                index: answered + 1,
                total_estimate: answered + (def.questions.len() - current),
            },
            None => Progress {
                index: answered,
                total_estimate: answered,
            },
        }
    }

    /// Records an answer to the current question, fires the rules it triggers and moves on.
    /// Atomic: on error the state is left exactly as it was.
    pub fn answer(&mut self, def: &Definition, input: &AnswerInput) -> Result<Step, AnswerError> {
        let Some(current) = self.current else {
            return Err(AnswerError::Finished);
        };
        let Some(question) = def.questions.get(current) else {
            // A state pointing past the definition cannot continue; treat it as done rather
            // than guess a question.
            return Err(AnswerError::Finished);
        };
        if question.key != input.question_id {
            return Err(AnswerError::NotCurrent {
                current: Some(question.key.clone()),
            });
        }
        let answer = check_answer(question, current, input).map_err(AnswerError::Invalid)?;
        let skipped = answer.is_empty() && !question.required;

        let mut fired_now = Vec::new();
        let mut skip_to = None;
        if !skipped {
            for (r, rule) in def.rules.iter().enumerate() {
                if rule.cond.question() != question.key
                    || self.fired.contains(&r)
                    || !holds(&rule.cond, question, &answer)
                {
                    continue;
                }
                fired_now.push(r);
                if skip_to.is_none() {
                    skip_to = rule.skip_to.as_ref();
                }
            }
        }
        let jump = skip_to.or_else(|| option_next(question, &answer));
        let next = resolve(def, current, jump);

        self.answers.push(answer);
        self.fired.extend(fired_now);
        self.current = next;
        Ok(next.map_or(Step::End, Step::Next))
    }
}

/// Validates the raw request fields against the question, reporting every problem.
fn check_answer(
    question: &Question,
    index: usize,
    input: &AnswerInput,
) -> Result<Answer, Vec<Problem>> {
    let mut problems = Problems::default();
    let selected = input.selected_option_ids;
    let mut answer = Answer {
        question: index,
        options: Vec::new(),
        value: None,
    };
    match &question.kind {
        QuestionKind::Single { .. } | QuestionKind::Multi { .. } => {
            if input.value.is_some() {
                problems.push(
                    "value",
                    "only scale questions take a value; select options instead",
                );
            }
            for (i, id) in selected.iter().enumerate() {
                let path = format!("selected_option_ids[{i}]");
                match question.option_index(id) {
                    None => problems.push(path, format!("unknown option `{id}`")),
                    Some(o) if answer.options.contains(&o) => {
                        problems.push(path, format!("option `{id}` is selected twice"));
                    }
                    Some(o) => answer.options.push(o),
                }
            }
            answer.options.sort_unstable();
            let (min, max) = match &question.kind {
                QuestionKind::Multi {
                    min_select,
                    max_select,
                    ..
                } => (*min_select, *max_select),
                _ => (1, 1),
            };
            let n = selected.len();
            let skipping = n == 0 && !question.required;
            if !skipping && (n < min || n > max) {
                let message = match (min, max) {
                    (1, 1) => "select exactly one option".to_owned(),
                    (a, b) if a == b => format!("select exactly {a} options"),
                    (a, b) => format!("select between {a} and {b} options"),
                };
                problems.push("selected_option_ids", message);
            }
        }
        QuestionKind::Scale { min, max, .. } => {
            if !selected.is_empty() {
                problems.push(
                    "selected_option_ids",
                    "scale questions take a value, not options",
                );
            }
            match input.value {
                None if question.required => {
                    problems.push("value", "a value is required");
                }
                None => {}
                Some(v) if v < *min || v > *max => {
                    problems.push(
                        "value",
                        format!("must be a whole number between {min} and {max}"),
                    );
                }
                Some(v) => answer.value = Some(v),
            }
        }
    }
    if problems.is_empty() {
        Ok(answer)
    } else {
        Err(problems.finish())
    }
}

/// Whether a rule condition holds for an answer to the question it names.
pub(crate) fn holds(cond: &Condition, question: &Question, answer: &Answer) -> bool {
    match cond {
        Condition::Option { option, .. } => answer.option_keys(question).any(|k| k == option),
        Condition::AnyOf { any_of, .. } => answer
            .option_keys(question)
            .any(|k| any_of.iter().any(|a| a == k)),
        Condition::ValueGte { value_gte, .. } => answer.value.is_some_and(|v| v >= *value_gte),
        Condition::ValueLte { value_lte, .. } => answer.value.is_some_and(|v| v <= *value_lte),
    }
}

/// The `next` of the first selected option (in document order) that has one.
fn option_next<'d>(question: &'d Question, answer: &Answer) -> Option<&'d Jump> {
    let options = question.options();
    answer
        .options
        .iter()
        .filter_map(|&i| options.get(i))
        .find_map(|o| o.next.as_ref())
}

/// The question after `current`. A jump that does not lead forward (impossible in a
/// validated definition) is ignored, so a session always ends within `questions.len()`
/// answers.
fn resolve(def: &Definition, current: usize, jump: Option<&Jump>) -> Option<usize> {
    let sequential = (current + 1 < def.questions.len()).then_some(current + 1);
    match jump {
        None => sequential,
        Some(Jump::End) => None,
        Some(Jump::Question(key)) => match def.question_index(key) {
            Some(target) if target > current => Some(target),
            _ => sequential,
        },
    }
}
