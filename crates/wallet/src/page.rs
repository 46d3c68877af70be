//! The end user's wallet page, `GET /wallet`: the balance, the history with the balance after
//! each line, and buying credits (through the payments module's JSON API, with the test
//! provider's checkout drawn in the page), in the visitor's language (es, ca, pt, en). Server
//! rendered; the script (`/wallet/wallet.js`) signs in and buys. Signed out, it offers to sign
//! in or create an account.

use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use faro_http::enduser::MaybeEndUser;
use faro_web::i18n::Lang;
use serde::Deserialize;

use crate::texts::{Texts, texts};
use crate::{Wallet, accounts, history};

const SCRIPT: &str = include_str!("../assets/wallet.js");

/// The script's address with its version (FNV-1a of its text), hashed once: the address
/// changes with the script, so the script may be cached for good.
static SCRIPT_PATH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/wallet/wallet.js?v={:016x}",
        faro_http::respond::fnv1a(SCRIPT.as_bytes())
    )
});

/// Lines of history the page shows (the API pages through the rest).
const LINES: usize = 20;

pub fn router(w: Wallet) -> Router {
    Router::new()
        .route("/wallet", get(page))
        .route("/wallet/wallet.js", get(script))
        .with_state(w)
}

struct Line {
    label: String,
    amount: String,
    positive: bool,
    when: String,
    after: String,
}

#[derive(Template)]
#[template(path = "wallet/page.html")]
struct Page {
    lang: &'static str,
    t: &'static Texts,
    signed_in: bool,
    available: i64,
    pending_line: Option<String>,
    lines: Vec<Line>,
    paid: bool,
    script: String,
}

#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
    paid: Option<String>,
}

async fn page(
    State(w): State<Wallet>,
    MaybeEndUser(user): MaybeEndUser,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = q
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| Lang::for_visitor(&headers));
    let t = texts(lang);
    let mut page = Page {
        lang: lang.code(),
        t,
        signed_in: user.is_some(),
        available: 0,
        pending_line: None,
        lines: Vec::new(),
        paid: q.paid.is_some(),
        script: SCRIPT_PATH.clone(),
    };
    if let Some(user) = &user {
        let balance = accounts::balance(&w, &user.tenant, &user.id).await;
        let lines = history::transactions(&w, &user.tenant, &user.id, None, LINES).await;
        match (balance, lines) {
            (Ok(b), Ok(mut lines)) => {
                lines.truncate(LINES);
                page.available = b.available;
                page.pending_line =
                    (b.pending > 0).then(|| faro_web::i18n::fill(t.pending, &[("n", &b.pending)]));
                page.lines = lines
                    .iter()
                    .map(|l| Line {
                        label: t.code(lang, &l.code),
                        amount: if l.amount > 0 {
                            format!("+{}", l.amount)
                        } else {
                            l.amount.to_string()
                        },
                        positive: l.amount > 0,
                        when: l.at.get(..16).unwrap_or(&l.at).replace('T', " "),
                        after: faro_web::i18n::fill(t.after, &[("n", &l.balance)]),
                    })
                    .collect();
            }
            (Err(e), _) | (_, Err(e)) => {
                return faro_http::ApiError::from(e).into_response();
            }
        }
    }
    match page.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => faro_http::ApiError::internal(e).into_response(),
    }
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        SCRIPT,
    )
        .into_response()
}
