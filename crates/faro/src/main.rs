use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // The recorder must exist before any metric is touched.
    let _ = faro::platform::metrics_handle();
    match faro::cli::main_with(std::env::args_os()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faro: {e:#}");
            ExitCode::FAILURE
        }
    }
}
