//! Planning on several threads. [`Transformer::run`] keeps the two ordered steps on one thread
//! each and spreads the middle one over workers:
//!
//! ```text
//! source ─▶ stage (in order) ─▶ prepare × N (workers) ─▶ commit (in order) ─▶ each
//!           staging thread                                calling thread
//! ```
//!
//! Batches go to the workers round-robin and are taken back in the same rotation, so the
//! outcomes come out in input order and the result is exactly that of [`Transformer::push`]
//! item by item. Every forward queue is bounded, so memory stays bounded however far the
//! source could run ahead.
//!
//! Each thread frees what it allocated: a worker only borrows the staged users and hands the
//! batch back to the staging thread, and the outcomes go back to the worker that built them once
//! `each` has seen them. Freeing a user on another thread than the one that built it was
//! measured to double the CPU time of `plan` (glibc and mimalloc alike).

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread;

use kcm_model::SourceResult;

use crate::engine::{Joins, Planner, Prepared, Staged, Transformer};
use crate::{Outcome, PlanSummary};

/// Items per batch handed between threads: large enough that the hand-over costs little,
/// small enough that a batch of users stays in the cache.
const BATCH_ITEMS: usize = 128;
/// Batches that may wait in each queue.
const QUEUED_BATCHES: usize = 2;

/// Workers worth running for [`Transformer::run`] on this machine: one per core beyond the
/// one the staging and committing threads share with the source's read-ahead, none on a
/// single core (the threads would only take turns). On two cores one worker was measured
/// faster than two (BENCHMARKS.md).
pub fn default_workers() -> usize {
    match thread::available_parallelism().map(usize::from) {
        Ok(n) if n > 1 => n - 1,
        _ => 0,
    }
}

/// Outcomes `each` has seen, going back to the worker that prepared them, with the emptied
/// batch they came in.
type Finished = (Vec<Prepared>, Vec<Outcome>);

impl Transformer {
    /// Plan every item, then [`finish`](Transformer::finish); `each` sees every outcome in
    /// input order, those of the end included. With `workers` of 0 everything runs on the
    /// calling thread; otherwise the source is read and staged on a thread of its own, users
    /// are planned on `workers` threads, and the calling thread commits. The first error
    /// from `each` stops the run.
    pub fn run<E>(
        mut self,
        items: impl Iterator<Item = SourceResult> + Send,
        workers: usize,
        mut each: impl FnMut(&Outcome) -> Result<(), E>,
    ) -> Result<PlanSummary, E> {
        if workers == 0 {
            for item in items {
                for outcome in self.push(item) {
                    each(&outcome)?;
                }
            }
        } else {
            let joins = std::mem::take(&mut self.joins);
            self.joins = thread::scope(|scope| -> Result<Joins, E> {
                let (to_stager, returned) = channel::<Vec<Staged>>();
                let mut to_workers = Vec::with_capacity(workers);
                let mut from_workers = Vec::with_capacity(workers);
                let mut finished = Vec::with_capacity(workers);
                for n in 0..workers {
                    let (tx_in, rx_in) = sync_channel::<Vec<Staged>>(QUEUED_BATCHES);
                    let (tx_out, rx_out) = sync_channel::<Vec<Prepared>>(QUEUED_BATCHES);
                    let (tx_done, rx_done) = channel::<Finished>();
                    let planner = Arc::clone(&self.planner);
                    let to_stager = to_stager.clone();
                    thread::Builder::new()
                        .name(format!("kcm-plan-{n}"))
                        .spawn_scoped(scope, move || {
                            prepare_batches(&planner, rx_in, to_stager, tx_out, rx_done)
                        })
                        .expect("cannot start a planning thread");
                    to_workers.push(tx_in);
                    from_workers.push(rx_out);
                    finished.push(tx_done);
                }
                drop(to_stager);
                let stager = thread::Builder::new()
                    .name("kcm-stage".into())
                    .spawn_scoped(scope, move || {
                        stage_batches(joins, items, to_workers, returned)
                    })
                    .expect("cannot start the staging thread");
                let mut turn = 0;
                while let Some(mut batch) =
                    from_workers.get(turn % workers).and_then(|r| r.recv().ok())
                {
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for prepared in batch.drain(..) {
                        let outcome = self.commit(prepared);
                        each(&outcome)?;
                        outcomes.push(outcome);
                    }
                    if let Some(worker) = finished.get(turn % workers) {
                        // A worker that has already stopped cannot take them: dropped here.
                        let _ = worker.send((batch, outcomes));
                    }
                    turn += 1;
                }
                // Every worker has finished; so has the stager, whose queues they drained.
                drop(from_workers);
                Ok(stager
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            })?;
        }
        self.finish_with(each)
    }
}

/// The staging thread: reads the source, stages each item in order and deals the batches to
/// the workers in turn; batches the workers hand back are emptied (their users freed) and
/// reused. Stops early when a worker has gone (the run was stopped).
fn stage_batches(
    mut joins: Joins,
    items: impl Iterator<Item = SourceResult>,
    workers: Vec<SyncSender<Vec<Staged>>>,
    returned: Receiver<Vec<Staged>>,
) -> Joins {
    let empty = || match returned.try_recv() {
        Ok(mut batch) => {
            batch.clear();
            batch
        }
        Err(_) => Vec::with_capacity(BATCH_ITEMS),
    };
    let mut batch = empty();
    let mut turn = 0;
    for item in items {
        let Some(staged) = joins.stage(item) else {
            continue;
        };
        batch.push(staged);
        if batch.len() == BATCH_ITEMS {
            let full = std::mem::replace(&mut batch, empty());
            if workers[turn % workers.len()].send(full).is_err() {
                return joins;
            }
            turn += 1;
        }
    }
    if !batch.is_empty() {
        let _ = workers[turn % workers.len()].send(batch);
    }
    joins
}

/// A worker: prepares each batch it is dealt and passes the result on, until either side is
/// gone. Before each batch it frees the outcomes the committing thread has finished with.
fn prepare_batches(
    planner: &Planner,
    batches: Receiver<Vec<Staged>>,
    to_stager: Sender<Vec<Staged>>,
    out: SyncSender<Vec<Prepared>>,
    finished: Receiver<Finished>,
) {
    for batch in batches {
        let mut prepared = None;
        while let Ok((empty, outcomes)) = finished.try_recv() {
            drop(outcomes);
            prepared = Some(empty);
        }
        let mut prepared = prepared.unwrap_or_else(|| Vec::with_capacity(batch.len()));
        prepared.extend(batch.iter().map(|s| planner.prepare(s)));
        // The stager built these users; it frees them.
        let _ = to_stager.send(batch);
        if out.send(prepared).is_err() {
            return;
        }
    }
}
