//! Which analytics counters a visitor's steps move.
//!
//! Every funnel counter of a session lands on the UTC day the session *started* (its cohort),
//! so a day's conversion rate compares finishes with the starts they came from, and a
//! suspicious finish can take back exactly what its session added. Share opens land on the
//! day of the open.
//!
//! - `starts`; `reached:q` when q becomes the current question; `answered:q` when answered
//!   (drop-off at q = reached − answered);
//! - `finishes`, `finish_seconds` (sum, for the average), `profile:CODE`;
//! - `source:X`, `campaign:Y` per start;
//! - `suspicious`: a finish faster than ANTIBOT_MIN_SECONDS; its session's starts, reached,
//!   answered, source and campaign counts are subtracted again, so it stays out of the funnel.

use faro_store::TenantId;
use faro_store::{CounterKey, day_of};

use crate::Quiz;
use crate::visit::LiveSession;

pub const STARTS: &str = "starts";
pub const FINISHES: &str = "finishes";
pub const FINISH_SECONDS: &str = "finish_seconds";
pub const SUSPICIOUS: &str = "suspicious";
pub const SHARE_OPENS: &str = "share_opens";
pub const REACHED: &str = "reached";
pub const ANSWERED: &str = "answered";
pub const PROFILE: &str = "profile";
pub const SOURCE: &str = "source";
pub const CAMPAIGN: &str = "campaign";

fn add(
    quiz: &Quiz,
    tenant: &TenantId,
    version_id: &str,
    day: &str,
    metric: &'static str,
    key: &str,
    delta: i64,
) {
    quiz.core.counters.add(
        CounterKey {
            tenant_id: tenant.to_string(),
            scope: version_id.to_string(),
            day: day.to_string(),
            metric,
            key: key.to_string(),
        },
        delta,
    );
}

pub fn started(
    quiz: &Quiz,
    tenant: &TenantId,
    version_id: &str,
    now: i64,
    first_question: &str,
    source: Option<&str>,
    campaign: Option<&str>,
) {
    let day = day_of(now);
    add(quiz, tenant, version_id, &day, STARTS, "", 1);
    add(quiz, tenant, version_id, &day, REACHED, first_question, 1);
    if let Some(s) = source {
        add(quiz, tenant, version_id, &day, SOURCE, s, 1);
    }
    if let Some(c) = campaign {
        add(quiz, tenant, version_id, &day, CAMPAIGN, c, 1);
    }
    metrics::counter!("faro_quiz_sessions_started_total").increment(1);
}

pub fn answered(
    quiz: &Quiz,
    tenant: &TenantId,
    version_id: &str,
    started_at: i64,
    question: &str,
    next: Option<&str>,
) {
    let day = day_of(started_at);
    add(quiz, tenant, version_id, &day, ANSWERED, question, 1);
    if let Some(n) = next {
        add(quiz, tenant, version_id, &day, REACHED, n, 1);
    }
    metrics::counter!("faro_quiz_answers_total").increment(1);
}

pub fn finished(
    quiz: &Quiz,
    tenant: &TenantId,
    live: &LiveSession,
    now: i64,
    profile_code: &str,
    suspicious: bool,
) {
    let day = day_of(live.row.started_at);
    let v = live.version.id.as_str();
    if suspicious {
        add(quiz, tenant, v, &day, SUSPICIOUS, "", 1);
        add(quiz, tenant, v, &day, STARTS, "", -1);
        for q in live.answered_keys() {
            add(quiz, tenant, v, &day, REACHED, q, -1);
            add(quiz, tenant, v, &day, ANSWERED, q, -1);
        }
        if let Some(s) = live.row.source.as_deref() {
            add(quiz, tenant, v, &day, SOURCE, s, -1);
        }
        if let Some(c) = live.row.campaign.as_deref() {
            add(quiz, tenant, v, &day, CAMPAIGN, c, -1);
        }
    } else {
        add(quiz, tenant, v, &day, FINISHES, "", 1);
        add(
            quiz,
            tenant,
            v,
            &day,
            FINISH_SECONDS,
            "",
            (now - live.row.started_at).max(0),
        );
        add(quiz, tenant, v, &day, PROFILE, profile_code, 1);
    }
    metrics::counter!("faro_quiz_sessions_finished_total", "suspicious" => if suspicious { "true" } else { "false" })
        .increment(1);
}

pub fn share_opened(quiz: &Quiz, tenant: &TenantId, version_id: &str, now: i64) {
    add(quiz, tenant, version_id, &day_of(now), SHARE_OPENS, "", 1);
}
