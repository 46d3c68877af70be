//! Share links: the public result page (HTML with OpenGraph/Twitter tags) and its JSON, with
//! nothing personal in either.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::both;
use crate::common::{DEMO, TestApp, pick};

/// The `content` of the `<meta>` tag whose `attr` is `name` (e.g. property="og:title").
fn meta(html: &str, attr: &str, name: &str) -> Option<String> {
    let needle = format!("{attr}=\"{name}\"");
    html.split("<meta")
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or(""))
        .find(|tag| tag.contains(&needle))
        .and_then(|tag| {
            let start = tag.find("content=\"")? + "content=\"".len();
            let end = tag[start..].find('"')? + start;
            Some(tag[start..end].to_string())
        })
}

/// Whether the text holds anything shaped like a UUID (session, version or test ids).
fn contains_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    (0..b.len()).any(|start| {
        let mut i = start;
        for (n, len) in shape.iter().enumerate() {
            if i + len > b.len() || !b[i..i + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += len;
            if n < 4 {
                if b.get(i) != Some(&b'-') {
                    return false;
                }
                i += 1;
            }
        }
        true
    })
}

/// A finished demo session: (session id, share token, result).
async fn shared(app: &TestApp) -> (String, String, Value) {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, |q| {
        pick(q, false, &[("ingresos", "inestables")])
    })
    .await;
    let r = app.finish(&s.id).await;
    assert_eq!(r.status, 200, "{r}");
    let result = r.json();
    let url = result["share_url"].as_str().expect("share_url");
    let token = url.rsplit('/').next().expect("token").to_string();
    (s.id, token, result)
}

async fn the_share_page_has_open_graph_and_twitter_tags_and_nothing_personal(app: TestApp) {
    let (sid, token, result) = shared(&app).await;
    let r = app.share(&token, false).await;
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let html = &r.text;
    let share_url = result["share_url"].as_str().expect("url");
    let title = meta(html, "property", "og:title").expect("og:title");
    assert!(title.contains("Agresivo"), "{title}");
    assert!(title.contains("ahorrista"), "{title}");
    let description = meta(html, "property", "og:description").expect("og:description");
    assert!(!description.is_empty());
    assert_eq!(meta(html, "property", "og:url").as_deref(), Some(share_url));
    assert!(meta(html, "name", "twitter:card").is_some(), "twitter:card");
    assert_eq!(meta(html, "name", "twitter:title"), Some(title));
    assert!(meta(html, "name", "twitter:description").is_some());

    assert!(!html.contains(&sid), "no session id in the page");
    assert!(!contains_uuid(html), "no ids at all in the page");
    // The visitor's answers (option keys and texts) are not in it.
    for answer in [
        "mas-10",
        "mas-6",
        "inestables",
        "crecer",
        "avanzado",
        "En más de 10 años",
    ] {
        assert!(
            !html.contains(answer),
            "the page shows the answer {answer:?}"
        );
    }
}
both!(the_share_page_has_open_graph_and_twitter_tags_and_nothing_personal);

async fn the_share_json_has_exactly_the_public_keys(app: TestApp) {
    let (sid, token, result) = shared(&app).await;
    let r = app.share(&token, true).await;
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let v = r.json();
    let keys: BTreeSet<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "test",
        "profile_code",
        "title",
        "summary",
        "recommendations",
        "score",
        "dimensions",
        "share_url",
        "take_url",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let test_keys: BTreeSet<&str> = v["test"]
        .as_object()
        .expect("test")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(test_keys, ["lang", "slug", "title"].into_iter().collect());
    for d in v["dimensions"].as_array().expect("dimensions") {
        let k: BTreeSet<&str> = d
            .as_object()
            .expect("dim")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(k, ["key", "label", "score"].into_iter().collect());
    }
    assert_eq!(v["test"]["slug"], DEMO);
    for field in [
        "profile_code",
        "title",
        "summary",
        "recommendations",
        "score",
        "dimensions",
        "share_url",
    ] {
        assert_eq!(v[field], result[field], "{field} is the result's");
    }
    assert!(!r.text.contains(&sid));
    assert!(!contains_uuid(&r.text), "no ids: {}", r.text);
    assert!(!r.text.to_lowercase().contains("hash"), "{}", r.text);
    assert!(!r.text.contains("inestables"));
}
both!(the_share_json_has_exactly_the_public_keys);

async fn share_opens_are_counted(app: TestApp) {
    let (_, token, _) = shared(&app).await;
    assert_eq!(app.share(&token, false).await.status, 200);
    assert_eq!(app.share(&token, false).await.status, 200);
    assert_eq!(app.share(&token, true).await.status, 200);
    assert_eq!(app.share("aaaaaaaaaaaaaaaaaaaaaa", true).await.status, 404);
    let id = app.test_id(DEMO).await;
    let report = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(report["share_opens"], 3, "{report}");
    assert_eq!(report["finishes"], 1);
}
both!(share_opens_are_counted);

async fn an_unknown_share_token_is_404(app: TestApp) {
    for token in [
        "aaaaaaaaaaaaaaaaaaaaaa",
        "short",
        "..%2F..%2Fetc%2Fpasswd",
        "aaaaaaaaaaaaaaaaaaaaa%27",
    ] {
        let r = app.share(token, true).await;
        assert_eq!(r.status, 404, "{token}: {r}");
        if r.header("content-type").is_some_and(|c| c.contains("json")) {
            assert_eq!(r.error_code(), "result_not_found");
        }
        let r = app.share(token, false).await;
        assert_eq!(r.status, 404, "{token}: {r}");
    }
    app.share("aaaaaaaaaaaaaaaaaaaaaa", true)
        .await
        .assert_error(404, "result_not_found");
    let html = app.share("aaaaaaaaaaaaaaaaaaaaaa", false).await;
    assert!(
        html.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{html}"
    );
}
both!(an_unknown_share_token_is_404);

async fn the_share_page_escapes_what_authors_wrote(app: TestApp) {
    let mut d = crate::common::doc("escaped");
    d["title"] = serde_json::json!("<script>alert('t')</script> & \"quotes\"");
    for p in d["profiles"].as_array_mut().expect("profiles") {
        p["title"] = serde_json::json!("\"><img src=x onerror=alert(1)>");
        p["summary"] = serde_json::json!("<b>bold</b> claims");
    }
    app.create_published(&d).await;
    let result = app.complete("escaped", crate::common::cautious).await;
    let token = result["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();
    let r = app.share(&token, false).await;
    assert_eq!(r.status, 200, "{r}");
    let html = &r.text;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("<b>bold</b>"), "{html}");
    let title = meta(html, "property", "og:title").expect("og:title");
    assert!(!title.contains('"') && !title.contains('<'), "{title}");
    // The JSON carries the texts as written.
    let v = app.share(&token, true).await.json();
    assert_eq!(v["title"], "\"><img src=x onerror=alert(1)>");
}
both!(the_share_page_escapes_what_authors_wrote);
