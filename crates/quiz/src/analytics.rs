//! Analytics read from the daily counters. The aggregation is a pure function over counter
//! cells, so what the API (and the dashboard) shows is tested without a database.

use faro_store::TenantId;
use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use faro_http::auth::Viewer;
use faro_http::{ApiError, ApiResult, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::counters::*;
use crate::{Quiz, service, store};

/// One counter cell: (day, metric, key, value).
pub type Cell = (String, String, String, i64);

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct QuestionStat {
    pub key: String,
    pub text: String,
    /// Sessions for which this question became the current one.
    pub reached: i64,
    pub answered: i64,
    /// reached − answered: sessions that stopped here (or are still here).
    pub drop_off: i64,
    /// drop_off / reached, 0 when never reached.
    pub drop_off_rate: f64,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct ProfileStat {
    pub code: String,
    pub title: String,
    pub count: i64,
    /// count / finishes.
    pub share: f64,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct NamedCount {
    pub name: String,
    pub count: i64,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct DailyStat {
    pub day: String,
    pub starts: i64,
    pub finishes: i64,
    pub share_opens: i64,
    pub suspicious: i64,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct Report {
    pub test_id: String,
    /// The versions counted.
    pub versions: Vec<i64>,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// What the counters add up to.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct Figures {
    /// Sessions started (suspicious ones excluded).
    pub starts: i64,
    /// Sessions finished (suspicious ones excluded).
    pub finishes: i64,
    /// finishes / starts, 0 without starts.
    pub conversion_rate: f64,
    /// Mean seconds from start to finish; null without finishes.
    pub avg_seconds_to_finish: Option<f64>,
    pub share_opens: i64,
    /// Finishes faster than ANTIBOT_MIN_SECONDS, kept out of every other figure.
    pub suspicious: i64,
    pub questions: Vec<QuestionStat>,
    pub profiles: Vec<ProfileStat>,
    /// Top 10 by starts.
    pub sources: Vec<NamedCount>,
    pub campaigns: Vec<NamedCount>,
    pub daily: Vec<DailyStat>,
}

fn ratio(a: i64, b: i64) -> f64 {
    if b <= 0 {
        0.0
    } else {
        // Four decimals: stable in JSON and enough for a percentage with two.
        ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0
    }
}

fn top(map: HashMap<String, i64>, n: usize) -> Vec<NamedCount> {
    let mut v: Vec<NamedCount> = map
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(name, count)| NamedCount { name, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v.truncate(n);
    v
}

/// Adds up counter cells. `questions` and `profiles` give order and labels (the latest
/// version's); keys that only older versions had are appended after them.
pub fn aggregate(
    cells: &[Cell],
    questions: &[(String, String)],
    profiles: &[(String, String)],
) -> Figures {
    let (mut starts, mut finishes, mut seconds, mut opens, mut suspicious) = (0, 0, 0, 0, 0);
    let mut reached: HashMap<&str, i64> = HashMap::new();
    let mut answered: HashMap<&str, i64> = HashMap::new();
    let mut by_profile: HashMap<&str, i64> = HashMap::new();
    let mut sources: HashMap<String, i64> = HashMap::new();
    let mut campaigns: HashMap<String, i64> = HashMap::new();
    let mut daily: BTreeMap<&str, DailyStat> = BTreeMap::new();
    let mut extra_questions: Vec<&str> = Vec::new();
    let mut extra_profiles: Vec<&str> = Vec::new();
    for (day, metric, key, value) in cells {
        let d = daily.entry(day.as_str()).or_insert_with(|| DailyStat {
            day: day.clone(),
            starts: 0,
            finishes: 0,
            share_opens: 0,
            suspicious: 0,
        });
        match metric.as_str() {
            STARTS => {
                starts += value;
                d.starts += value;
            }
            FINISHES => {
                finishes += value;
                d.finishes += value;
            }
            FINISH_SECONDS => seconds += value,
            SHARE_OPENS => {
                opens += value;
                d.share_opens += value;
            }
            SUSPICIOUS => {
                suspicious += value;
                d.suspicious += value;
            }
            REACHED | ANSWERED => {
                if !questions.iter().any(|(k, _)| k == key)
                    && !extra_questions.contains(&key.as_str())
                {
                    extra_questions.push(key);
                }
                let map = if metric == REACHED {
                    &mut reached
                } else {
                    &mut answered
                };
                *map.entry(key.as_str()).or_insert(0) += value;
            }
            PROFILE => {
                if !profiles.iter().any(|(k, _)| k == key)
                    && !extra_profiles.contains(&key.as_str())
                {
                    extra_profiles.push(key);
                }
                *by_profile.entry(key.as_str()).or_insert(0) += value;
            }
            SOURCE => *sources.entry(key.clone()).or_insert(0) += value,
            CAMPAIGN => *campaigns.entry(key.clone()).or_insert(0) += value,
            _ => {}
        }
    }
    let question_stats = questions
        .iter()
        .map(|(k, t)| (k.as_str(), t.as_str()))
        .chain(extra_questions.iter().map(|k| (*k, "")))
        .map(|(key, text)| {
            let r = reached.get(key).copied().unwrap_or(0);
            let a = answered.get(key).copied().unwrap_or(0);
            let drop = (r - a).max(0);
            QuestionStat {
                key: key.to_string(),
                text: text.to_string(),
                reached: r,
                answered: a,
                drop_off: drop,
                drop_off_rate: ratio(drop, r),
            }
        })
        .collect();
    let profile_stats = profiles
        .iter()
        .map(|(k, t)| (k.as_str(), t.as_str()))
        .chain(extra_profiles.iter().map(|k| (*k, "")))
        .map(|(code, title)| {
            let count = by_profile.get(code).copied().unwrap_or(0);
            ProfileStat {
                code: code.to_string(),
                title: title.to_string(),
                count,
                share: ratio(count, finishes),
            }
        })
        .collect();
    let avg = (finishes > 0).then(|| ((seconds as f64 / finishes as f64) * 10.0).round() / 10.0);
    Figures {
        starts,
        finishes,
        conversion_rate: ratio(finishes, starts),
        avg_seconds_to_finish: avg,
        share_opens: opens,
        suspicious,
        questions: question_stats,
        profiles: profile_stats,
        sources: top(sources, 10),
        campaigns: top(campaigns, 10),
        daily: daily.into_values().collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Every version of this test.
    pub test_id: Option<String>,
    /// Only this version.
    pub test_version_id: Option<String>,
    /// First day (YYYY-MM-DD, UTC), default 29 days before `to`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC), default today.
    #[param(format = Date)]
    pub to: Option<String>,
}

fn parse_day(name: &str, s: &str) -> ApiResult<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|_| {
        ApiError::bad_request(
            "invalid_date",
            format!("{name} must be a date like 2026-11-22"),
        )
    })
}

/// Resolves the day range: at most 366 days, `from` ≤ `to`.
pub fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    today: time::Date,
) -> ApiResult<(String, String)> {
    let to = match to {
        Some(s) => parse_day("to", s)?,
        None => today,
    };
    let from = match from {
        Some(s) => parse_day("from", s)?,
        None => to.saturating_sub(time::Duration::days(29)),
    };
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_range",
            "from must not be after to",
        ));
    }
    if (to - from).whole_days() > 366 {
        return Err(ApiError::bad_request(
            "invalid_range",
            "the range is limited to 366 days",
        ));
    }
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    Ok((fmt(from), fmt(to)))
}

/// What a report counts: every version of a test, or one version.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    Test(&'a str),
    Version(&'a str),
}

/// Loads the counter cells of `scope` over `from..=to` (days as given by [`day_range`]) and
/// adds them up: the one code path behind the analytics API, the panel's dashboard and its
/// CSV export, so all three always show the same numbers.
pub async fn report(
    db: &faro_store::Db,
    tenant: &TenantId,
    scope: Scope<'_>,
    from: String,
    to: String,
) -> ApiResult<Report> {
    let (test, versions) = match scope {
        Scope::Test(test_id) => {
            let test = service::test_or_404(db, tenant, test_id).await?;
            let versions = store::list_versions(db, tenant, test_id).await?;
            (test, versions)
        }
        Scope::Version(version_id) => {
            let v = store::get_version_by_id(db, tenant, version_id)
                .await?
                .ok_or_else(|| ApiError::not_found("no such version"))?;
            let test = service::test_or_404(db, tenant, &v.test_id).await?;
            (test, vec![v])
        }
    };
    // Labels come from the newest version counted (versions are listed newest first).
    let (questions, profiles) = match versions.first() {
        Some(v) => {
            let def = crate::store::definition_from_storage(&v.definition)?;
            (
                def.questions
                    .iter()
                    .map(|q| (q.key.clone(), q.text.clone()))
                    .collect(),
                def.profiles
                    .iter()
                    .map(|p| (p.code.clone(), p.title.clone()))
                    .collect(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let ids: Vec<String> = versions.iter().map(|v| v.id.clone()).collect();
    let cells: Vec<Cell> = store::stats(db, tenant, &ids, &from, &to)
        .await?
        .into_iter()
        .map(|(_, day, metric, key, value)| (day, metric, key, value))
        .collect();
    Ok(Report {
        test_id: test.id,
        versions: versions.iter().map(|v| v.version).collect(),
        from,
        to,
        figures: aggregate(&cells, &questions, &profiles),
    })
}

/// Starts, finishes, conversion, drop-off per question, profiles, time to finish, sources,
/// campaigns and share opens, from the daily counters (at most one flush interval behind).
#[utoipa::path(get, path = "/api/v1/admin/analytics", tag = "quiz-admin",
    security(("bearer" = [])), params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 400, body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody), (status = 404, body = faro_http::ErrorBody)))]
pub async fn analytics(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<Report>> {
    let today = time::OffsetDateTime::now_utc().date();
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref(), today)?;
    let scope = match (&q.test_id, &q.test_version_id) {
        (Some(test_id), None) => Scope::Test(test_id),
        (None, Some(version_id)) => Scope::Version(version_id),
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "give exactly one of test_id or test_version_id",
            ));
        }
    };
    Ok(Json(
        report(&quiz.core.db, &user.tenant, scope, from, to).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(day: &str, metric: &str, key: &str, v: i64) -> Cell {
        (day.into(), metric.into(), key.into(), v)
    }

    #[test]
    fn cells_add_up_into_the_report() {
        let cells = vec![
            cell("2026-11-21", STARTS, "", 10),
            cell("2026-11-22", STARTS, "", 5),
            cell("2026-11-22", FINISHES, "", 6),
            cell("2026-11-22", FINISH_SECONDS, "", 600),
            cell("2026-11-22", REACHED, "q1", 15),
            cell("2026-11-22", ANSWERED, "q1", 12),
            cell("2026-11-22", REACHED, "old", 1),
            cell("2026-11-22", PROFILE, "LOW", 4),
            cell("2026-11-22", PROFILE, "HIGH", 2),
            cell("2026-11-22", SOURCE, "ig", 3),
            cell("2026-11-22", SOURCE, "mail", 7),
            cell("2026-11-22", SUSPICIOUS, "", 2),
            cell("2026-11-22", SHARE_OPENS, "", 9),
        ];
        let qs = vec![("q1".to_string(), "First?".to_string())];
        let ps = vec![
            ("LOW".to_string(), "Low".to_string()),
            ("HIGH".to_string(), "High".to_string()),
        ];
        let f = aggregate(&cells, &qs, &ps);
        assert_eq!(
            (f.starts, f.finishes, f.share_opens, f.suspicious),
            (15, 6, 9, 2)
        );
        assert_eq!(f.conversion_rate, 0.4);
        assert_eq!(f.avg_seconds_to_finish, Some(100.0));
        assert_eq!(f.questions[0].drop_off, 3);
        assert_eq!(f.questions[0].drop_off_rate, 0.2);
        assert_eq!(f.questions[1].key, "old");
        assert_eq!(f.profiles[0].share, 0.6667);
        assert_eq!(f.sources[0].name, "mail");
        assert_eq!(f.daily.len(), 2);
        assert_eq!(f.daily[0].starts, 10);
    }

    #[test]
    fn empty_cells_give_zeroes_not_nans() {
        let f = aggregate(&[], &[], &[]);
        assert_eq!(
            (f.starts, f.finishes, f.avg_seconds_to_finish),
            (0, 0, None)
        );
        assert_eq!(f.conversion_rate, 0.0);
        assert_eq!(ratio(1, 0), 0.0);
    }

    #[test]
    fn day_ranges_are_checked() {
        let today = time::macros::date!(2026 - 11 - 22);
        assert_eq!(
            day_range(None, None, today).expect("default"),
            ("2026-10-24".to_string(), "2026-11-22".to_string())
        );
        assert!(day_range(Some("2026-11-23"), Some("2026-11-22"), today).is_err());
        assert!(day_range(Some("2020-01-01"), Some("2026-11-22"), today).is_err());
        assert!(day_range(Some("yesterday"), None, today).is_err());
        assert!(day_range(None, Some("2026-13-01"), today).is_err());
    }
}
