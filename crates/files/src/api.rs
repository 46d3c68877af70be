//! The JSON API (admin, per tenant) and the signed download route, with their OpenAPI
//! description. Handlers are thin: they turn requests into `Files` calls and results into views.

use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::respond::{PageQuery, next_page, rfc3339};
use faro_http::{ApiError, ApiResult, ClientAddr, Json, Query};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{Files, NewFile, StoredFile};
use crate::{FilesError, sniff};

/// What a multipart body may carry beyond the file itself (boundaries, part headers, other
/// small fields), and what is read and discarded after a file goes over the limit, so that the
/// client, still sending, gets the 413 instead of a reset connection.
const UPLOAD_SLACK: usize = 1024 * 1024;

/// Every route of the module, with its OpenAPI description.
pub fn router(files: Files) -> OpenApiRouter {
    // Uploads get their own body limit (the server's 512 KiB is for JSON); the file's own
    // limit, FILES_MAX_BYTES, is enforced while it streams.
    let limit = usize::try_from(files.cfg.max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(UPLOAD_SLACK);
    let (schemas, paths, upload) = routes!(upload_file);
    OpenApiRouter::new()
        .routes(routes!(list_files))
        .routes((schemas, paths, upload.layer(DefaultBodyLimit::max(limit))))
        .routes(routes!(get_file, delete_file))
        .routes(routes!(download))
        .with_state(files)
}

/// A stored file, with a fresh signed download link.
#[derive(Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    /// The uploaded file's name, sanitised (no path, no control characters).
    pub name: String,
    /// Sniffed from the content, never the client's claim.
    #[schema(example = "image/png")]
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the content (the download's ETag).
    pub sha256: String,
    pub created_at: String,
    /// A signed link that needs no credentials, valid until `download_expires_at`.
    pub download_url: String,
    pub download_expires_at: String,
}

impl FileView {
    async fn of(files: &Files, f: StoredFile) -> ApiResult<FileView> {
        let link = files.signed_url(&f).await?;
        Ok(FileView {
            download_url: link.url,
            download_expires_at: rfc3339(link.expires_at),
            id: f.id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            created_at: rfc3339(f.created_at),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct FileList {
    pub items: Vec<FileView>,
    pub next_cursor: Option<String>,
}

/// The upload form.
#[derive(ToSchema)]
#[allow(dead_code)] // Documentation only: the body is read as a stream.
pub struct UploadForm {
    /// The file. Its stored type is sniffed from the content; the part's Content-Type and the
    /// file name's extension are not trusted.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Lists the tenant's files, newest first.
#[utoipa::path(get, path = "/api/v1/admin/files", tag = "files", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = FileList), (status = 401, body = faro_http::ErrorBody)))]
pub async fn list_files(
    State(files): State<Files>,
    Viewer(user): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<FileList>> {
    let (limit, before) = q.page()?;
    let mut rows = files
        .list(&user.tenant, before.as_deref(), limit + 1)
        .await?;
    let next_cursor = next_page(&mut rows, limit, |f| &f.id);
    let mut items = Vec::with_capacity(rows.len());
    for f in rows {
        items.push(FileView::of(&files, f).await?);
    }
    Ok(Json(FileList { items, next_cursor }))
}

/// Uploads a file (multipart/form-data, field `file`). The body streams to storage; a file
/// over `FILES_MAX_BYTES` is refused with 413 and nothing is kept.
#[utoipa::path(post, path = "/api/v1/admin/files", tag = "files",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = FileView),
        (status = 400, description = "No `file` field, or a malformed multipart body (`bad_upload`)", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody), (status = 403, body = faro_http::ErrorBody),
        (status = 413, description = "The file is over FILES_MAX_BYTES (`payload_too_large`); nothing was stored", body = faro_http::ErrorBody),
        (status = 415, description = "The body is not multipart/form-data (`unsupported_media_type`)", body = faro_http::ErrorBody),
        (status = 503, description = "The storage backend is unavailable (`storage_unavailable`)", body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
    ))]
pub async fn upload_file(
    State(files): State<Files>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    let by = Actor::staff(&user, client.as_deref());
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as multipart/form-data in a field named `file`",
        )
    })?;
    let limit = files.cfg.max_bytes;
    let mut stored: Option<Result<StoredFile, FilesError>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => match stored {
                // The file arrived whole before the body went wrong: keep it.
                Some(Ok(_)) => break,
                // A failure after the file was refused (the body limit) keeps that refusal.
                Some(Err(refused)) => return Err(refused.into()),
                None => return Err(multipart_error(e, limit).into()),
            },
        };
        if field.name() != Some("file") || stored.is_some() {
            // Other fields, and any second file, are read and dropped (a broken body shows
            // at the next field).
            drain(&mut field.map_err(|e| multipart_error(e, limit))).await;
            continue;
        }
        let name = field.file_name().unwrap_or("file").to_string();
        let mut body = field.map_err(|e| multipart_error(e, limit));
        let result = files
            .put(
                &user.tenant,
                NewFile {
                    name: &name,
                    created_by: Some(&user.claims.sub),
                    audit: Some(&by),
                    ..NewFile::default()
                },
                &mut body,
            )
            .await;
        if result.is_err() {
            // Read what is left (bounded by the route's body limit) so the client gets the
            // answer rather than a reset while it is still sending.
            drain(&mut body).await;
        }
        stored = Some(result);
    }
    let file = stored.ok_or_else(|| {
        ApiError::bad_request("bad_upload", "the form has no field named `file`")
    })??;
    Ok((StatusCode::CREATED, Json(FileView::of(&files, file).await?)))
}

/// Reads a stream to its end or its first error, dropping what it reads.
async fn drain<S>(stream: &mut S)
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, FilesError>> + Unpin,
{
    while let Some(Ok(_)) = stream.next().await {}
}

fn multipart_error(e: MultipartError, limit: u64) -> FilesError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        FilesError::TooLarge { limit }
    } else {
        FilesError::BadUpload(format!(
            "the multipart body is malformed: {}",
            e.body_text()
        ))
    }
}

/// One of the tenant's files, with a fresh signed download link.
#[utoipa::path(get, path = "/api/v1/admin/files/{id}", tag = "files",
    params(("id" = String, Path, description = "The file's id")),
    security(("bearer" = [])),
    responses((status = 200, body = FileView), (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such file for this tenant", body = faro_http::ErrorBody)))]
pub async fn get_file(
    State(files): State<Files>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<FileView>> {
    let file = files.get(&user.tenant, &id).await?;
    Ok(Json(FileView::of(&files, file).await?))
}

/// Deletes a file: its content from storage and its record. Links to it stop working.
#[utoipa::path(delete, path = "/api/v1/admin/files/{id}", tag = "files",
    params(("id" = String, Path, description = "The file's id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, description = "No such file for this tenant", body = faro_http::ErrorBody),
        (status = 503, description = "The storage backend is unavailable (`storage_unavailable`)", body = faro_http::ErrorBody)))]
pub async fn delete_file(
    State(files): State<Files>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let by = Actor::staff(&user, client.as_deref());
    files.delete(&user.tenant, &id, Some(&by)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// Expiry, unix seconds (from the signed link).
    pub exp: Option<String>,
    /// base64url HMAC-SHA256 over `id.exp` (from the signed link).
    pub sig: Option<String>,
}

/// Downloads a file through a signed link (no credentials): its sniffed type, `ETag` (the
/// SHA-256), private caching until the link expires. Types that could carry script (HTML, SVG,
/// unknown binaries) come as `attachment`; every download is `nosniff`.
#[utoipa::path(get, path = "/files/{id}", tag = "files",
    params(("id" = String, Path, description = "The file's id"), DownloadQuery),
    responses(
        (status = 200, description = "The file's content",
            content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "image/png"),
                (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"),
                (Vec<u8> = "application/pdf"), (String = "text/plain"), (String = "text/csv"),
                (String = "application/json"), (String = "text/html"), (String = "image/svg+xml"),
                (String = "application/xml"))),
        (status = 304, description = "Not modified (`If-None-Match` names the current ETag)"),
        (status = 403, description = "The link's signature is wrong (`invalid_signature`) or it has expired (`link_expired`)", body = faro_http::ErrorBody),
        (status = 404, description = "The file was deleted", body = faro_http::ErrorBody),
        (status = 503, description = "The storage backend is unavailable (`storage_unavailable`)", body = faro_http::ErrorBody),
    ))]
pub async fn download(
    State(files): State<Files>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (file, exp, stream) = files
        .open_signed(&id, q.exp.as_deref(), q.sig.as_deref())
        .await?;
    let etag = format!("\"{}\"", file.sha256);
    let max_age = (exp - faro_store::unix_now())
        .clamp(0, i64::try_from(files.cfg.url_ttl.as_secs()).unwrap_or(0));
    let mut h = HeaderMap::new();
    let put = |h: &mut HeaderMap, name, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(&mut h, header::ETAG, &etag);
    put(
        &mut h,
        header::CACHE_CONTROL,
        &format!("private, max-age={max_age}"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The link carries a signature: pages it opens must not see it in their Referer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        });
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let content_type = if HeaderValue::from_str(&file.content_type).is_ok() {
        file.content_type.as_str()
    } else {
        sniff::OCTET_STREAM
    };
    put(&mut h, header::CONTENT_TYPE, content_type);
    put(&mut h, header::CONTENT_LENGTH, &file.size.to_string());
    put(
        &mut h,
        header::CONTENT_DISPOSITION,
        &sniff::content_disposition(content_type, &file.name),
    );
    if content_type != "application/pdf" {
        // Nothing a stored file contains may run as this site (the PDF viewer is left the
        // server's policy: a sandbox stops browsers from showing PDFs at all).
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
            ),
        );
    }
    let mut response = (StatusCode::OK, h, Body::from_stream(stream)).into_response();
    response
        .extensions_mut()
        .insert(faro_http::respond::Uncompressed);
    Ok(response)
}
