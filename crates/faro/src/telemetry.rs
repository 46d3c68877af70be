//! JSON logs, one line per event, with the request's span fields (request_id, route) on every
//! line logged while serving it.

use tracing_subscriber::EnvFilter;

/// Where log lines go: the server logs to standard output (what log collectors read); other
/// commands log to standard error, so their output (`faro quiz export`) stays clean data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(filter: &str, output: Output) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_writer(move || -> Box<dyn std::io::Write> {
            match output {
                Output::Stdout => Box::new(std::io::stdout()),
                Output::Stderr => Box::new(std::io::stderr()),
            }
        })
        .try_init();
}
