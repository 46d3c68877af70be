//! Response helpers every module's API shares: bounded page sizes and opaque cursors (the
//! list convention), cacheable JSON with ETags, optional JSON bodies and RFC 3339 times.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;

use crate::{ApiError, ApiResult};

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub fn page_limit(limit: Option<u32>) -> ApiResult<usize> {
    match limit.unwrap_or(50) {
        n @ 1..=200 => Ok(n as usize),
        _ => Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 200",
        )),
    }
}

/// Cursors are opaque to clients; inside, the last slug of the page.
pub fn encode_cursor(slug: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(slug)
}

pub fn decode_cursor(cursor: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not one we issued"))
}

/// JSON with a strong ETag over its bytes and a public Cache-Control; 304 when the client's
/// `If-None-Match` already names it.
pub fn cached_json<T: Serialize>(headers: &HeaderMap, body: &T, max_age: u32) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let etag = format!("\"{:016x}\"", fnv1a(&bytes));
    let cache = format!("public, max-age={max_age}");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        // Weak comparison (RFC 9110 13.1.2): proxies that compress turn our tag into W/"...".
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}

/// FNV-1a: a fast, stable 64-bit hash; ETags and asset versions need change detection, not
/// security.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// For PATCH fields where `null` means something (switch back to the default): absent is
/// `None`, `null` is `Some(None)`, a value is `Some(Some(v))`. Use with `#[serde(default)]`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// A JSON body that may be absent: empty means `T::default()`.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    // No body and a JSON `null` both mean "nothing to say" (the schema declares the body
    // optional and nullable).
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("the body does not have the expected shape: {e}"),
            )
        } else {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
    })
}

/// `?limit=&cursor=`: the query of every list (the list convention of the API).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The checked page size and the key the cursor carries.
    pub fn page(&self) -> ApiResult<(usize, Option<String>)> {
        let limit = page_limit(self.limit)?;
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok((limit, after))
    }
}

/// For rows read as `limit + 1`: keeps the first `limit` and returns the cursor of the next
/// page (the last kept row's key), or `None` when there is no more.
pub fn next_page<T>(rows: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> &str) -> Option<String> {
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    rows.last().map(|r| encode_cursor(key(r)))
}

/// Marks a response the compression layer must leave as it is: a stored file is sent with its
/// own length and an ETag of its exact bytes, and is often compressed already (images, PDFs,
/// archives), so gzip would only cost CPU and change the representation its ETag names.
#[derive(Clone, Copy, Debug)]
pub struct Uncompressed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_limit_rows_and_names_the_next() {
        let mut rows = vec!["a", "b", "c"];
        assert_eq!(next_page(&mut rows, 2, |r| r), Some(encode_cursor("b")));
        assert_eq!(rows, ["a", "b"]);
        let mut rows = vec!["a", "b"];
        assert_eq!(next_page(&mut rows, 2, |r| r), None);
        assert_eq!(rows, ["a", "b"]);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            decode_cursor(&encode_cursor("my-test")).expect("ok"),
            "my-test"
        );
        assert!(decode_cursor("%%%").is_err());
    }

    #[test]
    fn page_limits_are_bounded() {
        assert_eq!(page_limit(None).expect("default"), 50);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(201)).is_err());
    }

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
