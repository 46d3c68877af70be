//! The panel's Settings page (owners and admins): branding (colours, logo, texts), the
//! origins allowed to call the API from a browser, the names shown for the roles, two-factor
//! for all staff, how long each data class is kept, and the history of versions with a one-click restore. Same use cases as
//! `/api/v1/admin/settings`: every save is a new version, audited; two admins saving at once
//! do not overwrite each other (the form carries the version it was read from). Quotas are
//! the plan's and are shown, not edited, here.
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/settings` | the form and the history |
//! | `POST /admin/settings` | save a new version |
//! | `POST /admin/settings/versions/{n}/restore` | write version n again as the newest |

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_auth::Role;
use faro_http::{ApiError, Core};
use faro_web::panel::{
    AdminForm, FormData, PageAdmin, PageError, PageResult, PanelUser, Shell, render,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SettingsError;
use super::domain::{RETENTION_CLASSES, role_name};
use crate::tenants::domain::Problem;

pub const NAV: faro_http::NavLink = faro_http::NavLink {
    section: "settings",
    label: "Settings",
    href: "/admin/settings",
    admins_only: true,
};

const HISTORY: i64 = 20;
const COLORS: [(&str, &str); 4] = [
    ("primary", "Primary (buttons, links)"),
    ("accent", "Accent (highlights)"),
    ("background", "Background"),
    ("text", "Text"),
];

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/admin/settings", get(page).post(save))
        .route("/admin/settings/versions/{n}/restore", post(restore))
        .with_state(core)
}

/// The form's fields, as typed (shown again when the save is refused).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    /// In `COLORS` order.
    pub colors: [String; 4],
    pub logo: String,
    /// `name = text`, one per line.
    pub texts: String,
    /// One origin per line.
    pub origins: String,
    /// In `Role::ALL` order; empty = the role's own name.
    pub roles: [String; 4],
    pub require_totp: bool,
    /// Days, in `RETENTION_CLASSES` order; empty = kept until erased.
    pub retention: [String; 3],
}

impl Fields {
    /// The form of a saved document.
    pub fn of(doc: &Value) -> Fields {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let texts = doc["branding"]["texts"]
            .as_object()
            .map(|t| {
                t.iter()
                    .map(|(k, v)| format!("{k} = {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let origins = doc["origins"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        Fields {
            colors: COLORS.map(|(k, _)| text(&doc["branding"]["colors"][k])),
            logo: text(&doc["branding"]["logo"]),
            texts,
            origins,
            roles: Role::ALL.map(|r| text(&doc["roles"][r.as_str()])),
            require_totp: super::domain::requires_totp(doc),
            retention: RETENTION_CLASSES.map(|c| {
                doc["retention"][c]
                    .as_u64()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            }),
        }
    }

    fn from_form(form: &FormData) -> Fields {
        Fields {
            colors: COLORS.map(|(k, _)| form.text(&format!("color_{k}")).trim().to_owned()),
            logo: form.text("logo").trim().to_owned(),
            texts: form.text("texts").to_owned(),
            origins: form.text("origins").to_owned(),
            roles: Role::ALL.map(|r| form.text(&format!("role_{}", r.as_str())).trim().to_owned()),
            require_totp: form.has("require_totp"),
            retention: RETENTION_CLASSES
                .map(|c| form.text(&format!("retention_{c}")).trim().to_owned()),
        }
    }
}

/// The document the form makes, on top of `current` (whose other parts stay, but not the
/// `quotas` of documents written before quotas moved to plans),
/// or the lines of `texts` that are not `name = text`. Pure: the document's own rules are
/// [`super::domain::check`]'s.
pub fn document(current: &Value, f: &Fields) -> Result<Value, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut colors = Map::new();
    for ((key, _), value) in COLORS.iter().zip(&f.colors) {
        if !value.is_empty() {
            colors.insert((*key).to_owned(), json!(value.to_ascii_lowercase()));
        }
    }
    let mut texts = Map::new();
    for (i, line) in f.texts.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                texts.insert(k.trim().to_owned(), json!(v.trim()));
            }
            _ => problems.push(Problem::new(
                format!("texts line {}", i + 1),
                "write each text as name = text",
            )),
        }
    }
    let mut retention = Map::new();
    for (class, days) in RETENTION_CLASSES.iter().zip(&f.retention) {
        if days.is_empty() {
            continue;
        }
        match days.parse::<u64>() {
            Ok(d) => {
                retention.insert((*class).to_owned(), json!(d));
            }
            Err(_) => problems.push(Problem::new(
                format!("retention {class}"),
                "a whole number of days, or empty to keep until erased",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut branding = Map::new();
    if !colors.is_empty() {
        branding.insert("colors".into(), Value::Object(colors));
    }
    if !f.logo.is_empty() {
        branding.insert("logo".into(), json!(f.logo));
    }
    if !texts.is_empty() {
        branding.insert("texts".into(), Value::Object(texts));
    }
    let origins: Vec<&str> = f
        .origins
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut roles = Map::new();
    for (role, name) in Role::ALL.iter().zip(&f.roles) {
        if !name.is_empty() {
            roles.insert(role.as_str().to_owned(), json!(name));
        }
    }
    let mut doc = current.as_object().cloned().unwrap_or_default();
    doc.remove("quotas");
    doc.insert("branding".into(), Value::Object(branding));
    doc.insert("origins".into(), json!(origins));
    if retention.is_empty() {
        doc.remove("retention");
    } else {
        doc.insert("retention".into(), Value::Object(retention));
    }
    if roles.is_empty() {
        doc.remove("roles");
    } else {
        doc.insert("roles".into(), Value::Object(roles));
    }
    let mut security = doc
        .get("security")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    security.insert("require_totp".into(), json!(f.require_totp));
    doc.insert("security".into(), Value::Object(security));
    Ok(Value::Object(doc))
}

pub struct ColorField {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
}

pub struct RoleField {
    pub key: &'static str,
    pub placeholder: String,
    pub value: String,
}

pub struct VersionView {
    pub version: i64,
    pub when: String,
    pub actor: String,
    pub note: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "platform/settings.html")]
struct SettingsPage {
    shell: Shell,
    base: i64,
    colors: Vec<ColorField>,
    fields: Fields,
    roles: Vec<RoleField>,
    retention: Vec<(&'static str, &'static str, String)>,
    quotas: Vec<(String, String)>,
    history: Vec<VersionView>,
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<Problem>,
}

/// The plan's quotas as the page lists them: `(what, limit)`, unlimited ones left out.
fn plan_quotas(plan: Option<(String, Value)>) -> Vec<(String, String)> {
    let Some((_, quotas)) = plan else {
        return Vec::new();
    };
    faro_store::quota::Quota::ALL
        .into_iter()
        .filter_map(|q| {
            let n = quotas.get(q.key())?.as_u64()?;
            Some((q.noun().to_owned(), n.to_string()))
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
    v: Option<i64>,
}

#[derive(Default)]
struct Shown {
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<Problem>,
    /// The fields as typed, when a save was refused.
    typed: Option<(i64, Fields)>,
}

async fn show(core: &Core, user: &PanelUser, status: StatusCode, shown: Shown) -> PageResult {
    let current = super::current(&core.db, &user.tenant)
        .await
        .map_err(ApiError::from)?;
    let history = super::versions(&core.db, &user.tenant, None, HISTORY)
        .await
        .map_err(ApiError::from)?;
    let (base, fields) = shown
        .typed
        .unwrap_or_else(|| (current.version, Fields::of(&current.doc)));
    let colors = COLORS
        .iter()
        .zip(&fields.colors)
        .map(|((key, label), value)| ColorField {
            key,
            label,
            value: value.clone(),
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .zip(&fields.roles)
        .map(|(r, value)| RoleField {
            key: r.as_str(),
            placeholder: role_name(&json!({}), *r),
            value: value.clone(),
        })
        .collect();
    let retention = RETENTION_CLASSES
        .iter()
        .zip(&fields.retention)
        .map(|(class, days)| {
            let label = match *class {
                "visitors" => "Anonymous visitors (days since last seen)",
                "end_users" => "End users (days since their last sign-in)",
                _ => "Audit log entries (days)",
            };
            (*class, label, days.clone())
        })
        .collect();
    let plan = faro_store::quota::plan_of(core.db.reader(), &user.tenant)
        .await
        .map_err(ApiError::from)?;
    let quotas = plan_quotas(plan);
    let history = history
        .into_iter()
        .map(|v| VersionView {
            current: v.version == current.version,
            version: v.version,
            when: faro_web::panel::datetime(v.created_at),
            actor: v.actor,
            note: v.note.unwrap_or_default(),
        })
        .collect();
    Ok(render(
        status,
        &SettingsPage {
            shell: user.shell("settings"),
            base,
            colors,
            fields,
            roles,
            retention,
            quotas,
            history,
            notice: shown.notice,
            error: shown.error,
            problems: shown.problems,
        },
    ))
}

/// `GET /admin/settings`.
async fn page(
    State(core): State<Core>,
    PageAdmin(user): PageAdmin,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match (q.msg.as_deref(), q.v) {
        (Some("saved"), Some(v)) => Some(format!(
            "Saved as version {v}. Allowed origins and two-factor apply at once here and within 5 seconds on every instance."
        )),
        (Some("restored"), Some(v)) => Some(format!("Restored: version {v} is the newest now.")),
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    show(&core, &user, StatusCode::OK, shown).await
}

/// `POST /admin/settings`: the form's fields and `base`, the version it was read from.
async fn save(State(core): State<Core>, AdminForm { user, form }: AdminForm) -> Response {
    let fields = Fields::from_form(&form);
    let Ok(base) = form.text("base").parse::<i64>() else {
        return PageError::bad_request("The form lacks the version it was read from: reload it.")
            .into_response();
    };
    let current = match super::current(&core.db, &user.tenant).await {
        Ok(c) => c,
        Err(e) => return PageError::from(ApiError::from(e)).into_response(),
    };
    let refused = |status: StatusCode, error: Option<String>, problems: Vec<Problem>| {
        let shown = Shown {
            error,
            problems,
            typed: Some((base, fields.clone())),
            notice: None,
        };
        (status, shown)
    };
    let outcome = match document(&current.doc, &fields) {
        Err(problems) => Err(refused(StatusCode::UNPROCESSABLE_ENTITY, None, problems)),
        Ok(doc) => {
            match super::save(&core.db, &user.tenant, doc, Some(base), &user.actor()).await {
                Ok(v) => Ok(v.version),
                Err(SettingsError::Invalid(problems)) => {
                    Err(refused(StatusCode::UNPROCESSABLE_ENTITY, None, problems))
                }
                Err(SettingsError::Changed(now)) => Err(refused(
                    StatusCode::CONFLICT,
                    Some(format!(
                        "Someone saved the settings while you were editing (now version {now}). Your changes are below, not saved: open Settings again to see theirs, then make yours."
                    )),
                    Vec::new(),
                )),
                Err(e) => return PageError::from(ApiError::from(e)).into_response(),
            }
        }
    };
    match outcome {
        Ok(v) => {
            core.tenants.invalidate();
            Redirect::to(&format!("/admin/settings?msg=saved&v={v}")).into_response()
        }
        Err((status, shown)) => show(&core, &user, status, shown).await.into_response(),
    }
}

/// `POST /admin/settings/versions/{n}/restore`.
async fn restore(
    State(core): State<Core>,
    Path(n): Path<i64>,
    AdminForm { user, .. }: AdminForm,
) -> Response {
    match super::rollback(&core.db, &user.tenant, n, &user.actor()).await {
        Ok(v) => {
            core.tenants.invalidate();
            Redirect::to(&format!("/admin/settings?msg=restored&v={}", v.version)).into_response()
        }
        Err(e) => PageError::from(ApiError::from(e)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            colors: [
                "#0A7D5A".into(),
                String::new(),
                String::new(),
                "#111111".into(),
            ],
            logo: "https://cdn.example.com/logo.svg".into(),
            texts: "tagline = Cocinas a medida\n\nfooter= © López".into(),
            origins: " https://www.cocinaslopez.es \n\nhttp://localhost:5173\n".into(),
            roles: [
                String::new(),
                String::new(),
                "Comercial".into(),
                String::new(),
            ],
            require_totp: true,
            retention: ["365".into(), String::new(), "1825".into()],
        }
    }

    #[test]
    fn the_form_makes_the_document_and_drops_old_quotas() {
        let current = json!({"branding": {"logo": "https://old"}, "quotas": {"tests": 20},
                             "security": {"require_totp": false}});
        let doc = document(&current, &fields()).expect("valid");
        assert_eq!(
            doc,
            json!({
                "branding": {
                    "colors": {"primary": "#0a7d5a", "text": "#111111"},
                    "logo": "https://cdn.example.com/logo.svg",
                    "texts": {"tagline": "Cocinas a medida", "footer": "© López"},
                },
                "origins": ["https://www.cocinaslopez.es", "http://localhost:5173"],
                "retention": {"visitors": 365, "audit_log": 1825},
                "roles": {"agent": "Comercial"},
                "security": {"require_totp": true},
            })
        );
        assert!(super::super::domain::check(&doc).is_empty());
    }

    #[test]
    fn a_saved_document_gives_back_the_same_form() {
        let doc = document(&json!({}), &fields()).expect("valid");
        let again = document(&json!({}), &Fields::of(&doc)).expect("valid");
        assert_eq!(doc, again);
        assert_eq!(Fields::of(&doc).roles[2], "Comercial");
        assert!(Fields::of(&doc).require_totp);
    }

    #[test]
    fn empty_fields_clear_their_settings() {
        let current = json!({"branding": {"logo": "https://old"}, "roles": {"agent": "X"},
                             "origins": ["https://a.es"]});
        let doc = document(&current, &Fields::default()).expect("valid");
        assert_eq!(doc["branding"], json!({}));
        assert_eq!(doc["origins"], json!([]));
        assert!(doc.get("roles").is_none());
        assert_eq!(doc["security"]["require_totp"], false);
    }

    #[test]
    fn a_text_line_without_a_name_is_a_problem_with_its_line() {
        let f = Fields {
            texts: "tagline = Hola\njust words\n= no name".into(),
            retention: ["a year".into(), String::new(), String::new()],
            ..Fields::default()
        };
        let problems = document(&json!({}), &f).expect_err("two bad lines");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["texts line 2", "texts line 3", "retention visitors"]
        );
    }
}
