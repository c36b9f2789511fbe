//! Request pacing: a `governor` limiter with burst 1 enforces the configured rate as a hard
//! ceiling, an adaptive pacer below it backs off after load shedding (halve on 429/503, recover
//! additively on success), and a semaphore bounds the requests in flight.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::error::SinkError;

/// The effective rate never drops below this fraction of the configured rate.
const MIN_RATE_FRACTION: f64 = 1.0 / 32.0;
/// Each successful request gives back this fraction of the configured rate.
const RECOVERY_FRACTION: f64 = 1.0 / 20.0;
/// A burst of 429/503 answers to requests already in flight counts as one signal: the rate is
/// halved at most once per this period.
const SLOW_DOWN_COOL_DOWN: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Pace {
    effective: f64,
    next_slot: Instant,
    last_cut: Option<Instant>,
}

pub(crate) struct Throttle {
    limiter: DefaultDirectRateLimiter,
    max_rate: f64,
    pace: Mutex<Pace>,
    permits: Semaphore,
    reductions: AtomicU64,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("max_rate", &self.max_rate)
            .field("effective", &self.effective_rate())
            .finish()
    }
}

impl Throttle {
    pub(crate) fn new(rate: f64, concurrency: usize) -> Result<Self, SinkError> {
        let period = Duration::from_secs_f64(1.0 / rate);
        let quota = Quota::with_period(period)
            .ok_or_else(|| SinkError::InvalidSettings(format!("rate {rate} is too high")))?
            .allow_burst(NonZeroU32::MIN);
        Ok(Throttle {
            limiter: RateLimiter::direct(quota),
            max_rate: rate,
            pace: Mutex::new(Pace {
                effective: rate,
                next_slot: Instant::now(),
                last_cut: None,
            }),
            permits: Semaphore::new(concurrency.max(1)),
            reductions: AtomicU64::new(0),
        })
    }

    /// Waits for a free slot (bounded concurrency); held for the duration of one HTTP attempt.
    /// The semaphore is never closed, so `None` cannot happen in practice.
    pub(crate) async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// Waits until the pacer and the rate limiter allow one more request. Every request,
    /// token grants included, passes here.
    pub(crate) async fn pace(&self) {
        if let Some(slot) = self.reserve_paced_slot() {
            tokio::time::sleep_until(slot).await;
        }
        self.limiter.until_ready().await;
    }

    /// Under a lowered rate, reserves the next slot of the pacer; `None` at full rate (the
    /// governor alone paces then).
    fn reserve_paced_slot(&self) -> Option<Instant> {
        let mut pace = self.lock();
        if pace.effective >= self.max_rate {
            return None;
        }
        let now = Instant::now();
        let slot = pace.next_slot.max(now);
        pace.next_slot = slot + Duration::from_secs_f64(1.0 / pace.effective);
        Some(slot)
    }

    /// The server shed load: halve the effective rate (once per cool-down period).
    pub(crate) fn slow_down(&self) {
        let mut pace = self.lock();
        let now = Instant::now();
        if pace
            .last_cut
            .is_some_and(|t| now.duration_since(t) < SLOW_DOWN_COOL_DOWN)
        {
            return;
        }
        let floor = self.max_rate * MIN_RATE_FRACTION;
        pace.effective = (pace.effective / 2.0).max(floor);
        pace.last_cut = Some(now);
        if pace.next_slot < now {
            pace.next_slot = now;
        }
        self.reductions.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            rate = pace.effective,
            "server shed load; lowering the request rate"
        );
    }

    /// A request went through: recover additively towards the configured rate.
    pub(crate) fn recovered(&self) {
        let mut pace = self.lock();
        if pace.effective < self.max_rate {
            pace.effective =
                (pace.effective + self.max_rate * RECOVERY_FRACTION).min(self.max_rate);
        }
    }

    pub(crate) fn effective_rate(&self) -> f64 {
        self.lock().effective
    }

    pub(crate) fn reductions(&self) -> u64 {
        self.reductions.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        match self.pace.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_down_halves_once_per_burst_and_recovers_additively() {
        let t = Throttle::new(20.0, 2).unwrap();
        t.slow_down();
        t.slow_down();
        assert_eq!(t.effective_rate(), 10.0, "a burst counts once");
        assert_eq!(t.reductions(), 1);
        for _ in 0..5 {
            t.recovered();
        }
        assert_eq!(t.effective_rate(), 15.0);
        for _ in 0..100 {
            t.recovered();
        }
        assert_eq!(t.effective_rate(), 20.0, "never above the configured rate");
    }

    #[tokio::test]
    async fn acquisitions_are_spaced_by_the_rate() {
        let t = Throttle::new(200.0, 4).unwrap();
        let start = Instant::now();
        for _ in 0..11 {
            let _slot = t.slot().await;
            t.pace().await;
        }
        // burst 1: the first is immediate, then one every 5 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(45),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn absurd_rates_are_refused() {
        assert!(Throttle::new(1e12, 1).is_err());
    }
}
