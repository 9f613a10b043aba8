//! Medians, percentiles and the formatting of sizes, rates and durations.

use std::time::Duration;

use crate::{KIB, MIB};

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub fn label(size: usize) -> String {
    match size {
        s if s >= MIB => format!("{} MiB", s / MIB),
        s if s >= KIB => format!("{} KiB", s / KIB),
        s => format!("{s} B"),
    }
}

pub fn fmt_rate(frames_per_s: f64) -> String {
    if frames_per_s >= 1e6 {
        format!("{:.2} M", frames_per_s / 1e6)
    } else if frames_per_s >= 1e3 {
        format!("{:.1} k", frames_per_s / 1e3)
    } else {
        format!("{frames_per_s:.0}")
    }
}

pub fn fmt_us(d: f64) -> String {
    if d >= 1000.0 {
        format!("{:.1} ms", d / 1000.0)
    } else {
        format!("{d:.1} µs")
    }
}
