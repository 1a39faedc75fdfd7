//! Limits on what one client can make the server do: how often credentials may be tried (by
//! account and by client address), and where the client address comes from.
//!
//! The rate limits are [`governor`]'s GCRA: `attempts` at once, then one more every
//! `window / attempts`. Every attempt counts (right or wrong): a guesser cannot tell which would
//! have worked, and a person who signs in a few times a minute never notices.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::Arc,
    time::{Duration, Instant},
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::ApiError;

/// How many credential attempts (`signup`, `signin`, `token`, and the pages' forms that call
/// them) are allowed in a window, per account and per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialLimits {
    pub per_account: u32,
    pub per_address: u32,
    pub window: Duration,
}

impl Default for CredentialLimits {
    fn default() -> Self {
        CredentialLimits {
            per_account: 10,
            per_address: 50,
            window: Duration::from_secs(60),
        }
    }
}

/// The client's address, as the request's extension: the socket's peer, or, when the operator
/// said the server sits behind a proxy they trust, the last address that proxy appended to
/// `X-Forwarded-For`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    pub fn of(req: &Request) -> Option<IpAddr> {
        req.extensions().get::<ClientAddress>().map(|a| a.0)
    }
}

/// Records every request's [`ClientAddress`] (`trust_forwarded_for`: from `X-Forwarded-For`).
pub async fn client_address<E: Endpoint>(
    next: E,
    mut req: Request,
    trust_forwarded_for: bool,
) -> poem::Result<Response> {
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        })
        .flatten();
    let address = forwarded.or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()));
    if let Some(address) = address {
        req.extensions_mut().insert(ClientAddress(address));
    }
    Ok(next.call(req).await?.into_response())
}

/// The credential rate limiters; cheap to clone.
#[derive(Clone)]
pub struct CredentialLimiter(Arc<Limiters>);

struct Limiters {
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn quota(attempts: u32, window: Duration) -> Quota {
    let attempts = NonZeroU32::new(attempts.max(1)).expect("at least one");
    let every = (window / attempts.get()).max(Duration::from_millis(1));
    Quota::with_period(every)
        .expect("a period above zero")
        .allow_burst(attempts)
}

impl CredentialLimiter {
    pub fn new(limits: CredentialLimits) -> Self {
        CredentialLimiter(Arc::new(Limiters {
            by_account: RateLimiter::keyed(quota(limits.per_account, limits.window)),
            by_address: RateLimiter::keyed(quota(limits.per_address, limits.window)),
            clock: DefaultClock::default(),
        }))
    }

    /// Counts one attempt for `account` (an email's key, when the request names a valid one)
    /// from `address`; 429 with the time to wait when either has had its share.
    pub fn attempt(
        &self,
        account: Option<String>,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let limiters = &self.0;
        let now = limiters.clock.now();
        if let Some(address) = address
            && let Err(not_until) = limiters.by_address.check_key(&address)
        {
            return Err(ApiError::TooManyRequests(not_until.wait_time_from(now)));
        }
        if let Some(account) = account
            && let Err(not_until) = limiters.by_account.check_key(&account)
        {
            return Err(ApiError::TooManyRequests(not_until.wait_time_from(now)));
        }
        Ok(())
    }

    /// Forgets the accounts and addresses whose limits are back to full, so that the limiter's
    /// memory follows its recent clients, not all of them ever.
    pub fn forget_idle(&self) {
        self.0.by_account.retain_recent();
        self.0.by_account.shrink_to_fit();
        self.0.by_address.retain_recent();
        self.0.by_address.shrink_to_fit();
    }

    /// Forgets idle clients every minute for as long as the limiter is in use.
    pub fn spawn_forgetting(&self) {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(
                (Instant::now() + Duration::from_secs(60)).into(),
                Duration::from_secs(60),
            );
            loop {
                tick.tick().await;
                let Some(limiters) = weak.upgrade() else {
                    return;
                };
                CredentialLimiter(limiters).forget_idle();
            }
        });
    }
}
