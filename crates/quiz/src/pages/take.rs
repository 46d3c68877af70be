//! Taking a test with plain forms: intro → start → one question per GET → answer (POST,
//! 303 back) → result. Every step calls the same service functions as the JSON API
//! (`public::start`, `public::submit_answer`, `public::complete`), so rate limits, counters and
//! the anti-bot check are exactly the API's.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use faro_http::PublicTenant;
use faro_http::visitor::KnownVisitor;
use faro_http::{ApiError, ClientKey};
use faro_quiz_domain::AnswerInput;
use faro_store::TenantId;
use serde::Deserialize;

use super::i18n::{Lang, Texts, fill};
use super::{Chrome, ErrorContext, error_page};
use crate::service::QuizError;
use crate::views::QuestionView;
use crate::{Quiz, public, visit};

/// The interface language for pages of `slug`: the test's, when it is served.
async fn lang_of_slug(quiz: &Quiz, tenant: &TenantId, slug: &str, headers: &HeaderMap) -> Lang {
    match quiz.cache.catalog(&quiz.core.db, tenant).await {
        Ok(c) => match c.get(slug) {
            Some(e) => Lang::for_test(&e.lang, headers),
            None => Lang::for_visitor(headers),
        },
        Err(_) => Lang::for_visitor(headers),
    }
}

fn session_path(slug: &str, session: &str) -> String {
    format!("/t/{slug}/s/{session}")
}

#[derive(Deserialize)]
pub struct IntroQuery {
    utm_source: Option<String>,
    utm_campaign: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/intro.html")]
pub(crate) struct IntroPage {
    pub chrome: Chrome,
    pub canonical: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub facts: Vec<String>,
    pub tags: Vec<String>,
    pub dimensions: Vec<String>,
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
}

/// `GET /t/{slug}`
pub async fn intro(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(slug): Path<String>,
    Query(q): Query<IntroQuery>,
    headers: HeaderMap,
) -> Response {
    let visitor = Lang::for_visitor(&headers);
    let catalog = match quiz.cache.catalog(&quiz.core.db, tenant).await {
        Ok(c) => c,
        Err(e) => return error_page(visitor, e, ErrorContext::default()),
    };
    let Some(entry) = catalog.get(&slug) else {
        return error_page(visitor, public::test_not_found(), ErrorContext::default());
    };
    let version = match quiz
        .cache
        .version(&quiz.core.db, tenant, &entry.version_id)
        .await
    {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error_page(visitor, public::test_not_found(), ErrorContext::default());
        }
        Err(e) => return error_page(visitor, e, ErrorContext::default()),
    };
    let def = &version.def;
    let lang = Lang::for_test(&def.lang, &headers);
    let t = super::i18n::texts(lang);
    let page = IntroPage {
        chrome: Chrome::new(lang, &def.lang),
        canonical: format!("{}/t/{}", quiz.core.web.public_base_url, def.slug),
        slug: def.slug.clone(),
        title: def.title.clone(),
        description: def.description.clone(),
        facts: vec![
            t.question_count(def.questions.len()),
            t.minutes(i64::from(def.estimated_minutes)),
        ],
        tags: def.tags.clone(),
        dimensions: def.dimensions.iter().map(|d| d.label.clone()).collect(),
        // Only what the API would keep is carried: sanitised, short.
        utm_source: crate::visit::attribution(q.utm_source),
        utm_campaign: crate::visit::attribution(q.utm_campaign),
    };
    (
        [
            (header::CACHE_CONTROL, "public, max-age=60"),
            (header::VARY, "Accept-Language"),
        ],
        page,
    )
        .into_response()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `POST /t/{slug}/start` (form fields `utm_source`, `utm_campaign`) → 303 to the session.
pub async fn start(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(slug): Path<String>,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let source = field(&fields, "utm_source").map(str::to_string);
    let campaign = field(&fields, "utm_campaign").map(str::to_string);
    let started = match quiz
        .core
        .limit("session_starts", &client, quiz.cfg.session_starts)
        .await
    {
        Ok(_) => visit::start(&quiz, tenant, &slug, source, campaign)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match started {
        Ok(started) => Redirect::to(&session_path(
            &started.version.def.slug,
            &started.session_id,
        ))
        .into_response(),
        Err(e) => {
            let lang = lang_of_slug(&quiz, tenant, &slug, &headers).await;
            let ctx = ErrorContext {
                slug: Some(slug.clone()),
                retry: Some(format!("/t/{slug}")),
            };
            error_page(lang, e, ctx)
        }
    }
}

#[derive(Deserialize)]
pub struct StepQuery {
    /// The last answer did not fit the question.
    e: Option<String>,
    /// The session moved on elsewhere (another tab, a replayed form).
    moved: Option<String>,
}

/// A question ready for the template, built from the same view the JSON API returns, so the
/// page and the script render one shape.
pub(crate) struct QuestionVm {
    pub view: QuestionView,
    pub hint: Option<String>,
    pub error_text: String,
    pub scale_value: i64,
    pub ticks: Vec<i64>,
    pub scale_label: String,
    pub progress_label: String,
    pub percent: String,
    pub submit_label: &'static str,
}

impl QuestionVm {
    pub fn new(view: QuestionView, t: &'static Texts) -> QuestionVm {
        let n_options = view.options.len();
        let (min, max) = (
            view.min_select.unwrap_or(0),
            view.max_select.unwrap_or(n_options),
        );
        let hint = (view.kind == "multi").then(|| {
            if min == max {
                fill(t.err_choose_exactly, &[("n", &min)])
            } else if max >= n_options && min <= 1 {
                t.hint_multi_any.to_string()
            } else if min <= 1 {
                fill(t.hint_multi_max, &[("max", &max)])
            } else {
                fill(t.hint_multi_range, &[("min", &min), ("max", &max)])
            }
        });
        let error_text = match (view.kind, &view.scale) {
            (_, Some(s)) => fill(t.err_value, &[("min", &s.min), ("max", &s.max)]),
            ("multi", _) if min == max => fill(t.err_choose_exactly, &[("n", &min)]),
            ("multi", _) if min == 0 => fill(t.err_choose_max, &[("max", &max)]),
            ("multi", _) => fill(t.err_choose_range, &[("min", &min), ("max", &max)]),
            _ => t.err_choose_one.to_string(),
        };
        let (scale_value, ticks, scale_label) = match &view.scale {
            Some(s) => (
                s.min + (s.max - s.min) / 2,
                if s.max - s.min <= 10 {
                    (s.min..=s.max).collect()
                } else {
                    vec![]
                },
                fill(t.scale_value_label, &[("min", &s.min), ("max", &s.max)]),
            ),
            None => (0, vec![], String::new()),
        };
        let p = &view.progress;
        let total = p.total_estimate.max(p.index).max(1);
        QuestionVm {
            hint,
            error_text,
            scale_value,
            ticks,
            scale_label,
            progress_label: t.progress(p.index, total),
            percent: format!("{:.1}", p.index as f64 * 100.0 / total as f64),
            submit_label: if p.index >= total {
                t.see_result
            } else {
                t.next
            },
            view,
        }
    }

    /// Ids of what describes the fieldset: help, hint and (when shown) the error.
    pub fn described_by(&self, error: bool) -> String {
        let mut ids = Vec::new();
        if self.view.help.is_some() {
            ids.push("q-help");
        }
        if self.hint.is_some() {
            ids.push("q-hint");
        }
        if error {
            ids.push("q-error");
        }
        ids.join(" ")
    }

    pub fn total(&self) -> usize {
        self.view
            .progress
            .total_estimate
            .max(self.view.progress.index)
            .max(1)
    }
}

/// The strings `quiz.js` needs to render the next questions itself.
fn script_texts(t: &Texts) -> String {
    serde_json::json!({
        "progress": t.progress,
        "next": t.next,
        "seeResult": t.see_result,
        "skip": t.skip,
        "optional": t.optional,
        "sending": t.sending,
        "hintAny": t.hint_multi_any,
        "hintMax": t.hint_multi_max,
        "hintRange": t.hint_multi_range,
        "scaleLabel": t.scale_value_label,
        "errOne": t.err_choose_one,
        "errRange": t.err_choose_range,
        "errExactly": t.err_choose_exactly,
        "errMax": t.err_choose_max,
        "errValue": t.err_value,
        "rateLimited": t.rate_limited,
    })
    .to_string()
}

#[derive(Template, WebTemplate)]
#[template(path = "public/question.html")]
pub(crate) struct QuestionPage {
    pub chrome: Chrome,
    pub test_title: String,
    pub slug: String,
    pub action: String,
    pub api: String,
    pub texts: String,
    pub q: QuestionVm,
    pub show_error: bool,
    pub described_by: String,
    pub notice: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/ready.html")]
pub(crate) struct ReadyPage {
    pub chrome: Chrome,
    pub test_title: String,
    pub action: String,
}

/// Headers of every session page: never cached, never indexed.
const PRIVATE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::HeaderName::from_static("x-robots-tag"), "noindex"),
];

/// `GET /t/{slug}/s/{session}`: whatever the stored state says comes next.
pub async fn current(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path((slug, session)): Path<(String, String)>,
    Query(q): Query<StepQuery>,
    headers: HeaderMap,
) -> Response {
    let live = match visit::load(&quiz, tenant, &session).await {
        Ok(live) => live,
        Err(e) => {
            let lang = lang_of_slug(&quiz, tenant, &slug, &headers).await;
            let ctx = ErrorContext {
                slug: Some(slug),
                retry: None,
            };
            return error_page(lang, e, ctx);
        }
    };
    let def = &live.version.def;
    if def.slug != slug {
        return Redirect::to(&session_path(&def.slug, &session)).into_response();
    }
    if let Some(token) = &live.row.share_token {
        return Redirect::to(&format!("/r/{token}")).into_response();
    }
    let lang = Lang::for_test(&def.lang, &headers);
    let t = super::i18n::texts(lang);
    let path = session_path(&slug, &session);
    let Some(question) = live.state.current().and_then(|i| def.questions.get(i)) else {
        let page = ReadyPage {
            chrome: Chrome::new(lang, &def.lang),
            test_title: def.title.clone(),
            action: format!("{path}/finish"),
        };
        return (PRIVATE, page).into_response();
    };
    let view = QuestionView::new(question, live.state.progress(def));
    let q_vm = QuestionVm::new(view, t);
    let show_error = q.e.is_some();
    let page = QuestionPage {
        described_by: q_vm.described_by(show_error),
        chrome: Chrome::new(lang, &def.lang),
        test_title: def.title.clone(),
        slug: slug.clone(),
        action: format!("{path}/answer"),
        api: format!("/api/v1/sessions/{session}"),
        texts: script_texts(t),
        q: q_vm,
        show_error,
        notice: q.moved.is_some().then_some(t.moved_on),
    };
    (PRIVATE, page).into_response()
}

/// `POST /t/{slug}/s/{session}/answer`: fields `question_id`, `option` (repeated for `multi`),
/// `value` (scale), `skip` (an optional question left empty).
pub async fn answer(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path((slug, session)): Path<(String, String)>,
    ClientKey(client): ClientKey,
    KnownVisitor(visitor_id): KnownVisitor,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let path = session_path(&slug, &session);
    let skip = field(&fields, "skip").is_some();
    let question_id = field(&fields, "question_id").unwrap_or_default();
    let options: Vec<String> = if skip {
        vec![]
    } else {
        fields
            .iter()
            .filter(|(k, _)| k == "option")
            .map(|(_, v)| v.clone())
            .collect()
    };
    // A value that is not a whole number is no value: the domain then reports it missing.
    let value = if skip {
        None
    } else {
        field(&fields, "value").and_then(|v| v.trim().parse::<i64>().ok())
    };
    let input = AnswerInput {
        question_id,
        selected_option_ids: &options,
        value,
    };
    if let Err(e) = quiz.core.limit("answers", &client, quiz.cfg.answers).await {
        return failed_page(&quiz, tenant, &slug, &path, &headers, e).await;
    }
    let answered = match visit::submit_answer(&quiz, tenant, &session, Some(&slug), &input).await {
        Ok(a) => a,
        Err(e) => return answer_failed(&quiz, tenant, &slug, &path, &headers, e).await,
    };
    if answered.next.is_some() {
        return Redirect::to(&path).into_response();
    }
    // The last answer: compute the result right away (a separate click would only cost time).
    let owner = crate::store::Owner {
        visitor_id,
        user_id: None,
    };
    match visit::complete(&quiz, tenant, &session, Some(&slug), &owner).await {
        Ok(done) => Redirect::to(&format!("/r/{}", done.token)).into_response(),
        Err(e) => answer_failed(&quiz, tenant, &slug, &path, &headers, e).await,
    }
}

/// Where an answer that was not taken sends the visitor: back to the question with a note when
/// the answer did not fit or the session moved on, to what is true now when the session is
/// finished or complete, and to an error page otherwise.
async fn answer_failed(
    quiz: &Quiz,
    tenant: &TenantId,
    slug: &str,
    path: &str,
    headers: &HeaderMap,
    e: QuizError,
) -> Response {
    match e {
        QuizError::InvalidAnswer(_) => Redirect::to(&format!("{path}?e=1")).into_response(),
        QuizError::NotCurrent { .. } | QuizError::ConcurrentAnswer => {
            Redirect::to(&format!("{path}?moved=1")).into_response()
        }
        QuizError::Finished | QuizError::QuestionsRemain => Redirect::to(path).into_response(),
        other => failed_page(quiz, tenant, slug, path, headers, other.into()).await,
    }
}

async fn failed_page(
    quiz: &Quiz,
    tenant: &TenantId,
    slug: &str,
    path: &str,
    headers: &HeaderMap,
    e: ApiError,
) -> Response {
    let lang = lang_of_slug(quiz, tenant, slug, headers).await;
    let ctx = ErrorContext {
        slug: Some(slug.to_string()),
        retry: Some(path.to_string()),
    };
    error_page(lang, e, ctx)
}

/// `POST /t/{slug}/s/{session}/finish` → 303 to the result.
pub async fn finish(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path((slug, session)): Path<(String, String)>,
    KnownVisitor(visitor_id): KnownVisitor,
    headers: HeaderMap,
) -> Response {
    let path = session_path(&slug, &session);
    let owner = crate::store::Owner {
        visitor_id,
        user_id: None,
    };
    match visit::complete(&quiz, tenant, &session, Some(&slug), &owner).await {
        Ok(done) => Redirect::to(&format!("/r/{}", done.token)).into_response(),
        // Questions remain (or the session moved on): the GET shows what is true now.
        Err(QuizError::QuestionsRemain | QuizError::Finished | QuizError::ConcurrentAnswer) => {
            Redirect::to(&path).into_response()
        }
        Err(e) => {
            let lang = lang_of_slug(&quiz, tenant, &slug, &headers).await;
            let ctx = ErrorContext {
                slug: Some(slug),
                retry: Some(path),
            };
            error_page(lang, e, ctx)
        }
    }
}
