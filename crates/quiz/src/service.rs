//! Authoring operations shared by the admin API, the command line (`faro import`, `faro
//! export`) and demo seeding: one place decides what creating, editing and publishing mean.

use faro_http::audit::Actor;
use faro_http::{ApiError, FieldProblem};
use faro_quiz_domain::{Definition, Format, Mode, Problem, parse_document, parse_value, validate};
use faro_store::TenantId;
use faro_store::{Db, StoreError};
use serde_json::Value;

use crate::store::{self, TestMeta, VersionRow};

/// The quiz module's error type: what its use cases (authoring and visiting) can answer.
/// Converted once to the HTTP error body; pages match on it to choose a redirect or a page.
#[derive(Debug, thiserror::Error)]
pub enum QuizError {
    #[error("the definition has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{1}")]
    Conflict(&'static str, String),
    /// No active test with this slug (or it has no served version).
    #[error("no active test with this slug")]
    TestNotFound,
    #[error("no such session")]
    SessionNotFound,
    #[error("this session has expired; start the test again")]
    Expired,
    /// The answer names another question than the current one (a stale tab, a replay).
    #[error("answer the current question only")]
    NotCurrent { current: Option<String> },
    /// Another request answered this session first (another tab).
    #[error("this session changed while answering (another tab?); fetch the current question")]
    ConcurrentAnswer,
    /// Every question is answered: only finishing is left.
    #[error("every question is answered; POST /finish for the result")]
    Finished,
    #[error("the answer does not fit the question")]
    InvalidAnswer(Vec<Problem>),
    #[error("answer every question before finishing")]
    QuestionsRemain,
    /// A broken invariant (a published version that cannot be scored, a corrupt state).
    #[error("{0}")]
    Internal(String),
    /// The tenant's plan allows no more tests.
    #[error(transparent)]
    Quota(#[from] faro_store::quota::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QuizError {
    /// The database is down or full: retrying at once (on another copy of a session) would
    /// only double the wait.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            QuizError::Store(StoreError::Unavailable(_) | StoreError::ReadOnly(_))
        )
    }
}

/// Panel pages show a use case's error as the API would answer it, as a page.
impl From<QuizError> for faro_web::panel::PageError {
    fn from(e: QuizError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<QuizError> for ApiError {
    fn from(e: QuizError) -> Self {
        match e {
            QuizError::Invalid(problems) => ApiError::invalid(
                format!("the definition has {} problem(s)", problems.len()),
                problems.into_iter().map(to_field).collect(),
            ),
            QuizError::NotFound(what) => ApiError::not_found(what),
            QuizError::Conflict(code, msg) => ApiError::conflict(code, msg),
            QuizError::TestNotFound => {
                ApiError::not_found(e_text(&QuizError::TestNotFound)).with_code("test_not_found")
            }
            QuizError::SessionNotFound => {
                ApiError::not_found("no such session").with_code("session_not_found")
            }
            QuizError::Expired => ApiError::gone(
                "session_expired",
                "this session has expired; start the test again",
            ),
            QuizError::NotCurrent { current } => {
                ApiError::conflict("not_current_question", "answer the current question only")
                    .with_details(serde_json::json!({ "current_question": current }))
            }
            e @ QuizError::ConcurrentAnswer => ApiError::conflict("concurrent_answer", e_text(&e)),
            e @ QuizError::Finished => ApiError::conflict("session_finished", e_text(&e))
                .with_details(serde_json::json!({ "result_ready": true })),
            QuizError::InvalidAnswer(problems) => ApiError::invalid(
                "the answer does not fit the question",
                problems.into_iter().map(to_field).collect(),
            )
            .with_code("invalid_answer"),
            e @ QuizError::QuestionsRemain => ApiError::conflict("questions_remain", e_text(&e)),
            QuizError::Internal(cause) => ApiError::internal(cause),
            QuizError::Quota(e) => e.into(),
            QuizError::Store(StoreError::Conflict(_)) => {
                ApiError::conflict("slug_taken", "another test already uses this slug")
            }
            QuizError::Store(s) => s.into(),
        }
    }
}

fn e_text(e: &QuizError) -> String {
    e.to_string()
}

pub fn to_field(p: Problem) -> FieldProblem {
    FieldProblem {
        path: p.path,
        message: p.message,
    }
}

/// Which syntax a document body is in, from its Content-Type (YAML when it says so).
pub fn format_of(content_type: Option<&str>) -> Format {
    match content_type {
        Some(ct) if ct.contains("yaml") => Format::Yaml,
        _ => Format::Json,
    }
}

/// Parses an uploaded or imported document as a draft: every problem at once.
pub fn parse_draft(text: &str, format: Format) -> Result<Definition, QuizError> {
    parse_document(text, format, Mode::Draft).map_err(QuizError::Invalid)
}

pub fn to_storage(def: &Definition) -> String {
    def.to_json_value().to_string()
}

pub fn meta(def: &Definition) -> TestMeta<'_> {
    TestMeta {
        slug: &def.slug,
        title: &def.title,
        description: &def.description,
        lang: &def.lang,
        tags: &def.tags,
        estimated_minutes: i64::from(def.estimated_minutes),
    }
}

pub struct Created {
    pub test_id: String,
    pub version_id: String,
    pub slug: String,
    /// What would stop this draft from being published (e.g. profiles with a gap).
    pub publish_problems: Vec<Problem>,
}

pub async fn create_test(
    db: &Db,
    tenant: &TenantId,
    def: &Definition,
    by: Option<&Actor>,
) -> Result<Created, QuizError> {
    let (test_id, version_id) = store::create_test(db, tenant, &meta(def), &to_storage(def), by)
        .await
        .map_err(slug_conflict)??;
    Ok(Created {
        test_id,
        version_id,
        slug: def.slug.clone(),
        publish_problems: validate(def, Mode::Publish),
    })
}

fn slug_conflict(e: StoreError) -> QuizError {
    match e {
        StoreError::Conflict(_) => {
            QuizError::Conflict("slug_taken", "another test already uses this slug".into())
        }
        other => QuizError::Store(other),
    }
}

pub async fn test_or_404(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<store::TestRow, QuizError> {
    store::get_test(db, tenant, id)
        .await?
        .ok_or(QuizError::NotFound("no such test"))
}

pub async fn version_or_404(
    db: &Db,
    tenant: &TenantId,
    test_id: &str,
    version: i64,
) -> Result<VersionRow, QuizError> {
    store::get_version(db, tenant, test_id, version)
        .await?
        .ok_or(QuizError::NotFound("no such version"))
}

/// A new draft: the given document, or a copy of the latest version.
pub async fn new_version(
    db: &Db,
    tenant: &TenantId,
    test: &store::TestRow,
    def: Option<Definition>,
    by: Option<&Actor>,
) -> Result<VersionRow, QuizError> {
    let text = match def {
        Some(def) => {
            check_same_slug(test, &def)?;
            to_storage(&def)
        }
        None => {
            let latest = version_or_404(db, tenant, &test.id, test.latest_version).await?;
            latest.definition
        }
    };
    Ok(store::create_version(db, tenant, &test.id, &text, by).await?)
}

/// A test keeps its slug across versions: share links and the catalog name it.
fn check_same_slug(test: &store::TestRow, def: &Definition) -> Result<(), QuizError> {
    if def.slug != test.slug {
        return Err(QuizError::Invalid(vec![Problem::new(
            "slug",
            format!(
                "must stay {:?}: a new version cannot rename its test",
                test.slug
            ),
        )]));
    }
    Ok(())
}

pub async fn update_draft(
    db: &Db,
    tenant: &TenantId,
    test: &store::TestRow,
    version: &VersionRow,
    def: &Definition,
    by: Option<&Actor>,
) -> Result<(), QuizError> {
    if version.status != store::STATUS_DRAFT {
        return Err(frozen());
    }
    check_same_slug(test, def)?;
    if !store::update_draft(db, tenant, version, &to_storage(def), by).await? {
        return Err(frozen());
    }
    Ok(())
}

pub fn frozen() -> QuizError {
    QuizError::Conflict(
        "version_published",
        "a published version is frozen; create a new version to change it".into(),
    )
}

/// Validates (publish rules) and serves this version. Publishing an already published
/// version serves it again: the rollback.
pub async fn publish(
    db: &Db,
    tenant: &TenantId,
    test: &store::TestRow,
    version: &VersionRow,
    by: Option<&Actor>,
) -> Result<Definition, QuizError> {
    let def = crate::store::definition_from_storage(&version.definition)?;
    let problems = validate(&def, Mode::Publish);
    if !problems.is_empty() {
        return Err(QuizError::Invalid(problems));
    }
    store::publish(db, tenant, &test.id, version, &meta(&def), by).await?;
    Ok(def)
}

/// Imports a document as a new test, or as a new version of the test with its slug.
pub async fn import(
    db: &Db,
    tenant: &TenantId,
    def: &Definition,
    publish_it: bool,
    by: Option<&Actor>,
) -> Result<(String, i64), QuizError> {
    let (test, version) = match store::get_test_by_slug(db, tenant, &def.slug).await? {
        Some(test) => {
            let v = new_version(db, tenant, &test, Some(def.clone()), by).await?;
            (test, v)
        }
        None => {
            let created = create_test(db, tenant, def, by).await?;
            let test = test_or_404(db, tenant, &created.test_id).await?;
            let v = version_or_404(db, tenant, &test.id, 1).await?;
            (test, v)
        }
    };
    if publish_it {
        publish(db, tenant, &test, &version, by).await?;
    }
    Ok((test.id, version.version))
}

/// The definition served for a slug (or its latest draft when none is served), for export.
pub async fn export(db: &Db, tenant: &TenantId, slug: &str) -> Result<Value, QuizError> {
    let test = store::get_test_by_slug(db, tenant, slug)
        .await?
        .ok_or(QuizError::NotFound("no test with this slug"))?;
    let n = test.published_version.unwrap_or(test.latest_version);
    let v = version_or_404(db, tenant, &test.id, n).await?;
    serde_json::from_str(&v.definition).map_err(|e| QuizError::Store(StoreError::corrupt(e)))
}

/// Re-parses a stored JSON document from a value (question-by-question edits).
pub fn reparse(value: &Value) -> Result<Definition, QuizError> {
    parse_value(value, Mode::Draft).map_err(QuizError::Invalid)
}

// ---- question-by-question editing of a draft -------------------------------------------

/// One question-level edit of a draft's document. The admin API's questions endpoints and the
/// panel's question editor both go through [`edit_question`].
pub enum QuestionOp {
    /// Inserts a new question (at `position`, default last), with the rules given.
    Add {
        question: Value,
        rules: Option<Vec<Value>>,
        position: Option<usize>,
    },
    /// Replaces the question keyed `key` (staying where it is unless `position` says
    /// otherwise); `rules`, if given, replace every rule whose condition names `key`.
    Replace {
        key: String,
        question: Value,
        rules: Option<Vec<Value>>,
        position: Option<usize>,
    },
    /// Removes the question keyed `key` with the rules naming it.
    Remove { key: String },
}

/// The document's questions (empty when absent).
pub fn doc_questions(doc: &Value) -> &[Value] {
    doc.get("questions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A question's (or any entry's) `key`.
pub fn key_of(q: &Value) -> Option<&str> {
    q.get("key").and_then(Value::as_str)
}

/// True when the rule's condition names question `key`.
pub fn rule_names(rule: &Value, key: &str) -> bool {
    rule.pointer("/if/question").and_then(Value::as_str) == Some(key)
}

/// Applies one question edit to a draft, re-validates the whole document and saves it.
/// Returns the saved document and the edited question's key (`None` for a removal).
pub async fn edit_question(
    db: &Db,
    tenant: &TenantId,
    version_id: &str,
    op: QuestionOp,
    by: Option<&Actor>,
) -> Result<(Value, Option<String>), QuizError> {
    let version = store::get_version_by_id(db, tenant, version_id)
        .await?
        .ok_or(QuizError::NotFound("no such version"))?;
    if version.status != store::STATUS_DRAFT {
        return Err(frozen());
    }
    let mut doc: Value = serde_json::from_str(&version.definition)
        .map_err(|e| QuizError::Store(StoreError::corrupt(e)))?;
    let test = test_or_404(db, tenant, &version.test_id).await?;
    let mut qs: Vec<Value> = doc_questions(&doc).to_vec();
    let mut rules: Vec<Value> = doc
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let key_required = || QuizError::Invalid(vec![Problem::new("question.key", "is required")]);
    let position_of = |qs: &[Value], key: &str| {
        qs.iter()
            .position(|q| key_of(q) == Some(key))
            .ok_or(QuizError::NotFound("no question with this key"))
    };
    let new_key = match op {
        QuestionOp::Add {
            question,
            rules: new_rules,
            position,
        } => {
            let key = key_of(&question).ok_or_else(key_required)?.to_string();
            if qs.iter().any(|q| key_of(q) == Some(key.as_str())) {
                return Err(QuizError::Conflict(
                    "question_exists",
                    "a question with this key exists; PUT to change it".into(),
                ));
            }
            let at = position.unwrap_or(qs.len()).min(qs.len());
            qs.insert(at, question);
            rules.extend(new_rules.unwrap_or_default());
            Some(key)
        }
        QuestionOp::Replace {
            key,
            question,
            rules: new_rules,
            position,
        } => {
            let new_key = key_of(&question).ok_or_else(key_required)?.to_string();
            let i = position_of(&qs, &key)?;
            qs.remove(i);
            let at = position.unwrap_or(i).min(qs.len());
            qs.insert(at, question);
            if let Some(rs) = new_rules {
                rules.retain(|r| !rule_names(r, &key));
                rules.extend(rs);
            }
            Some(new_key)
        }
        QuestionOp::Remove { key } => {
            let i = position_of(&qs, &key)?;
            qs.remove(i);
            rules.retain(|r| !rule_names(r, &key));
            None
        }
    };
    if let Value::Object(map) = &mut doc {
        map.insert("questions".into(), Value::Array(qs));
        map.insert("rules".into(), Value::Array(rules));
    }
    let def = reparse(&doc)?;
    update_draft(db, tenant, &test, &version, &def, by).await?;
    Ok((def.to_json_value(), new_key))
}
