//! The analytics dashboard of one test and its CSV export. Both read
//! `analytics::report`, the function behind `/api/v1/admin/analytics`, so the three always
//! agree to the unit.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use faro_store::TenantId;
use serde::Deserialize;

use super::load_test;
use super::svg::{self, Day};
use crate::analytics::{self, Report, Scope};
use crate::{Quiz, store};
use faro_web::panel::{
    PageError, PageResult, PageUser, Shell, encode_component as encode_query, render,
};

#[derive(Deserialize, Default)]
pub struct DashQuery {
    /// A version number, or empty for every version.
    version: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The report a dashboard URL asks for, with what the filter form needs.
struct Loaded {
    test: store::TestRow,
    versions: Vec<store::VersionRow>,
    /// The selected version number, if one.
    version: Option<i64>,
    report: Report,
}

async fn load(
    quiz: &Quiz,
    tenant: &TenantId,
    id: &str,
    q: &DashQuery,
) -> Result<Loaded, PageError> {
    let db = &quiz.core.db;
    let test = load_test(db, tenant, id).await?;
    let versions = store::list_versions(db, tenant, id).await?;
    let today = time::OffsetDateTime::now_utc().date();
    let (from, to) = analytics::day_range(non_empty(&q.from), non_empty(&q.to), today)?;
    let version = match non_empty(&q.version).filter(|v| *v != "all") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| versions.iter().any(|r| r.version == *n))
                .ok_or_else(|| PageError::not_found("This test has no such version."))?,
        ),
    };
    let scope_id = version.and_then(|n| {
        versions
            .iter()
            .find(|v| v.version == n)
            .map(|v| v.id.clone())
    });
    let scope = match &scope_id {
        Some(version_id) => Scope::Version(version_id),
        None => Scope::Test(&test.id),
    };
    let report = analytics::report(db, tenant, scope, from, to).await?;
    Ok(Loaded {
        test,
        versions,
        version,
        report,
    })
}

/// Every day of the range, the days without counters as zeroes (the API lists only days
/// with data; sums are the same).
fn every_day(report: &Report) -> Vec<analytics::DailyStat> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let (Ok(from), Ok(to)) = (
        time::Date::parse(&report.from, &fmt),
        time::Date::parse(&report.to, &fmt),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let name = format!(
            "{:04}-{:02}-{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        );
        let found = report.figures.daily.iter().find(|d| d.day == name);
        out.push(analytics::DailyStat {
            starts: found.map_or(0, |d| d.starts),
            finishes: found.map_or(0, |d| d.finishes),
            share_opens: found.map_or(0, |d| d.share_opens),
            suspicious: found.map_or(0, |d| d.suspicious),
            day: name,
        });
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Share of the largest value, for bar widths (0–100).
fn width(value: i64, max: i64) -> String {
    if max <= 0 {
        "0".into()
    } else {
        format!("{:.1}", 100.0 * value as f64 / max as f64)
    }
}

/// `2m 05s`, `45s`, `1h 02m`.
fn duration(seconds: f64) -> String {
    let s = seconds.round() as i64;
    match s {
        ..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

pub struct CardView {
    pub metric: &'static str,
    pub label: &'static str,
    /// The figure as shown.
    pub shown: String,
    /// The same figure as the API has it (for tests and the CSV).
    pub value: String,
    pub hint: String,
}

pub struct QuestionView {
    pub number: usize,
    pub key: String,
    pub text: String,
    pub reached: i64,
    pub answered: i64,
    pub drop_off: i64,
    pub drop_off_rate: String,
    pub drop_off_pct: String,
    pub reached_width: String,
    pub drop_width: String,
}

pub struct ShareView {
    pub name: String,
    pub detail: String,
    pub count: i64,
    pub share: String,
    pub width: String,
}

pub struct VersionChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct RangeLink {
    pub label: &'static str,
    pub url: String,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    shell: Shell,
    test_id: String,
    test_title: String,
    from: String,
    to: String,
    scope_label: String,
    versions: Vec<VersionChoice>,
    ranges: Vec<RangeLink>,
    csv_url: String,
    cards: Vec<CardView>,
    questions: Vec<QuestionView>,
    profiles: Vec<ShareView>,
    sources: Vec<ShareView>,
    campaigns: Vec<ShareView>,
    days: Vec<analytics::DailyStat>,
    chart_wide: String,
    chart_narrow: String,
    finishes: i64,
}

fn cards(r: &Report) -> Vec<CardView> {
    let f = &r.figures;
    vec![
        CardView {
            metric: "starts",
            label: "Starts",
            shown: f.starts.to_string(),
            value: f.starts.to_string(),
            hint: "sessions started".into(),
        },
        CardView {
            metric: "finishes",
            label: "Finishes",
            shown: f.finishes.to_string(),
            value: f.finishes.to_string(),
            hint: "results shown".into(),
        },
        CardView {
            metric: "conversion_rate",
            label: "Conversion",
            shown: pct(f.conversion_rate),
            value: f.conversion_rate.to_string(),
            hint: "finishes ÷ starts".into(),
        },
        CardView {
            metric: "avg_seconds_to_finish",
            label: "Average time to finish",
            shown: f
                .avg_seconds_to_finish
                .map(duration)
                .unwrap_or_else(|| "–".into()),
            value: f
                .avg_seconds_to_finish
                .map(|s| s.to_string())
                .unwrap_or_default(),
            hint: "from start to result".into(),
        },
        CardView {
            metric: "share_opens",
            label: "Share opens",
            shown: f.share_opens.to_string(),
            value: f.share_opens.to_string(),
            hint: "shared results opened".into(),
        },
        CardView {
            metric: "suspicious",
            label: "Suspicious",
            shown: f.suspicious.to_string(),
            value: f.suspicious.to_string(),
            hint: "too-fast finishes, kept out of the rest".into(),
        },
    ]
}

fn shares(items: impl Iterator<Item = (String, String, i64)>, total: i64) -> Vec<ShareView> {
    let items: Vec<(String, String, i64)> = items.collect();
    let max = items.iter().map(|(_, _, c)| *c).max().unwrap_or(0);
    items
        .into_iter()
        .map(|(name, detail, count)| ShareView {
            share: if total > 0 {
                pct(count as f64 / total as f64)
            } else {
                "–".into()
            },
            width: width(count, max),
            name,
            detail,
            count,
        })
        .collect()
}

fn query_string(version: Option<i64>, from: &str, to: &str) -> String {
    let v = version.map(|v| v.to_string()).unwrap_or_default();
    format!(
        "version={}&from={}&to={}",
        encode_query(&v),
        encode_query(from),
        encode_query(to)
    )
}

/// `GET /admin/tests/{id}/dashboard?version=&from=&to=`.
pub async fn page(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Query(q): Query<DashQuery>,
) -> PageResult {
    let loaded = load(&quiz, &user.tenant, &id, &q).await?;
    let r = &loaded.report;
    let f = &r.figures;
    let max_reached = f
        .questions
        .iter()
        .map(|q| q.reached)
        .max()
        .unwrap_or(0)
        .max(f.starts);
    let questions = f
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| QuestionView {
            number: i + 1,
            key: q.key.clone(),
            text: q.text.clone(),
            reached: q.reached,
            answered: q.answered,
            drop_off: q.drop_off,
            drop_off_rate: q.drop_off_rate.to_string(),
            drop_off_pct: pct(q.drop_off_rate),
            reached_width: width(q.reached, max_reached),
            drop_width: format!("{:.1}", q.drop_off_rate * 100.0),
        })
        .collect();
    let profiles = shares(
        f.profiles
            .iter()
            .map(|p| (p.title.clone(), p.code.clone(), p.count)),
        f.finishes,
    );
    let sources = shares(
        f.sources
            .iter()
            .map(|s| (s.name.clone(), String::new(), s.count)),
        f.starts,
    );
    let campaigns = shares(
        f.campaigns
            .iter()
            .map(|s| (s.name.clone(), String::new(), s.count)),
        f.starts,
    );
    let days = every_day(r);
    let chart_days: Vec<Day> = days
        .iter()
        .map(|d| Day {
            day: d.day.clone(),
            starts: d.starts,
            finishes: d.finishes,
        })
        .collect();
    let mut versions = vec![VersionChoice {
        value: String::new(),
        label: "All versions".into(),
        selected: loaded.version.is_none(),
    }];
    versions.extend(loaded.versions.iter().map(|v| VersionChoice {
        value: v.version.to_string(),
        label: format!(
            "v{}{}",
            v.version,
            if v.status == store::STATUS_DRAFT {
                " (draft)"
            } else if loaded.test.published_version == Some(v.version) {
                " (served)"
            } else {
                ""
            }
        ),
        selected: loaded.version == Some(v.version),
    }));
    let base = format!("/admin/tests/{}/dashboard", loaded.test.id);
    let today = time::OffsetDateTime::now_utc().date();
    let ranges = [
        ("7 days", 6),
        ("30 days", 29),
        ("90 days", 89),
        ("365 days", 364),
    ]
    .into_iter()
    .map(|(label, back)| {
        let from = today.saturating_sub(time::Duration::days(back));
        let day =
            |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        RangeLink {
            label,
            url: format!(
                "{base}?{}",
                query_string(loaded.version, &day(from), &day(today))
            ),
        }
    })
    .collect();
    let scope_label = match loaded.version {
        Some(v) => format!("version {v}"),
        None => match r.versions.len() {
            1 => "its one version".to_string(),
            n => format!("all {n} versions"),
        },
    };
    Ok(render(
        StatusCode::OK,
        &DashboardPage {
            shell: user.shell("tests"),
            test_id: loaded.test.id.clone(),
            test_title: loaded.test.title.clone(),
            csv_url: format!(
                "{base}.csv?{}",
                query_string(loaded.version, &r.from, &r.to)
            ),
            from: r.from.clone(),
            to: r.to.clone(),
            scope_label,
            versions,
            ranges,
            cards: cards(r),
            questions,
            profiles,
            sources,
            campaigns,
            chart_wide: svg::daily_chart(&chart_days, 960, 260, 13),
            chart_narrow: svg::daily_chart(&chart_days, 360, 220, 12),
            days,
            finishes: f.finishes,
        },
    ))
}

// ---- CSV ------------------------------------------------------------------------------------

/// One CSV cell: quoted when needed; a text cell that a spreadsheet would run as a formula
/// gets a leading apostrophe.
fn cell(s: &str, text: bool) -> String {
    let s = if text && formula_like(s) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Whether a spreadsheet could read the cell as a formula: it starts with a formula character
/// (the full-width forms too, which some spreadsheets fold to ASCII), a tab, a line break or
/// `;` (a separator in some locales), or with spaces before a formula character.
fn formula_like(s: &str) -> bool {
    const FORMULA: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    s.starts_with(['\t', '\r', '\n', ';']) || s.trim_start_matches(' ').starts_with(FORMULA)
}

/// The dashboard as CSV, one figure per row: `section,key,label,metric,value`.
pub fn to_csv(r: &Report, test_slug: &str) -> String {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut row = |section: &str, key: &str, label: &str, metric: &str, value: String| {
        rows.push([
            section.to_string(),
            cell(key, true),
            cell(label, true),
            metric.to_string(),
            cell(&value, false),
        ]);
    };
    let f = &r.figures;
    row("report", test_slug, "", "test_id", r.test_id.clone());
    let versions: Vec<String> = r.versions.iter().map(i64::to_string).collect();
    row("report", test_slug, "", "versions", versions.join(" "));
    row("report", test_slug, "", "from", r.from.clone());
    row("report", test_slug, "", "to", r.to.clone());
    row("summary", "", "", "starts", f.starts.to_string());
    row("summary", "", "", "finishes", f.finishes.to_string());
    row(
        "summary",
        "",
        "",
        "conversion_rate",
        f.conversion_rate.to_string(),
    );
    row(
        "summary",
        "",
        "",
        "avg_seconds_to_finish",
        f.avg_seconds_to_finish
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    row("summary", "", "", "share_opens", f.share_opens.to_string());
    row("summary", "", "", "suspicious", f.suspicious.to_string());
    for q in &f.questions {
        row(
            "question",
            &q.key,
            &q.text,
            "reached",
            q.reached.to_string(),
        );
        row(
            "question",
            &q.key,
            &q.text,
            "answered",
            q.answered.to_string(),
        );
        row(
            "question",
            &q.key,
            &q.text,
            "drop_off",
            q.drop_off.to_string(),
        );
        row(
            "question",
            &q.key,
            &q.text,
            "drop_off_rate",
            q.drop_off_rate.to_string(),
        );
    }
    for p in &f.profiles {
        row("profile", &p.code, &p.title, "count", p.count.to_string());
        row("profile", &p.code, &p.title, "share", p.share.to_string());
    }
    for s in &f.sources {
        row("source", &s.name, "", "starts", s.count.to_string());
    }
    for c in &f.campaigns {
        row("campaign", &c.name, "", "starts", c.count.to_string());
    }
    for d in every_day(r) {
        row("daily", &d.day, "", "starts", d.starts.to_string());
        row("daily", &d.day, "", "finishes", d.finishes.to_string());
        row(
            "daily",
            &d.day,
            "",
            "share_opens",
            d.share_opens.to_string(),
        );
        row("daily", &d.day, "", "suspicious", d.suspicious.to_string());
    }
    let mut out = String::from("section,key,label,metric,value\r\n");
    for r in rows {
        out.push_str(&r.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /admin/tests/{id}/dashboard.csv?version=&from=&to=`: the dashboard's figures as a
/// download.
pub async fn csv(
    State(quiz): State<Quiz>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Query(q): Query<DashQuery>,
) -> PageResult {
    let loaded = load(&quiz, &user.tenant, &id, &q).await?;
    let r = &loaded.report;
    let scope = loaded.version.map(|v| format!("-v{v}")).unwrap_or_default();
    let file = format!(
        "attachment; filename=\"faro-{}{scope}-{}-{}.csv\"",
        loaded.test.slug, r.from, r.to
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        to_csv(r, &loaded.test.slug),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&file) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::{Cell, aggregate};

    fn report(cells: &[Cell]) -> Report {
        let qs = vec![("q1".to_string(), "First, \"quoted\"?".to_string())];
        let ps = vec![("LOW".to_string(), "=Low".to_string())];
        Report {
            test_id: "t1".into(),
            versions: vec![2, 1],
            from: "2026-11-20".into(),
            to: "2026-11-22".into(),
            figures: aggregate(cells, &qs, &ps),
        }
    }

    fn c(day: &str, metric: &str, key: &str, v: i64) -> Cell {
        (day.into(), metric.into(), key.into(), v)
    }

    #[test]
    fn the_csv_lists_every_figure_once_with_safe_cells() {
        let r = report(&[
            c("2026-11-21", "starts", "", 4),
            c("2026-11-21", "finishes", "", 2),
            c("2026-11-21", "finish_seconds", "", 100),
            c("2026-11-21", "reached", "q1", 4),
            c("2026-11-21", "answered", "q1", 3),
            c("2026-11-21", "profile", "LOW", 2),
            c("2026-11-21", "source", "mail", 4),
        ]);
        let csv = to_csv(&r, "my-test");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "section,key,label,metric,value");
        assert!(lines.contains(&"summary,,,starts,4"));
        assert!(lines.contains(&"summary,,,conversion_rate,0.5"));
        assert!(lines.contains(&"summary,,,avg_seconds_to_finish,50"));
        assert!(lines.contains(&"question,q1,\"First, \"\"quoted\"\"?\",drop_off,1"));
        assert!(lines.contains(&"profile,LOW,'=Low,count,2"));
        assert!(lines.contains(&"source,mail,,starts,4"));
        // Three days, the two without counters as zeroes.
        assert!(lines.contains(&"daily,2026-11-20,,starts,0"));
        assert!(lines.contains(&"daily,2026-11-21,,starts,4"));
        assert!(lines.contains(&"daily,2026-11-22,,finishes,0"));
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for risky in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            ";=1",
            ";x",
            "  =1",
            " @x",
            "＝1+1",
            "＋1",
            "  ＝HYPERLINK(\"x\")",
        ] {
            assert!(
                cell(risky, true).trim_start_matches('"').starts_with('\''),
                "{risky:?}"
            );
        }
        for plain in ["Low", "a=b", " a", "1-2", "café"] {
            assert_eq!(cell(plain, true), plain);
        }
        // Numbers are written by us, never neutralised.
        assert_eq!(cell("-3", false), "-3");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45.0), "45s");
        assert_eq!(duration(125.4), "2m 05s");
        assert_eq!(duration(3720.0), "1h 02m");
    }

    #[test]
    fn bar_widths_are_shares_of_the_largest() {
        assert_eq!(width(5, 10), "50.0");
        assert_eq!(width(0, 0), "0");
    }
}
