//! Which network addresses a LAN bridge may have: loopback, private (RFC 1918, IPv6 unique
//! local) and link-local only, unless the user explicitly allows public addresses. The check is
//! made on every address a host name resolves to, so a name cannot smuggle a public address in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is on the local network: loopback (127/8, ::1), RFC 1918 private (10/8,
/// 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10) or IPv6 unique local (fc00::/7).
/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
pub fn is_local_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_v4(v4),
            None => is_local_v6(v6),
        },
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local()
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
}

/// Why a bridge address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The address is outside the local network and public addresses were not allowed.
    #[error(
        "{0} is not on your local network; Hearth only connects to bridges at home \
         (add ?allow_public to the source to override)"
    )]
    Public(IpAddr),
}

/// Keeps the addresses Hearth may connect to. Errors when every address was refused.
pub fn allowed_addresses(
    resolved: impl IntoIterator<Item = SocketAddr>,
    allow_public: bool,
) -> Result<Vec<SocketAddr>, AddressError> {
    let mut refused = None;
    let mut ok = Vec::new();
    for addr in resolved {
        if allow_public || is_local_network(addr.ip()) {
            ok.push(addr);
        } else {
            refused.get_or_insert(addr.ip());
        }
    }
    match (ok.is_empty(), refused) {
        (true, Some(ip)) => Err(AddressError::Public(ip)),
        _ => Ok(ok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn local_addresses() {
        for s in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.20",
            "169.254.10.1",
            "::1",
            "fd12:3456:789a::1",
            "fc00::1",
            "fe80::1",
            "febf::1",
            "::ffff:192.168.1.2",
        ] {
            assert!(is_local_network(ip(s)), "{s} is local");
        }
    }

    #[test]
    fn public_and_odd_addresses() {
        for s in [
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "100.64.0.1", // carrier-grade NAT: not the home network
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::1",
            "2a00:1450::1",
            "fec0::1", // deprecated site-local, outside fe80::/10
            "::ffff:8.8.8.8",
            "::",
        ] {
            assert!(!is_local_network(ip(s)), "{s} is not local");
        }
    }

    #[test]
    fn a_name_resolving_to_both_keeps_the_local_one() {
        let both = [
            "8.8.8.8:23".parse().unwrap(),
            "192.168.1.5:23".parse().unwrap(),
        ];
        assert_eq!(
            allowed_addresses(both, false),
            Ok(vec!["192.168.1.5:23".parse().unwrap()])
        );
        let public = ["8.8.8.8:23".parse().unwrap()];
        assert_eq!(
            allowed_addresses(public, false),
            Err(AddressError::Public(ip("8.8.8.8")))
        );
        assert_eq!(allowed_addresses(public, true), Ok(public.to_vec()));
    }
}
