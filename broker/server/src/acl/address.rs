//! Address patterns of `plain_acl.yml` (`globalWhiteRemoteAddresses`, `whiteRemoteAddress`),
//! with the syntax and matching of Apache's `RemoteAddressStrategyFactory`:
//!
//! | pattern | matches |
//! |---|---|
//! | empty | nothing |
//! | `*`, `*.*.*.*`, `*:*:*:*:*:*:*:*` | every address |
//! | `192.168.1.{1,2,9}` (braces in the last part) | each address the braces spell |
//! | `192.168.1.1,192.168.1.7` | each address listed |
//! | `192.168.*.*`, `192.168.1-10.*`, `10.*.*.*` | the first part that is `*` or `a-b` ranges over 0..=255 (or `a..=b`); the parts before it must equal the address's, the parts after it do not count |
//! | `192.168.1.1`, `::1` | that address (IPv6 compared in full form) |
//!
//! IPv6 ranges are written in full form (`fe80:0:0:0:0:0:0:*`); a compressed form with a range
//! is refused rather than guessed. Anything else is an error naming the pattern: a file with
//! one bad pattern is refused whole.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressPattern {
    Nobody,
    Anyone,
    /// Exact addresses (`{..}` lists, comma lists, one address).
    Set(Vec<IpAddr>),
    /// Parts before `at` equal `head`; part `at` within `lo..=hi`.
    Range {
        head: Vec<u16>,
        at: usize,
        lo: u16,
        hi: u16,
        v6: bool,
    },
}

/// A pattern Apache would refuse too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address pattern {pattern:?} is not valid: {why}")]
pub struct AddressPatternError {
    pub pattern: String,
    pub why: &'static str,
}

impl AddressPattern {
    /// Parses one pattern.
    pub fn parse(text: &str) -> Result<AddressPattern, AddressPatternError> {
        let text = text.trim();
        let fail = |why| AddressPatternError {
            pattern: text.to_owned(),
            why,
        };
        if text.is_empty() {
            return Ok(AddressPattern::Nobody);
        }
        if matches!(text, "*" | "*.*.*.*" | "*:*:*:*:*:*:*:*") {
            return Ok(AddressPattern::Anyone);
        }
        if text.ends_with('}') {
            let open = text.find('{').ok_or_else(|| fail("a '}' without '{'"))?;
            let head = &text[..open];
            let sep = if head.contains(':') { ':' } else { '.' };
            if !(head.is_empty() || head.ends_with(sep)) {
                return Err(fail("the braces must hold the whole last part"));
            }
            if sep == '.' && head.split('.').count() != 4 {
                return Err(fail("an IPv4 pattern has four parts"));
            }
            let list = &text[open + 1..text.len() - 1];
            let addresses = list
                .split(',')
                .map(|part| address(&format!("{head}{}", part.trim())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| fail("a listed address is not an IP address"))?;
            return Ok(AddressPattern::Set(addresses));
        }
        if text.contains(',') {
            let addresses = text
                .split(',')
                .map(|part| address(part.trim()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| fail("a listed address is not an IP address"))?;
            return Ok(AddressPattern::Set(addresses));
        }
        if text.contains('*') || text.contains('-') {
            return range(text).ok_or_else(|| {
                fail("a range is `*` or `a-b` in one part, after parts that are numbers")
            });
        }
        address(text)
            .map(|ip| AddressPattern::Set(vec![ip]))
            .ok_or_else(|| fail("not an IP address"))
    }

    /// Whether a request from `ip` matches.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            AddressPattern::Nobody => false,
            AddressPattern::Anyone => true,
            AddressPattern::Set(addresses) => addresses.contains(&ip),
            AddressPattern::Range {
                head,
                at,
                lo,
                hi,
                v6,
            } => {
                let parts: Vec<u16> = match (ip, v6) {
                    (IpAddr::V4(v4), false) => v4.octets().iter().map(|o| u16::from(*o)).collect(),
                    (IpAddr::V6(v6), true) => v6.segments().to_vec(),
                    _ => return false,
                };
                parts[..*at] == head[..] && (*lo..=*hi).contains(&parts[*at])
            }
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries (a dual-stack listener reports
/// IPv4 clients so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn address(text: &str) -> Option<IpAddr> {
    text.parse::<Ipv4Addr>()
        .map(IpAddr::V4)
        .or_else(|_| text.parse::<Ipv6Addr>().map(IpAddr::V6))
        .ok()
}

fn range(text: &str) -> Option<AddressPattern> {
    let v6 = text.contains(':');
    let (sep, count, radix, max) = if v6 {
        (':', 8, 16, 0xffff)
    } else {
        ('.', 4, 10, 255)
    };
    let parts: Vec<&str> = text.split(sep).map(str::trim).collect();
    if parts.len() != count {
        return None;
    }
    let at = parts.iter().position(|p| *p == "*" || p.contains('-'))?;
    if at == 0 {
        return None;
    }
    let number = |p: &str| u16::from_str_radix(p, radix).ok().filter(|n| *n <= max);
    let head = parts[..at]
        .iter()
        .map(|p| number(p))
        .collect::<Option<Vec<u16>>>()?;
    let (lo, hi) = match parts[at] {
        "*" => (0, max),
        part => {
            let (lo, hi) = part.split_once('-')?;
            (number(lo)?, number(hi)?)
        }
    };
    (lo <= hi).then_some(AddressPattern::Range {
        head,
        at,
        lo,
        hi,
        v6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn pattern(text: &str) -> AddressPattern {
        AddressPattern::parse(text).unwrap()
    }

    #[test]
    fn blank_matches_nobody_and_stars_match_everyone() {
        assert!(!pattern("").matches(ip("10.0.0.1")));
        for any in ["*", "*.*.*.*", "*:*:*:*:*:*:*:*"] {
            assert!(pattern(any).matches(ip("10.0.0.1")), "{any}");
            assert!(pattern(any).matches(ip("::1")), "{any}");
        }
    }

    #[test]
    fn ranges_compare_the_parts_before_the_range_and_ignore_the_parts_after() {
        let star = pattern("192.168.*.*");
        assert!(star.matches(ip("192.168.0.1")));
        assert!(star.matches(ip("192.168.255.255")));
        assert!(!star.matches(ip("192.169.0.1")));
        let dash = pattern("192.168.1-10.*");
        assert!(dash.matches(ip("192.168.10.200")));
        assert!(!dash.matches(ip("192.168.11.1")));
        let last = pattern("10.10.103.*");
        assert!(last.matches(ip("10.10.103.7")));
        assert!(!last.matches(ip("10.10.104.7")));
        assert!(pattern("10.10.103.5-9").matches(ip("10.10.103.9")));
        assert!(!pattern("10.10.103.5-9").matches(ip("10.10.103.10")));
        assert!(!star.matches(ip("fe80::1")));
        let v6 = pattern("fe80:0:0:0:0:0:0:*");
        assert!(v6.matches(ip("fe80::abcd")));
        assert!(!v6.matches(ip("fe81::1")));
    }

    #[test]
    fn lists_and_single_addresses_match_exactly_and_mapped_ipv4_counts_as_ipv4() {
        let braces = pattern("192.168.1.{1,2,9}");
        assert!(braces.matches(ip("192.168.1.9")));
        assert!(!braces.matches(ip("192.168.1.3")));
        let commas = pattern("10.0.0.1,10.0.0.7");
        assert!(commas.matches(ip("10.0.0.7")));
        assert!(!commas.matches(ip("10.0.0.2")));
        assert!(pattern("127.0.0.1").matches(ip("::ffff:127.0.0.1")));
        assert!(pattern("0:0:0:0:0:0:0:1").matches(ip("::1")));
        assert!(pattern("2001:db8::{1,2}").matches(ip("2001:db8::2")));
    }

    #[test]
    fn malformed_patterns_are_refused_naming_them() {
        for bad in [
            "192.168.1",
            "192.168.1.300",
            "192.168.1.{1,x}",
            "192.168.{1,2}.1",
            "*.168.1.1",
            "192.168.10-1.*",
            "192.168.1.1,nothing",
            "localhost",
            "fe80::*",
        ] {
            let error = AddressPattern::parse(bad).unwrap_err();
            assert!(error.to_string().contains(bad), "{error}");
        }
    }
}
