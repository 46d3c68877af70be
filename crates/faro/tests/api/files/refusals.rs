//! What the files API refuses: bodies over the limit or the plan's storage (with nothing
//! kept), forged, tampered
//! and expired links, other tenants' files, and requests that are not an upload.

use faro_files::signing::UrlSigner;
use reqwest::Method;
use serde_json::json;

use super::{Ctx, files_test};

const LIMIT: usize = 6 * 1024 * 1024;

async fn over_the_limit_nothing_is_kept(ctx: Ctx) {
    let app = &ctx.app;
    // Past one S3 part before the limit is crossed: the multipart upload has begun and must be
    // aborted. The client gets the 413 (not a reset connection) while it is still sending.
    let too_big = vec![7u8; LIMIT + 10 * 1024];
    let r = ctx
        .upload("huge.bin", "application/octet-stream", &too_big)
        .await;
    r.assert_error(413, "payload_too_large");
    assert_eq!(r.json()["error"]["details"]["limit_bytes"], LIMIT);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, 0, "no row");
    assert_eq!(ctx.all_objects().await, Vec::<String>::new(), "no object");
    // Below one part too (the single-PUT path).
    let r = ctx
        .upload("small.txt", "text/plain", &vec![b'a'; 600])
        .await;
    assert_eq!(r.status, 201, "{r}");

    // Not an upload at all.
    app.admin_post("/api/v1/admin/files", &json!({"file": "x"}))
        .await
        .assert_error(415, "unsupported_media_type");
    let (ct, body) = super::form("document", "a.txt", "text/plain", b"hello");
    ctx.upload_raw(ct, body, None)
        .await
        .assert_error(400, "bad_upload");
    let (ct, body) = super::form("file", "a.txt", "text/plain", b"hello");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/files")
                .header("content-type", ct)
                .body(body),
        )
        .await;
    r.assert_error(401, "unauthorized");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, 1);
    assert_eq!(ctx.all_objects().await.len(), 1);
}

files_test!(over_the_limit_nothing_is_kept, "FILES_MAX_BYTES" => "6291456");

async fn past_the_storage_quota_nothing_is_kept(ctx: Ctx) {
    let app = &ctx.app;
    let plan = app
        .admin(Method::PUT, "/api/v1/platform/plans/tiny")
        .await
        .json(&json!({"quotas": {"storage_mb": 1}}));
    assert_eq!(app.send(plan).await.status, 200);
    let tenant = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/default")
        .await
        .json(&json!({"plan": "tiny"}));
    assert_eq!(app.send(tenant).await.status, 200);

    let kib = |n: usize| vec![3u8; n * 1024];
    let r = ctx
        .upload("a.bin", "application/octet-stream", &kib(700))
        .await;
    assert_eq!(r.status, 201, "{r}");
    // 700 KiB more does not fit in the 324 left: refused as the stream crosses the room, with
    // the plan's reason, and neither a row nor an object is left of it.
    let r = ctx
        .upload("b.bin", "application/octet-stream", &kib(700))
        .await;
    r.assert_error(429, "quota_exceeded");
    let details = &r.json()["error"]["details"];
    assert_eq!(details["quota"], "storage_mb", "{r}");
    assert_eq!(details["plan"], "tiny", "{r}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, 1, "one row");
    assert_eq!(ctx.all_objects().await.len(), 1, "one object");
    // What fits still does, to the byte.
    let r = ctx
        .upload("c.bin", "application/octet-stream", &kib(324))
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = ctx.upload("d.bin", "application/octet-stream", &[1]).await;
    r.assert_error(429, "quota_exceeded");
    assert_eq!(ctx.all_objects().await.len(), 2);
}
files_test!(past_the_storage_quota_nothing_is_kept);

async fn links_and_tenants(ctx: Ctx) {
    let app = &ctx.app;
    let r = ctx
        .upload("mine.txt", "text/plain", b"default's file")
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mine = r.json();
    let id = mine["id"].as_str().expect("id").to_string();
    let url = mine["download_url"].as_str().expect("url").to_string();
    assert_eq!(ctx.download(&url, &[]).await.status, 200);

    // Tampered links: another signature, another expiry, another file, no signature.
    let (base, sig) = url.rsplit_once("&sig=").expect("sig");
    let flipped = if sig.ends_with('A') { "B" } else { "A" };
    let exp: i64 = base
        .rsplit_once("exp=")
        .and_then(|(_, e)| e.parse().ok())
        .expect("exp");
    for bad in [
        format!("{base}&sig={}{flipped}", &sig[..sig.len() - 1]),
        format!(
            "{}&sig={sig}",
            base.replace(&exp.to_string(), &(exp + 3600).to_string())
        ),
        url.replace(&id, "0193a1f2-7c4e-7d2a-9b1e-3f5a6b7c8d9e"),
        base.to_string(),
        format!("{}/files/{id}", app.base),
    ] {
        let d = ctx.download(&bad, &[]).await;
        assert_eq!(d.status, 403, "{bad}");
        let body: serde_json::Value = serde_json::from_slice(&d.bytes).expect("a JSON error");
        assert_eq!(body["error"]["code"], "invalid_signature", "{bad}");
    }
    // A link made with the real key that has expired.
    let key = faro_store::get_setting(&app.core.db, faro_files::signing::SETTING)
        .await
        .expect("settings")
        .expect("the key was made on first use");
    let signer = UrlSigner::new(key.as_bytes()).expect("signer");
    let now = faro_store::unix_now();
    let expired = format!("{}{}", app.base, signer.path(&id, now - 1));
    let d = ctx.download(&expired, &[]).await;
    assert_eq!(d.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&d.bytes).expect("a JSON error");
    assert_eq!(body["error"]["code"], "link_expired");
    // A valid link to a file that does not exist.
    let missing = format!(
        "{}{}",
        app.base,
        signer.path("0193a1f2-7c4e-7d2a-9b1e-3f5a6b7c8d9e", now + 60)
    );
    assert_eq!(ctx.download(&missing, &[]).await.status, 404);

    // Another tenant's staff cannot see, read or delete the file, even by its id.
    let other = super::second_tenant(app, "t2", faro_auth::Role::Admin).await;
    let as_other = |method: Method, path: String| {
        let req = app.request(method, &path).bearer_auth(&other);
        app.send(req)
    };
    as_other(Method::GET, format!("/api/v1/admin/files/{id}"))
        .await
        .assert_error(404, "not_found");
    as_other(Method::DELETE, format!("/api/v1/admin/files/{id}"))
        .await
        .assert_error(404, "not_found");
    let theirs = as_other(Method::GET, "/api/v1/admin/files".into()).await;
    assert_eq!(theirs.status, 200, "{theirs}");
    assert_eq!(theirs.json()["items"], json!([]));
    assert!(ctx.stored("default", &id).await, "still there");
    // Their own file is theirs only, and lives under their tenant's prefix.
    let (ct, body) = super::form("file", "t2.txt", "text/plain", b"t2's file");
    let r = ctx.upload_raw(ct, body, Some(&other)).await;
    assert_eq!(r.status, 201, "{r}");
    let t2_id = r.json()["id"].as_str().expect("id").to_string();
    assert!(ctx.stored("t2", &t2_id).await);
    app.admin_get(&format!("/api/v1/admin/files/{t2_id}"))
        .await
        .assert_error(404, "not_found");
    let listed = app.admin_get("/api/v1/admin/files").await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

files_test!(links_and_tenants);
