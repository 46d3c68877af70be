//! The result card: a 1200×630 PNG (the OpenGraph / Twitter `summary_large_image` size) with
//! the test title, the profile, the score and a bar per dimension, drawn by resvg from an SVG
//! built here. Text uses Inter compiled into the binary; system fonts are never consulted, so
//! the card looks the same on every machine (and resvg, which silently drops text it has no
//! font for, always has one: the tests look at the pixels).
//!
//! Rendered cards are kept in a small in-process LRU (results never change), and served with
//! `Cache-Control: public, max-age=86400, immutable` and an ETag.

use faro_http::PublicTenant;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use resvg::tiny_skia;
use resvg::usvg;

use super::i18n::{Lang, fill};
use crate::Quiz;
use faro_web::esc;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// Bump when the drawing changes, so ETags change with it.
const CARD_VERSION: u32 = 1;

/// The full fonts, embedded once with the other assets (rust-embed compiles them in with
/// `include_bytes!` in release builds) and never served.
const FONTS: [&str; 2] = ["fonts/Inter-Regular.otf", "fonts/Inter-Bold.otf"];
const FAMILY: &str = "Inter";

/// Where the profile title is drawn (x, y, width, height): text must show up there.
pub const PROFILE_TITLE_BOX: (u32, u32, u32, u32) = (72, 200, 540, 210);

const LEFT: f32 = 72.0;
const LEFT_WIDTH: f32 = 540.0;
const PANEL_X: f32 = 660.0;
const PANEL_Y: f32 = 56.0;
const PANEL_W: f32 = 484.0;
const PANEL_H: f32 = 518.0;

/// What the card shows.
pub struct CardData {
    pub lang: Lang,
    pub test_title: String,
    pub profile_title: String,
    pub score: u8,
    /// (label, 0..=100)
    pub dimensions: Vec<(String, u8)>,
    /// The site, e.g. `quiz.example.com`.
    pub site: String,
}

fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: LazyLock<usvg::Options<'static>> = LazyLock::new(|| {
        let mut db = usvg::fontdb::Database::new();
        for font in FONTS {
            if let Some(data) = super::assets::bytes(font) {
                db.load_font_data(data.into_owned());
            }
        }
        db.set_sans_serif_family(FAMILY);
        usvg::Options {
            font_family: FAMILY.to_string(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    });
    &OPTIONS
}

/// The drawn width of `text` in Inter at `size` px and `weight`, measured by laying it out.
fn measure(text: &str, size: f32, weight: u16) -> f32 {
    if text.trim().is_empty() {
        return 0.0;
    }
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="400"><text x="0" y="200" font-family="{FAMILY}" font-size="{size}" font-weight="{weight}">{}</text></svg>"#,
        esc(text)
    );
    usvg::Tree::from_str(&svg, options())
        .map(|t| t.root().abs_bounding_box().right().max(0.0))
        .unwrap_or(text.chars().count() as f32 * size * 0.6)
}

/// Greedy word wrap into at most `max_lines` lines of `width` px; the last line gets an
/// ellipsis when text is left over. The bool says whether everything fit.
fn wrap(text: &str, size: f32, weight: u16, width: f32, max_lines: usize) -> (Vec<String>, bool) {
    let space = measure("a a", size, weight) - measure("aa", size, weight);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0;
    let mut words = text.split_whitespace();
    let mut fit = true;
    for word in words.by_ref() {
        let w = measure(word, size, weight);
        if line.is_empty() {
            line = word.to_string();
            line_w = w;
        } else if line_w + space + w <= width {
            line.push(' ');
            line.push_str(word);
            line_w += space + w;
        } else {
            lines.push(std::mem::take(&mut line));
            if lines.len() == max_lines {
                fit = false;
                break;
            }
            line = word.to_string();
            line_w = w;
        }
        if line_w > width {
            // One word wider than the line: cut it.
            let (cut, _) = truncate(&line, size, weight, width);
            line = cut;
            line_w = width;
            fit = false;
        }
    }
    if !line.is_empty() && lines.len() < max_lines {
        lines.push(line);
    }
    if !fit && let Some(last) = lines.last_mut() {
        let with_ellipsis = format!("{}…", last.trim_end_matches('…'));
        *last = truncate(&with_ellipsis, size, weight, width).0;
    }
    (lines, fit)
}

/// Shortens `text` (ending it with "…") until it is at most `width` px wide.
fn truncate(text: &str, size: f32, weight: u16, width: f32) -> (String, bool) {
    if measure(text, size, weight) <= width {
        return (text.to_string(), false);
    }
    let chars: Vec<char> = text.trim_end_matches('…').chars().collect();
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string()
            + "…";
        if measure(&candidate, size, weight) <= width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let s: String = chars[..lo].iter().collect();
    (format!("{}…", s.trim_end()), true)
}

/// The card as SVG text.
pub fn svg(data: &CardData) -> String {
    let t = super::i18n::texts(data.lang);
    let mut s = String::with_capacity(8 * 1024);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">
<defs>
<linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#0e1a3d"/><stop offset="1" stop-color="#1c3b8f"/></linearGradient>
<radialGradient id="glow" cx="1" cy="0" r="0.9"><stop offset="0" stop-color="#60a5fa" stop-opacity="0.35"/><stop offset="1" stop-color="#60a5fa" stop-opacity="0"/></radialGradient>
</defs>
<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#bg)"/>
<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#glow)"/>
<rect x="0" y="0" width="{WIDTH}" height="8" fill="#fbbf24"/>
"##
    );

    // Left: test title, profile, score.
    let (title_lines, _) = wrap(&data.test_title, 30.0, 600, LEFT_WIDTH, 2);
    let mut y = 112.0;
    for line in &title_lines {
        let _ = writeln!(
            s,
            r##"<text x="{LEFT}" y="{y}" font-size="30" font-weight="600" fill="#c7d2fe">{}</text>"##,
            esc(line)
        );
        y += 40.0;
    }
    let kicker_y = y + 36.0;
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="{kicker_y}" font-size="22" font-weight="700" letter-spacing="3" fill="#fbbf24">{}</text>"##,
        esc(&t.result_kicker.to_uppercase())
    );
    // The largest size at which the profile fits in two lines above the score.
    let bottom = 420.0;
    let mut chosen = None;
    for size in [92.0_f32, 80.0, 68.0, 58.0, 50.0, 44.0] {
        let first = kicker_y + 16.0 + size;
        let (lines, fit) = wrap(&data.profile_title, size, 700, LEFT_WIDTH, 2);
        let last = first + (lines.len().saturating_sub(1)) as f32 * size * 1.08;
        if fit && last <= bottom {
            chosen = Some((size, lines));
            break;
        }
        chosen = Some((size, lines));
    }
    if let Some((size, lines)) = chosen {
        let mut py = kicker_y + 16.0 + size;
        for line in lines {
            let _ = writeln!(
                s,
                r##"<text x="{LEFT}" y="{py}" font-size="{size}" font-weight="700" fill="#ffffff">{}</text>"##,
                esc(&line)
            );
            py += size * 1.08;
        }
    }
    let score = data.score.min(100);
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="468" font-size="22" font-weight="700" letter-spacing="3" fill="#aab8e6">{}</text>"##,
        esc(&t.score.to_uppercase())
    );
    let score_text = score.to_string();
    let score_w = measure(&score_text, 84.0, 700);
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="548" font-size="84" font-weight="700" fill="#ffffff">{score_text}</text><text x="{}" y="548" font-size="34" font-weight="600" fill="#aab8e6">/100</text>"##,
        LEFT + score_w + 6.0
    );
    let gauge_x = LEFT + score_w + 120.0;
    let gauge_w = (LEFT + LEFT_WIDTH - gauge_x).max(120.0);
    let fill_w = gauge_w * f32::from(score) / 100.0;
    let _ = writeln!(
        s,
        r##"<rect x="{gauge_x}" y="522" width="{gauge_w}" height="14" rx="7" fill="#ffffff" fill-opacity="0.16"/><rect x="{gauge_x}" y="522" width="{fill_w:.1}" height="14" rx="7" fill="#fbbf24"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="600" font-size="20" font-weight="400" fill="#8ea0d8">{}</text>"##,
        esc(&truncate(&data.site, 20.0, 400, LEFT_WIDTH).0)
    );

    // Right: a bar per dimension, in a panel.
    let dims: Vec<&(String, u8)> = data.dimensions.iter().take(6).collect();
    if !dims.is_empty() {
        let _ = writeln!(
            s,
            r##"<rect x="{PANEL_X}" y="{PANEL_Y}" width="{PANEL_W}" height="{PANEL_H}" rx="24" fill="#ffffff" fill-opacity="0.07" stroke="#ffffff" stroke-opacity="0.12"/>"##
        );
        let inner_x = PANEL_X + 36.0;
        let inner_w = PANEL_W - 72.0;
        let _ = writeln!(
            s,
            r##"<text x="{inner_x}" y="{}" font-size="20" font-weight="700" letter-spacing="2.5" fill="#c7d2fe">{}</text>"##,
            PANEL_Y + 62.0,
            esc(&t.by_dimension.to_uppercase())
        );
        let top = PANEL_Y + 104.0;
        let row = ((PANEL_H - 130.0) / dims.len() as f32).min(80.0);
        for (i, (label, value)) in dims.iter().enumerate() {
            let value = (*value).min(100);
            let ry = top + row * i as f32;
            let value_text = value.to_string();
            let label = truncate(label, 23.0, 400, inner_w - 64.0).0;
            let bar_w = inner_w * f32::from(value) / 100.0;
            let _ = writeln!(
                s,
                r##"<text x="{inner_x}" y="{}" font-size="23" font-weight="400" fill="#e0e7ff">{}</text><text x="{}" y="{}" font-size="23" font-weight="700" fill="#ffffff" text-anchor="end">{value_text}</text><rect x="{inner_x}" y="{}" width="{inner_w}" height="12" rx="6" fill="#ffffff" fill-opacity="0.16"/><rect x="{inner_x}" y="{}" width="{bar_w:.1}" height="12" rx="6" fill="#fbbf24"/>"##,
                ry + 24.0,
                esc(&label),
                inner_x + inner_w,
                ry + 24.0,
                ry + 38.0,
                ry + 38.0,
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("card SVG does not parse: {0}")]
    Svg(#[from] usvg::Error),
    #[error("cannot allocate the card's pixels")]
    Pixmap,
    #[error("cannot encode the card: {0}")]
    Png(String),
}

/// Draws the card. CPU-bound (tens of milliseconds): call it off the async workers.
pub fn render(data: &CardData) -> Result<Vec<u8>, CardError> {
    let tree = usvg::Tree::from_str(&svg(data), options())?;
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).ok_or(CardError::Pixmap)?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| CardError::Png(e.to_string()))
}

/// Decodes a PNG into (width, height, RGBA pixels): for tests and tools that check a card.
pub fn decode_rgba(png: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let p = tiny_skia::Pixmap::decode_png(png).ok()?;
    Some((p.width(), p.height(), p.data().to_vec()))
}

/// How many pixels inside `area` (x, y, w, h) are near white: the card's text colour, never
/// its background.
pub fn light_pixels(width: u32, rgba: &[u8], area: (u32, u32, u32, u32)) -> usize {
    let (x0, y0, w, h) = area;
    let mut n = 0;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let i = ((y * width + x) * 4) as usize;
            if let Some(px) = rgba.get(i..i + 3)
                && px.iter().all(|c| *c > 200)
            {
                n += 1;
            }
        }
    }
    n
}

/// A rendered card and its validator.
struct Cached {
    etag: String,
    png: axum::body::Bytes,
    used: u64,
}

/// Least-recently-used cards, bounded in count and bytes.
struct Lru {
    clock: u64,
    bytes: usize,
    map: HashMap<String, Cached>,
}

const LRU_MAX_ENTRIES: usize = 256;
const LRU_MAX_BYTES: usize = 24 * 1024 * 1024;

impl Lru {
    fn get(&mut self, key: &str) -> Option<(String, axum::body::Bytes)> {
        self.clock += 1;
        let clock = self.clock;
        let c = self.map.get_mut(key)?;
        c.used = clock;
        Some((c.etag.clone(), c.png.clone()))
    }

    fn insert(&mut self, key: String, etag: String, png: axum::body::Bytes) {
        self.clock += 1;
        if let Some(old) = self.map.remove(&key) {
            self.bytes -= old.png.len();
        }
        while !self.map.is_empty()
            && (self.map.len() >= LRU_MAX_ENTRIES || self.bytes + png.len() > LRU_MAX_BYTES)
        {
            let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(c) = self.map.remove(&oldest) {
                self.bytes -= c.png.len();
            }
        }
        self.bytes += png.len();
        self.map.insert(
            key,
            Cached {
                etag,
                png,
                used: self.clock,
            },
        );
    }
}

static CARDS: LazyLock<Mutex<Lru>> = LazyLock::new(|| {
    Mutex::new(Lru {
        clock: 0,
        bytes: 0,
        map: HashMap::new(),
    })
});

/// At most two cards drawn at once: a burst of new shares cannot take every core.
static RENDERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

fn etag_for(base_url: &str, token: &str) -> String {
    let key = format!(
        "card:{CARD_VERSION}:{}:{base_url}:{token}",
        env!("CARGO_PKG_VERSION")
    );
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"c{h:016x}\"")
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn png_response(headers: &HeaderMap, etag: &str, png: axum::body::Bytes) -> Response {
    let mut response = if not_modified(headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "image/png")], png).into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    response
}

/// The host (and port) of the public base URL, for the card's footer.
pub fn site_of(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// `GET /r/{token}/card.png`
pub async fn card_png(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = quiz.core.web.public_base_url.clone();
    let etag = etag_for(&base, &token);
    let cached = CARDS.lock().unwrap_or_else(|p| p.into_inner()).get(&token);
    if let Some((etag, png)) = cached {
        return png_response(&headers, &etag, png);
    }
    let shared = match crate::visit::load_shared(&quiz, tenant, &token).await {
        Ok(Some((shared, _))) => shared,
        Ok(None) => return (StatusCode::NOT_FOUND, "no result behind this link").into_response(),
        Err(e) => return faro_http::ApiError::from(e).into_response(),
    };
    if not_modified(&headers, &etag) {
        return png_response(&headers, &etag, axum::body::Bytes::new());
    }
    let data = CardData {
        lang: Lang::from_tag(&shared.test.lang).unwrap_or(Lang::En),
        test_title: shared.test.title,
        profile_title: shared.title,
        score: shared.score,
        dimensions: shared
            .dimensions
            .into_iter()
            .map(|d| (d.label, d.score))
            .collect(),
        site: site_of(&base),
    };
    // Drawing is CPU work: off the async workers, and a few at a time.
    let Ok(_permit) = RENDERS.acquire().await else {
        return faro_http::ApiError::unavailable("card rendering is shutting down").into_response();
    };
    let rendered = tokio::task::spawn_blocking(move || render(&data)).await;
    let png = match rendered {
        Ok(Ok(png)) => axum::body::Bytes::from(png),
        Ok(Err(e)) => return faro_http::ApiError::internal(e).into_response(),
        Err(e) => return faro_http::ApiError::internal(e).into_response(),
    };
    CARDS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token, etag.clone(), png.clone());
    png_response(&headers, &etag, png)
}

/// The alt text of the card, for `og:image:alt` and `twitter:image:alt`.
pub fn alt_text(lang: Lang, profile: &str, score: u8, test: &str) -> String {
    fill(
        super::i18n::texts(lang).card_alt,
        &[("profile", &profile), ("score", &score), ("test", &test)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CardData {
        CardData {
            lang: Lang::Es,
            test_title: "¿Qué tipo de ahorrista sos?".into(),
            profile_title: "Moderado".into(),
            score: 54,
            dimensions: vec![
                ("Horizonte de tiempo".into(), 80),
                ("Tolerancia a las pérdidas".into(), 45),
                ("Estabilidad de ingresos".into(), 100),
                ("Objetivo".into(), 0),
                ("Conocimiento y experiencia".into(), 30),
            ],
            site: "quiz.example.com".into(),
        }
    }

    #[test]
    fn the_embedded_fonts_load_and_measure_text() {
        assert_eq!(options().fontdb.len(), 2);
        let families: Vec<String> = options()
            .fontdb
            .faces()
            .flat_map(|f| f.families.iter().map(|(n, _)| n.clone()))
            .collect();
        assert!(families.iter().all(|f| f == FAMILY), "{families:?}");
        let narrow = measure("iiii", 40.0, 400);
        let wide = measure("WWWW", 40.0, 400);
        assert!(narrow > 10.0 && wide > narrow * 2.0, "{narrow} {wide}");
        assert!(measure("Bold", 40.0, 700) > measure("Bold", 40.0, 400));
    }

    #[test]
    fn the_card_draws_its_text() {
        let png = render(&sample()).expect("renders");
        let (w, h, rgba) = decode_rgba(&png).expect("decodes");
        assert_eq!((w, h), (WIDTH, HEIGHT));
        // The profile title is white on a dark background: without a font it would be empty.
        assert!(light_pixels(w, &rgba, PROFILE_TITLE_BOX) > 800);
        // The test title's line, too (pale indigo, not white): the same card without it
        // differs there in many pixels.
        let mut untitled = sample();
        untitled.test_title = String::new();
        let (_, _, bare) = decode_rgba(&render(&untitled).expect("renders")).expect("decodes");
        let (x0, y0, bw, bh) = (72u32, 80u32, 400u32, 40u32);
        let changed = (y0..y0 + bh)
            .flat_map(|y| (x0..x0 + bw).map(move |x| ((y * w + x) * 4) as usize))
            .filter(|&i| {
                rgba[i..i + 3]
                    .iter()
                    .zip(&bare[i..i + 3])
                    .any(|(a, b)| a.abs_diff(*b) > 40)
            })
            .count();
        assert!(changed > 300, "only {changed} pixels show the test title");
        let dark = rgba.chunks(4).filter(|p| p[0] < 60 && p[2] < 160).count();
        assert!(dark > 100_000, "the background is dark");
    }

    #[test]
    fn text_without_a_font_would_leave_the_title_box_empty() {
        // The check above is meaningful: the same card with its text removed has no light
        // pixels where the title is.
        let mut data = sample();
        data.profile_title = String::new();
        let png = render(&data).expect("renders");
        let (w, _, rgba) = decode_rgba(&png).expect("decodes");
        assert_eq!(light_pixels(w, &rgba, PROFILE_TITLE_BOX), 0);
    }

    #[test]
    fn long_text_is_wrapped_and_cut_with_an_ellipsis() {
        let (lines, fit) = wrap(&"palabra ".repeat(60), 30.0, 600, LEFT_WIDTH, 2);
        assert_eq!(lines.len(), 2);
        assert!(!fit);
        assert!(lines[1].ends_with('…'), "{lines:?}");
        for l in &lines {
            assert!(measure(l, 30.0, 600) <= LEFT_WIDTH + 1.0, "{l}");
        }
        let (lines, fit) = wrap("Moderado", 92.0, 700, LEFT_WIDTH, 2);
        assert!(fit);
        assert_eq!(lines, vec!["Moderado".to_string()]);
        let (cut, was_cut) = truncate(&"x".repeat(500), 20.0, 400, 200.0);
        assert!(was_cut && cut.ends_with('…'));
    }

    /// `FARO_CARD_PREVIEW=/tmp/card.png cargo test -p faro-quiz card_preview` writes a card
    /// with long texts, to look at.
    #[test]
    fn card_preview() {
        let mut data = sample();
        data.test_title =
            "¿Qué tan preparado está tu hogar para una emergencia económica inesperada este año?"
                .into();
        data.profile_title = "Planificador prudente con margen de mejora".into();
        data.dimensions.push((
            "Una dimensión con un nombre larguísimo que no entra".into(),
            77,
        ));
        let png = render(&data).expect("renders");
        if let Ok(path) = std::env::var("FARO_CARD_PREVIEW") {
            std::fs::write(path, &png).expect("write the preview");
        }
    }

    #[test]
    fn markup_in_titles_is_escaped() {
        let mut data = sample();
        data.profile_title = "<b>&\"'</b>".into();
        let svg = svg(&data);
        assert!(svg.contains("&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;"));
        render(&data).expect("still renders");
    }

    #[test]
    fn the_lru_is_bounded() {
        let mut lru = Lru {
            clock: 0,
            bytes: 0,
            map: HashMap::new(),
        };
        let png = || axum::body::Bytes::from(vec![0u8; 10]);
        for i in 0..LRU_MAX_ENTRIES {
            lru.insert(format!("k{i}"), "e".into(), png());
        }
        // k0 is the oldest insert, but used since: k1..=k10 go first.
        assert!(lru.get("k0").is_some());
        for i in LRU_MAX_ENTRIES..LRU_MAX_ENTRIES + 10 {
            lru.insert(format!("k{i}"), "e".into(), png());
        }
        assert_eq!(lru.map.len(), LRU_MAX_ENTRIES);
        assert!(lru.get("k0").is_some());
        assert!(lru.get("k1").is_none() && lru.get("k10").is_none());
        assert!(lru.get("k11").is_some());
        assert_eq!(lru.bytes, LRU_MAX_ENTRIES * 10);
    }

    #[test]
    fn etags_and_sites() {
        assert_ne!(etag_for("http://a", "t1"), etag_for("http://a", "t2"));
        assert_eq!(site_of("https://quiz.example.com/"), "quiz.example.com");
        assert_eq!(site_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
