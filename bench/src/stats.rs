//! From goose's metrics to one row per measured group: throughput, latency percentiles over
//! every request of the group (goose keeps per-request times in microsecond buckets, at most
//! 0.8% wide), and errors.

use goose::metrics::{GooseMetrics, GooseRequestMetricTimingData};
use goose::test_plan::TestPlanStepAction;

use crate::scenarios::Group;

#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Clone, Debug)]
pub struct Measured {
    /// Seconds of steady load (all users running) the figures cover.
    pub seconds: f64,
    /// Requests of the group in that time.
    pub requests: u64,
    /// Completed transactions (sessions), when the group counts them.
    pub completed: Option<u64>,
    pub latency: Latency,
    /// Failed requests and transactions goose saw in that time.
    pub goose_failures: u64,
}

impl Measured {
    /// Requests per second, or sessions per second for a session group.
    pub fn throughput(&self) -> f64 {
        let n = self.completed.unwrap_or(self.requests);
        if self.seconds > 0.0 {
            n as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub fn requests_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// The steady-state window: from the last time the user count reached its target to the
/// next step (the metrics were reset at its start).
pub fn steady_seconds(m: &GooseMetrics) -> f64 {
    let h = &m.history;
    let start = h
        .iter()
        .rposition(|s| matches!(s.action, TestPlanStepAction::Maintaining));
    if let Some(i) = start
        && let Some(next) = h.get(i + 1)
    {
        let ms = (next.timestamp - h[i].timestamp).num_milliseconds();
        if ms > 0 {
            return ms as f64 / 1000.0;
        }
    }
    m.duration as f64
}

pub fn measure(m: &GooseMetrics, group: &Group) -> Measured {
    let mut merged = GooseRequestMetricTimingData::default();
    let mut requests = 0u64;
    let mut failures = 0u64;
    for agg in m.requests.values() {
        if !group.requests.contains(&agg.path.as_str()) {
            continue;
        }
        let data = &agg.raw_data;
        for (&bucket, &count) in data.times_us.iter() {
            let before = merged.times_us.get(&bucket).copied().unwrap_or(0);
            merged.times_us.insert(bucket, before + count);
        }
        if data.counter > 0 {
            merged.minimum_time_us = if merged.counter == 0 {
                data.minimum_time_us
            } else {
                merged.minimum_time_us.min(data.minimum_time_us)
            };
            merged.maximum_time_us = merged.maximum_time_us.max(data.maximum_time_us);
        }
        merged.total_time_us += data.total_time_us;
        merged.counter += data.counter;
        requests += (agg.success_count + agg.fail_count) as u64;
        failures += agg.fail_count as u64;
    }
    let completed = group.transaction.map(|name| {
        m.transactions
            .iter()
            .flatten()
            .filter(|t| t.transaction_name.name_for_transaction() == name)
            .map(|t| {
                failures += t.fail_count as u64;
                t.success_count as u64
            })
            .sum()
    });
    Measured {
        seconds: steady_seconds(m),
        requests,
        completed,
        latency: Latency {
            p50_us: merged.percentile_us(0.50),
            p95_us: merged.percentile_us(0.95),
            p99_us: merged.percentile_us(0.99),
            max_us: merged.maximum_time_us,
        },
        goose_failures: failures,
    }
}
