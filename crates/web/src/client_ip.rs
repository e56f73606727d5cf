//! Who the client is, for the limits, the alerts and the outbox's loopback
//! rule: the socket's address, unless that address is a proxy the operator
//! trusts (`trusted_proxies`), in which case the last `X-Forwarded-For` entry
//! that is not a trusted proxy. Reading from the right matters: each proxy
//! appends the address it saw, so only the entries a trusted proxy wrote are
//! true; anything further left was written by the client and may be invented.

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::metrics::Network;

/// The client's address as the portal counts it; set on every request by the
/// hygiene layer (`crate::hygiene`), read through [`crate::session::peer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The address of a request that came in on `socket` with `headers`.
    pub fn of(socket: IpAddr, headers: &HeaderMap, trusted_proxies: &[Network]) -> Self {
        let trusted = |ip: IpAddr| trusted_proxies.iter().any(|n| n.contains(ip));
        let mut client = canonical(socket);
        if !trusted(client) {
            return Self(client);
        }
        // Every X-Forwarded-For header, joined in order, read from the right.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for entry in entries.iter().rev() {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !trusted(client) {
                        break;
                    }
                }
                // Not an address: nothing left of it can be believed, so the
                // last trusted hop counts.
                Err(_) => break,
            }
        }
        Self(client)
    }
}

/// An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The address of a request without one (a server started without connect
/// info): all of them share one count, the safe side.
pub const UNKNOWN: &str = "unknown";

/// The client's address from a request's parts, when the hygiene layer set it.
pub fn from_parts(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(networks: &[&str]) -> Vec<Network> {
        networks.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_socket_counts_whatever_the_header_says() {
        let client = ClientIp::of(ip("127.0.0.1"), &headers(&["203.0.113.9"]), &[]);
        assert_eq!(client, ClientIp(ip("127.0.0.1")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_last_untrusted_entry_counts() {
        let trusted = proxies(&["127.0.0.1/32", "10.0.0.0/8"]);
        let forged_then_real = headers(&["198.51.100.1, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(
            ClientIp::of(ip("127.0.0.1"), &forged_then_real, &trusted),
            ClientIp(ip("203.0.113.9")),
            "the entry left of the trusted hops, not the one the client wrote first"
        );
        let two_headers = headers(&["198.51.100.1", "203.0.113.9"]);
        assert_eq!(
            ClientIp::of(ip("127.0.0.1"), &two_headers, &trusted),
            ClientIp(ip("203.0.113.9"))
        );
    }

    #[test]
    fn a_client_not_behind_the_proxy_cannot_claim_another_address() {
        let trusted = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            ClientIp::of(ip("192.0.2.4"), &headers(&["203.0.113.9"]), &trusted),
            ClientIp(ip("192.0.2.4"))
        );
    }

    #[test]
    fn without_a_usable_entry_the_last_trusted_hop_counts() {
        let trusted = proxies(&["127.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            ClientIp::of(ip("127.0.0.1"), &headers(&[]), &trusted),
            ClientIp(ip("127.0.0.1"))
        );
        assert_eq!(
            ClientIp::of(ip("127.0.0.1"), &headers(&["garbage, 10.0.0.7"]), &trusted),
            ClientIp(ip("10.0.0.7"))
        );
        assert_eq!(
            ClientIp::of(
                ip("::ffff:127.0.0.1"),
                &headers(&["::ffff:203.0.113.9"]),
                &trusted
            ),
            ClientIp(ip("203.0.113.9")),
            "IPv4 in IPv6 reads as IPv4"
        );
    }
}
