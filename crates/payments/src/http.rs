//! The HTTPS client the provider adapters call their APIs with: hyper's pooled client over
//! rustls on ring, one per module, a timeout on every call and a cap on what is read back.
//! The providers' URLs are installation settings (never a tenant's input), so no SSRF guard
//! is needed here; plain `http://` is allowed only for local fakes in tests.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The most of a provider's answer read (its objects are a few KB).
const MAX_BODY: usize = 1 << 20;

/// What a provider answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// No answer: the call may or may not have reached the provider (retry with the same
/// idempotency key).
#[derive(Debug, thiserror::Error)]
#[error("the payment provider did not answer: {0}")]
pub struct Unreachable(pub String);

#[derive(Clone, Debug)]
pub struct ProviderClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderClient {
    pub fn new() -> Result<ProviderClient, String> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(Duration::from_secs(5)));
        tcp.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(ProviderClient { client })
    }

    /// Sends one request; `headers` are added as given.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, Unreachable> {
        let mut builder = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Unreachable(format!("bad request: {e}")))?;
        let call = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| Unreachable(e.to_string()))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| Unreachable(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(TIMEOUT, call)
            .await
            .map_err(|_| Unreachable(format!("no answer within {} s", TIMEOUT.as_secs())))?
    }
}
