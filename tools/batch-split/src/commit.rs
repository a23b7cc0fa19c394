//! Committing batch files (fsync, rename, fsync the folder) on a few
//! threads, so that the disk's flushes overlap instead of queueing one
//! after another; receipts are still printed in batch order, each only once
//! its file is durable under its final name.
//!
//! A batch may come with NDJSON lines still to check: the worker checks
//! them and writes them to the file. A batch is committed only once it and
//! every batch before it passed their checks, so a bad line stops the
//! batches after it too, as if the lines were checked in input order.

use crate::records::check_lines;
use common::io::{AtomicFile, Output};
use common::receipt::Receipt;
use common::time::now_rfc3339;
use common::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

const WORKERS: usize = 16;
/// Files written but not yet committed, at most (each holds a buffer).
const QUEUED: usize = 16;

/// NDJSON records still to check and write: the bytes (each record ends
/// with LF), their line numbers, and the input's name for messages.
pub struct Unchecked {
    pub bytes: Vec<u8>,
    pub lines: Vec<u64>,
    pub file: Arc<str>,
}

struct Job {
    index: u64,
    file: AtomicFile,
    receipt: Receipt,
    unchecked: Option<Unchecked>,
}

/// A worker's report: a receipt, `None` for a batch not committed because
/// one before it failed its check, or why it failed.
type Done = (u64, Result<Option<Receipt>>);

/// Which batches passed their checks, so that a batch is committed only
/// when every batch before it has passed too.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// Every batch before this one passed.
    passed_below: u64,
    /// Batches at or after `passed_below` that passed.
    passed: BTreeSet<u64>,
    /// The first batch that failed its check.
    first_failed: Option<u64>,
}

impl Gate {
    /// Record whether batch `index` passed; then, if it did, wait until
    /// every batch before it is known. `true` if it may be committed.
    fn pass(&self, index: u64, passed: bool) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if state.passed_below == 0 {
            state.passed_below = 1;
        }
        if passed {
            state.passed.insert(index);
            loop {
                let next = state.passed_below;
                if !state.passed.remove(&next) {
                    break;
                }
                state.passed_below += 1;
            }
        } else {
            state.first_failed = Some(state.first_failed.map_or(index, |f| f.min(index)));
        }
        self.changed.notify_all();
        if !passed {
            return false;
        }
        loop {
            if state.passed_below > index {
                return true;
            }
            if state.first_failed.is_some_and(|f| f < index) {
                return false;
            }
            state = match self.changed.wait(state) {
                Ok(state) => state,
                Err(_) => return false,
            };
        }
    }
}

/// What a worker does with one batch.
fn work(job: Job, gate: &Gate) -> Result<Option<Receipt>> {
    let Job {
        index,
        mut file,
        mut receipt,
        unchecked,
    } = job;
    let checked = match &unchecked {
        None => Ok(()),
        Some(u) => check_lines(&u.bytes, &u.lines, &u.file).and_then(|()| {
            file.write_all(&u.bytes)
                .map_err(|e| Error::write(format!("writing {}", file.path().display()), e))
        }),
    };
    let may_commit = gate.pass(index, checked.is_ok());
    checked?;
    if !may_commit {
        return Ok(None); // dropped uncommitted: its temporary file is removed
    }
    file.commit()?;
    receipt.time = now_rfc3339();
    Ok(Some(receipt))
}

/// Commits files in the background and prints their receipts in order.
pub struct Committer {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    /// The index of the next receipt to print.
    next: u64,
    ready: BTreeMap<u64, Receipt>,
    /// The failure of the earliest batch that failed.
    failed: Option<(u64, Error)>,
    /// The folder, for messages.
    target: String,
    /// Set once a receipt could not be written: none is printed after it.
    stdout_failed: bool,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("next", &self.next)
            .finish()
    }
}

impl Committer {
    pub fn new(target: String) -> Committer {
        let (jobs, queue) = sync_channel::<Job>(QUEUED);
        // Unbounded, so that a worker never waits on us while we wait on it.
        let (report, done) = channel::<Done>();
        let queue = Arc::new(Mutex::new(queue));
        let gate = Arc::new(Gate::default());
        let workers = (0..WORKERS)
            .map(|_| {
                let queue = Arc::clone(&queue);
                let gate = Arc::clone(&gate);
                let report = report.clone();
                std::thread::spawn(move || {
                    loop {
                        // Jobs leave the queue in batch order, one at a
                        // time, so a batch waiting at the gate never waits
                        // on one that no worker has taken.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else {
                            return;
                        };
                        let index = job.index;
                        let result = work(job, &gate);
                        if report.send((index, result)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Committer {
            jobs: Some(jobs),
            done,
            workers,
            next: 1,
            ready: BTreeMap::new(),
            failed: None,
            target,
            stdout_failed: false,
        }
    }

    /// Hand over a complete file (with its records still to check and
    /// write, if any); print the receipts that are ready.
    pub fn commit(
        &mut self,
        index: u64,
        file: AtomicFile,
        receipt: Receipt,
        unchecked: Option<Unchecked>,
        out: &mut Output,
    ) -> Result<()> {
        self.check()?;
        let Some(jobs) = &self.jobs else {
            return Err(Error::software("commit after the last batch"));
        };
        let job = Job {
            index,
            file,
            receipt,
            unchecked,
        };
        jobs.send(job)
            .map_err(|_| Error::software("the commit threads stopped"))?;
        while let Ok(done) = self.done.try_recv() {
            self.take(done);
        }
        self.print_ready(out)?;
        self.check()
    }

    /// Wait for every file, print the remaining receipts in order, and
    /// report the first failure.
    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        self.wait();
        if self.stdout_failed {
            return self.check();
        }
        // A failed batch leaves a gap; the later receipts still count.
        while let Some((index, receipt)) = self.ready.pop_first() {
            if let Err(e) = crate::write_receipt(&receipt, out) {
                return Err(self.unreceipted(e, index, "the whole input was read"));
            }
        }
        self.check()
    }

    /// Let the workers finish the files handed over, and collect them.
    fn wait(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        while let Ok(done) = self.done.try_recv() {
            self.take(done);
        }
    }

    /// Receipts cannot be written from batch `first` on: print no more,
    /// let the files in flight be committed, and say which batches are in
    /// the folder without a receipt.
    fn unreceipted(&mut self, err: std::io::Error, first: u64, when: &str) -> Error {
        self.stdout_failed = true;
        self.wait();
        let last = self
            .ready
            .keys()
            .next_back()
            .map_or(first, |&k| k.max(first));
        let batches = if last == first {
            format!("batch {first} is")
        } else {
            format!("batches {first} to {last} are")
        };
        crate::receipt_error(
            err,
            format!("{batches} in {} without a receipt; {when}", self.target),
        )
    }

    fn take(&mut self, (index, result): Done) {
        match result {
            Ok(Some(receipt)) => {
                self.ready.insert(index, receipt);
            }
            Ok(None) => {}
            Err(e) => {
                if self.failed.as_ref().is_none_or(|(first, _)| index < *first) {
                    self.failed = Some((index, e));
                }
            }
        }
    }

    fn print_ready(&mut self, out: &mut Output) -> Result<()> {
        while let Some(receipt) = self.ready.remove(&self.next) {
            if let Err(e) = crate::write_receipt(&receipt, out) {
                return Err(self.unreceipted(e, self.next, "stopped before the end of the input"));
            }
            self.next += 1;
        }
        Ok(())
    }

    /// The failure of the earliest batch that failed, once every batch
    /// handed over is done (an earlier one may fail after a later one).
    fn check(&mut self) -> Result<()> {
        if self.failed.is_some() {
            self.wait();
        }
        match self.failed.take() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}
