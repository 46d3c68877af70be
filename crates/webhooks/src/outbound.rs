//! Outgoing HTTP to user-supplied URLs, one POST per connection, guarded against reaching the
//! server's own network (SSRF):
//!
//! 1. the URL is checked again (http/https, no credentials; a literal IP must be public);
//! 2. a host name is resolved here, and **every** address it resolves to must be public
//!    (`faro_webhooks_domain::blocked`), else the attempt is refused with the reason;
//! 3. the TCP connection goes to one of those checked addresses: nothing resolves the name a
//!    second time, so a DNS answer that changes between the check and the connection (DNS
//!    rebinding) cannot send us elsewhere;
//! 4. no proxy, no redirect (a 3xx is a failed attempt), TLS with the system's roots for https.
//!
//! With `ALLOW_PRIVATE_NETWORK_TARGETS=true` steps 1 and 2 accept every address.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use faro_webhooks_domain::{Target, TargetHost, blocked, check_url, excerpt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

/// `Faro-Webhooks/<version>`.
pub const USER_AGENT_VALUE: &str = concat!("Faro-Webhooks/", env!("CARGO_PKG_VERSION"));

/// Bytes of a receiver's answer kept for the delivery log.
pub const EXCERPT_BYTES: usize = 1024;

/// What a receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The start of the body (at most [`EXCERPT_BYTES`]).
    pub body: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why no answer came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The URL or an address it resolves to may not be reached.
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("no answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
}

/// The outgoing client; cheap to share. The TLS configuration (the system's root
/// certificates) is loaded on the first https delivery.
pub struct Outbound {
    allow_private: bool,
    timeout: Duration,
    tls: OnceLock<Result<TlsConnector, String>>,
}

/// The headers a delivery carries besides the fixed ones.
pub struct Signed<'a> {
    pub webhook_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
}

impl Outbound {
    pub fn new(allow_private: bool, timeout: Duration) -> Outbound {
        Outbound {
            allow_private,
            timeout,
            tls: OnceLock::new(),
        }
    }

    /// POSTs `body` (JSON) to `url` with the Standard Webhooks headers, within the timeout.
    pub async fn post(
        &self,
        url: &str,
        signed: &Signed<'_>,
        body: Bytes,
    ) -> Result<Answer, SendError> {
        let deadline = Instant::now() + self.timeout;
        let target = check_url(url, self.allow_private).map_err(SendError::Refused)?;
        let request = hyper::Request::post(target.path_and_query.as_str())
            .header(HOST, target.authority.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header("webhook-id", signed.webhook_id)
            .header("webhook-timestamp", signed.timestamp.to_string())
            .header("webhook-signature", signed.signature)
            .body(Full::new(body))
            .map_err(|e| SendError::Http(e.to_string()))?;
        let exchange = async {
            let addrs = self.addresses(&target).await?;
            let tcp = connect(&addrs).await?;
            if target.https {
                let tls = self.tls()?;
                let name = server_name(&target)?;
                let stream = tls
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SendError::Tls(e.to_string()))?;
                exchange(stream, request, deadline).await
            } else {
                exchange(tcp, request, deadline).await
            }
        };
        match timeout_at(deadline, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(SendError::Timeout(self.timeout)),
        }
    }

    /// The addresses to connect to, every one checked.
    async fn addresses(&self, target: &Target) -> Result<Vec<SocketAddr>, SendError> {
        let (name, addrs) = match &target.host {
            // Checked by `check_url` already.
            TargetHost::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, target.port)]),
            TargetHost::Name(name) => {
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), target.port))
                    .await
                    .map_err(|e| SendError::Resolve {
                        host: name.clone(),
                        reason: e.to_string(),
                    })?
                    .collect();
                (name, addrs)
            }
        };
        if addrs.is_empty() {
            return Err(SendError::Resolve {
                host: name.clone(),
                reason: "no address".into(),
            });
        }
        if !self.allow_private {
            for a in &addrs {
                if let Some(why) = blocked(a.ip()) {
                    return Err(SendError::Refused(format!(
                        "{name} resolves to {}, {}; webhooks may not reach private or special \
                         networks (ALLOW_PRIVATE_NETWORK_TARGETS is off)",
                        a.ip(),
                        why.describe()
                    )));
                }
            }
        }
        Ok(addrs)
    }

    fn tls(&self) -> Result<TlsConnector, SendError> {
        self.tls
            .get_or_init(tls_connector)
            .clone()
            .map_err(SendError::Tls)
    }
}

/// Tries the checked addresses in order; the first that accepts wins.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, SendError> {
    let mut last = String::new();
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(SendError::Connect(last))
}

fn server_name(target: &Target) -> Result<rustls::pki_types::ServerName<'static>, SendError> {
    let text = match &target.host {
        TargetHost::Name(n) => n.clone(),
        TargetHost::Ip(ip) => ip.to_string(),
    };
    rustls::pki_types::ServerName::try_from(text).map_err(|e| SendError::Tls(e.to_string()))
}

/// TLS 1.2/1.3 with ring, the system's root certificates, HTTP/1.1 by ALPN.
fn tls_connector() -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err("no trusted root certificates on this system (install ca-certificates)".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// One request and its answer over `stream` (HTTP/1.1); the body is read up to
/// [`EXCERPT_BYTES`] until `deadline` (a slow body does not undo the answer's status).
async fn exchange<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
    deadline: Instant,
) -> Result<Answer, SendError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SendError::Http(e.to_string()))?;
    // The connection's driver; bounded so a receiver that never closes cannot keep it alive.
    tokio::spawn(async move {
        let _ = timeout_at(deadline + Duration::from_secs(1), conn).await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| SendError::Http(e.to_string()))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut kept = Vec::new();
    let _ = timeout_at(deadline, async {
        while kept.len() <= EXCERPT_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        kept.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
    })
    .await;
    Ok(Answer {
        status,
        body: excerpt(&kept, EXCERPT_BYTES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed() -> Signed<'static> {
        Signed {
            webhook_id: "evt",
            timestamp: 1,
            signature: "v1,x",
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_before_any_connection() {
        let out = Outbound::new(false, Duration::from_secs(2));
        let e = out
            .post("http://127.0.0.1:9/hook", &signed(), Bytes::new())
            .await
            .expect_err("refused");
        assert!(matches!(e, SendError::Refused(_)), "{e}");
        let e = out
            .post("http://localhost:9/hook", &signed(), Bytes::new())
            .await
            .expect_err("refused");
        let text = e.to_string();
        assert!(
            text.contains("localhost resolves to") && text.contains("loopback"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connection_error_when_allowed() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let out = Outbound::new(true, Duration::from_secs(2));
        let e = out
            .post(
                &format!("http://127.0.0.1:{port}/"),
                &signed(),
                Bytes::new(),
            )
            .await
            .expect_err("closed");
        assert!(matches!(e, SendError::Connect(_)), "{e}");
    }

    #[test]
    fn the_tls_configuration_builds_with_ring() {
        // Without system roots (a bare container) the error says what to install.
        match tls_connector() {
            Ok(_) => {}
            Err(e) => assert!(e.contains("ca-certificates"), "{e}"),
        }
    }
}
