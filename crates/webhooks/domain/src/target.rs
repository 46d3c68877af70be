//! An endpoint's URL: `http` or `https`, with a host, without credentials or fragment, at most
//! [`MAX_URL_LEN`] characters. A host written as an IP address is judged here already (so a
//! client hears at creation that `http://10.0.0.5/` cannot work); a host name can only be
//! judged when it is resolved, at delivery.

use std::net::IpAddr;

use crate::address::blocked;

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// The host of a URL, as the parser read it (`http://0x7f.1/` is the address 127.0.0.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetHost {
    Name(String),
    Ip(IpAddr),
}

/// A checked URL, split for connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL as stored and shown (the parser's serialisation).
    pub url: String,
    pub https: bool,
    pub host: TargetHost,
    pub port: u16,
    /// Path and query, what the request line carries (`/hooks?x=1`).
    pub path_and_query: String,
    /// The `Host` header value (`example.com`, `example.com:8443`, `[::1]:8080`).
    pub authority: String,
}

/// Parses and checks a URL; with `allow_private` false, a host that is an IP address must be
/// public. The message says what is wrong, for the `url` field.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Target, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("give the URL to deliver to (https://...)".into());
    }
    if raw.len() > MAX_URL_LEN {
        return Err(format!("at most {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(format!("the scheme must be http or https, not {other}")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in the URL are not allowed: the signature authenticates deliveries".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("a URL with a #fragment cannot be delivered to".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => TargetHost::Name(d.trim_end_matches('.').to_string()),
        Some(url::Host::Ipv4(ip)) => TargetHost::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => TargetHost::Ip(IpAddr::V6(ip)),
        None => return Err("the URL has no host".into()),
    };
    if let TargetHost::Name(name) = &host
        && name.is_empty()
    {
        return Err("the URL has no host".into());
    }
    if let (TargetHost::Ip(ip), false) = (&host, allow_private)
        && let Some(why) = blocked(*ip)
    {
        return Err(format!(
            "{ip} is {}: webhooks may not target private or special networks \
             (ALLOW_PRIVATE_NETWORK_TARGETS is off)",
            why.describe()
        ));
    }
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let host_text = url.host_str().unwrap_or_default();
    let authority = match url.port() {
        Some(p) => format!("{host_text}:{p}"),
        None => host_text.to_string(),
    };
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let serialized = url.as_str().to_string();
    if serialized.len() > MAX_URL_LEN {
        return Err(format!("at most {MAX_URL_LEN} characters"));
    }
    Ok(Target {
        url: serialized,
        https,
        host,
        port,
        path_and_query,
        authority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_for_connecting() {
        let t = check_url("https://Hooks.Example.com/in?x=1", false).expect("valid");
        assert_eq!(t.url, "https://hooks.example.com/in?x=1");
        assert!(t.https);
        assert_eq!(t.host, TargetHost::Name("hooks.example.com".into()));
        assert_eq!(t.port, 443);
        assert_eq!(t.path_and_query, "/in?x=1");
        assert_eq!(t.authority, "hooks.example.com");
        let t = check_url("http://[::1]:8080", true).expect("allowed");
        assert_eq!(t.host, TargetHost::Ip("::1".parse().expect("ip")));
        assert_eq!(t.authority, "[::1]:8080");
        assert_eq!(t.path_and_query, "/");
        assert_eq!(t.port, 8080);
    }

    #[test]
    fn literal_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/x",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://10.0.0.5/",
            "http://[::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
        ] {
            let e = check_url(url, false).expect_err(url);
            assert!(e.contains("ALLOW_PRIVATE_NETWORK_TARGETS"), "{url}: {e}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        // Names are judged when resolved, at delivery.
        assert!(check_url("http://localhost:9000/", false).is_ok());
    }

    #[test]
    fn other_urls_say_what_is_wrong() {
        for (url, part) in [
            ("", "give the URL"),
            ("ftp://example.com/", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("example.com/hook", "not a valid URL"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com/#x", "fragment"),
        ] {
            let e = check_url(url, false).expect_err(url);
            assert!(e.contains(part), "{url}: {e}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_url(&long, false).is_err());
    }
}
