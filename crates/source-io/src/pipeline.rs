//! Reading ahead on a helper thread, into batches that are handed back and reused.
//!
//! A source's work per record splits into finding the record (the JSON scanner, the CSV
//! parser, UTF-8 checks) and turning it into model values (serde, mapping). The first needs
//! no allocation per record; the second allocates a great deal. [`read_ahead`] runs the
//! first on a helper thread, filling batches that the consumer reads and then returns for
//! reuse, and leaves the second on the consumer's thread: values are freed by the thread
//! that allocated them, which the system allocator needs to stay fast (converting on worker
//! threads instead was measured to double the CPU time, all of it in `malloc`/`free`).
//!
//! At most [`IN_FLIGHT`] filled batches wait for the consumer, so memory stays bounded. On a
//! single core, or when no thread can be started, batches are filled inline.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// Filled batches that may wait for the consumer.
pub const IN_FLIGHT: usize = 3;

/// Fills a batch: clears it, adds what comes next, and returns false once the input is
/// exhausted (the batch may still hold the last items).
pub type Fill<B> = Box<dyn FnMut(&mut B) -> bool + Send>;

/// Batches filled ahead of the consumer; see the module docs.
pub struct ReadAhead<B> {
    mode: Mode<B>,
    /// The batch the consumer holds.
    current: Option<B>,
}

enum Mode<B> {
    Thread {
        full: Receiver<B>,
        empty: SyncSender<B>,
        thread: Option<JoinHandle<()>>,
    },
    Inline {
        fill: Fill<B>,
        more: bool,
    },
    Done,
}

impl<B> std::fmt::Debug for ReadAhead<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.mode {
            Mode::Thread { .. } => "thread",
            Mode::Inline { .. } => "inline",
            Mode::Done => "done",
        };
        f.debug_struct("ReadAhead").field("mode", &mode).finish()
    }
}

/// Whether a helper thread can run beside the consumer.
pub fn have_spare_core() -> bool {
    thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Start a thread that runs `run(value)`; if no thread can be started, `value` comes back
/// (so the caller can do the work itself).
pub fn spawn_with<V: Send + 'static>(
    name: &str,
    value: V,
    run: impl FnOnce(V) + Send + 'static,
) -> Result<JoinHandle<()>, V> {
    let slot = Arc::new(Mutex::new(Some(value)));
    let theirs = Arc::clone(&slot);
    let spawned = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let value = theirs.lock().ok().and_then(|mut v| v.take());
            drop(theirs);
            if let Some(value) = value {
                run(value);
            }
        });
    match spawned {
        Ok(handle) => Ok(handle),
        Err(_) => {
            // The closure (and its copy of the slot) went with the failed spawn.
            let value = slot.lock().ok().and_then(|mut v| v.take());
            match value {
                Some(value) => Err(value),
                // Unreachable: the thread never ran. Nothing to give back.
                None => Ok(thread::spawn(|| {})),
            }
        }
    }
}

/// Fill batches with `fill` on a helper thread named `name` (inline on a single core).
pub fn read_ahead<B: Default + Send + 'static>(name: &str, fill: Fill<B>) -> ReadAhead<B> {
    if !have_spare_core() {
        return ReadAhead::inline(fill);
    }
    let (full_tx, full) = mpsc::sync_channel::<B>(IN_FLIGHT);
    // Room for every batch in existence, so returning one never blocks.
    let (empty, empty_rx) = mpsc::sync_channel::<B>(IN_FLIGHT + 2);
    let spawned = spawn_with(name, fill, move |mut fill| loop {
        let mut batch = empty_rx.try_recv().unwrap_or_default();
        let more = fill(&mut batch);
        if full_tx.send(batch).is_err() || !more {
            return;
        }
    });
    match spawned {
        Ok(thread) => ReadAhead {
            mode: Mode::Thread {
                full,
                empty,
                thread: Some(thread),
            },
            current: None,
        },
        Err(fill) => ReadAhead::inline(fill),
    }
}

impl<B: Default> ReadAhead<B> {
    fn inline(fill: Fill<B>) -> Self {
        ReadAhead {
            mode: Mode::Inline { fill, more: true },
            current: None,
        }
    }

    /// The batch last returned by [`ReadAhead::next_batch`].
    pub fn current(&mut self) -> Option<&mut B> {
        self.current.as_mut()
    }

    /// The next filled batch; the previous one goes back for reuse. `None` at the end.
    ///
    /// A panic on the helper thread is re-raised here, as it would have been inline.
    pub fn next_batch(&mut self) -> Option<&mut B> {
        match &mut self.mode {
            Mode::Done => return None,
            Mode::Inline { fill, more } => {
                if !*more {
                    self.mode = Mode::Done;
                    return None;
                }
                let batch = self.current.get_or_insert_with(B::default);
                *more = fill(batch);
            }
            Mode::Thread {
                full,
                empty,
                thread,
            } => {
                if let Some(used) = self.current.take() {
                    // The helper may have finished; the batch is then just dropped.
                    let _ = empty.try_send(used);
                }
                match full.recv() {
                    Ok(batch) => self.current = Some(batch),
                    Err(_) => {
                        let thread = thread.take();
                        self.mode = Mode::Done;
                        if let Some(Err(panic)) = thread.map(JoinHandle::join) {
                            std::panic::resume_unwind(panic);
                        }
                        return None;
                    }
                }
            }
        }
        self.current.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches of up to 10 numbers from 1 to `n`.
    fn counter(n: u64) -> Fill<Vec<u64>> {
        let mut next = 1;
        Box::new(move |batch: &mut Vec<u64>| {
            batch.clear();
            while batch.len() < 10 && next <= n {
                batch.push(next);
                next += 1;
            }
            next <= n
        })
    }

    fn drain(mut ahead: ReadAhead<Vec<u64>>) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(batch) = ahead.next_batch() {
            out.extend(batch.iter());
        }
        out
    }

    #[test]
    fn threaded_and_inline_give_the_same_items_in_order() {
        for n in [0, 1, 10, 11, 1234] {
            let expected: Vec<u64> = (1..=n).collect();
            assert_eq!(drain(read_ahead("t", counter(n))), expected);
            assert_eq!(drain(ReadAhead::inline(counter(n))), expected);
        }
    }

    #[test]
    fn dropping_the_reader_early_stops_the_helper() {
        let mut ahead = read_ahead("t", counter(u64::MAX));
        assert_eq!(ahead.next_batch().map(|b| b[0]), Some(1));
        drop(ahead);
    }

    #[test]
    fn a_panic_on_the_helper_reaches_the_consumer() {
        let outcome = std::panic::catch_unwind(|| {
            let fill: Fill<Vec<u64>> = Box::new(|_| panic!("boom"));
            drain(read_ahead("t", fill))
        });
        assert!(outcome.is_err());
    }
}
