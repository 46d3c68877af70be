//! The pure core of outgoing webhooks: no I/O, no async, no clock (callers pass the time).
//!
//! - [`signing`]: secrets (`whsec_` + base64) and the Standard Webhooks signature
//!   (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`), signing and verifying;
//! - [`kinds`]: which events an endpoint wants (`quiz.finished`, `quiz.*`);
//! - [`retry`]: the retry schedule and what happens after an attempt;
//! - [`address`]: which IP addresses outgoing requests may reach;
//! - [`target`]: validating an endpoint's URL;
//! - [`envelope`]: the JSON body every delivery posts.

pub mod address;
pub mod envelope;
pub mod kinds;
pub mod retry;
pub mod signing;
pub mod target;

pub use address::{Blocked, blocked};
pub use envelope::{Envelope, excerpt};
pub use kinds::{MAX_PATTERNS, matches_any, normalize_patterns};
pub use retry::{Next, RetrySchedule};
pub use signing::{SigningKey, format_secret, parse_secret};
pub use target::{MAX_URL_LEN, Target, TargetHost, check_url};

/// One problem with an input, named by its path (`url`, `event_kinds[2]`), as the API lists
/// them in a 422.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}
