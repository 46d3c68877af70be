//! Upload → list → signed download → delete, with the type sniffed from the bytes.

use reqwest::Method;
use serde_json::Value;

use super::{Ctx, PNG, files_test};

/// The SHA-256 of `hello files\n`.
const HELLO_SHA256: &str = "cf2a1999088291aea704804dac731691b768e1fc6afcfcfcaeb6a9ffc7ab7f52";

/// Over one S3 part (5 MiB): the streaming multipart path, and over the JSON body limit.
fn big_file() -> Vec<u8> {
    (0..6 * 1024 * 1024 + 333)
        .map(|i| (i % 241) as u8)
        .collect()
}

async fn uploaded(ctx: &Ctx, name: &str, part_type: &str, bytes: &[u8]) -> Value {
    let r = ctx.upload(name, part_type, bytes).await;
    assert_eq!(r.status, 201, "{name}: {r}");
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn upload_list_download_delete(ctx: Ctx) {
    let app = &ctx.app;
    let text = uploaded(&ctx, "notes.txt", "text/plain", b"hello files\n").await;
    assert_eq!(text["name"], "notes.txt");
    assert_eq!(text["content_type"], "text/plain; charset=utf-8");
    assert_eq!(text["size"], 12);
    assert_eq!(text["sha256"], HELLO_SHA256);
    assert!(
        text["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let url = text["download_url"].as_str().expect("download_url");
    assert!(
        url.starts_with(&format!("{}/files/{}?exp=", app.base, id(&text))),
        "{url}"
    );

    // The client's name and type say text; the bytes say PNG, and the bytes win.
    let png = uploaded(&ctx, "../../x.txt", "text/plain", PNG).await;
    assert_eq!(png["content_type"], "image/png");
    assert_eq!(png["name"], "x.txt");
    // Markup that could run script, whatever it claims to be.
    let html = uploaded(
        &ctx,
        "cat.png",
        "image/png",
        b"<!doctype html><script>alert(document.cookie)</script>",
    )
    .await;
    assert_eq!(html["content_type"], "text/html; charset=utf-8");
    let svg = uploaded(
        &ctx,
        "logo.svg",
        "image/svg+xml",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
    )
    .await;
    assert_eq!(svg["content_type"], "image/svg+xml");
    let big_bytes = big_file();
    let big = uploaded(&ctx, "dump.bin", "application/zip", &big_bytes).await;
    assert_eq!(big["content_type"], "application/octet-stream");
    assert_eq!(big["size"], big_bytes.len());

    for f in [&text, &png, &html, &svg, &big] {
        assert!(ctx.stored("default", &id(f)).await, "{f}");
    }
    if let Some(s3) = ctx.s3() {
        assert_eq!(s3.keys().await.len(), 5);
        assert_eq!(s3.pending_uploads().await, 0);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, 5);

    // Newest first, in pages.
    let r = app.admin_get("/api/v1/admin/files").await;
    assert_eq!(r.status, 200, "{r}");
    let list = r.json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["dump.bin", "logo.svg", "cat.png", "x.txt", "notes.txt"]
    );
    assert!(list["next_cursor"].is_null());
    let first = app.admin_get("/api/v1/admin/files?limit=3").await.json();
    assert_eq!(first["items"].as_array().map(Vec::len), Some(3));
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = app
        .admin_get(&format!("/api/v1/admin/files?limit=3&cursor={cursor}"))
        .await
        .json();
    let rest_ids: Vec<&Value> = rest["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| &f["id"])
        .collect();
    assert_eq!(rest_ids, [&png["id"], &text["id"]]);
    assert!(rest["next_cursor"].is_null());

    // Signed downloads: the same bytes, the sniffed type, and safe headers.
    let cases: [(&Value, &[u8], &str, &str); 5] = [
        (
            &text,
            b"hello files\n",
            "text/plain; charset=utf-8",
            "inline",
        ),
        (&png, PNG, "image/png", "inline"),
        (
            &html,
            b"<!doctype html><script>alert(document.cookie)</script>",
            "text/html; charset=utf-8",
            "attachment",
        ),
        (
            &svg,
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "image/svg+xml",
            "attachment",
        ),
        (&big, &big_bytes, "application/octet-stream", "attachment"),
    ];
    for (file, bytes, content_type, disposition) in cases {
        // A client that accepts gzip still gets the stored bytes with their length: downloads
        // are never compressed (their ETag names the exact bytes).
        let d = ctx
            .download(
                file["download_url"].as_str().expect("url"),
                &[("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(d.status, 200, "{file}");
        assert_eq!(d.header("content-encoding"), None, "{file}");
        assert!(d.bytes == bytes, "{}: the bytes differ", file["name"]);
        assert_eq!(d.header("content-type"), Some(content_type));
        assert_eq!(
            d.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(d.header("x-content-type-options"), Some("nosniff"));
        let cd = d
            .header("content-disposition")
            .expect("content-disposition");
        assert!(
            cd.starts_with(&format!("{disposition}; filename=\"")),
            "{cd}"
        );
        assert_eq!(
            d.header("etag"),
            Some(format!("\"{}\"", file["sha256"].as_str().expect("sha256")).as_str())
        );
        let cache = d.header("cache-control").expect("cache-control");
        let max_age: i64 = cache
            .strip_prefix("private, max-age=")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{cache}"));
        assert!((3500..=3600).contains(&max_age), "{cache}");
        let csp = d.header("content-security-policy").expect("csp");
        assert!(csp.contains("sandbox"), "{csp}");
    }
    // Revalidation with the ETag costs no body.
    let again = ctx
        .download(
            text["download_url"].as_str().expect("url"),
            &[("if-none-match", &format!("\"{HELLO_SHA256}\""))],
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());

    // One file, with a fresh link.
    let r = app
        .admin_get(&format!("/api/v1/admin/files/{}", id(&png)))
        .await;
    assert_eq!(r.status, 200, "{r}");
    let one = r.json();
    assert_eq!(one["sha256"], png["sha256"]);
    let d = ctx
        .download(one["download_url"].as_str().expect("url"), &[])
        .await;
    assert!(d.status == 200 && d.bytes == PNG);

    // Delete: the row and the object go; the old link stops working.
    let r = app
        .admin_delete(&format!("/api/v1/admin/files/{}", id(&big)))
        .await;
    assert_eq!(r.status, 204, "{r}");
    assert!(
        !ctx.stored("default", &id(&big)).await,
        "the object is gone"
    );
    if let Some(dir) = ctx.files_dir() {
        assert!(!dir.join("default").join(id(&big)).exists());
    }
    if let Some(s3) = ctx.s3() {
        assert!(!s3.keys().await.contains(&format!("default/{}", id(&big))));
    }
    assert_eq!(ctx.all_objects().await.len(), 4);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, 4);
    let gone = ctx
        .download(big["download_url"].as_str().expect("url"), &[])
        .await;
    assert_eq!(gone.status, 404);
    let r = app
        .admin_get(&format!("/api/v1/admin/files/{}", id(&big)))
        .await;
    r.assert_error(404, "not_found");
    let r = app
        .admin_delete(&format!("/api/v1/admin/files/{}", id(&big)))
        .await;
    r.assert_error(404, "not_found");
    let left = app.admin_get("/api/v1/admin/files").await.json();
    assert_eq!(left["items"].as_array().map(Vec::len), Some(4));

    // The endpoints are in the OpenAPI document, the upload as a multipart form.
    let doc = app.get("/api/v1/openapi.json").await.json();
    let paths = &doc["paths"];
    assert!(
        paths["/api/v1/admin/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    assert!(paths["/api/v1/admin/files"]["get"].is_object());
    assert!(paths["/api/v1/admin/files/{id}"]["delete"].is_object());
    assert!(paths["/files/{id}"]["get"]["responses"]["403"].is_object());

    // A viewer reads but cannot write.
    let viewer = super::staff_token(app, "default", "vic", faro_auth::Role::Viewer).await;
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/admin/files")
                .bearer_auth(&viewer),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let (ct, body) = super::form("file", "v.txt", "text/plain", b"viewer");
    ctx.upload_raw(ct, body, Some(&viewer))
        .await
        .assert_error(403, "forbidden");
    let r = app
        .send(
            app.request(
                Method::DELETE,
                &format!("/api/v1/admin/files/{}", id(&text)),
            )
            .bearer_auth(&viewer),
        )
        .await;
    r.assert_error(403, "forbidden");

    // Uploads and deletions are in the audit log (the viewer's refused ones are not).
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("file."))
        .collect();
    assert!(actions.contains(&"file.upload"), "{audit}");
    assert!(actions.contains(&"file.delete"), "{audit}");
    let upload = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "file.upload" && e["target"] == id(&text).as_str())
        .expect("the text file's upload");
    assert_eq!(upload["after"]["name"], "notes.txt");
    assert_eq!(upload["after"]["size"], 12);
}

files_test!(upload_list_download_delete, "FILES_MAX_BYTES" => "8388608");
