//! The address guard (docs/reference/urls.md#private-addresses): unless private targets are
//! allowed, a webhook may only connect to public addresses. The check runs on the addresses
//! DNS returned, at connect time, so a name that resolves to a public address when the URL
//! is saved and to 127.0.0.1 when it is called (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a URL's host is `localhost` or an IP address that is not public: a live
/// endpoint that names one could never be delivered to, so it is refused when saved.
#[must_use]
pub fn names_private_host(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        None => false,
    }
}

/// Whether gatepost may send a webhook to `ip` when private targets are not allowed.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()      // 0.0.0.0/8
        || a == 0
        || ip.is_loopback()                // 127.0.0.0/8
        || ip.is_private()                 // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()              // 169.254/16, cloud metadata 169.254.169.254
        || (a == 100 && (64..128).contains(&b)) // 100.64/10 CGNAT (also Alibaba's metadata)
        || (a == 192 && b == 0 && c == 0)  // 192.0.0/24 IETF protocol assignments (Oracle metadata)
        || (a == 198 && (b == 18 || b == 19)) // 198.18/15 benchmarking
        || ip.is_documentation()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240; // reserved
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // IPv4 carried inside IPv6 is judged as that IPv4 address.
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local (AWS metadata fd00:ec2::254)
        || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
        || ip.is_multicast()
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1) // 64:ff9b:1::/48 local NAT64
        || segments[..6] == [0, 0, 0, 0, 0, 0]; // IPv4-compatible (deprecated)
    !refused
}

/// The IPv4 address an IPv6 address stands for, wherever IPv6 carries one that a router
/// or a host on the way may unwrap and connect to.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match segments {
        // ::ffff:a.b.c.d, IPv4-mapped.
        _ if ip.to_ipv4_mapped().is_some() => ip.to_ipv4_mapped(),
        // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(v4(hi, lo)),
        // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        // 2002:AABB:CCDD::/48, 6to4 (RFC 3056): the relay's IPv4 address follows the prefix.
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        // 2001:0::/32, Teredo (RFC 4380): the client's address is stored inverted in the
        // last 32 bits. Its server's address (bits 32–63) is public by construction.
        [0x2001, 0, .., hi, lo] => Some(v4(!hi, !lo)),
        _ => None,
    }
}

/// The addresses of `addrs` a webhook may use; empty means the target is blocked.
#[must_use]
pub fn public_only(addrs: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    addrs.into_iter().filter(|addr| is_public(addr.ip())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_cgnat_and_metadata_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "192.0.0.192",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "ff02::1",
            "::ffff:0:127.0.0.1",
            "::ffff:0:10.0.0.1",
            "::ffff:0:a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
            "2002:a9fe:a9fe:1:2:3:4:5",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo client 127.0.0.1
            "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo client 10.0.0.1
            "2001::f5ff:fffe",
            "64:ff9b:1::1",
            "64:ff9b:1:ffff::8.8.8.8",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "::ffff:0:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo client 8.8.8.8
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }
}
