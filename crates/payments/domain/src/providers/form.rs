//! `application/x-www-form-urlencoded` bodies, as Stripe's API reads them: nested values
//! are spelled with bracketed keys (`metadata[faro_intent]=...`,
//! `automatic_payment_methods[enabled]=true`), and keys and values are percent-encoded as
//! stripe-python's `urlencode` does (everything but `A-Z a-z 0-9 - . _ ~` is `%XX`, a space
//! is `+`; so brackets travel as `%5B`/`%5D`, which Stripe decodes).
//! Written here rather than pulled in: it is a dozen lines, and the crate stays pure.

/// The body for these pairs, in their order.
pub fn encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_encoded(&mut out, key);
        out.push('=');
        push_encoded(&mut out, value);
    }
    out
}

fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
}

/// Percent-decodes one query-string component (`+` is a space). `None` if an escape is
/// cut short or not hex, or the result is not UTF-8: such a value is not trusted.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The first value of `name` in a query string (`a=1&data.id=123`), decoded. `None` when
/// absent or undecodable.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(key)? == name {
            decode(value)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn encodes_like_urlencode() {
        // Python: urllib.parse.urlencode([...]) gives the same text.
        let body = encode(&pairs(&[
            ("amount", "1999"),
            ("metadata[faro_intent]", "pi 1&x=y"),
            ("description", "café ☃"),
            ("safe", "-._~"),
        ]));
        assert_eq!(
            body,
            "amount=1999&metadata%5Bfaro_intent%5D=pi+1%26x%3Dy&description=caf%C3%A9+%E2%98%83&safe=-._~"
        );
        assert_eq!(encode(&[]), "");
    }

    #[test]
    fn decodes_and_refuses_broken_escapes() {
        assert_eq!(decode("a+b%20c%2Bd").as_deref(), Some("a b c+d"));
        assert_eq!(decode("%C3%A9").as_deref(), Some("é"));
        for bad in ["%", "%4", "%zz", "%FF", "%C3"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_query_params() {
        let q = "?type=payment&data.id=ABC123&data.id=other&empty";
        assert_eq!(query_param(q, "data.id").as_deref(), Some("ABC123"));
        assert_eq!(query_param(q, "type").as_deref(), Some("payment"));
        assert_eq!(query_param(q, "empty").as_deref(), Some(""));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param("data%2Eid=7", "data.id").as_deref(), Some("7"));
        assert_eq!(query_param("", "data.id"), None);
    }

    proptest! {
        #[test]
        fn encoding_roundtrips(key in "\\PC{0,20}", value in "\\PC{0,40}") {
            let body = encode(&[(key.clone(), value.clone())]);
            prop_assert_eq!(body.matches('=').count(), 1);
            prop_assert!(!body.contains('&'));
            prop_assert_eq!(query_param(&body, &key), Some(value));
        }
    }
}
