use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faro_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};

/// The HTTP layer's one error type, rendered as the contract's JSON body
/// `{"error": {"code", "message", "details"}}`.
///
/// Internal failures keep their cause in `internal`, which never reaches the client: the body of
/// a 500 carries only the request id, and the cause is logged once by the request middleware.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    headers: Vec<(HeaderName, HeaderValue)>,
    internal: Option<String>,
}

/// One validation problem, as listed in `details` of a 422.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

/// The error body every endpoint returns (documented once in OpenAPI).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInner,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorInner {
    /// Stable snake_case code clients can branch on.
    pub code: String,
    /// Human-readable text.
    pub message: String,
    /// Structured details: for validation errors, `{"problems": [{path, message}]}`.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// Marker left in a 5xx response's extensions so the request middleware can log the cause
/// with the request's span (errors are logged in exactly one place).
#[derive(Clone, Debug)]
pub struct InternalCause(pub String);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
            headers: Vec::new(),
            internal: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 422 with every problem listed in `details.problems`.
    pub fn invalid(message: impl Into<String>, problems: Vec<FieldProblem>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .with_details(json!({ "problems": problems }))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    /// A failure the client cannot fix. `cause` is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; quote the request id when reporting it",
        );
        e.internal = Some(cause.to_string());
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) => {
                let mut e = ApiError::unavailable(
                    "the database is unavailable right now; retry in a few seconds",
                );
                e.code = "database_unavailable";
                e.internal = Some(cause);
                e
            }
            StoreError::ReadOnly(cause) => {
                let mut e = ApiError::unavailable(
                    "the database cannot be written (read-only file or full disk)",
                );
                e.code = "storage_read_only";
                e.internal = Some(cause);
                e
            }
            StoreError::Conflict(what) => {
                ApiError::conflict("conflict", format!("already exists ({what})"))
            }
            other => ApiError::internal(other),
        }
    }
}

/// A write's `Idempotency-Key` problem: 400 without or with a bad key, 409 when the key was
/// used with another request; the same codes for every module.
impl From<faro_store::idempotency::IdempotencyError> for ApiError {
    fn from(e: faro_store::idempotency::IdempotencyError) -> Self {
        use faro_store::idempotency::IdempotencyError as E;
        let message = e.to_string();
        match e {
            E::Missing => ApiError::bad_request("missing_idempotency_key", message),
            E::Bad => ApiError::bad_request("invalid_idempotency_key", message),
            E::Reused => ApiError::conflict("idempotency_key_reused", message),
            E::Store(s) => s.into(),
        }
    }
}

/// A create refused by the tenant's plan: 429 `quota_exceeded`, with what, how many and which
/// plan in `details`. No `Retry-After`: waiting does not help, deleting or a bigger plan does.
impl From<faro_store::quota::Exceeded> for ApiError {
    fn from(e: faro_store::quota::Exceeded) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "quota_exceeded",
            format!("{e}: delete some, or ask for a bigger plan"),
        )
        .with_details(json!({
            "quota": e.quota.key(),
            "plan": e.plan,
            "limit": e.limit,
            "used": e.used,
        }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut details = self.details;
        if self.status.is_server_error()
            && let Some(id) = crate::request_id::current()
            && let Value::Object(map) = &mut details
        {
            map.insert("request_id".into(), Value::String(id));
        }
        let body = json!({
            "error": { "code": self.code, "message": self.message, "details": details }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        if self.status.is_server_error() {
            response.extensions_mut().insert(InternalCause(
                self.internal
                    .unwrap_or_else(|| format!("{}: {}", self.code, self.message)),
            ));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
