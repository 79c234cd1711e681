//! Prometheus metrics of the reconciler, served on `/metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `rmq_operator_reconciliations_total` | counter | — |
//! | `rmq_operator_reconcile_failures_total` | counter | `reason` (an [`crate::controller::Error`] variant) |
//! | `rmq_operator_reconcile_duration_seconds` | histogram | — |

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label set of the failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// Which step failed: a bounded set of variant names.
    pub reason: String,
}

/// The reconciler's metrics and the registry that serves them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciliations: Counter,
    failures: Family<FailureLabels, Counter>,
    duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let reconciliations = Counter::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let mut registry = Registry::with_prefix("rmq_operator");
        registry.register(
            "reconciliations",
            "Reconciliations started",
            reconciliations.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Reconciliations that failed, by reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one reconciliation",
            duration.clone(),
        );
        Self {
            registry,
            reconciliations,
            failures,
            duration,
        }
    }
}

impl Metrics {
    /// Counts a reconciliation and times it until the returned guard drops.
    pub fn reconcile_started(&self) -> ReconcileTimer {
        self.reconciliations.inc();
        ReconcileTimer {
            start: Instant::now(),
            histogram: self.duration.clone(),
        }
    }

    /// Counts a failed reconciliation.
    pub fn reconcile_failed(&self, reason: &str) {
        self.failures
            .get_or_create(&FailureLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Observes the reconcile duration when dropped, whichever way the reconcile returns.
#[derive(Debug)]
pub struct ReconcileTimer {
    start: Instant,
    histogram: Histogram,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_durations_and_failures_by_reason_appear_in_the_text_format() {
        let m = Metrics::default();
        drop(m.reconcile_started());
        m.reconcile_failed("ApplyChild");
        let text = m.encode().expect("encode");
        assert!(
            text.contains("rmq_operator_reconciliations_total 1"),
            "{text}"
        );
        assert!(
            text.contains("rmq_operator_reconcile_failures_total{reason=\"ApplyChild\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("rmq_operator_reconcile_duration_seconds_count 1"),
            "{text}"
        );
    }
}
