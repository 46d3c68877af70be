//! One version: the whole-document editor of a draft, the question-by-question editor (saved
//! through `service::edit_question`, the same logic as the admin API's questions endpoints),
//! and the read-only preview.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use faro_quiz_domain::{Mode, Problem, validate};
use serde_json::{Map, Value, json};

use super::outline::{Item, Outline, Seg, document_value, outline, segments};
use super::tests::{MsgQuery, submitted_document};
use super::{load_test, load_version, notice};
use crate::service::{self, QuestionOp, QuizError, doc_questions, key_of, rule_names};
use crate::{Quiz, store};
use faro_web::panel::{
    AdminForm, FormData, PageError, PageResult, PageUser, PanelUser, Shell, render,
};

/// What the version page shows besides the stored document.
pub enum Shown {
    Stored(Option<&'static str>),
    /// A whole-document save that was refused: the text as sent, with its problems.
    Edited {
        text: String,
        format: &'static str,
        problems: Vec<Problem>,
    },
    /// Publishing was refused: every problem blocking it.
    PublishRefused(Vec<Problem>),
    /// Removing a question was refused (something still jumps to it).
    RemoveRefused(String, Vec<Problem>),
}

#[derive(Template)]
#[template(path = "admin/version.html")]
struct VersionPage {
    shell: Shell,
    notice: Option<&'static str>,
    test_id: String,
    test_title: String,
    number: i64,
    draft: bool,
    served: bool,
    editable: bool,
    base: String,
    document: String,
    format: &'static str,
    outline: Outline,
    /// "Ready to publish", "3 problems to fix before publishing", "Not saved: 2 problems"...
    verdict: String,
    verdict_bad: bool,
}

fn pretty(definition: &str) -> String {
    serde_json::from_str::<Value>(definition)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| definition.to_string())
}

/// Renders a version's page (status 200, or 422 when showing a refused edit).
pub async fn version_page(
    _quiz: &Quiz,
    user: &PanelUser,
    test: &store::TestRow,
    version: &store::VersionRow,
    shown: Shown,
) -> Response {
    let draft = version.status == store::STATUS_DRAFT;
    let base = format!("/admin/tests/{}/versions/{}", test.id, version.version);
    let stored: Option<Value> = serde_json::from_str(&version.definition).ok();
    let publish_problems = || match crate::store::definition_from_storage(&version.definition) {
        Ok(def) if draft => validate(&def, Mode::Publish),
        _ => Vec::new(),
    };
    let (status, notice, document, format, value, problems, verdict) = match shown {
        Shown::Stored(msg) => {
            let problems = publish_problems();
            let verdict = match (draft, problems.len()) {
                (false, _) => String::new(),
                (true, 0) => "Ready to publish.".to_string(),
                (true, n) => format!("{n} problem(s) to fix before this draft can be published."),
            };
            (
                StatusCode::OK,
                msg,
                pretty(&version.definition),
                "json",
                stored,
                problems,
                verdict,
            )
        }
        Shown::Edited {
            text,
            format,
            problems,
        } => {
            let syntax = match format {
                "yaml" => faro_quiz_domain::Format::Yaml,
                "json" => faro_quiz_domain::Format::Json,
                _ => super::tests::guess_format(&text),
            };
            let value = document_value(&text, syntax);
            let verdict = format!(
                "Not saved: the document has {} problem(s). The stored draft is unchanged.",
                problems.len()
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                text,
                format,
                value,
                problems,
                verdict,
            )
        }
        Shown::PublishRefused(problems) => {
            let verdict = format!("Not published: {} problem(s) to fix first.", problems.len());
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                pretty(&version.definition),
                "json",
                stored,
                problems,
                verdict,
            )
        }
        Shown::RemoveRefused(key, problems) => {
            let verdict = format!(
                "Question {key} was not removed: the draft would have {} problem(s).",
                problems.len()
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                pretty(&version.definition),
                "json",
                stored,
                problems,
                verdict,
            )
        }
    };
    let verdict_bad = !problems.is_empty();
    let editable = draft && user.is_admin;
    let outline = outline(value.as_ref(), &problems, Some(base.as_str()));
    render(
        status,
        &VersionPage {
            shell: user.shell("tests"),
            notice,
            test_id: test.id.clone(),
            test_title: test.title.clone(),
            number: version.version,
            draft,
            served: test.published_version_id.as_deref() == Some(version.id.as_str()),
            editable,
            base,
            document,
            format,
            outline,
            verdict,
            verdict_bad,
        },
    )
}

/// `GET /admin/tests/{id}/versions/{n}`.
pub async fn version(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let version = load_version(db, &user.tenant, &test, &n).await?;
    Ok(version_page(
        &quiz,
        &user,
        &test,
        &version,
        Shown::Stored(notice(q.msg.as_deref())),
    )
    .await)
}

/// `POST /admin/tests/{id}/versions/{n}`: replaces a draft's whole document.
pub async fn save_document(
    State(quiz): State<Quiz>,
    Path((id, n)): Path<(String, String)>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let version = load_version(db, &user.tenant, &test, &n).await?;
    if version.status != store::STATUS_DRAFT {
        return Err(service::frozen().into());
    }
    let refused = |text: String, format, problems| Shown::Edited {
        text,
        format,
        problems,
    };
    let (text, format, label) = match submitted_document(&form) {
        Ok(d) => d,
        Err(p) => {
            let shown = refused(String::new(), "auto", vec![p]);
            return Ok(version_page(&quiz, &user, &test, &version, shown).await);
        }
    };
    let def = match service::parse_draft(&text, format) {
        Ok(def) => def,
        Err(QuizError::Invalid(problems)) => {
            let shown = refused(text, label, problems);
            return Ok(version_page(&quiz, &user, &test, &version, shown).await);
        }
        Err(e) => return Err(e.into()),
    };
    match service::update_draft(db, &user.tenant, &test, &version, &def, Some(&user.actor())).await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/tests/{id}/versions/{}?msg=saved",
            version.version
        ))
        .into_response()),
        Err(QuizError::Invalid(problems)) => {
            let shown = refused(text, label, problems);
            Ok(version_page(&quiz, &user, &test, &version, shown).await)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- preview --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct PreviewPage {
    shell: Shell,
    test_id: String,
    number: i64,
    draft: bool,
    base: String,
    outline: Outline,
    estimated_minutes: u32,
}

/// `GET /admin/tests/{id}/versions/{n}/preview`: every question and option as a visitor would
/// read them, with where each answer jumps. Read-only: no session is started, so analytics
/// stay untouched.
pub async fn preview(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path((id, n)): Path<(String, String)>,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let version = load_version(db, &user.tenant, &test, &n).await?;
    let def = crate::store::definition_from_storage(&version.definition)?;
    let value = def.to_json_value();
    Ok(render(
        StatusCode::OK,
        &PreviewPage {
            shell: user.shell("tests"),
            test_id: test.id.clone(),
            number: version.version,
            draft: version.status == store::STATUS_DRAFT,
            base: format!("/admin/tests/{}/versions/{}", test.id, version.version),
            outline: outline(Some(&value), &[], None),
            estimated_minutes: def.estimated_minutes,
        },
    ))
}

// ---- question by question -------------------------------------------------------------------

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ScoreCell {
    pub dim: String,
    pub value: String,
}

pub struct OptionRow {
    pub index: usize,
    pub key: String,
    pub text: String,
    pub scores: Vec<ScoreCell>,
    pub targets: Vec<Choice>,
    pub problems: Vec<Item>,
}

pub struct DimField {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// The fields of one question as the form shows them (from the stored draft, or as sent).
pub struct QuestionFields {
    pub key: String,
    pub kind: String,
    pub text: String,
    pub help: String,
    pub required: bool,
    pub position: usize,
    pub min_select: String,
    pub max_select: String,
    pub scale_min: String,
    pub scale_max: String,
    pub scale_min_label: String,
    pub scale_max_label: String,
    pub scale_scores: Vec<DimField>,
    pub options: Vec<OptionRow>,
    pub rules: String,
}

#[derive(Template)]
#[template(path = "admin/question.html")]
struct QuestionPage {
    shell: Shell,
    notice: Option<&'static str>,
    test_id: String,
    test_title: String,
    number: i64,
    base: String,
    action: String,
    delete_action: String,
    is_new: bool,
    editable: bool,
    count: usize,
    /// Every problem shown on the page.
    total: usize,
    kinds: Vec<Choice>,
    q: QuestionFields,
    /// Problems of the question's own fields (by field name) and elsewhere.
    key_problems: Vec<Item>,
    field_problems: Vec<Item>,
    rule_problems: Vec<Item>,
    other_problems: Vec<Item>,
}

fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn dimensions(doc: &Value) -> Vec<(String, String)> {
    doc.get("dimensions")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        key_of(d).unwrap_or_default().to_string(),
                        d.get("label")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where an option may jump: any question key (the validator refuses backward jumps) or end.
fn targets(doc: &Value, own_key: &str, selected: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: "next question".into(),
        selected: selected.is_empty(),
    }];
    let mut found = selected.is_empty();
    for k in doc_questions(doc).iter().filter_map(key_of) {
        if k == own_key {
            continue;
        }
        found |= k == selected;
        out.push(Choice {
            value: k.to_string(),
            label: format!("→ {k}"),
            selected: k == selected,
        });
    }
    found |= selected == "end";
    out.push(Choice {
        value: "end".into(),
        label: "→ end (finish)".into(),
        selected: selected == "end",
    });
    if !found {
        out.push(Choice {
            value: selected.to_string(),
            label: format!("→ {selected} (unknown)"),
            selected: true,
        });
    }
    out
}

fn option_row(
    doc: &Value,
    own_key: &str,
    dims: &[(String, String)],
    index: usize,
    o: &Value,
) -> OptionRow {
    let scores = o.get("scores");
    OptionRow {
        index,
        key: scalar_text(o.get("key")),
        text: scalar_text(o.get("text")),
        scores: dims
            .iter()
            .map(|(d, _)| ScoreCell {
                dim: d.clone(),
                value: scalar_text(scores.and_then(|s| s.get(d))),
            })
            .collect(),
        targets: targets(doc, own_key, &scalar_text(o.get("next"))),
        problems: Vec::new(),
    }
}

const BLANK_OPTION_ROWS: usize = 2;

/// The form's fields for question `q` (position `index`) of `doc`.
fn fields_of(doc: &Value, q: &Value, index: usize) -> QuestionFields {
    let dims = dimensions(doc);
    let key = scalar_text(q.get("key"));
    let scale = q.get("scale").cloned().unwrap_or(Value::Null);
    let mut options: Vec<OptionRow> = q
        .get("options")
        .and_then(Value::as_array)
        .map(|os| {
            os.iter()
                .enumerate()
                .map(|(i, o)| option_row(doc, &key, &dims, i, o))
                .collect()
        })
        .unwrap_or_default();
    let blank = Value::Object(Map::new());
    for _ in 0..BLANK_OPTION_ROWS {
        let i = options.len();
        options.push(option_row(doc, &key, &dims, i, &blank));
    }
    let rules: Vec<Value> = doc
        .get("rules")
        .and_then(Value::as_array)
        .map(|rs| rs.iter().filter(|r| rule_names(r, &key)).cloned().collect())
        .unwrap_or_default();
    QuestionFields {
        kind: scalar_text(q.get("type")),
        text: scalar_text(q.get("text")),
        help: scalar_text(q.get("help")),
        required: q.get("required").and_then(Value::as_bool).unwrap_or(true),
        position: index + 1,
        min_select: scalar_text(q.get("min_select")),
        max_select: scalar_text(q.get("max_select")),
        scale_min: scalar_text(scale.get("min")),
        scale_max: scalar_text(scale.get("max")),
        scale_min_label: scalar_text(scale.get("min_label")),
        scale_max_label: scalar_text(scale.get("max_label")),
        scale_scores: dims
            .iter()
            .map(|(d, label)| DimField {
                key: d.clone(),
                label: label.clone(),
                value: scalar_text(scale.get("scores_per_point").and_then(|s| s.get(d))),
            })
            .collect(),
        options,
        rules: if rules.is_empty() {
            String::new()
        } else {
            serde_json::to_string_pretty(&rules).unwrap_or_default()
        },
        key,
    }
}

fn kinds(selected: &str) -> Vec<Choice> {
    [
        ("single", "single: exactly one option"),
        ("multi", "multi: several options"),
        ("scale", "scale: a number in a range"),
    ]
    .into_iter()
    .map(|(v, l)| Choice {
        value: v.into(),
        label: l.into(),
        selected: v == selected,
    })
    .collect()
}

/// A number field: an integer when it reads as one, else the text itself so the validator
/// names the field ("must be an integer"); `None` when left empty.
fn number(raw: &str) -> Option<Value> {
    let raw = raw.trim();
    if raw.is_empty() {
        None
    } else {
        Some(
            raw.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(raw)),
        )
    }
}

/// What a posted question form means: the question in the document's shape, the rules that
/// replace those naming it, and its 0-based position.
struct Posted {
    question: Value,
    rules: Result<Vec<Value>, String>,
    position: Option<usize>,
}

fn posted_question(form: &FormData, dims: &[(String, String)]) -> Posted {
    let kind = form.text("type").to_string();
    let mut q = Map::new();
    q.insert("key".into(), json!(form.text("key")));
    q.insert("type".into(), json!(kind));
    q.insert("text".into(), json!(form.text("text")));
    q.insert("required".into(), json!(form.has("required")));
    let help = form.text("help");
    if !help.is_empty() {
        q.insert("help".into(), json!(help));
    }
    if kind == "scale" {
        let mut scale = Map::new();
        for (field, name) in [("min", "scale_min"), ("max", "scale_max")] {
            if let Some(v) = number(form.text(name)) {
                scale.insert(field.into(), v);
            }
        }
        let mut per_point = Map::new();
        for (d, _) in dims {
            if let Some(v) = number(form.text(&format!("scale_score.{d}"))) {
                per_point.insert(d.clone(), v);
            }
        }
        scale.insert("scores_per_point".into(), Value::Object(per_point));
        for (field, name) in [
            ("min_label", "scale_min_label"),
            ("max_label", "scale_max_label"),
        ] {
            let label = form.text(name);
            if !label.is_empty() {
                scale.insert(field.into(), json!(label));
            }
        }
        q.insert("scale".into(), Value::Object(scale));
    } else {
        if kind == "multi" {
            for field in ["min_select", "max_select"] {
                if let Some(v) = number(form.text(field)) {
                    q.insert(field.into(), v);
                }
            }
        }
        let keys: Vec<&str> = form.all("opt_key").collect();
        let texts: Vec<&str> = form.all("opt_text").collect();
        let nexts: Vec<&str> = form.all("opt_next").collect();
        let scores: Vec<(String, Vec<&str>)> = dims
            .iter()
            .map(|(d, _)| (d.clone(), form.all(&format!("opt_score.{d}")).collect()))
            .collect();
        let removed: Vec<usize> = form
            .all("opt_remove")
            .filter_map(|v| v.parse().ok())
            .collect();
        let mut options = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let key = key.trim();
            let text = texts.get(i).map(|t| t.trim()).unwrap_or_default();
            if removed.contains(&i) || (key.is_empty() && text.is_empty()) {
                continue;
            }
            let mut o = Map::new();
            o.insert("key".into(), json!(key));
            o.insert("text".into(), json!(text));
            let mut s = Map::new();
            for (d, values) in &scores {
                if let Some(v) = values.get(i).and_then(|v| number(v)) {
                    s.insert(d.clone(), v);
                }
            }
            o.insert("scores".into(), Value::Object(s));
            if let Some(next) = nexts.get(i).map(|n| n.trim()).filter(|n| !n.is_empty()) {
                o.insert("next".into(), json!(next));
            }
            options.push(Value::Object(o));
        }
        q.insert("options".into(), Value::Array(options));
    }
    let rules_text = form.text("rules");
    let rules = if rules_text.is_empty() {
        Ok(Vec::new())
    } else {
        match serde_json::from_str::<Value>(rules_text) {
            Ok(Value::Array(rules)) => Ok(rules),
            Ok(_) => Err("must be a JSON array of rules".to_string()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        }
    };
    let position = form
        .text("position")
        .parse::<usize>()
        .ok()
        .map(|p| p.saturating_sub(1));
    Posted {
        question: Value::Object(q),
        rules,
        position,
    }
}

/// Files the problems of an edited document under the form's fields: those of question
/// `index` by field and option, those of the rules this form sent (indices `rules_from..`),
/// and the rest as "elsewhere".
struct Filed {
    key: Vec<Item>,
    fields: Vec<Item>,
    rules: Vec<Item>,
    other: Vec<Item>,
}

fn file_problems(
    problems: &[Problem],
    index: usize,
    rules_from: usize,
    options: &mut [OptionRow],
) -> Filed {
    let mut filed = Filed {
        key: Vec::new(),
        fields: Vec::new(),
        rules: Vec::new(),
        other: Vec::new(),
    };
    for p in problems {
        let item = |place: String| Item {
            path: p.path.clone(),
            place,
            message: p.message.clone(),
        };
        let segs = segments(&p.path);
        match segs.as_slice() {
            [Seg::Field("question"), Seg::Field("key")] => filed.key.push(item("key".into())),
            [Seg::Field("questions"), Seg::Index(i), Seg::Field("key")] if *i == index => {
                filed.key.push(item("key".into()))
            }
            [
                Seg::Field("questions"),
                Seg::Index(i),
                Seg::Field("options"),
                Seg::Index(j),
                rest @ ..,
            ] if *i == index => {
                let field = rest
                    .iter()
                    .map(|s| match s {
                        Seg::Field(f) => (*f).to_string(),
                        Seg::Index(n) => n.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(".");
                match options.get_mut(*j) {
                    Some(row) => row.problems.push(item(field)),
                    None => filed.fields.push(item(format!("option {}", j + 1))),
                }
            }
            [Seg::Field("questions"), Seg::Index(i), rest @ ..] if *i == index => {
                let field = rest
                    .iter()
                    .map(|s| match s {
                        Seg::Field(f) => (*f).to_string(),
                        Seg::Index(n) => n.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(".");
                let place = if field.is_empty() {
                    "question".into()
                } else {
                    field
                };
                filed.fields.push(item(place))
            }
            [Seg::Field("rules"), Seg::Index(r), ..] if *r >= rules_from => filed.rules.push(item(
                format!("rule {} of this question", r - rules_from + 1),
            )),
            _ => filed.other.push(item(p.path.clone())),
        }
    }
    filed
}

struct Loaded {
    test: store::TestRow,
    version: store::VersionRow,
    doc: Value,
}

async fn load(quiz: &Quiz, user: &PanelUser, id: &str, n: &str) -> Result<Loaded, PageError> {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, id).await?;
    let version = load_version(db, &user.tenant, &test, n).await?;
    let doc: Value = serde_json::from_str(&version.definition).map_err(PageError::internal)?;
    Ok(Loaded { test, version, doc })
}

#[allow(clippy::too_many_arguments)]
fn question_page(
    user: &PanelUser,
    loaded: &Loaded,
    orig_key: Option<&str>,
    q: QuestionFields,
    filed: Filed,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let base = format!(
        "/admin/tests/{}/versions/{}",
        loaded.test.id, loaded.version.version
    );
    let (action, delete_action) = match orig_key {
        Some(k) => (
            format!("{base}/questions/{k}"),
            format!("{base}/questions/{k}/delete"),
        ),
        None => (format!("{base}/add-question"), String::new()),
    };
    let count = doc_questions(&loaded.doc).len() + usize::from(orig_key.is_none());
    let total = filed.key.len()
        + filed.fields.len()
        + filed.rules.len()
        + filed.other.len()
        + q.options.iter().map(|o| o.problems.len()).sum::<usize>();
    render(
        status,
        &QuestionPage {
            shell: user.shell("tests"),
            notice,
            test_id: loaded.test.id.clone(),
            test_title: loaded.test.title.clone(),
            number: loaded.version.version,
            action,
            delete_action,
            is_new: orig_key.is_none(),
            editable: user.is_admin && loaded.version.status == store::STATUS_DRAFT,
            count,
            total,
            kinds: kinds(&q.kind),
            q,
            key_problems: filed.key,
            field_problems: filed.fields,
            rule_problems: filed.rules,
            other_problems: filed.other,
            base,
        },
    )
}

fn no_problems() -> Filed {
    Filed {
        key: Vec::new(),
        fields: Vec::new(),
        rules: Vec::new(),
        other: Vec::new(),
    }
}

/// `GET /admin/tests/{id}/versions/{n}/questions/{key}`.
pub async fn question(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path((id, n, key)): Path<(String, String, String)>,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    let loaded = load(&quiz, &user, &id, &n).await?;
    let (index, qv) = doc_questions(&loaded.doc)
        .iter()
        .enumerate()
        .find(|(_, q)| key_of(q) == Some(key.as_str()))
        .ok_or_else(|| PageError::not_found("This version has no question with this key."))?;
    let fields = fields_of(&loaded.doc, qv, index);
    Ok(question_page(
        &user,
        &loaded,
        Some(&key),
        fields,
        no_problems(),
        notice(q.msg.as_deref()),
        StatusCode::OK,
    ))
}

/// `GET /admin/tests/{id}/versions/{n}/add-question`.
pub async fn new_question(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path((id, n)): Path<(String, String)>,
) -> PageResult {
    if !user.is_admin {
        return Err(PageError::viewer());
    }
    let loaded = load(&quiz, &user, &id, &n).await?;
    let index = doc_questions(&loaded.doc).len();
    let blank = json!({"type": "single", "options": [{}]});
    let fields = fields_of(&loaded.doc, &blank, index);
    Ok(question_page(
        &user,
        &loaded,
        None,
        fields,
        no_problems(),
        None,
        StatusCode::OK,
    ))
}

/// Re-shows a refused question form with what was sent and where each problem is.
fn refused_question(
    user: &PanelUser,
    loaded: &Loaded,
    orig_key: Option<&str>,
    posted: &Posted,
    index: usize,
    problems: &[Problem],
    status: StatusCode,
) -> Response {
    let mut fields = fields_of(&loaded.doc, &posted.question, index);
    if let Some(p) = posted.position {
        fields.position = p + 1;
    }
    fields.rules = match &posted.rules {
        Ok(rules) if rules.is_empty() => String::new(),
        Ok(rules) => serde_json::to_string_pretty(rules).unwrap_or_default(),
        Err(_) => String::new(),
    };
    // Rules kept from the document come first; the ones this form sent follow them.
    let kept = loaded
        .doc
        .get("rules")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| !rule_names(r, orig_key.unwrap_or_default()))
                .count()
        })
        .unwrap_or(0);
    let filed = file_problems(problems, index, kept, &mut fields.options);
    question_page(user, loaded, orig_key, fields, filed, None, status)
}

async fn save(
    quiz: &Quiz,
    user: &PanelUser,
    id: &str,
    n: &str,
    orig_key: Option<&str>,
    form: &FormData,
) -> PageResult {
    let loaded = load(quiz, user, id, n).await?;
    if loaded.version.status != store::STATUS_DRAFT {
        return Err(service::frozen().into());
    }
    let count = doc_questions(&loaded.doc).len();
    let current = orig_key.and_then(|k| {
        doc_questions(&loaded.doc)
            .iter()
            .position(|q| key_of(q) == Some(k))
    });
    if orig_key.is_some() && current.is_none() {
        return Err(PageError::not_found(
            "This version has no question with this key.",
        ));
    }
    let posted = posted_question(form, &dimensions(&loaded.doc));
    // Where the question lands, to place the validator's `questions[i]` problems.
    let index = match (current, posted.position) {
        (Some(_), Some(p)) => p.min(count.saturating_sub(1)),
        (Some(i), None) => i,
        (None, Some(p)) => p.min(count),
        (None, None) => count,
    };
    let rules = match &posted.rules {
        Ok(rules) => rules.clone(),
        Err(message) => {
            // The rules box could not be read: say so next to it, keeping what was typed.
            let mut fields = fields_of(&loaded.doc, &posted.question, index);
            if let Some(p) = posted.position {
                fields.position = p + 1;
            }
            fields.rules = form.text("rules").to_string();
            let mut filed = no_problems();
            filed.rules.push(Item {
                path: "rules".into(),
                place: "rules".into(),
                message: message.clone(),
            });
            return Ok(question_page(
                user,
                &loaded,
                orig_key,
                fields,
                filed,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let op = match orig_key {
        Some(k) => QuestionOp::Replace {
            key: k.to_string(),
            question: posted.question.clone(),
            rules: Some(rules),
            position: posted.position,
        },
        None => QuestionOp::Add {
            question: posted.question.clone(),
            rules: Some(rules),
            position: posted.position,
        },
    };
    match edit_as(quiz, user, &loaded.version.id, op).await {
        Ok((_, key)) => {
            let key = key.unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/admin/tests/{id}/versions/{}/questions/{key}?msg=question-saved",
                loaded.version.version
            ))
            .into_response())
        }
        Err(QuizError::Invalid(problems)) => Ok(refused_question(
            user,
            &loaded,
            orig_key,
            &posted,
            index,
            &problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(QuizError::Conflict("question_exists", _)) => Ok(refused_question(
            user,
            &loaded,
            orig_key,
            &posted,
            index,
            &[Problem::new(
                "question.key",
                "another question of this draft already has this key",
            )],
            StatusCode::CONFLICT,
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/tests/{id}/versions/{n}/questions/{key}`.
pub async fn save_question(
    State(quiz): State<Quiz>,
    Path((id, n, key)): Path<(String, String, String)>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    save(&quiz, &user, &id, &n, Some(&key), &form).await
}

/// `POST /admin/tests/{id}/versions/{n}/add-question`.
pub async fn add_question(
    State(quiz): State<Quiz>,
    Path((id, n)): Path<(String, String)>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    save(&quiz, &user, &id, &n, None, &form).await
}

/// One question edit by the signed-in admin, audited as them (the panel's twin of the admin
/// API's `apply`).
async fn edit_as(
    quiz: &Quiz,
    user: &PanelUser,
    version_id: &str,
    op: QuestionOp,
) -> Result<(Value, Option<String>), QuizError> {
    service::edit_question(
        &quiz.core.db,
        &user.tenant,
        version_id,
        op,
        Some(&user.actor()),
    )
    .await
}

/// `POST /admin/tests/{id}/versions/{n}/questions/{key}/delete`.
pub async fn delete_question(
    State(quiz): State<Quiz>,
    Path((id, n, key)): Path<(String, String, String)>,
    AdminForm { user, form: _ }: AdminForm,
) -> PageResult {
    let loaded = load(&quiz, &user, &id, &n).await?;
    let op = QuestionOp::Remove { key: key.clone() };
    match edit_as(&quiz, &user, &loaded.version.id, op).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/tests/{id}/versions/{}?msg=question-deleted",
            loaded.version.version
        ))
        .into_response()),
        Err(QuizError::Invalid(problems)) => Ok(version_page(
            &quiz,
            &user,
            &loaded.test,
            &loaded.version,
            Shown::RemoveRefused(key, problems),
        )
        .await),
        Err(QuizError::NotFound(_)) => Err(PageError::not_found(
            "This version has no question with this key.",
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData {
            fields: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: Vec::new(),
        }
    }

    #[test]
    fn a_posted_form_becomes_a_question_in_the_document_shape() {
        let dims = vec![("horizon".to_string(), "Horizon".to_string())];
        let f = form(&[
            ("key", "q1"),
            ("type", "single"),
            ("text", "When?"),
            ("required", "1"),
            ("opt_key", "a"),
            ("opt_text", "Soon"),
            ("opt_score.horizon", "0"),
            ("opt_next", ""),
            ("opt_key", "b"),
            ("opt_text", "Later"),
            ("opt_score.horizon", "x"),
            ("opt_next", "end"),
            ("opt_key", ""),
            ("opt_text", ""),
            ("opt_score.horizon", ""),
            ("opt_next", ""),
            ("opt_key", "c"),
            ("opt_text", "Removed"),
            ("opt_score.horizon", "1"),
            ("opt_next", ""),
            ("opt_remove", "3"),
            ("position", "2"),
        ]);
        let p = posted_question(&f, &dims);
        assert_eq!(
            p.question,
            json!({"key": "q1", "type": "single", "text": "When?", "required": true,
            "options": [
                {"key": "a", "text": "Soon", "scores": {"horizon": 0}},
                {"key": "b", "text": "Later", "scores": {"horizon": "x"}, "next": "end"}
            ]})
        );
        assert_eq!(p.position, Some(1));
        assert_eq!(p.rules, Ok(Vec::new()));
    }

    #[test]
    fn a_scale_form_keeps_only_scale_fields() {
        let dims = vec![("t".to_string(), "T".to_string())];
        let f = form(&[
            ("key", "q4"),
            ("type", "scale"),
            ("text", "Calm?"),
            ("scale_min", "1"),
            ("scale_max", "5"),
            ("scale_score.t", "2"),
            ("opt_key", "a"),
            ("opt_text", "ignored"),
            (
                "rules",
                "[{\"if\": {\"question\": \"q4\", \"value_lte\": 2}, \"then\": {\"skip_to\": \"end\"}}]",
            ),
        ]);
        let p = posted_question(&f, &dims);
        assert_eq!(
            p.question,
            json!({"key": "q4", "type": "scale", "text": "Calm?", "required": false,
                "scale": {"min": 1, "max": 5, "scores_per_point": {"t": 2}}})
        );
        assert_eq!(p.rules.map(|r| r.len()), Ok(1));
        let bad = form(&[("key", "q"), ("type", "single"), ("rules", "{")]);
        assert!(posted_question(&bad, &dims).rules.is_err());
    }

    #[test]
    fn problems_are_filed_under_the_fields_they_name() {
        let mut rows = vec![OptionRow {
            index: 0,
            key: "a".into(),
            text: "A".into(),
            scores: Vec::new(),
            targets: Vec::new(),
            problems: Vec::new(),
        }];
        let problems = vec![
            Problem::new("questions[1].text", "must not be empty"),
            Problem::new("questions[1].options[0].next", "jumps backwards"),
            Problem::new("questions[1].key", "duplicate"),
            Problem::new("questions[0].text", "elsewhere"),
            Problem::new("rules[3].if.option", "unknown option"),
            Problem::new("rules[0].if.option", "unknown option"),
        ];
        let f = file_problems(&problems, 1, 2, &mut rows);
        assert_eq!(f.fields.len(), 1);
        assert_eq!(f.fields[0].place, "text");
        assert_eq!(rows[0].problems[0].place, "next");
        assert_eq!(f.key.len(), 1);
        assert_eq!(f.rules[0].place, "rule 2 of this question");
        assert_eq!(f.other.len(), 2);
    }
}
