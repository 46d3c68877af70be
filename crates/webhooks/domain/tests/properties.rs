//! Properties of the pure core, over generated inputs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use faro_webhooks_domain::signing::{SECRET_BYTES, SigningKey, TOLERANCE_SECS};
use faro_webhooks_domain::{
    Next, RetrySchedule, blocked, check_url, excerpt, kinds, normalize_patterns, parse_secret,
};
use proptest::prelude::*;

fn part() -> impl Strategy<Value = String> {
    "[a-z0-9_]{1,12}"
}

proptest! {
    /// What we sign, the receiver's check accepts; any change of id, time, body or key breaks it.
    #[test]
    fn signatures_verify_and_tampering_does_not(
        key in prop::array::uniform24(any::<u8>()),
        other in prop::array::uniform24(any::<u8>()),
        id in "[a-zA-Z0-9_-]{1,40}",
        ts in 1_000_000_000i64..4_000_000_000,
        body in prop::collection::vec(any::<u8>(), 0..512),
        flip in any::<prop::sample::Index>(),
    ) {
        let k = SigningKey::from_bytes(key);
        let sig = k.sign(&id, ts, &body);
        prop_assert!(sig.starts_with("v1,"));
        prop_assert_eq!(k.verify(&id, &ts.to_string(), &sig, &body, ts), Ok(()));
        // The secret's text form reads back to the same key.
        prop_assert_eq!(parse_secret(&k.secret()), Ok(k.clone()));
        let ts_text = ts.to_string();
        let other_id = format!("{id}x");
        prop_assert!(k.verify(&other_id, &ts_text, &sig, &body, ts).is_err());
        prop_assert!(k.verify(&id, &(ts + 1).to_string(), &sig, &body, ts).is_err());
        if !body.is_empty() {
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 1;
            prop_assert!(k.verify(&id, &ts_text, &sig, &tampered, ts).is_err());
        }
        if key != other {
            prop_assert!(SigningKey::from_bytes(other).verify(&id, &ts_text, &sig, &body, ts).is_err());
        }
        prop_assert!(k.verify(&id, &ts_text, &sig, &body, ts + TOLERANCE_SECS + 1).is_err());
    }

    /// A generated secret is always `whsec_` + 32 base64 characters.
    #[test]
    fn secrets_have_one_shape(key in prop::array::uniform24(any::<u8>())) {
        let s = SigningKey::from_bytes(key).secret();
        prop_assert_eq!(s.len(), 6 + SECRET_BYTES / 3 * 4);
        prop_assert!(s.starts_with("whsec_"));
    }

    /// `module.*` matches exactly the kinds of that module; an exact pattern only itself.
    #[test]
    fn patterns_match_by_module(m in part(), a in part(), m2 in part(), a2 in part()) {
        let kind = format!("{m}.{a}");
        let other = format!("{m2}.{a2}");
        let module = format!("{m}.*");
        prop_assert!(kinds::matches(&module, &kind));
        prop_assert_eq!(kinds::matches(&module, &other), m == m2);
        prop_assert_eq!(kinds::matches(&kind, &other), kind == other);
        let stored = normalize_patterns(&[kind.clone(), module.clone(), kind.clone()]);
        prop_assert_eq!(stored, Ok(vec![kind, module]));
    }

    /// Attempts stop after the schedule's length plus one, and retries are never in the past.
    #[test]
    fn schedules_end(delays in prop::collection::vec(1u32..100_000, 0..10), now in 0i64..4_000_000_000_000) {
        let text = delays.iter().map(|d| format!("{}", f64::from(*d) / 1000.0)).collect::<Vec<_>>().join(",");
        let s = RetrySchedule::parse(&text).expect("valid");
        prop_assert_eq!(s.max_attempts() as usize, delays.len() + 1);
        for attempt in 1..s.max_attempts() {
            match s.after_attempt(attempt, false, now) {
                Next::RetryAt(at) => prop_assert!(at > now),
                other => prop_assert!(false, "attempt {} gave {:?}", attempt, other),
            }
        }
        prop_assert_eq!(s.after_attempt(s.max_attempts(), false, now), Next::Failed);
        prop_assert_eq!(s.after_attempt(1, true, now), Next::Delivered);
    }

    /// Every 10/8, 172.16/12, 192.168/16, 127/8, 169.254/16 address is refused, in either
    /// family's spelling, and so is every fc00::/7 and fe80::/10 one.
    #[test]
    fn private_ranges_are_refused_whole(x in any::<u32>(), y in any::<u128>()) {
        for (net, prefix) in [([10u8, 0, 0, 0], 8u32), ([172, 16, 0, 0], 12), ([192, 168, 0, 0], 16), ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16)] {
            let base = u32::from(Ipv4Addr::from(net));
            let ip = Ipv4Addr::from(base | (x >> prefix));
            prop_assert!(blocked(IpAddr::V4(ip)).is_some(), "{}", ip);
            prop_assert!(blocked(IpAddr::V6(ip.to_ipv6_mapped())).is_some(), "{}", ip);
            let url = format!("http://{ip}/");
            prop_assert!(check_url(&url, false).is_err());
        }
        let ula = Ipv6Addr::from(0xfc00u128 << 112 | (y >> 7));
        let link = Ipv6Addr::from(0xfe80u128 << 112 | (y >> 10));
        prop_assert!(blocked(IpAddr::V6(ula)).is_some(), "{}", ula);
        prop_assert!(blocked(IpAddr::V6(link)).is_some(), "{}", link);
    }

    /// Whatever the text, checking a URL never panics, and what it accepts is http(s) with a
    /// host and within the length bound.
    #[test]
    fn url_checks_never_panic(raw in ".{0,80}", tail in "[a-zA-Z0-9/?=&.%:@\\[\\]-]{0,60}") {
        for text in [raw.clone(), format!("http://{tail}"), format!("https://{raw}")] {
            if let Ok(t) = check_url(&text, false) {
                prop_assert!(t.url.starts_with("http://") || t.url.starts_with("https://"));
                prop_assert!(t.url.len() <= faro_webhooks_domain::MAX_URL_LEN);
                prop_assert!(!t.authority.is_empty());
            }
        }
    }

    /// Excerpts stay within their bound (plus the ellipsis) and are a prefix of the text.
    #[test]
    fn excerpts_are_bounded_prefixes(s in ".{0,300}", max in 1usize..200) {
        let e = excerpt(s.as_bytes(), max);
        let kept = e.strip_suffix('…').unwrap_or(&e);
        prop_assert!(kept.len() <= max);
        prop_assert!(s.starts_with(kept));
    }
}
