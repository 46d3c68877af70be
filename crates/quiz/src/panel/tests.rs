//! Tests and their versions: the list with the on/off switch, creating a test (or a new
//! version) from a document, the version history with publish and rollback.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use faro_quiz_domain::{Format, Mode, Problem, validate};
use serde::Deserialize;

use super::outline::{Outline, document_value, outline};
use super::{load_test, load_version, notice, when};
use crate::service::{self, QuizError};
use crate::{Quiz, store};
use faro_web::panel::{
    AdminForm, FormData, PageAdmin, PageError, PageResult, PageUser, Shell, ok, render,
};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    after: Option<String>,
    msg: Option<String>,
}

pub struct TestItem {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub published: bool,
    pub active: bool,
    /// "v3", or "none" before the first publish.
    pub served: String,
    pub latest: i64,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "admin/tests.html")]
struct TestsPage {
    shell: Shell,
    notice: Option<&'static str>,
    tests: Vec<TestItem>,
    next_page: Option<String>,
}

/// `GET /admin/tests`: every test of the tenant, 50 per page.
pub async fn list(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let after = q.after.as_deref().filter(|s| !s.is_empty());
    let mut rows = store::list_tests(&quiz.core.db, &user.tenant, after, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_page = more
        .then(|| {
            rows.last()
                .map(|t| format!("/admin/tests?after={}", t.slug))
        })
        .flatten();
    let tests = rows
        .into_iter()
        .map(|t| TestItem {
            published: t.published_version.is_some(),
            served: t
                .published_version
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "none".into()),
            id: t.id,
            title: t.title,
            slug: t.slug,
            active: t.is_active,
            latest: t.latest_version,
            updated: when(t.updated_at),
        })
        .collect();
    Ok(ok(&TestsPage {
        shell: user.shell("tests"),
        notice: notice(q.msg.as_deref()),
        tests,
        next_page,
    }))
}

// ---- creating from a document ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/new.html")]
struct DocumentForm {
    shell: Shell,
    heading: String,
    intro: &'static str,
    action: String,
    /// Set when this form adds a version to an existing test.
    test_id: Option<String>,
    test_title: String,
    document: String,
    format: &'static str,
    outline: Option<Outline>,
    /// A version can also be a plain copy of the latest one.
    allow_empty: bool,
}

const CREATE_INTRO: &str = "Paste a definition document (JSON, or YAML of the same shape) or \
    upload a .json/.yaml file. It is saved as a draft: nothing is public until you publish it.";
const VERSION_INTRO: &str = "Paste or upload the new version's whole document (it keeps the \
    test's slug), or leave both empty to copy the latest version.";

/// `GET /admin/tests/new`.
pub async fn new_form(PageAdmin(user): PageAdmin) -> Response {
    ok(&DocumentForm {
        shell: user.shell("new"),
        heading: "New test".into(),
        intro: CREATE_INTRO,
        action: "/admin/tests".into(),
        test_id: None,
        test_title: String::new(),
        document: String::new(),
        format: "auto",
        outline: None,
        allow_empty: false,
    })
}

/// The document a form sent: the uploaded file if one was chosen, else the textarea; in the
/// syntax the form names, else the file's extension, else a guess from its first character.
pub(super) fn submitted_document(
    form: &FormData,
) -> Result<(String, Format, &'static str), Problem> {
    let chosen = form.text("format");
    let (text, ext) = match form.file("file") {
        Some(f) => {
            let text = String::from_utf8(f.bytes.clone()).map_err(|_| {
                Problem::new("", format!("the file {:?} is not UTF-8 text", f.file_name))
            })?;
            let name = f.file_name.to_ascii_lowercase();
            let ext = if name.ends_with(".yaml") || name.ends_with(".yml") {
                Some(Format::Yaml)
            } else if name.ends_with(".json") {
                Some(Format::Json)
            } else {
                None
            };
            (text, ext)
        }
        None => (form.get("document").unwrap_or_default().to_string(), None),
    };
    let format = match chosen {
        "json" => Format::Json,
        "yaml" => Format::Yaml,
        _ => ext.unwrap_or_else(|| guess_format(&text)),
    };
    let label = match chosen {
        "json" => "json",
        "yaml" => "yaml",
        _ => "auto",
    };
    Ok((text, format, label))
}

/// A document starting with `{` is JSON; anything else is read as YAML.
pub(super) fn guess_format(text: &str) -> Format {
    if text.trim_start().starts_with('{') {
        Format::Json
    } else {
        Format::Yaml
    }
}

/// `POST /admin/tests`: creates a test from the document, or shows every problem.
pub async fn create(State(quiz): State<Quiz>, AdminForm { user, form }: AdminForm) -> Response {
    let shown = |document: String, format: &'static str, problems: Vec<Problem>, value| {
        let outline = outline(value, &problems, None);
        DocumentForm {
            shell: user.shell("new"),
            heading: "New test".into(),
            intro: CREATE_INTRO,
            action: "/admin/tests".into(),
            test_id: None,
            test_title: String::new(),
            document,
            format,
            outline: Some(outline),
            allow_empty: false,
        }
    };
    let (text, format, label) = match submitted_document(&form) {
        Ok(d) => d,
        Err(p) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &shown(String::new(), "auto", vec![p], None),
            );
        }
    };
    if text.trim().is_empty() {
        let p = Problem::new("", "paste a document or choose a file");
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &shown(text, label, vec![p], None),
        );
    }
    let def = match service::parse_draft(&text, format) {
        Ok(def) => def,
        Err(QuizError::Invalid(problems)) => {
            let value = document_value(&text, format);
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &shown(text, label, problems, value.as_ref()),
            );
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    match service::create_test(&quiz.core.db, &user.tenant, &def, Some(&user.actor())).await {
        Ok(created) => {
            quiz.cache.invalidate_catalog(&user.tenant);
            Redirect::to(&format!("/admin/tests/{}?msg=created", created.test_id)).into_response()
        }
        Err(QuizError::Conflict(_, message)) => {
            let value = document_value(&text, format);
            render(
                StatusCode::CONFLICT,
                &shown(
                    text,
                    label,
                    vec![Problem::new("slug", message)],
                    value.as_ref(),
                ),
            )
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

// ---- one test: versions, publish, rollback, switch -------------------------------------------

pub struct VersionItem {
    pub number: i64,
    pub draft: bool,
    pub served: bool,
    pub title: String,
    pub created: String,
    pub published: String,
    /// Problems that block publishing this draft (0 for published versions).
    pub blocking: usize,
}

#[derive(Template)]
#[template(path = "admin/test.html")]
struct TestPage {
    shell: Shell,
    notice: Option<&'static str>,
    test: store::TestRow,
    served: String,
    created: String,
    updated: String,
    versions: Vec<VersionItem>,
}

#[derive(Deserialize, Default)]
pub struct MsgQuery {
    pub msg: Option<String>,
}

/// `GET /admin/tests/{id}`.
pub async fn detail(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let rows = store::list_versions(db, &user.tenant, &id).await?;
    let mut versions = Vec::with_capacity(rows.len());
    for v in &rows {
        let def = crate::store::definition_from_storage(&v.definition)?;
        let draft = v.status == store::STATUS_DRAFT;
        versions.push(VersionItem {
            number: v.version,
            draft,
            served: test.published_version_id.as_deref() == Some(v.id.as_str()),
            title: def.title.clone(),
            created: when(v.created_at),
            published: v.published_at.map(when).unwrap_or_default(),
            blocking: if draft {
                validate(&def, Mode::Publish).len()
            } else {
                0
            },
        });
    }
    Ok(ok(&TestPage {
        shell: user.shell("tests"),
        notice: notice(q.msg.as_deref()),
        served: test
            .published_version
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "none".into()),
        created: when(test.created_at),
        updated: when(test.updated_at),
        test,
        versions,
    }))
}

/// `GET /admin/tests/{id}/versions`: the history lives on the test's page. Only an id that
/// could be one goes into the `Location` header; anything else is not a test.
pub async fn to_detail(Path(id): Path<String>) -> Response {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return PageError::new(StatusCode::NOT_FOUND, "Not found", "There is no such test.")
            .into_response();
    }
    Redirect::to(&format!("/admin/tests/{id}")).into_response()
}

/// `POST /admin/tests/{id}/active` with `active=on|off`.
pub async fn switch(
    State(quiz): State<Quiz>,
    Path(id): Path<String>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let db = &quiz.core.db;
    load_test(db, &user.tenant, &id).await?;
    let active = match form.text("active") {
        "on" => true,
        "off" => false,
        _ => return Err(PageError::bad_request("`active` must be `on` or `off`.")),
    };
    store::set_active(db, &user.tenant, &id, active, Some(&user.actor())).await?;
    quiz.cache.invalidate_catalog(&user.tenant);
    let msg = if active { "on" } else { "off" };
    let back = if form.text("back") == "list" {
        format!("/admin/tests?msg={msg}")
    } else {
        format!("/admin/tests/{id}?msg={msg}")
    };
    Ok(Redirect::to(&back).into_response())
}

/// `POST /admin/tests/{id}/versions/{n}/publish`: publishes a draft, or serves an already
/// published version again (rollback). A draft with problems shows them on its page.
pub async fn publish(
    State(quiz): State<Quiz>,
    Path((id, n)): Path<(String, String)>,
    AdminForm { user, form: _ }: AdminForm,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let version = load_version(db, &user.tenant, &test, &n).await?;
    let was_draft = version.status == store::STATUS_DRAFT;
    match service::publish(db, &user.tenant, &test, &version, Some(&user.actor())).await {
        Ok(_) => {
            quiz.cache.invalidate_catalog(&user.tenant);
            let msg = if was_draft { "published" } else { "served" };
            Ok(Redirect::to(&format!("/admin/tests/{}?msg={msg}", test.id)).into_response())
        }
        Err(QuizError::Invalid(problems)) => Ok(super::editor::version_page(
            &quiz,
            &user,
            &test,
            &version,
            super::editor::Shown::PublishRefused(problems),
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/tests/{id}/versions/{n}/delete`: deletes a draft (published ones stay).
pub async fn delete_draft(
    State(quiz): State<Quiz>,
    Path((id, n)): Path<(String, String)>,
    AdminForm { user, form: _ }: AdminForm,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let version = load_version(db, &user.tenant, &test, &n).await?;
    if version.status != store::STATUS_DRAFT
        || !store::delete_draft(db, &user.tenant, &version, Some(&user.actor())).await?
    {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "Conflict",
            "Published versions are kept: their results and analytics refer to them.",
        ));
    }
    Ok(Redirect::to(&format!("/admin/tests/{}?msg=deleted", test.id)).into_response())
}

fn version_form(
    shell: Shell,
    test: &store::TestRow,
    document: String,
    format: &'static str,
    outline: Option<Outline>,
) -> DocumentForm {
    DocumentForm {
        shell,
        heading: format!("New version of {}", test.title),
        intro: VERSION_INTRO,
        action: format!("/admin/tests/{}/versions", test.id),
        test_id: Some(test.id.clone()),
        test_title: test.title.clone(),
        document,
        format,
        outline,
        allow_empty: true,
    }
}

/// `GET /admin/tests/{id}/versions/new`.
pub async fn new_version_form(
    State(quiz): State<Quiz>,
    PageAdmin(user): PageAdmin,
    Path(id): Path<String>,
) -> PageResult {
    let test = load_test(&quiz.core.db, &user.tenant, &id).await?;
    Ok(ok(&version_form(
        user.shell("tests"),
        &test,
        String::new(),
        "auto",
        None,
    )))
}

/// `POST /admin/tests/{id}/versions`: a new draft from the document sent, from version `from`
/// (a field), or a copy of the latest version when neither is given.
pub async fn new_version(
    State(quiz): State<Quiz>,
    Path(id): Path<String>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let db = &quiz.core.db;
    let test = load_test(db, &user.tenant, &id).await?;
    let refused = |status, document: String, format, problems: Vec<Problem>, value| {
        let o = outline(value, &problems, None);
        render(
            status,
            &version_form(user.shell("tests"), &test, document, format, Some(o)),
        )
    };
    let def = if let Some(from) = form.get("from").filter(|s| !s.is_empty()) {
        let v = load_version(db, &user.tenant, &test, from).await?;
        Some(crate::store::definition_from_storage(&v.definition)?)
    } else {
        let (text, format, label) = match submitted_document(&form) {
            Ok(d) => d,
            Err(p) => {
                return Ok(refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    String::new(),
                    "auto",
                    vec![p],
                    None,
                ));
            }
        };
        if text.trim().is_empty() {
            None
        } else {
            match service::parse_draft(&text, format) {
                Ok(def) => Some(def),
                Err(QuizError::Invalid(problems)) => {
                    let value = document_value(&text, format);
                    return Ok(refused(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        text,
                        label,
                        problems,
                        value.as_ref(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    match service::new_version(db, &user.tenant, &test, def, Some(&user.actor())).await {
        Ok(v) => Ok(Redirect::to(&format!(
            "/admin/tests/{id}/versions/{}?msg=draft",
            v.version
        ))
        .into_response()),
        Err(QuizError::Invalid(problems)) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            form.get("document").unwrap_or_default().to_string(),
            "auto",
            problems,
            None,
        )),
        Err(e) => Err(e.into()),
    }
}
