//! JSON logs, one line per event, with the request's span fields (request_id, route) on every
//! line logged while serving it; and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same
//! spans exported as OpenTelemetry traces ([`otlp`]).

#[cfg(feature = "otlp")]
mod otlp;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::Otlp;

/// Where log lines go: the server logs to standard output (what log collectors read); other
/// commands log to standard error, so their output (an export command) stays clean data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// The JSON log lines.
fn json_lines<S>(output: Output) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_writer(move || -> Box<dyn std::io::Write> {
            match output {
                Output::Stdout => Box::new(std::io::stdout()),
                Output::Stderr => Box::new(std::io::stderr()),
            }
        })
}

/// Installs the global subscriber; a second call (tests) is a no-op. With `otlp`, spans are
/// also exported in the background until [`shutdown`].
pub fn init(filter: &str, output: Output, otlp: Option<&Otlp>) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let Some(otlp) = otlp else {
        // No exporter: the log filter applies to everything, as it always has.
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(json_lines(output))
            .try_init();
        return;
    };
    #[cfg(feature = "otlp")]
    {
        // Each layer its own filter: FARO_LOG chooses the log lines, not which spans are traced.
        let logs = json_lines(output).with_filter(filter);
        match otlp::start(otlp) {
            Ok((traces, provider)) => {
                if tracing_subscriber::registry()
                    .with(logs)
                    .with(traces)
                    .try_init()
                    .is_ok()
                {
                    otlp::keep(provider);
                    tracing::info!(endpoint = %faro_store::redact_url(&otlp.traces_endpoint), "exporting traces over OTLP");
                }
            }
            Err(e) => {
                let _ = tracing_subscriber::registry().with(logs).try_init();
                tracing::warn!(error = %e, "cannot start the OTLP trace exporter; no traces are sent");
            }
        }
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = otlp;
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(json_lines(output))
            .try_init();
        tracing::warn!(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set, but this faro was built without the `otlp` feature; no traces are sent"
        );
    }
}

/// Sends the spans still queued and stops the exporter (bounded: an unreachable collector
/// delays the exit by a few seconds at most). A no-op without an exporter.
pub async fn shutdown() {
    #[cfg(feature = "otlp")]
    otlp::shutdown().await;
}
