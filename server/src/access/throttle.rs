//! Sign-in attempts per client: a token bucket per IP address, so that guessing tokens through
//! the sign-in form costs time (tokens are 256-bit random values; the limit is for the noise and
//! the CPU, and for a token leaked in part).
//!
//! A map of our own rather than a crate: one bucket per address, a hard bound on the addresses
//! kept ([`CLIENTS_KEPT_MAX`]), and nothing else is needed. Behind a reverse proxy every client
//! has the proxy's address, unless the proxy is named (`--trusted-proxy`): then the client is the
//! address its `X-Forwarded-For` adds ([`client_address`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// Attempts a client may make at once.
pub const SIGN_IN_BURST: u32 = 10;
/// One attempt comes back every this long: ten a minute in the long run.
pub const SIGN_IN_REFILL: Duration = Duration::from_secs(6);
/// Addresses kept at most (about 40 bytes each): past it, the buckets that are full again (idle
/// clients) are dropped, and if none is, the whole map, which forgives at worst one burst each.
pub const CLIENTS_KEPT_MAX: usize = 10_000;

/// The address a request came from, as the connection loop (`crate::listen`) records it; `None`
/// for requests made in process.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<ClientAddress>() {
            return Ok(*client);
        }
        let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(address))
    }
}

pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client of a request from `peer`: `peer` itself, unless it is a trusted proxy; then the
/// last address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends the address
/// it was reached from, so the addresses left of it are the client's to write, and forgeable).
/// A header that cannot be read leaves the proxy's address: the proxy's own limit.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a axum::http::HeaderValue>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in forwarded_for.rev() {
        let Ok(text) = value.to_str() else { return peer };
        for hop in text.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(address) if trusted.contains(&address) => client = address,
                Ok(address) => return address,
                Err(_) => return peer,
            }
        }
    }
    client
}

#[derive(Default)]
pub struct SignInThrottle {
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    attempts: u32,
    since: Instant,
}

impl Bucket {
    /// The attempts left at `now`, refilled since the bucket was last counted.
    fn refilled(self, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(self.since);
        let back = u32::try_from(elapsed.as_nanos() / SIGN_IN_REFILL.as_nanos()).unwrap_or(u32::MAX);
        if back == 0 {
            return self;
        }
        let attempts = self.attempts.saturating_add(back).min(SIGN_IN_BURST);
        let since = if attempts == SIGN_IN_BURST { now } else { self.since + SIGN_IN_REFILL * back };
        Bucket { attempts, since }
    }
}

impl SignInThrottle {
    /// Counts an attempt of `client` (`None` when the address is not known: one bucket for all
    /// of those); `Err` with the wait before the next attempt when none is left.
    pub fn attempt(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= CLIENTS_KEPT_MAX && !buckets.contains_key(&client) {
            buckets.retain(|_, bucket| bucket.refilled(now).attempts < SIGN_IN_BURST);
            if buckets.len() >= CLIENTS_KEPT_MAX {
                buckets.clear();
            }
        }
        let fresh = Bucket { attempts: SIGN_IN_BURST, since: now };
        let bucket = buckets.entry(client).or_insert(fresh);
        *bucket = bucket.refilled(now);
        if bucket.attempts == 0 {
            return Err((bucket.since + SIGN_IN_REFILL).saturating_duration_since(now));
        }
        bucket.attempts -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_last_forwarded_address_that_is_not_a_trusted_proxy() {
        let proxies = [IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2])];
        let client = |peer: [u8; 4], headers: &[&'static str]| {
            let values: Vec<axum::http::HeaderValue> =
                headers.iter().map(|text| axum::http::HeaderValue::from_static(text)).collect();
            client_address(IpAddr::from(peer), values.iter(), &proxies)
        };
        let named = IpAddr::from([198, 51, 100, 7]);
        assert_eq!(client([10, 0, 0, 1], &["198.51.100.7"]), named);
        assert_eq!(
            client([10, 0, 0, 1], &["203.0.113.66, 198.51.100.7, 10.0.0.2"]),
            named,
            "the client wrote the left"
        );
        assert_eq!(client([10, 0, 0, 1], &["203.0.113.66", "198.51.100.7"]), named, "headers in order, last wins");
        assert_eq!(
            client([192, 0, 2, 9], &["198.51.100.7"]),
            IpAddr::from([192, 0, 2, 9]),
            "not a proxy: not believed"
        );
        assert_eq!(client([10, 0, 0, 1], &[]), proxies[0], "no header: the proxy itself");
        assert_eq!(client([10, 0, 0, 1], &["nonsense, 198.51.100.7"]), named);
        assert_eq!(client([10, 0, 0, 1], &["198.51.100.7, nonsense"]), proxies[0], "unreadable: the proxy's own limit");
        assert_eq!(client([10, 0, 0, 1], &["10.0.0.2"]), proxies[1], "only proxies: the farthest one");
        assert_eq!(client([10, 0, 0, 1], &["[2001:db8::1]:443"]), proxies[0], "a port is not an address");
        assert_eq!(client([10, 0, 0, 1], &["2001:db8::1"]), "2001:db8::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_client_gets_a_burst_then_one_attempt_per_refill() {
        let throttle = SignInThrottle::default();
        let (client, other) = (Some(IpAddr::from([192, 0, 2, 1])), Some(IpAddr::from([192, 0, 2, 2])));
        let start = Instant::now();
        for attempt in 0..SIGN_IN_BURST {
            assert_eq!(throttle.attempt(client, start), Ok(()), "attempt {attempt}");
        }
        assert_eq!(throttle.attempt(client, start), Err(SIGN_IN_REFILL));
        assert_eq!(throttle.attempt(other, start), Ok(()), "another client has a bucket of its own");
        let later = start + SIGN_IN_REFILL;
        assert_eq!(throttle.attempt(client, later), Ok(()), "one attempt came back");
        assert_eq!(throttle.attempt(client, later), Err(SIGN_IN_REFILL));
        let idle = later + SIGN_IN_REFILL * (SIGN_IN_BURST + 5);
        for _ in 0..SIGN_IN_BURST {
            assert_eq!(throttle.attempt(client, idle), Ok(()));
        }
        assert!(throttle.attempt(client, idle).is_err(), "the bucket holds a burst, no more");
    }

    #[test]
    fn the_addresses_kept_are_bounded() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for index in 0..(CLIENTS_KEPT_MAX as u32 + 10) {
            let _ = throttle.attempt(Some(IpAddr::from(index.to_be_bytes())), now);
        }
        let kept = throttle.buckets.lock().map(|buckets| buckets.len()).unwrap_or(usize::MAX);
        assert!(kept <= CLIENTS_KEPT_MAX, "{kept} addresses kept");
    }
}
