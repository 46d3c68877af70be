//! The `faro` binary as a library: configuration, start-up and wiring of the modules, the
//! platform endpoints and the command line. Tests build the same `App` that `faro serve` runs.

pub mod accounts;
pub mod app;
pub mod cli;
pub mod config;
pub mod panel;
pub mod platform;
pub mod telemetry;

pub use app::App;
pub use config::Config;
