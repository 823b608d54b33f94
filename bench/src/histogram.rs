//! A lock-free latency histogram: 1 µs buckets below 1 ms, 10 µs buckets
//! below 100 ms, 1 ms buckets below 60 s. Shared by every subscriber task.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const FINE: u64 = 1_000; // < 1 ms at 1 µs
const MEDIUM: u64 = 100_000; // < 100 ms at 10 µs
const COARSE: u64 = 60_000_000; // < 60 s at 1 ms
const BUCKETS: usize =
    FINE as usize + ((MEDIUM - FINE) / 10) as usize + ((COARSE - MEDIUM) / 1000) as usize + 1;

/// Latencies in microseconds.
#[derive(Debug)]
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

fn bucket_of(us: u64) -> usize {
    if us < FINE {
        us as usize
    } else if us < MEDIUM {
        FINE as usize + ((us - FINE) / 10) as usize
    } else if us < COARSE {
        FINE as usize + ((MEDIUM - FINE) / 10) as usize + ((us - MEDIUM) / 1000) as usize
    } else {
        BUCKETS - 1
    }
}

/// The upper bound (µs) of a bucket.
fn bucket_value(i: usize) -> u64 {
    let fine = FINE as usize;
    let medium = fine + ((MEDIUM - FINE) / 10) as usize;
    if i < fine {
        i as u64
    } else if i < medium {
        FINE + (i - fine) as u64 * 10 + 9
    } else {
        MEDIUM + (i - medium) as u64 * 1000 + 999
    }
}

impl Histogram {
    pub fn record(&self, us: u64) {
        self.buckets[bucket_of(us)].fetch_add(1, Relaxed);
        self.max.fetch_max(us, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// The latency below which `q` (0–1) of the samples fall, in µs.
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Relaxed);
            if seen >= rank {
                return bucket_value(i).min(self.max());
            }
        }
        self.max()
    }

    pub fn max(&self) -> u64 {
        self.max.load(Relaxed)
    }

    pub fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Relaxed);
        }
        self.max.store(0, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_bucket_resolution() {
        let h = Histogram::default();
        for us in 1..=1000 {
            h.record(us);
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.quantile(0.5), 500);
        assert_eq!(h.quantile(0.99), 990);
        assert!((1000..=1009).contains(&h.quantile(1.0)));
        h.record(250_000);
        assert_eq!(h.max(), 250_000);
        assert_eq!(h.quantile(1.0), 250_000);
        h.reset();
        assert_eq!(h.count(), 0);
    }
}
