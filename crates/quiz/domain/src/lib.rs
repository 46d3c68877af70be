//! Pure domain of the quiz module: the definition document, its validation, the session
//! state machine and the scoring. No I/O here, so every rule of the contract
//! (spec/quiz.md sections 1 and 2) can be tested exhaustively and reused by any transport.

pub mod definition;
pub mod flow;
pub mod parse;
pub mod scoring;

pub use definition::{
    Choice, Condition, Definition, Dimension, END, Jump, Profile, Question, QuestionKind, Rule,
};
pub use flow::{Answer, AnswerError, AnswerInput, Progress, SessionState, Step};
pub use parse::{Format, Mode, Problem, parse_document, parse_value, validate};
pub use scoring::{DimensionScore, Outcome, ScoreError, normalize, score};
