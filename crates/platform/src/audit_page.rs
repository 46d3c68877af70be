//! The panel's Audit log page (owners and admins): who changed what and when, newest first,
//! each entry with the fields it changed (before → after), older entries a link away, and the
//! whole log as NDJSON from `/api/v1/admin/audit/export` (the session cookie signs the
//! download in).

use askama::Template;
use axum::extract::State;
use faro_http::Core;
use faro_web::panel::{PageAdmin, PageResult, Shell, ok};
use serde::Deserialize;
use serde_json::Value;

use crate::audit::{self, AuditItem};

pub const NAV: faro_http::NavLink = faro_http::NavLink {
    section: "audit",
    label: "Audit log",
    href: "/admin/audit",
    admins_only: true,
};

const PAGE_SIZE: i64 = 50;
/// A changed field's value is cut to this many characters on the page (the export has all).
const SHOWN_CHARS: usize = 120;
/// At most this many changed fields per entry on the page.
const SHOWN_CHANGES: usize = 30;

pub fn router(core: Core) -> axum::Router {
    axum::Router::new()
        .route("/admin/audit", axum::routing::get(page))
        .with_state(core)
}

/// One changed field: its dotted path and its values before and after (`—` when absent).
#[derive(Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    pub before: String,
    pub after: String,
}

pub struct EntryView {
    pub when: String,
    pub actor: String,
    pub impersonator: Option<String>,
    pub action: String,
    pub target: String,
    pub changes: Vec<FieldChange>,
    /// More fields changed than are shown.
    pub more: usize,
}

#[derive(Template)]
#[template(path = "platform/audit.html")]
struct AuditPage {
    shell: Shell,
    entries: Vec<EntryView>,
    next_page: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    before: Option<String>,
}

/// The leaves of `v` by dotted path (arrays and scalars are leaves).
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, child, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

fn shown(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => return "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > SHOWN_CHARS {
        let mut cut: String = text.chars().take(SHOWN_CHARS).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// The fields that differ between `before` and `after`, by path, sorted. Pure.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let mut b = Vec::new();
    let mut a = Vec::new();
    if let Some(v) = before {
        leaves("", v, &mut b);
    }
    if let Some(v) = after {
        leaves("", v, &mut a);
    }
    let b: std::collections::BTreeMap<_, _> = b.into_iter().collect();
    let a: std::collections::BTreeMap<_, _> = a.into_iter().collect();
    let mut paths: Vec<&String> = b.keys().chain(a.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| b.get(*p) != a.get(*p))
        .map(|p| FieldChange {
            path: if p.is_empty() {
                "value".into()
            } else {
                p.clone()
            },
            before: shown(b.get(p)),
            after: shown(a.get(p)),
        })
        .collect()
}

fn view(e: AuditItem) -> EntryView {
    let mut changes = changes(e.before.as_ref(), e.after.as_ref());
    let more = changes.len().saturating_sub(SHOWN_CHANGES);
    changes.truncate(SHOWN_CHANGES);
    EntryView {
        when: faro_web::panel::readable_time(&e.at),
        actor: e.actor,
        impersonator: e.impersonator,
        action: e.action,
        target: e.target,
        changes,
        more,
    }
}

/// `GET /admin/audit[?before=id]`.
async fn page(
    State(core): State<Core>,
    PageAdmin(user): PageAdmin,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> PageResult {
    let before = q.before.as_deref().filter(|s| !s.is_empty());
    let mut rows = audit::list(&core.db, Some(&user.tenant), before, PAGE_SIZE + 1)
        .await
        .map_err(faro_http::ApiError::from)?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_page = more
        .then(|| rows.last().map(|r| format!("/admin/audit?before={}", r.id)))
        .flatten();
    Ok(ok(&AuditPage {
        shell: user.shell("audit"),
        entries: rows.into_iter().map(view).collect(),
        next_page,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(c: &[FieldChange]) -> Vec<&str> {
        c.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn only_changed_leaves_are_listed() {
        let before = json!({"role": "viewer", "disabled": false, "username": "vera",
                            "doc": {"branding": {"colors": {"primary": "#000000"}}}});
        let after = json!({"role": "admin", "disabled": false, "username": "vera",
                           "doc": {"branding": {"colors": {"primary": "#0a7d5a"}}, "origins": ["https://a.es"]}});
        let c = changes(Some(&before), Some(&after));
        assert_eq!(
            paths(&c),
            ["doc.branding.colors.primary", "doc.origins", "role"]
        );
        assert_eq!(c[1].before, "—");
        assert_eq!(c[1].after, "[\"https://a.es\"]");
        assert_eq!(c[2].before, "viewer");
    }

    #[test]
    fn a_creation_lists_every_field_and_a_deletion_too() {
        let row = json!({"id": "k1", "name": "CRM"});
        assert_eq!(paths(&changes(None, Some(&row))), ["id", "name"]);
        assert_eq!(paths(&changes(Some(&row), None)), ["id", "name"]);
        assert!(changes(None, None).is_empty());
        assert!(changes(Some(&row), Some(&row)).is_empty());
        assert_eq!(paths(&changes(Some(&json!(1)), Some(&json!(2)))), ["value"]);
    }

    #[test]
    fn long_values_are_cut() {
        let c = changes(None, Some(&json!({"t": "x".repeat(500)})));
        assert_eq!(c[0].after.chars().count(), SHOWN_CHARS + 1);
        assert!(c[0].after.ends_with('…'));
    }
}
