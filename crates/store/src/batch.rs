//! Group commit: many requests' small writes share statements and commits.
//!
//! A visitor's answer is one tiny UPDATE, and committing each on its own costs far more than
//! the UPDATE: on SQLite every statement crosses to the single writer connection's thread and
//! back (and waits its turn for that connection), on PostgreSQL every commit waits for its WAL
//! flush. A [`Batcher`] hands each write to a worker that takes every write waiting at that
//! moment and runs them together. There is no timer: a write that reaches an idle worker runs
//! at once, so a quiet server pays no latency, and a busy one gets bigger batches exactly when
//! it needs them. Every caller still waits for the commit of its own batch and gets its own
//! outcome, so a response is only sent for what is durable.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{Db, StoreError};

/// What a batch of jobs does to the database. Implemented by each module for its own writes.
pub trait BatchWrite: Send + Sync + 'static {
    type Job: Send + Sync + 'static;
    type Outcome: Send + 'static;

    /// Runs `jobs` together and returns one result per job, in order. A job's `Err` means
    /// that job was not written (its statement or transaction failed); others may have been.
    fn run(
        &self,
        db: &Db,
        jobs: &[Self::Job],
    ) -> impl Future<Output = Vec<Result<Self::Outcome, StoreError>>> + Send;
}

#[derive(Clone, Copy, Debug)]
pub struct BatchOptions {
    /// Most jobs in one batch (bounds statement size and parameter count).
    pub max_jobs: usize,
    /// Batches running at once. One on SQLite (one writer anyway); a few on PostgreSQL, whose
    /// commits can overlap their WAL flushes (2, 4 and 8 measured alike within noise, see
    /// BENCHMARKS.md; 4 keeps a lone write from waiting behind a batch).
    pub in_flight: usize,
}

impl BatchOptions {
    /// Sensible settings for the database behind `db`.
    pub fn for_db(db: &Db) -> Self {
        BatchOptions {
            max_jobs: 64,
            in_flight: match db.backend() {
                crate::Backend::Sqlite => 1,
                crate::Backend::Postgres => 4,
            },
        }
    }
}

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;

/// The handle requests submit their writes through; cheap to clone.
pub struct Batcher<J, O> {
    tx: mpsc::Sender<(J, Reply<O>)>,
}

impl<J, O> Clone for Batcher<J, O> {
    fn clone(&self) -> Self {
        Batcher {
            tx: self.tx.clone(),
        }
    }
}

impl<J: Send + Sync + 'static, O: Send + 'static> Batcher<J, O> {
    /// Starts the worker on the current tokio runtime. It stops when every handle is dropped,
    /// after the batches already taken have answered.
    pub fn spawn<W>(db: Db, write: W, opts: BatchOptions) -> Self
    where
        W: BatchWrite<Job = J, Outcome = O>,
    {
        // Room for every request a busy server has in flight; past it, submitters wait.
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(worker(db, Arc::new(write), rx, opts));
        Batcher { tx }
    }

    /// Queues `job` and waits until its batch is committed (or failed).
    pub async fn submit(&self, job: J) -> Result<O, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((job, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the write queue is closed".into()))?;
        answer.await.map_err(|_| {
            // The batch's task panicked: a bug, reported as such rather than as an outage.
            StoreError::Other("a write batch failed before answering".into())
        })?
    }
}

async fn worker<W: BatchWrite>(
    db: Db,
    write: Arc<W>,
    mut rx: mpsc::Receiver<(W::Job, Reply<W::Outcome>)>,
    opts: BatchOptions,
) {
    let permits = Arc::new(Semaphore::new(opts.in_flight.max(1)));
    let max = opts.max_jobs.max(1);
    let down = Arc::new(AtomicBool::new(false));
    loop {
        // Wait for a free slot first, so writes pile up in the channel while batches run.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        if down.swap(false, Ordering::AcqRel) {
            // The last batch found the database unreachable after waiting for it: the writes
            // that queued meanwhile fail now rather than each wait that long again. Writes
            // arriving from here on try the database afresh.
            while let Ok((_, reply)) = rx.try_recv() {
                let _ = reply.send(Err(StoreError::Unavailable(
                    "the database was unreachable moments ago".into(),
                )));
            }
        }
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = Vec::with_capacity(max.min(64));
        batch.push(first);
        while batch.len() < max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("faro_write_batch_jobs").record(batch.len() as f64);
        let (db, write, down) = (db.clone(), write.clone(), down.clone());
        // Its own task: a panic in one batch drops that batch's replies, not the worker.
        tokio::spawn(async move {
            if run_batch(&db, &*write, batch).await {
                down.store(true, Ordering::Release);
            }
            drop(permit);
        });
    }
}

/// Runs one batch and answers its callers; true when the database was unreachable.
async fn run_batch<W: BatchWrite>(
    db: &Db,
    write: &W,
    batch: Vec<(W::Job, Reply<W::Outcome>)>,
) -> bool {
    let (jobs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let mut results = write.run(db, &jobs).await;
    if results.len() != jobs.len() {
        let e = StoreError::Other(format!(
            "a write batch of {} jobs returned {} results",
            jobs.len(),
            results.len()
        ));
        results = jobs.iter().map(|_| Err(e.clone())).collect();
    }
    let mut down = false;
    for ((job, reply), result) in jobs.iter().zip(replies).zip(results) {
        let result = match result {
            // One bad job must not fail its neighbours: a failed job is retried alone. Not when
            // the database is down or full, which would only multiply every caller's wait.
            Err(e)
                if jobs.len() > 1
                    && !matches!(e, StoreError::Unavailable(_) | StoreError::ReadOnly(_)) =>
            {
                write
                    .run(db, std::slice::from_ref(job))
                    .await
                    .pop()
                    .unwrap_or_else(|| Err(StoreError::Other("a write returned no result".into())))
            }
            other => other,
        };
        down |= matches!(result, Err(StoreError::Unavailable(_)));
        let _ = reply.send(result);
    }
    down
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records the batches it is given; fails any batch holding a job equal to 13.
    struct Recorder(Arc<Mutex<Vec<Vec<u32>>>>);

    impl BatchWrite for Recorder {
        type Job = u32;
        type Outcome = u32;

        async fn run(&self, _db: &Db, jobs: &[u32]) -> Vec<Result<u32, StoreError>> {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(jobs.to_vec());
            if jobs.contains(&13) {
                // All or nothing, like one transaction.
                return vec![Err(StoreError::Other("thirteen".into())); jobs.len()];
            }
            jobs.iter().map(|j| Ok(j * 2)).collect()
        }
    }

    async fn db() -> Db {
        let url = crate::testing::create_database(crate::Backend::Sqlite).await;
        Db::connect(&url, &crate::DbOptions::default())
            .await
            .expect("db")
    }

    #[tokio::test]
    async fn waiting_jobs_share_a_batch_and_each_gets_its_outcome() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let b = Batcher::spawn(
            db().await,
            Recorder(seen.clone()),
            BatchOptions {
                max_jobs: 64,
                in_flight: 1,
            },
        );
        let handles: Vec<_> = (0..10u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.expect("join").expect("ok"), i as u32 * 2);
        }
        let batches = seen.lock().expect("lock").clone();
        assert!(batches.len() < 10, "some jobs shared a batch: {batches:?}");
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
    }

    #[tokio::test]
    async fn a_failing_job_is_retried_alone_and_fails_only_itself() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let b = Batcher::spawn(
            db().await,
            Recorder(seen.clone()),
            BatchOptions {
                max_jobs: 64,
                in_flight: 1,
            },
        );
        // Hold the worker busy so 12, 13 and 14 queue up together.
        let first = tokio::spawn({
            let b = b.clone();
            async move { b.submit(1).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let rest: Vec<_> = [12u32, 13, 14]
            .into_iter()
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        assert_eq!(first.await.expect("join").expect("ok"), 2);
        let got: Vec<_> = futures_join(rest).await;
        assert_eq!(got[0].as_ref().ok(), Some(&24));
        assert!(got[1].is_err());
        assert_eq!(got[2].as_ref().ok(), Some(&28));
        // What the database was given: the three together once, then each one alone.
        let batches = seen.lock().expect("lock").clone();
        assert_eq!(batches[0], vec![1], "{batches:?}");
        let mut together = batches[1].clone();
        together.sort_unstable();
        assert_eq!(together, vec![12, 13, 14], "{batches:?}");
        let mut alone = batches[2..].to_vec();
        alone.sort();
        assert_eq!(alone, vec![vec![12], vec![13], vec![14]], "{batches:?}");
    }

    #[tokio::test]
    async fn batches_never_exceed_max_jobs() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let b = Batcher::spawn(
            db().await,
            Recorder(seen.clone()),
            BatchOptions {
                max_jobs: 3,
                in_flight: 1,
            },
        );
        let all: Vec<_> = (100..120u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        for r in futures_join(all).await {
            r.expect("ok");
        }
        assert!(seen.lock().expect("lock").iter().all(|b| b.len() <= 3));
    }

    async fn futures_join(
        handles: Vec<tokio::task::JoinHandle<Result<u32, StoreError>>>,
    ) -> Vec<Result<u32, StoreError>> {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("join"));
        }
        out
    }
}
