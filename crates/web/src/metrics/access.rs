//! Who may read `/metrics` on the main listener: loopback clients and the
//! networks of `metrics_allow`. Counters say how busy the service is and how
//! many attempts fail, which is nobody else's business; everyone else gets the
//! portal's ordinary 404, as if the page did not exist.

use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one
/// address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an address or a network such as 10.0.0.0/8")]
pub struct InvalidNetwork(String);

impl FromStr for Network {
    type Err = InvalidNetwork;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidNetwork(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().map_err(|_| invalid())?,
            None => bits,
        };
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Self { address, prefix })
    }
}

impl Network {
    pub fn contains(&self, client: IpAddr) -> bool {
        // An IPv4 client may arrive on a dual-stack socket as ::ffff:a.b.c.d.
        let client = match client {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, client) {
            (IpAddr::V4(network), IpAddr::V4(client)) => {
                same_prefix(&network.octets(), &client.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(client)) => {
                same_prefix(&network.octets(), &client.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(network: &[u8], client: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if network[..whole] != client[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    network[whole] & mask == client[whole] & mask
}

/// Where `/metrics` is served and to whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsAccess {
    /// Networks besides loopback that may read `/metrics` on the main listener.
    pub allow: Vec<Network>,
    /// `/metrics` has a listener of its own (`metrics_listen`): the main
    /// listener then answers it with a 404 for everyone.
    pub separate_listener: bool,
}

impl MetricsAccess {
    /// Whether `client`, connected to the main listener, may read `/metrics`.
    pub fn allows(&self, client: IpAddr) -> bool {
        if self.separate_listener {
            return false;
        }
        let loopback = match client {
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            IpAddr::V4(v4) => v4.is_loopback(),
        };
        loopback || self.allow.iter().any(|network| network.contains(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn allowing(networks: &[&str]) -> MetricsAccess {
        MetricsAccess {
            allow: networks.iter().map(|n| n.parse().unwrap()).collect(),
            separate_listener: false,
        }
    }

    #[test]
    fn loopback_clients_may_read_the_metrics_and_no_one_else_by_default() {
        let access = allowing(&[]);
        assert!(access.allows(ip("127.0.0.1")));
        assert!(access.allows(ip("::1")));
        assert!(access.allows(ip("::ffff:127.0.0.1")));
        assert!(!access.allows(ip("10.1.2.3")));
        assert!(!access.allows(ip("192.0.2.7")));
    }

    #[test]
    fn clients_in_an_allowed_network_may_read_the_metrics() {
        let access = allowing(&[
            "10.0.0.0/8",
            "192.168.4.0/22",
            "2001:db8::/32",
            "198.51.100.9",
        ]);
        assert!(access.allows(ip("10.200.0.1")));
        assert!(access.allows(ip("::ffff:10.0.0.1")));
        assert!(access.allows(ip("192.168.7.255")));
        assert!(!access.allows(ip("192.168.8.0")));
        assert!(access.allows(ip("2001:db8:1::5")));
        assert!(!access.allows(ip("2001:db9::5")));
        assert!(access.allows(ip("198.51.100.9")));
        assert!(!access.allows(ip("198.51.100.10")));
        assert!(!access.allows(ip("11.0.0.1")));
    }

    #[test]
    fn with_a_listener_of_its_own_the_main_listener_serves_no_metrics() {
        let access = MetricsAccess {
            separate_listener: true,
            ..allowing(&["0.0.0.0/0"])
        };
        assert!(!access.allows(ip("127.0.0.1")));
        assert!(!access.allows(ip("10.0.0.1")));
    }

    #[test]
    fn a_network_that_does_not_read_is_refused_with_its_text() {
        for text in [
            "10.0.0.0/33",
            "10.0.0/8",
            "example.com",
            "::/129",
            "10.0.0.0/x",
        ] {
            let error = text.parse::<Network>().unwrap_err();
            assert!(error.to_string().contains(text), "{error}");
        }
        assert_eq!(
            "0.0.0.0/0"
                .parse::<Network>()
                .map(|n| n.contains(ip("203.0.113.1"))),
            Ok(true)
        );
    }
}
