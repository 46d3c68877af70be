//! `FilesError`: the one error of the module's use cases, converted once into the contract's
//! JSON error.

use axum::http::StatusCode;
use faro_http::ApiError;
use faro_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// No such file for this tenant (another tenant's id included).
    #[error("no such file")]
    NotFound,
    /// The body grew past the limit while streaming; nothing was kept.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The sniffed type is not one the caller accepts (e.g. an avatar that is not an image).
    #[error("files of type {found} are not accepted here")]
    TypeNotAccepted { found: String },
    /// The request did not carry a file the way the endpoint documents.
    #[error("{0}")]
    BadUpload(String),
    /// A download URL whose signature does not match (tampered, or made with another key).
    #[error("the download link is not valid")]
    BadSignature,
    /// A download URL past its expiry.
    #[error("the download link has expired; ask for a new one")]
    Expired,
    /// A key that is not `<tenant>/<uuid>` (a corrupt row, a bad tenant id). Never the client's.
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    /// The storage backend failed (disk, network, S3 refused). Retryable as far as we know.
    #[error("file storage failed: {0}")]
    Backend(String),
    /// The tenant's plan has no room for these bytes; nothing was kept.
    #[error(transparent)]
    Quota(#[from] faro_store::quota::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<object_store::Error> for FilesError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => FilesError::NotFound,
            other => FilesError::Backend(other.to_string()),
        }
    }
}

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::NotFound => ApiError::not_found("no such file"),
            FilesError::TooLarge { limit } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the file is larger than the limit of {limit} bytes (FILES_MAX_BYTES)"),
            )
            .with_details(serde_json::json!({ "limit_bytes": limit })),
            FilesError::TypeNotAccepted { found } => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_file_type",
                format!("files of type {found} are not accepted here"),
            ),
            FilesError::BadUpload(message) => ApiError::bad_request("bad_upload", message),
            FilesError::BadSignature => {
                ApiError::forbidden("the download link is not valid").with_code("invalid_signature")
            }
            FilesError::Expired => {
                ApiError::forbidden("the download link has expired; ask for a new one")
                    .with_code("link_expired")
            }
            FilesError::Backend(cause) => {
                // The 503 body carries no cause: it is logged here, with the request's span.
                tracing::error!(error = %cause, "file storage failed");
                ApiError::unavailable(
                    "file storage is unavailable right now; retry in a few seconds",
                )
                .with_code("storage_unavailable")
            }
            FilesError::InvalidKey(_) => ApiError::internal(e),
            FilesError::Quota(over) => over.into(),
            FilesError::Store(s) => s.into(),
        }
    }
}
