//! What a file is, from its bytes: the stored and served content type comes from an allow-list
//! matched against the content, never from the client's `Content-Type` or file name. The name
//! only chooses between equally harmless text types (`.csv`, `.json`) once the bytes are known
//! to be UTF-8 text. Also the display name's sanitising and the `Content-Disposition` header.

/// Bytes kept from the start of a file for magic-number matching.
pub const HEAD_BYTES: usize = 8 * 1024;

pub const OCTET_STREAM: &str = "application/octet-stream";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";
pub const JSON: &str = "application/json";
pub const HTML: &str = "text/html; charset=utf-8";
pub const SVG: &str = "image/svg+xml";
pub const XML: &str = "application/xml";

/// Binary types recognised by their magic numbers and safe to show in the browser.
const BINARY_ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
];

/// Types a browser may show in place (`inline`): images that cannot carry script, PDF, and
/// plain text served with `nosniff`. Everything else, HTML and SVG included, is `attachment`.
pub fn inline_safe(content_type: &str) -> bool {
    BINARY_ALLOWED.contains(&content_type) || [TEXT_PLAIN, TEXT_CSV, JSON].contains(&content_type)
}

/// The content types a stored file can have (for documentation and tests).
pub const ALL_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    TEXT_PLAIN,
    TEXT_CSV,
    JSON,
    HTML,
    SVG,
    XML,
    OCTET_STREAM,
];

/// Sniffs a file while it streams past: keeps its first [`HEAD_BYTES`] and checks that the
/// whole of it is UTF-8 text (a chunk may end inside a character).
pub struct Sniffer {
    head: Vec<u8>,
    /// The bytes of a character cut by the end of the previous chunk (at most 3).
    carry: Vec<u8>,
    text: bool,
}

impl Default for Sniffer {
    fn default() -> Self {
        Sniffer {
            head: Vec::with_capacity(HEAD_BYTES),
            carry: Vec::new(),
            text: true,
        }
    }
}

impl Sniffer {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if !self.text || chunk.is_empty() {
            return;
        }
        let mut rest = chunk;
        if !self.carry.is_empty() {
            // Complete the cut character with up to 3 bytes of this chunk.
            let need = (4 - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..need]);
            match std::str::from_utf8(&self.carry) {
                Ok(_) => {
                    rest = &rest[need..];
                    self.carry.clear();
                }
                Err(e) if e.valid_up_to() > 0 => {
                    let used = e.valid_up_to() - (self.carry.len() - need);
                    rest = &rest[used..];
                    self.carry.clear();
                }
                Err(e) if e.error_len().is_none() && rest.len() == need => {
                    // Still incomplete and this chunk is used up: wait for the next one.
                    rest = &[];
                }
                Err(_) => {
                    self.text = false;
                    return;
                }
            }
        }
        match std::str::from_utf8(rest) {
            Ok(s) => self.text = !s.contains('\0'),
            Err(e) if e.error_len().is_none() => {
                let (valid, cut) = rest.split_at(e.valid_up_to());
                self.text = !valid.contains(&0);
                self.carry.extend_from_slice(cut);
            }
            Err(_) => self.text = false,
        }
    }

    /// The content type of everything fed so far, as a whole file named `declared_name`.
    pub fn finish(&self, declared_name: &str) -> &'static str {
        classify(
            &self.head,
            self.text && self.carry.is_empty(),
            declared_name,
        )
    }
}

/// The content type of a file that starts with `head`; `text` says whether the whole file is
/// UTF-8 without NUL bytes.
pub fn classify(head: &[u8], text: bool, declared_name: &str) -> &'static str {
    if let Some(kind) = infer::get(head)
        && let Some(allowed) = BINARY_ALLOWED.iter().find(|t| **t == kind.mime_type())
    {
        return allowed;
    }
    if !text {
        return OCTET_STREAM;
    }
    let body = trim_start(head);
    if body.first() == Some(&b'<') {
        // Markup: HTML, SVG and XML can carry script; whatever it is, it is served as a download.
        let lower = body.to_ascii_lowercase();
        return if contains(&lower, b"<svg") {
            SVG
        } else if lower.starts_with(b"<?xml") && !contains(&lower, b"<html") {
            XML
        } else {
            HTML
        };
    }
    let ext = declared_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match (ext.as_str(), body.first()) {
        ("csv", _) => TEXT_CSV,
        ("json", Some(b'{' | b'[')) => JSON,
        _ => TEXT_PLAIN,
    }
}

/// Skips a UTF-8 byte order mark and leading white space.
fn trim_start(buf: &[u8]) -> &[u8] {
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    let start = buf
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(buf.len());
    &buf[start..]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The longest display name kept, in characters.
const NAME_CHARS: usize = 200;

/// The display name of a client's file name: its last path segment (either slash), without
/// control or bidirectional-override characters (which can disguise an extension), trimmed,
/// at most 200 characters; `file` when nothing is left. It is only ever shown, never a path.
pub fn display_name(declared: &str) -> String {
    let last = declared.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(NAME_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_end_matches('.').trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        "file".to_string()
    } else {
        trimmed.to_string()
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `Content-Disposition` for a stored file: `inline` for the types a browser can show
/// safely, `attachment` for everything else; the name as an ASCII fallback and RFC 8187 UTF-8.
pub fn content_disposition(content_type: &str, name: &str) -> String {
    let kind = if inline_safe(content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    fn sniff(bytes: &[u8], name: &str) -> &'static str {
        let mut s = Sniffer::default();
        s.feed(bytes);
        s.finish(name)
    }

    #[test]
    fn binary_types_come_from_the_bytes_not_the_name() {
        assert_eq!(sniff(PNG, "x.txt"), "image/png");
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", "a.png"),
            "image/jpeg"
        );
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0", "g"), "image/gif");
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 ", "w"), "image/webp");
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "doc.html"),
            "application/pdf"
        );
        // Known to infer but not allowed: a zip (or an .exe) is a plain download.
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0", "x.png"), OCTET_STREAM);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0", "x.txt"), OCTET_STREAM);
        assert_eq!(sniff(&[0, 159, 146, 150], "x.txt"), OCTET_STREAM);
    }

    #[test]
    fn text_is_utf8_and_the_name_only_picks_a_text_type() {
        assert_eq!(sniff(b"hello\n", "notes"), TEXT_PLAIN);
        assert_eq!(sniff("año,mes\n1,2\n".as_bytes(), "data.CSV"), TEXT_CSV);
        assert_eq!(sniff(b" {\"a\": 1}", "x.json"), JSON);
        assert_eq!(sniff(b"not json", "x.json"), TEXT_PLAIN);
        assert_eq!(sniff(b"a\0b", "x.txt"), OCTET_STREAM);
        assert_eq!(sniff(b"\xC3\x28", "x.txt"), OCTET_STREAM);
        assert_eq!(sniff(b"", "empty.txt"), TEXT_PLAIN);
    }

    #[test]
    fn markup_is_never_inline() {
        for (bytes, expected) in [
            (&b"<!doctype html><script>alert(1)</script>"[..], HTML),
            (b"\xEF\xBB\xBF  <html><body>", HTML),
            (b"<p>hi", HTML),
            (b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>", SVG),
            (b"<SVG onload=alert(1)>", SVG),
            (b"<?xml version=\"1.0\"?><feed/>", XML),
        ] {
            let t = sniff(bytes, "picture.png");
            assert_eq!(t, expected, "{}", String::from_utf8_lossy(bytes));
            assert!(!inline_safe(t));
            assert!(content_disposition(t, "x").starts_with("attachment;"));
        }
        assert!(content_disposition(OCTET_STREAM, "x").starts_with("attachment;"));
        assert!(content_disposition("image/png", "x").starts_with("inline;"));
        assert!(content_disposition(TEXT_PLAIN, "x").starts_with("inline;"));
    }

    #[test]
    fn utf8_is_checked_across_chunk_boundaries() {
        let text = "ñandú €uro 𝄞 clef ".repeat(50);
        let bytes = text.as_bytes();
        for size in 1..=7 {
            let mut s = Sniffer::default();
            for chunk in bytes.chunks(size) {
                s.feed(chunk);
            }
            assert_eq!(s.finish("a.txt"), TEXT_PLAIN, "chunks of {size}");
        }
        // A character cut at the very end is not text.
        let mut s = Sniffer::default();
        s.feed(&bytes[..bytes.len() - 1]);
        s.feed("€".as_bytes().get(..2).unwrap_or_default());
        assert_eq!(s.finish("a.txt"), OCTET_STREAM);
        // An invalid byte after a valid cut character is caught too.
        let mut s = Sniffer::default();
        s.feed(b"ab\xE2\x82");
        s.feed(b"\xAC\xFF");
        assert_eq!(s.finish("a.txt"), OCTET_STREAM);
        let mut s = Sniffer::default();
        s.feed(b"ab\xE2\x82");
        s.feed(b"\xACok");
        assert_eq!(s.finish("a.txt"), TEXT_PLAIN);
    }

    #[test]
    fn the_head_is_what_magic_numbers_see() {
        let mut s = Sniffer::default();
        for b in PNG {
            s.feed(&[*b]);
        }
        s.feed(&vec![0u8; 3 * HEAD_BYTES]);
        assert_eq!(s.head.len(), HEAD_BYTES);
        assert_eq!(s.finish("x"), "image/png");
    }

    #[test]
    fn display_names_are_names_not_paths() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(display_name("a\u{202E}gpj.exe"), "agpj.exe");
        assert_eq!(display_name("line\nbreak\r.txt"), "linebreak.txt");
        assert_eq!(display_name("  spaced.txt . "), "spaced.txt");
        assert_eq!(display_name(".."), "file");
        assert_eq!(display_name("dir/"), "file");
        assert_eq!(display_name(""), "file");
        assert_eq!(display_name(&"é".repeat(500)).chars().count(), 200);
    }

    #[test]
    fn disposition_quotes_nothing_it_should_not() {
        assert_eq!(
            content_disposition("image/png", "my \"cat\" ñ.png"),
            "inline; filename=\"my _cat_ _.png\"; filename*=UTF-8''my%20%22cat%22%20%C3%B1.png"
        );
    }
}
