//! Retrying temporary failures: exponential backoff with full jitter,
//! bounded by a number of retries and by a total time.
//!
//! Sinks decide what is temporary (a refused connection, a timeout, a 503,
//! an SMTP 4xx); this module decides when to try again and when to stop.

use std::time::{Duration, Instant};

/// How often and how long to retry. `retries` counts the attempts after the
/// first, so `retries: 0` means one attempt.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub retries: u32,
    /// The first wait; each later one doubles, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts after this much time since the first one.
    pub max_time: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_time: None,
        }
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt<T, E> {
    Done(T),
    /// A temporary failure; `retry_after` is the server's own wait
    /// (HTTP Retry-After), which is honoured over the backoff.
    Retry {
        error: E,
        retry_after: Option<Duration>,
    },
    /// A failure that another attempt would not change.
    Fail(E),
}

impl RetryPolicy {
    /// The wait before retry number `n` (1 for the first retry): a random
    /// time between zero and the capped exponential delay, so that many
    /// clients failing together do not come back together.
    pub fn backoff(&self, n: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        cap.mul_f64(jitter())
    }

    /// Run `attempt` until it is done, fails for good, or the retries or
    /// the time run out. The error of the last attempt is returned, with
    /// the number of attempts made. `on_retry` hears of each wait (for a
    /// warning line), with the attempt number that failed and the wait.
    pub fn run<T, E>(
        &self,
        mut attempt: impl FnMut(u32) -> Attempt<T, E>,
        mut on_retry: impl FnMut(u32, &E, Duration),
    ) -> Result<T, (E, u32)> {
        let start = Instant::now();
        let mut n = 1;
        loop {
            let (error, retry_after) = match attempt(n) {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fail(error) => return Err((error, n)),
                Attempt::Retry { error, retry_after } => (error, retry_after),
            };
            if n > self.retries {
                return Err((error, n));
            }
            let wait = retry_after.unwrap_or_else(|| self.backoff(n));
            if let Some(max) = self.max_time
                && start.elapsed() + wait >= max
            {
                return Err((error, n));
            }
            on_retry(n, &error, wait);
            std::thread::sleep(wait);
            n += 1;
        }
    }
}

/// A number in [0.5, 1.0): enough spread without waiting near zero. Seeded
/// from the clock and the process id; this is not for secrets.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let bits = RandomState::new().hash_one(Instant::now());
    0.5 + (bits >> 11) as f64 / (1u64 << 53) as f64 / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn quick(retries: u32) -> RetryPolicy {
        RetryPolicy {
            retries,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            max_time: None,
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        for (n, cap) in [(1, 100), (2, 200), (3, 400), (4, 500), (40, 500)] {
            let d = p.backoff(n);
            assert!(d <= Duration::from_millis(cap), "{n}: {d:?}");
            assert!(d >= Duration::from_millis(cap / 2), "{n}: {d:?}");
        }
    }

    #[test]
    fn retries_temporary_failures_then_succeeds() {
        let calls = Cell::new(0);
        let waits = Cell::new(0);
        let result: Result<&str, (&str, u32)> = quick(3).run(
            |n| {
                calls.set(n);
                if n < 3 {
                    Attempt::Retry {
                        error: "refused",
                        retry_after: None,
                    }
                } else {
                    Attempt::Done("sent")
                }
            },
            |_, _, _| waits.set(waits.get() + 1),
        );
        assert_eq!(result, Ok("sent"));
        assert_eq!((calls.get(), waits.get()), (3, 2));
    }

    #[test]
    fn gives_up_after_the_retries_with_the_last_error() {
        let result: Result<(), (u32, u32)> = quick(2).run(
            |n| Attempt::Retry {
                error: n,
                retry_after: None,
            },
            |_, _, _| {},
        );
        assert_eq!(result, Err((3, 3)));
    }

    #[test]
    fn a_permanent_failure_is_not_retried() {
        let result: Result<(), (&str, u32)> =
            quick(5).run(|_| Attempt::Fail("denied"), |_, _, _| {});
        assert_eq!(result, Err(("denied", 1)));
    }

    #[test]
    fn max_time_stops_before_a_wait_that_would_pass_it() {
        let policy = RetryPolicy {
            max_time: Some(Duration::from_millis(50)),
            ..quick(10)
        };
        let result: Result<(), (&str, u32)> = policy.run(
            |_| Attempt::Retry {
                error: "busy",
                retry_after: Some(Duration::from_secs(60)),
            },
            |_, _, _| panic!("must not wait past --max-time"),
        );
        assert_eq!(result, Err(("busy", 1)));
    }
}
