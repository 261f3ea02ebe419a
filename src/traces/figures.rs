//! The figures of one edge over one bucket, and their stored encoding.
//!
//! Latency is kept exactly while a bucket holds few requests ([`EXACT_UP_TO`] values; most
//! minute buckets of sparse traffic) and as a DDSketch at [`RELATIVE_ACCURACY`] beyond.
//! A sketch allocates bins per bucket, so holding every bucket as one cost most of the
//! memory and time of reading traces.
//!
//! Stored values are [`FORMAT`] followed by postcard; values written before the format
//! existed are JSON and are still read.

use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};

/// Relative accuracy of latency quantiles once a bucket holds a sketch.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// Latencies kept exactly before a bucket switches to a sketch.
pub const EXACT_UP_TO: usize = 32;
/// First byte of an encoded value: the format version.
const FORMAT: u8 = 1;

fn sketch() -> DDSketch {
    DDSketch::new(Config::new(RELATIVE_ACCURACY, 4096, 1e-6))
}

/// Latencies in milliseconds.
#[derive(Clone, Serialize, Deserialize)]
pub enum Latency {
    /// Every value, while there are few.
    Exact(Vec<f32>),
    /// A sketch of them, beyond [`EXACT_UP_TO`].
    Sketch(DDSketch),
}

impl Default for Latency {
    fn default() -> Latency {
        Latency::Exact(Vec::new())
    }
}

impl Latency {
    fn add(&mut self, ms: f64) {
        match self {
            Latency::Exact(values) if values.len() < EXACT_UP_TO => values.push(ms as f32),
            Latency::Exact(values) => {
                let mut s = sketch();
                for v in values.iter() {
                    s.add(f64::from(*v));
                }
                s.add(ms);
                *self = Latency::Sketch(s);
            }
            Latency::Sketch(s) => s.add(ms),
        }
    }

    fn merge(&mut self, other: &Latency) {
        match (&mut *self, other) {
            (Latency::Sketch(a), Latency::Sketch(b)) => {
                let _ = a.merge(b);
            }
            (Latency::Sketch(_), Latency::Exact(values)) => {
                for v in values {
                    self.add(f64::from(*v));
                }
            }
            (Latency::Exact(mine), Latency::Sketch(b)) => {
                let mut s = b.clone();
                for v in mine.iter() {
                    s.add(f64::from(*v));
                }
                *self = Latency::Sketch(s);
            }
            (Latency::Exact(_), Latency::Exact(values)) => {
                for v in values {
                    self.add(f64::from(*v));
                }
            }
        }
    }

    fn count(&self) -> u64 {
        match self {
            Latency::Exact(values) => values.len() as u64,
            Latency::Sketch(s) => s.count() as u64,
        }
    }

    /// The nearest-rank `q` quantile: exact while values are kept, within
    /// [`RELATIVE_ACCURACY`] once sketched.
    fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        // Nearest rank: the ceil(q·n)-th smallest.
        let k = ((q * n as f64).ceil() as u64).clamp(1, n);
        match self {
            Latency::Exact(values) => {
                let mut sorted = values.clone();
                sorted.sort_by(f32::total_cmp);
                Some(f64::from(sorted[k as usize - 1]))
            }
            Latency::Sketch(s) => {
                // The sketch answers the element at rank floor(q'·(n−1)) (0-based), so ask
                // for the rank k−1 exactly.
                let q = if k == n || n == 1 { 1.0 } else { (k as f64 - 0.5) / (n as f64 - 1.0) };
                s.quantile(q.min(1.0)).ok().flatten()
            }
        }
    }
}

/// Figures of one edge over one bucket (or any merge of them).
#[derive(Clone, Serialize, Deserialize)]
pub struct Figures {
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Latency in milliseconds.
    pub latency: Latency,
    /// First request, unix seconds.
    pub first: i64,
    /// Last request, unix seconds.
    pub last: i64,
    /// Trace id of the last request.
    pub last_trace: u128,
    /// When the bucket was first written, unix seconds (0 until written).
    pub written: i64,
}

impl std::fmt::Debug for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Figures")
            .field("requests", &self.requests)
            .field("errors", &self.errors)
            .finish()
    }
}

impl Default for Figures {
    fn default() -> Figures {
        Figures {
            requests: 0,
            errors: 0,
            latency: Latency::default(),
            first: i64::MAX,
            last: i64::MIN,
            last_trace: 0,
            written: 0,
        }
    }
}

/// Values written before [`FORMAT`]: JSON with a sketch per bucket.
#[derive(Deserialize)]
struct Legacy {
    requests: u64,
    errors: u64,
    latency: DDSketch,
    first: i64,
    last: i64,
    last_trace: String,
    #[serde(default)]
    written: i64,
}

impl Figures {
    /// Counts one request started at `start_ns` (unix nanoseconds).
    pub fn add(&mut self, start_ns: i64, dur_ns: i64, error: bool, trace: u128) {
        self.requests += 1;
        self.errors += u64::from(error);
        self.latency.add(dur_ns as f64 / 1e6);
        let secs = start_ns.div_euclid(1_000_000_000);
        self.first = self.first.min(secs);
        if secs >= self.last {
            self.last = secs;
            self.last_trace = trace;
        }
    }

    /// Adds `other` into these figures.
    pub fn merge(&mut self, other: &Figures) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.latency.merge(&other.latency);
        self.first = self.first.min(other.first);
        if other.last >= self.last {
            self.last = other.last;
            self.last_trace = other.last_trace;
        }
        self.written = match (self.written, other.written) {
            (0, w) | (w, 0) => w,
            (a, b) => a.min(b),
        };
    }

    /// The nearest-rank `q` quantile of latency (ms).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.latency.quantile(q)
    }

    /// The last trace id, hex as OTLP/JSON writes it.
    pub fn last_trace_hex(&self) -> String {
        format!("{:032x}", self.last_trace)
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        // Encoding plain data into a Vec cannot fail.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    /// Figures from their stored form (this format, or the JSON before it).
    pub fn decode(bytes: &[u8]) -> Result<Figures, String> {
        match bytes.split_first() {
            Some((&FORMAT, rest)) => postcard::from_bytes(rest).map_err(|e| e.to_string()),
            Some((b'{', _)) => {
                let old: Legacy = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                Ok(Figures {
                    requests: old.requests,
                    errors: old.errors,
                    latency: Latency::Sketch(old.latency),
                    first: old.first,
                    last: old.last,
                    last_trace: u128::from_str_radix(&old.last_trace, 16).unwrap_or(0),
                    written: old.written,
                })
            }
            Some((v, _)) => Err(format!("unknown observed-figures format {v}")),
            None => Err("empty observed figures".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[f64]) -> Figures {
        let mut f = Figures::default();
        for (i, v) in values.iter().enumerate() {
            f.add(i as i64 * 1_000_000_000, (v * 1e6) as i64, i % 3 == 0, i as u128);
        }
        f
    }

    #[test]
    fn exact_quantiles_are_nearest_rank() {
        let f = of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(f.quantile(0.5), Some(3.0));
        assert_eq!(f.quantile(0.99), Some(5.0));
        assert_eq!(f.quantile(0.2), Some(1.0));
    }

    #[test]
    fn sketched_quantiles_stay_within_the_accuracy() {
        let values: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.37).collect();
        let mut f = of(&values[..10]);
        f.merge(&of(&values[10..]));
        assert!(matches!(f.latency, Latency::Sketch(_)));
        for q in [0.5, 0.95, 0.99] {
            let truth = values[((q * 1000.0_f64).ceil() as usize) - 1];
            let got = f.quantile(q).unwrap();
            assert!((got - truth).abs() / truth <= RELATIVE_ACCURACY, "q{q}: {got} vs {truth}");
        }
    }

    #[test]
    fn encoding_round_trips_and_reads_the_json_before_it() {
        let f = of(&[1.5, 2.5, 9.0]);
        let back = Figures::decode(&f.encode()).unwrap();
        assert_eq!((back.requests, back.errors, back.last_trace), (3, 1, 2));
        assert_eq!(back.quantile(0.99), Some(9.0));
        let mut s = sketch();
        s.add(4.0);
        let legacy = serde_json::json!({"requests": 1, "errors": 0, "latency": s,
            "first": 7, "last": 7, "last_trace": "0a", "written": 9});
        let old = Figures::decode(legacy.to_string().as_bytes()).unwrap();
        assert_eq!((old.requests, old.last_trace, old.written), (1, 10, 9));
        assert!(Figures::decode(&[9, 1]).is_err());
    }
}
