//! Which addresses outgoing requests to user-supplied URLs may reach. Unless the installation
//! allows private network targets (`ALLOW_PRIVATE_NETWORK_TARGETS=true`), a webhook must not
//! become a way to probe or call services inside the network Faro runs in (SSRF): every
//! address a host name resolves to is checked, and the connection goes to a checked address.
//!
//! Refused: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
//! (169.254/16, fe80::/10), unspecified (0.0.0.0/8, ::), multicast, broadcast and the other
//! ranges that are not globally routable (carrier-grade NAT 100.64/10, benchmarking 198.18/15,
//! IETF protocol assignments 192.0.0/24, documentation ranges, 240/4, the deprecated IPv6
//! site-local fec0::/10 and IPv4-compatible ::/96, discard-only 100::/64). IPv6 addresses that
//! embed an IPv4 address (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged
//! by the IPv4 address they reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    /// Carrier-grade NAT (100.64.0.0/10): inside a provider's network.
    SharedAddressSpace,
    /// Documentation, benchmarking, protocol-assignment and future-use ranges.
    Reserved,
}

impl Blocked {
    /// "a loopback address", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Blocked::Loopback => "a loopback address",
            Blocked::Private => "a private network address",
            Blocked::LinkLocal => "a link-local address",
            Blocked::Unspecified => "an unspecified address",
            Blocked::Multicast => "a multicast address",
            Blocked::Broadcast => "a broadcast address",
            Blocked::SharedAddressSpace => "a carrier-grade NAT address",
            Blocked::Reserved => "a reserved address",
        }
    }
}

/// Why `ip` may not be reached, or `None` when it is a public address.
pub fn blocked(ip: IpAddr) -> Option<Blocked> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn blocked_v4(ip: Ipv4Addr) -> Option<Blocked> {
    let rules: &[([u8; 4], u32, Blocked)] = &[
        ([0, 0, 0, 0], 8, Blocked::Unspecified),
        ([127, 0, 0, 0], 8, Blocked::Loopback),
        ([10, 0, 0, 0], 8, Blocked::Private),
        ([172, 16, 0, 0], 12, Blocked::Private),
        ([192, 168, 0, 0], 16, Blocked::Private),
        ([169, 254, 0, 0], 16, Blocked::LinkLocal),
        ([100, 64, 0, 0], 10, Blocked::SharedAddressSpace),
        ([192, 0, 0, 0], 24, Blocked::Reserved),
        ([192, 0, 2, 0], 24, Blocked::Reserved),
        ([198, 18, 0, 0], 15, Blocked::Reserved),
        ([198, 51, 100, 0], 24, Blocked::Reserved),
        ([203, 0, 113, 0], 24, Blocked::Reserved),
        ([224, 0, 0, 0], 4, Blocked::Multicast),
        ([255, 255, 255, 255], 32, Blocked::Broadcast),
        ([240, 0, 0, 0], 4, Blocked::Reserved),
    ];
    rules
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn blocked_v6(ip: Ipv6Addr) -> Option<Blocked> {
    if ip.is_unspecified() {
        return Some(Blocked::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Blocked::Loopback);
    }
    let bits = u128::from(ip);
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach an IPv4 address.
    if in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96)
        || in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
    {
        return blocked_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4 (2002:AABB:CCDD::/48) tunnels to the IPv4 address AA.BB.CC.DD.
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return blocked_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    let rules: &[([u16; 8], u32, Blocked)] = &[
        // IPv4-compatible (::a.b.c.d), deprecated.
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, Blocked::Reserved),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Blocked::Private),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Blocked::Reserved),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Blocked::Reserved),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Blocked::Private),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Blocked::LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Blocked::Private),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Blocked::Multicast),
    ];
    rules
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(s: &str) -> Option<Blocked> {
        blocked(s.parse().expect(s))
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for (addr, expected) in [
            ("127.0.0.1", Blocked::Loopback),
            ("127.255.0.9", Blocked::Loopback),
            ("10.1.2.3", Blocked::Private),
            ("172.16.0.1", Blocked::Private),
            ("172.31.255.255", Blocked::Private),
            ("192.168.1.1", Blocked::Private),
            ("169.254.169.254", Blocked::LinkLocal),
            ("0.0.0.0", Blocked::Unspecified),
            ("0.1.2.3", Blocked::Unspecified),
            ("224.0.0.1", Blocked::Multicast),
            ("239.255.255.250", Blocked::Multicast),
            ("255.255.255.255", Blocked::Broadcast),
            ("100.64.0.1", Blocked::SharedAddressSpace),
            ("198.18.0.1", Blocked::Reserved),
            ("240.0.0.1", Blocked::Reserved),
            ("::1", Blocked::Loopback),
            ("::", Blocked::Unspecified),
            ("fc00::1", Blocked::Private),
            ("fd12:3456::1", Blocked::Private),
            ("fe80::1", Blocked::LinkLocal),
            ("febf::1", Blocked::LinkLocal),
            ("ff02::1", Blocked::Multicast),
            ("::ffff:127.0.0.1", Blocked::Loopback),
            ("::ffff:10.0.0.1", Blocked::Private),
            ("64:ff9b::a9fe:a9fe", Blocked::LinkLocal),
            ("2002:7f00:1::", Blocked::Loopback),
            ("2002:c0a8:101::1", Blocked::Private),
            ("::127.0.0.1", Blocked::Reserved),
            ("2001:db8::1", Blocked::Reserved),
        ] {
            assert_eq!(why(addr), Some(expected), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "100.128.0.1",
            "169.253.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(why(addr), None, "{addr}");
        }
    }
}
