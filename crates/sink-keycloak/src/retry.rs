//! Retry policy: classifies each HTTP attempt (success / retry / maybe-applied / final) and
//! computes exponential backoff delays with seeded jitter, honouring `Retry-After`.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::RetrySettings;

/// Whether a request may be repeated after a failure whose effect on the server is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads, and writes whose repetition is harmless (a repeated create answers 409 and is looked up).
    Safe,
    /// partialImport with OVERWRITE/FAIL, or any write the caller must reconcile itself: a failure
    /// after the request was sent is reported as an unknown outcome instead of being repeated.
    Reconcile,
}

/// What to do after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Hand the response to the caller (success or a final error status).
    Done,
    /// The server did not act on the request; try again. `slow_down` lowers the request rate.
    Retry { slow_down: bool },
    /// The server may have acted on it (gateway timeout, dropped connection).
    MaybeApplied,
}

/// Classifies a response status. 429 and 503 are load shedding before any processing
/// (keycloak-target.md §1 "Brute force / rate limits"), 408 means the body never arrived;
/// 502/504 come from a proxy that may have forwarded the request. A 500 is final: for
/// partialImport it is a record-level failure that the caller bisects (§2 "Errors").
pub(crate) fn classify_status(status: u16) -> Disposition {
    match status {
        429 | 503 => Disposition::Retry { slow_down: true },
        408 => Disposition::Retry { slow_down: false },
        502 | 504 => Disposition::MaybeApplied,
        _ => Disposition::Done,
    }
}

/// Classifies a transport error: a connect failure never reached the server; anything after
/// the connection was made (timeout, reset, closed mid-response) may have been processed.
pub(crate) fn classify_transport(err: &reqwest::Error) -> Disposition {
    if err.is_connect() {
        Disposition::Retry { slow_down: false }
    } else if err.is_builder() || err.is_redirect() {
        Disposition::Done
    } else {
        Disposition::MaybeApplied
    }
}

/// Short label of a transport error for statistics ("timeout", "connect", "io").
pub(crate) fn transport_label(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "body"
    } else {
        "io"
    }
}

/// Backoff delays: `base × 2^(attempt-1)` capped at `max_delay`, with "equal jitter" (a uniform
/// draw in the upper half) from a seeded RNG so runs and tests are reproducible.
#[derive(Debug)]
pub(crate) struct Backoff {
    settings: RetrySettings,
    rng: Mutex<ChaCha8Rng>,
}

impl Backoff {
    pub(crate) fn new(settings: RetrySettings) -> Self {
        let rng = Mutex::new(ChaCha8Rng::seed_from_u64(settings.seed));
        Backoff { settings, rng }
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.settings.max_attempts
    }

    /// Delay before attempt `failed_attempts + 1`; `retry_after` (from the server) wins when longer.
    pub(crate) fn delay(&self, failed_attempts: u32, retry_after: Option<Duration>) -> Duration {
        let max = self.settings.max_delay;
        let exponent = failed_attempts.saturating_sub(1).min(30);
        let full = self
            .settings
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(max);
        let half = full / 2;
        let jitter_nanos = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            Duration::ZERO
        } else {
            let draw = match self.rng.lock() {
                Ok(mut rng) => rng.random_range(0..=jitter_nanos),
                Err(poisoned) => poisoned.into_inner().random_range(0..=jitter_nanos),
            };
            Duration::from_nanos(draw)
        };
        let backoff = half + jitter;
        match retry_after {
            Some(wait) if wait > backoff => wait.min(max),
            _ => backoff,
        }
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = date - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(base_ms: u64, max_ms: u64) -> RetrySettings {
        RetrySettings {
            max_attempts: 5,
            base_delay: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(max_ms),
            seed: 7,
        }
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify_status(429), Disposition::Retry { slow_down: true });
        assert_eq!(classify_status(503), Disposition::Retry { slow_down: true });
        assert_eq!(
            classify_status(408),
            Disposition::Retry { slow_down: false }
        );
        assert_eq!(classify_status(504), Disposition::MaybeApplied);
        assert_eq!(classify_status(502), Disposition::MaybeApplied);
        for status in [200, 201, 204, 400, 401, 403, 404, 409, 500] {
            assert_eq!(classify_status(status), Disposition::Done, "{status}");
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_is_reproducible() {
        let a = Backoff::new(settings(100, 1_000));
        let b = Backoff::new(settings(100, 1_000));
        let da: Vec<_> = (1..=6).map(|n| a.delay(n, None)).collect();
        let db: Vec<_> = (1..=6).map(|n| b.delay(n, None)).collect();
        assert_eq!(da, db, "same seed, same delays");
        assert!(da[0] >= Duration::from_millis(50) && da[0] <= Duration::from_millis(100));
        assert!(da[2] >= Duration::from_millis(200) && da[2] <= Duration::from_millis(400));
        assert!(da.iter().all(|d| *d <= Duration::from_millis(1_000)));
        assert!(da[5] >= Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap_and_zero_delays_stay_zero() {
        let b = Backoff::new(settings(10, 2_000));
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(60))),
            Duration::from_secs(2)
        );
        let zero = Backoff::new(settings(0, 0));
        assert_eq!(zero.delay(3, Some(Duration::from_secs(5))), Duration::ZERO);
    }

    #[test]
    fn retry_after_values_parse() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
