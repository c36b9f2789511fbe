//! Request accounting for assertions: every request with its route template, arrival time
//! and outcome, peak concurrency, and counts of 401/403/429/503/dropped answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Route key of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// 1-based arrival number.
    pub seq: u64,
    /// Arrival time since the server started.
    pub at: Duration,
    pub method: String,
    /// Route template, e.g. `/admin/realms/{realm}/users/{id}`.
    pub route: String,
    /// Status sent; `None` when no response was sent (dropped, or the client went away).
    pub status: Option<u16>,
    /// The emulator closed the connection on purpose (fault injection).
    pub dropped: bool,
}

impl RequestRecord {
    /// `"METHOD /route/template"`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.route)
    }
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub total: u64,
    /// Requests per `"METHOD /route/template"`.
    pub per_endpoint: BTreeMap<String, u64>,
    pub peak_concurrency: usize,
    pub unauthorized: u64,
    pub forbidden: u64,
    pub throttled: u64,
    pub unavailable: u64,
    pub dropped: u64,
    pub server_errors: u64,
    /// Finished requests in completion order (see [`RequestRecord::seq`] for arrival order).
    pub requests: Vec<RequestRecord>,
}

impl Stats {
    /// Requests seen for one endpoint, e.g. `count("POST", "/admin/realms/{realm}/partialImport")`.
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.per_endpoint
            .get(&format!("{method} {route}"))
            .copied()
            .unwrap_or(0)
    }

    /// The largest number of requests that arrived within any window of the given length.
    pub fn max_requests_in_window(&self, window: Duration) -> usize {
        let mut times: Vec<Duration> = self.requests.iter().map(|r| r.at).collect();
        times.sort();
        max_in_window(&times, window)
    }
}

/// Sliding-window maximum over sorted arrival times: requests at `t` and `t + window`
/// are not in the same window.
pub(crate) fn max_in_window(sorted: &[Duration], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in sorted.iter().enumerate() {
        while start < end && sorted.get(start).is_some_and(|s| *t - *s >= window) {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// Live counters shared by the server tasks.
pub(crate) struct StatsCollector {
    started: Instant,
    inflight: AtomicUsize,
    inner: Mutex<Stats>,
}

impl StatsCollector {
    pub(crate) fn new() -> Self {
        StatsCollector {
            started: Instant::now(),
            inflight: AtomicUsize::new(0),
            inner: Mutex::new(Stats::default()),
        }
    }

    /// Registers an arriving request; the guard records its outcome when dropped.
    pub(crate) fn begin(&self, method: &str, route: &str) -> RequestGuard<'_> {
        let now = self.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut stats = lock(&self.inner);
        stats.total += 1;
        stats.peak_concurrency = stats.peak_concurrency.max(now);
        *stats
            .per_endpoint
            .entry(format!("{method} {route}"))
            .or_insert(0) += 1;
        RequestGuard {
            collector: self,
            record: RequestRecord {
                seq: stats.total,
                at: self.started.elapsed(),
                method: method.to_string(),
                route: route.to_string(),
                status: None,
                dropped: false,
            },
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        lock(&self.inner).clone()
    }

    pub(crate) fn reset(&self) {
        let mut stats = lock(&self.inner);
        *stats = Stats::default();
    }
}

pub(crate) struct RequestGuard<'a> {
    collector: &'a StatsCollector,
    record: RequestRecord,
}

impl RequestGuard<'_> {
    pub(crate) fn set_status(&mut self, status: u16) {
        self.record.status = Some(status);
    }

    pub(crate) fn set_dropped(&mut self) {
        self.record.dropped = true;
        self.record.status = None;
    }
}

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        self.collector.inflight.fetch_sub(1, Ordering::SeqCst);
        let mut stats = lock(&self.collector.inner);
        match self.record.status {
            Some(401) => stats.unauthorized += 1,
            Some(403) => stats.forbidden += 1,
            Some(429) => stats.throttled += 1,
            Some(503) => stats.unavailable += 1,
            Some(s) if s >= 500 => stats.server_errors += 1,
            _ => {}
        }
        if self.record.dropped {
            stats.dropped += 1;
        }
        stats.requests.push(self.record.clone());
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked: the emulator's state
/// stays usable for the assertions of the test that caused the panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_maximum_counts_requests_strictly_inside_the_window() {
        let ms = Duration::from_millis;
        let times = [
            ms(0),
            ms(100),
            ms(200),
            ms(1000),
            ms(1050),
            ms(1100),
            ms(1150),
        ];
        assert_eq!(max_in_window(&times, ms(1000)), 5);
        assert_eq!(max_in_window(&times, ms(200)), 4);
        assert_eq!(max_in_window(&times, ms(1)), 1);
        assert_eq!(max_in_window(&[], ms(1)), 0);
    }
}
