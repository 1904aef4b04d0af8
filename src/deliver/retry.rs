//! The retry policy: what an attempt's result means for the delivery.
//!
//! Every failure is retried on the route's schedule, because a misconfigured receiver is
//! usually fixed by a person within the retry window: connection errors, timeouts, 3xx (never
//! followed), 4xx and 5xx alike. `410 Gone` is the receiver saying "stop": dead at once.
//! `Retry-After` on 429 and 503 pushes the next attempt later, never earlier. Past the
//! schedule or `max_age`, the delivery is dead and waits for a person (`deliveries retry`).

use std::time::Duration;

use crate::config::RetryConfig;
use crate::store::Outcome;

/// ± this fraction of each scheduled pause, so that deliveries that failed together do not
/// all come back at the same instant.
const JITTER: f64 = 0.2;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    schedule: Vec<Duration>,
    max_age: Duration,
}

impl From<&RetryConfig> for RetryPolicy {
    fn from(c: &RetryConfig) -> Self {
        RetryPolicy {
            schedule: c.schedule.clone(),
            max_age: c.max_age,
        }
    }
}

/// What came back from one attempt, as far as the policy cares.
#[derive(Debug, Clone, Copy)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// The answer broke off (a 200 whose body never fully arrived): the receiver may have
    /// crashed mid-way, so it does not count as an acknowledgement.
    pub broken: bool,
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        !self.broken && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl RetryPolicy {
    /// Decides after attempt number `n` (1-based) of a delivery created at `created_at`,
    /// everything in unix milliseconds. `jitter` is a number in [0, 1) (random in production).
    pub fn decide(
        &self,
        n: u32,
        created_at: i64,
        now: i64,
        result: AttemptResult,
        jitter: f64,
    ) -> Outcome {
        if result.succeeded() {
            return Outcome::Delivered;
        }
        if result.status == Some(410) {
            return Outcome::Dead;
        }
        let Some(pause) = self.schedule.get(n as usize - 1) else {
            return Outcome::Dead;
        };
        let factor = 1.0 + JITTER * (2.0 * jitter - 1.0);
        let mut wait_ms = (pause.as_millis() as f64 * factor) as i64;
        if let (Some(429 | 503), Some(after)) = (result.status, result.retry_after) {
            wait_ms = wait_ms.max(after.as_millis() as i64);
        }
        let next = now + wait_ms.max(1);
        if next - created_at > self.max_age.as_millis() as i64 {
            return Outcome::Dead;
        }
        Outcome::Retry {
            next_attempt_at: next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![Duration::from_secs(5), Duration::from_secs(30)],
            max_age: Duration::from_secs(3600),
        }
    }

    fn status(s: u16) -> AttemptResult {
        AttemptResult {
            status: Some(s),
            retry_after: None,
            broken: false,
        }
    }

    const REFUSED: AttemptResult = AttemptResult {
        status: None,
        retry_after: None,
        broken: false,
    };

    #[test]
    fn success_is_any_2xx() {
        assert_eq!(
            policy().decide(1, 0, 0, status(204), 0.5),
            Outcome::Delivered
        );
        assert_ne!(
            policy().decide(1, 0, 0, status(302), 0.5),
            Outcome::Delivered
        );
    }

    #[test]
    fn failures_follow_the_schedule_with_jitter_then_die() {
        let p = policy();
        assert_eq!(
            p.decide(1, 0, 1000, REFUSED, 0.5),
            Outcome::Retry {
                next_attempt_at: 6000
            }
        );
        assert_eq!(
            p.decide(1, 0, 0, status(500), 0.0),
            Outcome::Retry {
                next_attempt_at: 4000
            }
        );
        assert_eq!(
            p.decide(2, 0, 0, status(404), 0.999_999),
            Outcome::Retry {
                next_attempt_at: 35_999
            }
        );
        assert_eq!(p.decide(3, 0, 0, status(500), 0.5), Outcome::Dead);
    }

    #[test]
    fn a_broken_answer_is_not_an_acknowledgement() {
        let broken = AttemptResult {
            status: Some(200),
            retry_after: None,
            broken: true,
        };
        assert!(matches!(
            policy().decide(1, 0, 0, broken, 0.5),
            Outcome::Retry { .. }
        ));
    }

    #[test]
    fn gone_is_dead_at_once() {
        assert_eq!(policy().decide(1, 0, 0, status(410), 0.5), Outcome::Dead);
    }

    #[test]
    fn retry_after_delays_but_never_hastens() {
        let p = policy();
        let later = AttemptResult {
            status: Some(503),
            retry_after: Some(Duration::from_secs(20)),
            broken: false,
        };
        assert_eq!(
            p.decide(1, 0, 0, later, 0.5),
            Outcome::Retry {
                next_attempt_at: 20_000
            }
        );
        let sooner = AttemptResult {
            status: Some(429),
            retry_after: Some(Duration::from_secs(1)),
            broken: false,
        };
        assert_eq!(
            p.decide(1, 0, 0, sooner, 0.5),
            Outcome::Retry {
                next_attempt_at: 5000
            }
        );
        let ignored = AttemptResult {
            status: Some(500),
            retry_after: Some(Duration::from_secs(20)),
            broken: false,
        };
        assert_eq!(
            p.decide(1, 0, 0, ignored, 0.5),
            Outcome::Retry {
                next_attempt_at: 5000
            }
        );
    }

    #[test]
    fn max_age_ends_retries() {
        let p = policy();
        assert_eq!(p.decide(1, 0, 3_596_000, status(500), 0.5), Outcome::Dead);
        assert!(matches!(
            p.decide(1, 0, 3_590_000, status(500), 0.5),
            Outcome::Retry { .. }
        ));
    }
}
