//! Who is asking, without storing who they are: the client's IP (honouring `X-Forwarded-For`
//! only from trusted proxies) reduced to a keyed hash whose key changes every UTC day, so the
//! hashes used by rate limits cannot be joined across days or reversed by brute force.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has an invalid prefix length"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The unit a client is known by: an IPv4 address, or the /64 an IPv6 address is in. A
/// subscriber's line gets a whole /64 and its hosts pick addresses in it at will, so keyed
/// per /128 one client could take a fresh address (and a fresh budget) for every request.
pub fn network_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(
            u128::from(v6) & !(u64::MAX as u128),
        )),
        v4 => v4,
    }
}

/// The client address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer.map(canonical);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    match peer {
        Some(p) if is_trusted(p) => {
            let mut chain: Vec<IpAddr> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .map(canonical)
                .collect();
            while let Some(last) = chain.pop() {
                if !is_trusted(last) {
                    return Some(last);
                }
            }
            Some(p)
        }
        other => other,
    }
}

pub fn peer_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
}

/// A day and its keyed MAC, ready to clone.
type DayMac = Option<(String, Hmac<Sha256>)>;

/// Turns client addresses into day-scoped keyed hashes.
#[derive(Clone)]
pub struct ClientHasher {
    master: Vec<u8>,
    /// The last day's keyed MAC, ready to clone: every request of a day hashes under the same
    /// key, so deriving it (an HMAC of its own) once a day saves half the work per request.
    today: std::sync::Arc<std::sync::RwLock<DayMac>>,
}

impl ClientHasher {
    pub fn new(master: &[u8]) -> Self {
        ClientHasher {
            master: master.to_vec(),
            today: Default::default(),
        }
    }

    fn day_mac(&self, day: &str) -> Hmac<Sha256> {
        if let Ok(today) = self.today.read()
            && let Some((d, mac)) = today.as_ref()
            && d == day
        {
            return mac.clone();
        }
        let mut day_key = <Hmac<Sha256> as Mac>::new_from_slice(&self.master)
            .unwrap_or_else(|_| unreachable_hmac());
        day_key.update(b"faro-client-day:");
        day_key.update(day.as_bytes());
        let key = day_key.finalize().into_bytes();
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac());
        if let Ok(mut today) = self.today.write() {
            *today = Some((day.to_owned(), mac.clone()));
        }
        mac
    }

    /// 128 bits of HMAC-SHA256 under the key of `day`, hex encoded.
    pub fn hash(&self, ip: Option<IpAddr>, day: &str) -> String {
        let mut mac = self.day_mac(day);
        match ip {
            Some(ip) => mac.update(network_of(ip).to_string().as_bytes()),
            None => mac.update(b"unknown"),
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The signature of a visitor id in a tenant (128 bits of HMAC-SHA256 under a key derived
    /// from the same master, hex): a visitor id is only believed with it, and only in the
    /// tenant it was made for.
    pub fn visitor_sig(&self, tenant: &str, id: &str) -> String {
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&self.master)
            .unwrap_or_else(|_| unreachable_hmac());
        derive.update(b"faro-visitor");
        let key = derive.finalize().into_bytes();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac());
        mac.update(tenant.as_bytes());
        mac.update(b"\n");
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// A keyed hash of an account or tenant id for limiter keys: installations sharing one
    /// Redis keep their budgets apart, and no id is written there in clear.
    pub fn limit_key(&self, id: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.master)
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(b"faro-limit:");
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// HMAC accepts keys of any length; this cannot happen.
fn unreachable_hmac() -> Hmac<Sha256> {
    #[allow(clippy::unwrap_used)]
    <Hmac<Sha256> as Mac>::new_from_slice(b"k").unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_days_key_is_kept_without_changing_the_hash() {
        let h = ClientHasher::new(b"master");
        let a = h.hash(Some(ip("203.0.113.9")), "2026-12-06");
        let b = h.hash(Some(ip("203.0.113.9")), "2026-12-07");
        let again = h.hash(Some(ip("203.0.113.9")), "2026-12-06");
        assert_eq!(a, again);
        assert_ne!(a, b, "another day, another hash");
        let fresh = ClientHasher::new(b"master").hash(Some(ip("203.0.113.9")), "2026-12-06");
        assert_eq!(a, fresh, "the cache changes nothing");
        assert_ne!(a, h.hash(Some(ip("203.0.113.10")), "2026-12-06"));
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let net = Cidr::parse("10.0.0.0/8").expect("cidr");
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(Cidr::parse("::1").expect("v6").contains(ip("::1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        assert!(
            Cidr::parse("127.0.0.1")
                .expect("v4")
                .contains(ip("::ffff:127.0.0.1"))
        );
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        assert_eq!(client_ip(Some(ip("9.9.9.9")), &h, &[]), Some(ip("9.9.9.9")));
    }

    #[test]
    fn forwarded_for_from_trusted_proxy_takes_rightmost_untrusted() {
        let trusted = [Cidr::parse("10.0.0.0/8").expect("cidr")];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.7"),
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &trusted),
            Some(ip("1.2.3.4"))
        );
        let empty = HeaderMap::new();
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &empty, &trusted),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let h = ClientHasher::new(b"master");
        let day = "2026-12-07";
        let a = h.hash(Some(ip("2001:db8:1:2::1")), day);
        assert_eq!(a, h.hash(Some(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), day));
        assert_ne!(a, h.hash(Some(ip("2001:db8:1:3::1")), day));
        // IPv4, mapped or not, stays one address.
        let v4 = h.hash(Some(ip("198.51.100.7")), day);
        assert_eq!(v4, h.hash(Some(ip("::ffff:198.51.100.7")), day));
        assert_ne!(v4, h.hash(Some(ip("198.51.100.8")), day));
    }

    #[test]
    fn hashes_rotate_daily_and_hide_the_address() {
        let h = ClientHasher::new(b"master-secret-master-secret-0123");
        let a = h.hash(Some(ip("1.2.3.4")), "2026-11-22");
        assert_eq!(a, h.hash(Some(ip("1.2.3.4")), "2026-11-22"));
        assert_ne!(a, h.hash(Some(ip("1.2.3.4")), "2026-11-23"));
        assert_ne!(a, h.hash(Some(ip("1.2.3.5")), "2026-11-22"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("1.2.3.4"));
    }
}
