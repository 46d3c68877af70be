//! Trace export over OTLP/HTTP (protobuf): `tracing` spans (the per-request `request` span,
//! `#[instrument]` spans) become OpenTelemetry spans, batched and posted to the collector in
//! the background.
//!
//! A request never waits for the collector: a finished span goes into a bounded queue (2,048
//! spans; past that spans are dropped) that the SDK's batch thread drains every few seconds.
//! The HTTP client runs on the server's Tokio runtime: the batch thread hands each export to it
//! and waits for the answer. While the collector cannot be reached, batches are dropped
//! after a few retries, with one warning a minute, not one a batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

use crate::config::Otlp;

/// One attempt's limit (the OTLP default); the exporter retries a failed batch 3 times.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the exit may wait for the last spans to be sent.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// At most one warning this often while exports fail.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// The running exporter's provider, flushed and shut down by [`shutdown`].
static PROVIDER: Mutex<Option<SdkTracerProvider>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The layer that turns spans into OpenTelemetry spans, and the provider behind it (to keep
/// with [`keep`] once the layer is installed).
pub(super) fn start<S>(config: &Otlp) -> Result<(impl Layer<S>, SdkTracerProvider), String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "no Tokio runtime to send spans from".to_string())?;
    // http:// or https://; ring rather than a process-wide default provider (see Cargo.toml).
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
        .map_err(|e| format!("TLS: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = opentelemetry_http::hyper::HyperClient::new(connector, EXPORT_TIMEOUT, None);
    // The exporter percent-decodes header values; ours are decoded already.
    let headers: HashMap<String, String> = config
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.0.replace('%', "%25")))
        .collect();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(config.traces_endpoint.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .with_headers(headers)
        .build()
        .map_err(|e| e.to_string())?;
    let exporter = Export {
        inner: Arc::new(exporter),
        runtime,
        endpoint: faro_store::redact_url(&config.traces_endpoint),
        trouble: Mutex::new(Trouble::default()),
    };
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        // `parentbased_traceidratio`: a trace is kept or dropped whole.
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_ratio,
        ))))
        .with_resource(resource)
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("faro"))
        .with_filter(traced());
    Ok((layer, provider))
}

/// Which spans are traced: `info` and up, whatever FARO_LOG says, except the HTTP client's and
/// the exporter's own (exporting those would trace the export, forever).
fn traced() -> Targets {
    Targets::new().with_default(LevelFilter::INFO).with_targets(
        [
            "h2",
            "hyper",
            "rustls",
            "tower",
            "opentelemetry",
            "tracing_opentelemetry",
        ]
        .map(|t| (t, LevelFilter::OFF)),
    )
}

pub(super) fn keep(provider: SdkTracerProvider) {
    *lock(&PROVIDER) = Some(provider);
}

pub(super) async fn shutdown() {
    let Some(provider) = lock(&PROVIDER).take() else {
        return;
    };
    // Blocking: the batch thread sends the last batch through this runtime meanwhile.
    let done =
        tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)).await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the last spans may not have been sent"),
        Err(e) => tracing::warn!(error = %e, "the OTLP exporter did not shut down"),
    }
}

/// The OTLP exporter, run on the Tokio runtime, with rate-limited warnings.
#[derive(Debug)]
struct Export {
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    runtime: tokio::runtime::Handle,
    endpoint: String,
    trouble: Mutex<Trouble>,
}

impl SpanExporter for Export {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let inner = Arc::clone(&self.inner);
        // Called on the SDK's batch thread; the HTTP client needs the runtime.
        let result = match self
            .runtime
            .spawn(async move { inner.export(batch).await })
            .await
        {
            Ok(result) => result,
            Err(e) => Err(OTelSdkError::InternalFailure(format!("export task: {e}"))),
        };
        let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        let note = lock(&self.trouble).note(outcome, spans, Instant::now());
        match note {
            Some(Note::Failing { error, dropped }) => tracing::warn!(
                endpoint = %self.endpoint,
                error,
                dropped_spans = dropped,
                "cannot send traces to the OTLP collector; dropping spans (next warning in a minute at most)"
            ),
            Some(Note::Recovered { dropped }) => tracing::info!(
                endpoint = %self.endpoint,
                dropped_spans = dropped,
                "sending traces to the OTLP collector again"
            ),
            None => {}
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called once as the provider is built, before any export holds a clone.
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.set_resource(resource),
            None => tracing::warn!("OTLP: the resource (service.name) could not be set"),
        }
    }
}

/// Export failures, for warnings that do not repeat with every batch.
#[derive(Debug, Default)]
struct Trouble {
    failing: bool,
    last_warning: Option<Instant>,
    /// Spans dropped since the last line about it.
    dropped: u64,
}

#[derive(Debug, PartialEq)]
enum Note {
    Failing { error: String, dropped: u64 },
    Recovered { dropped: u64 },
}

impl Trouble {
    /// Counts an export's outcome; says what to log, if anything: a warning when exports
    /// start failing and then at most once per [`WARN_EVERY`], one line when they work again.
    fn note(&mut self, outcome: Result<(), String>, spans: usize, now: Instant) -> Option<Note> {
        match outcome {
            Ok(()) if self.failing => {
                self.failing = false;
                Some(Note::Recovered {
                    dropped: std::mem::take(&mut self.dropped),
                })
            }
            Ok(()) => None,
            Err(error) => {
                self.failing = true;
                self.dropped += spans as u64;
                let due = self
                    .last_warning
                    .is_none_or(|at| now.duration_since(at) >= WARN_EVERY);
                due.then(|| {
                    self.last_warning = Some(now);
                    Note::Failing {
                        error,
                        dropped: std::mem::take(&mut self.dropped),
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_warn_once_a_minute_and_recovery_once() {
        let t0 = Instant::now();
        let mut t = Trouble::default();
        assert_eq!(t.note(Ok(()), 5, t0), None);
        let fail = || Err("connection refused".to_string());
        assert_eq!(
            t.note(fail(), 3, t0),
            Some(Note::Failing {
                error: "connection refused".into(),
                dropped: 3
            })
        );
        // Batches every few seconds: no line each.
        for s in 1..12 {
            assert_eq!(t.note(fail(), 2, t0 + Duration::from_secs(5 * s)), None);
        }
        assert_eq!(
            t.note(fail(), 2, t0 + Duration::from_secs(60)),
            Some(Note::Failing {
                error: "connection refused".into(),
                dropped: 24
            })
        );
        assert_eq!(t.note(fail(), 4, t0 + Duration::from_secs(65)), None);
        assert_eq!(
            t.note(Ok(()), 1, t0 + Duration::from_secs(70)),
            Some(Note::Recovered { dropped: 4 })
        );
        assert_eq!(t.note(Ok(()), 1, t0 + Duration::from_secs(75)), None);
    }

    #[test]
    fn client_and_exporter_spans_are_not_traced() {
        use tracing::Level;
        let t = traced();
        assert!(t.would_enable("faro_http::request_id", &Level::INFO));
        assert!(!t.would_enable("faro_http::request_id", &Level::DEBUG));
        for target in [
            "hyper_util::client",
            "h2::proto",
            "opentelemetry_sdk",
            "rustls",
        ] {
            assert!(!t.would_enable(target, &Level::ERROR), "{target}");
        }
    }
}
