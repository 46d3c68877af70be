//! object_store's HTTP client for S3: hyper's pooled client over rustls on ring, with Mozilla's
//! roots compiled in. object_store's own (reqwest) would bring aws-lc's C build, or a
//! process-wide crypto provider every other reqwest client in the workspace would need.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody, HttpResponse,
    HttpResponseBody, HttpService,
};

/// How long a TCP (and TLS) connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request may wait for its response's head (bodies stream past it).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Makes the client object_store sends its requests through.
#[derive(Debug, Clone, Copy)]
pub struct HyperConnector {
    /// Plain `http://` endpoints (local test servers); otherwise https only.
    pub allow_http: bool,
}

impl object_store::client::HttpConnector for HyperConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        tcp.set_nodelay(true);
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        let builder = if self.allow_http {
            builder.https_or_http()
        } else {
            builder.https_only()
        };
        let https = builder.enable_http1().wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(HttpClient::new(HyperService { client }))
    }
}

#[derive(Debug)]
struct HyperService {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, HttpRequestBody>,
}

#[async_trait::async_trait]
impl HttpService for HyperService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let response = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.request(req))
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Timeout, e))?
            .map_err(|e| {
                // Connection failures and dropped connections are retried by object_store.
                let kind = if e.is_connect() {
                    HttpErrorKind::Connect
                } else {
                    HttpErrorKind::Request
                };
                HttpError::new(kind, e)
            })?;
        let (parts, body) = response.into_parts();
        let body = body.map_err(|e| HttpError::new(HttpErrorKind::Interrupted, e));
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}
