//! The `faro` binary as a library: configuration, start-up and wiring of the modules, the
//! platform endpoints and the command line. Tests build the same `App` that `faro serve` runs.

pub mod app;
pub mod cli;
pub mod config;
pub mod modules;
pub mod platform;
pub mod secrets;
pub mod telemetry;

pub use app::App;
pub use config::Config;
/// Staff accounts, where tests and tools have always found them.
pub use faro_platform::accounts;
