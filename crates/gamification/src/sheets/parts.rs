//! What a batch's parts share: its items and their outcomes, the weeks' cache, and the
//! sizes and placeholders of multi-row statements.

use std::sync::Arc;
use std::time::Duration;

use faro_gamification_domain::Event;
use faro_http::ttl::TtlMap;

use crate::challenges::Challenge;
use crate::engine::Outcomes;

pub use crate::store::ROWS;

/// How long a week's challenge rows are believed: they never change once created.
pub const WEEK_TTL: Duration = Duration::from_secs(600);

/// `tenant\u{0}monday` → that week's challenges, as created (rows never change).
pub type Weeks = Arc<TtlMap<String, Arc<Vec<Challenge>>>>;

/// One event of a batch, checked.
#[derive(Clone, Debug)]
pub struct Item {
    pub key: String,
    pub user: String,
    pub event: Event,
    /// The masked display name, when the event brought one.
    pub masked: Option<String>,
}

/// What became of an item.
#[derive(Clone, Debug)]
pub enum Applied {
    New(Outcomes),
    /// Its key was taken before (or earlier in the batch): nothing changed.
    Duplicate,
}

/// `$from, $from+1, …` for an `IN (…)` list of `n`.
pub fn list(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
