use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // The recorder must exist before any metric is touched.
    let _ = faro::platform::metrics_handle();
    match faro::cli::run(faro::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faro: {e:#}");
            ExitCode::FAILURE
        }
    }
}
