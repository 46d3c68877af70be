//! The one list of modules. Adding a module is one line here (and its crate in the
//! workspace manifest); nothing else in the binary names a module.

use faro_http::module::Module;

/// Every module the binary carries, the platform first. Their order is the order of the
/// panel's navigation and of the start-up print.
pub fn all() -> &'static [Module] {
    static ALL: std::sync::LazyLock<Vec<Module>> = std::sync::LazyLock::new(|| {
        vec![
            faro_platform::module(),
            faro_files::module(),
            faro_webhooks::module(),
            faro_quiz::module(),
            faro_gamification::module(),
            faro_wallet::module(),
            faro_payments::module(),
            faro_promotions::module(),
        ]
    });
    &ALL
}
