//! Charts drawn by Faro as plain SVG markup: deterministic (the same figures give the same
//! bytes), no script, no external file. Every text node is escaped here.

use std::fmt::Write;

use faro_web::esc;

/// One day of the daily chart.
pub struct Day {
    pub day: String,
    pub starts: i64,
    pub finishes: i64,
}

/// A round axis maximum ≥ `max` (1, 2, 5 × 10ⁿ), so gridlines fall on readable numbers.
pub fn nice_max(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let candidate = m * step;
            if candidate >= max {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// `11-22` from `2026-11-22`.
fn short_day(day: &str) -> &str {
    day.get(5..).unwrap_or(day)
}

/// Starts (light bars) and finishes (dark bars, in front) per day, with a y axis at 0, half
/// and the maximum, and x labels spread so they never overlap. `width`/`height` are the
/// drawing's own units; the page scales it to the column's width.
pub fn daily_chart(days: &[Day], width: u32, height: u32, font: u32) -> String {
    let (w, h, f) = (f64::from(width), f64::from(height), f64::from(font));
    let left = f * 3.2;
    let right = 8.0;
    let top = 10.0;
    let bottom = f * 2.2;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max = nice_max(
        days.iter()
            .map(|d| d.starts.max(d.finishes))
            .max()
            .unwrap_or(0),
    );
    let n = days.len().max(1);
    let slot = plot_w / n as f64;
    let bar = (slot * 0.8).max(1.0);
    let y = |v: i64| top + plot_h - plot_h * (v as f64 / max as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="daily-title" font-size="{font}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let total_starts: i64 = days.iter().map(|d| d.starts).sum();
    let total_finishes: i64 = days.iter().map(|d| d.finishes).sum();
    let _ = write!(
        s,
        r#"<title id="daily-title">Starts and finishes per day: {total_starts} starts, {total_finishes} finishes in {} days</title>"#,
        days.len()
    );
    // Gridlines and y labels: 0, half, max.
    for v in [0, max / 2, max] {
        if v == max / 2 && (max < 2 || max % 2 != 0) {
            continue;
        }
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left:.1}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            w - right,
            left - 6.0,
            yy + f * 0.35
        );
    }
    for (i, d) in days.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let _ = write!(
            s,
            r#"<g><title>{}: {} starts, {} finishes</title>"#,
            esc(&d.day),
            d.starts,
            d.finishes
        );
        if d.starts > 0 {
            let ys = y(d.starts);
            let _ = write!(
                s,
                r#"<rect class="starts" x="{x:.2}" y="{ys:.2}" width="{bar:.2}" height="{:.2}"/>"#,
                top + plot_h - ys
            );
        }
        if d.finishes > 0 {
            let yf = y(d.finishes);
            let inner = (bar * 0.5).max(1.0);
            let _ = write!(
                s,
                r#"<rect class="finishes" x="{:.2}" y="{yf:.2}" width="{inner:.2}" height="{:.2}"/>"#,
                x + (bar - inner) / 2.0,
                top + plot_h - yf
            );
        }
        // An invisible full-height target so the tooltip works on empty days too.
        let _ = write!(
            s,
            r#"<rect class="hit" x="{:.2}" y="{top:.1}" width="{slot:.2}" height="{plot_h:.1}"/></g>"#,
            left + slot * i as f64
        );
    }
    // X labels: first, last, and evenly spaced ones that fit (about 5 characters each).
    let label_w = f * 3.6;
    let every = ((label_w / slot).ceil() as usize).max(1);
    let last = days.len().saturating_sub(1);
    for (i, d) in days.iter().enumerate() {
        let near_last = i != last && last - i < every;
        if (i % every != 0 || near_last) && i != last {
            continue;
        }
        let x = left + slot * (i as f64 + 0.5);
        let anchor = if days.len() == 1 {
            "middle"
        } else if i == 0 {
            "start"
        } else if i == last {
            "end"
        } else {
            "middle"
        };
        let x = match anchor {
            "start" => x - slot / 2.0,
            "end" => x + slot / 2.0,
            _ => x,
        };
        let _ = write!(
            s,
            r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            h - f * 0.6,
            esc(short_day(&d.day))
        );
    }
    let _ = write!(
        s,
        r#"<line class="baseline" x1="{left:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/></svg>"#,
        w - right,
        top + plot_h,
        top + plot_h
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<Day> {
        (0..n)
            .map(|i| Day {
                day: format!("2026-11-{:02}", i + 1),
                starts: i as i64 * 3,
                finishes: i as i64,
            })
            .collect()
    }

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(250), 500);
    }

    #[test]
    fn the_chart_is_deterministic_and_has_a_bar_per_day() {
        let a = daily_chart(&days(30), 960, 260, 12);
        assert_eq!(a, daily_chart(&days(30), 960, 260, 12));
        assert!(a.starts_with("<svg") && a.ends_with("</svg>"));
        // Day 1 has no starts: 29 start bars and 29 finish bars.
        assert_eq!(a.matches(r#"class="starts""#).count(), 29);
        assert_eq!(a.matches(r#"class="finishes""#).count(), 29);
        assert!(a.contains("2026-11-30: 87 starts, 29 finishes"));
        assert!(a.contains(">11-01<") && a.contains(">11-30<"));
    }

    #[test]
    fn x_labels_do_not_crowd_a_narrow_chart() {
        let narrow = daily_chart(&days(90), 360, 220, 11);
        let labels = narrow.matches(r#"class="axis" x="#).count();
        // 3 y labels at most, and x labels spaced at least ~4 characters apart.
        assert!(labels <= 3 + 9, "{labels} labels");
    }

    #[test]
    fn an_empty_range_draws_axes_only() {
        let s = daily_chart(&[], 360, 220, 11);
        assert!(!s.contains(r#"class="starts""#));
        assert!(s.contains("baseline"));
    }
}
