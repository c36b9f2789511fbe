//! Progress reporting hooks. The CLI implements [`Progress`] with indicatif; the library only
//! calls it from the task that drives a run, so implementations need no ordering guarantees.

/// A phase of a sink operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the server's state.
    Preflight,
    /// Realm, user profile, roles, clients and groups.
    Structure,
    /// User batches.
    Users,
    /// Reconciling unfinished batches of an earlier run.
    Reconcile,
    /// Reading users back.
    Verify,
}

/// Receives progress events. `total` is `None` when unknown (users are streamed).
pub trait Progress: Send + Sync {
    fn start(&self, phase: Phase, total: Option<u64>);
    fn advance(&self, phase: Phase, done: u64);
    fn finish(&self, phase: Phase);
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: Phase, _total: Option<u64>) {}
    fn advance(&self, _phase: Phase, _done: u64) {}
    fn finish(&self, _phase: Phase) {}
}
