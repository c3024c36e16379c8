//! Piecewise-constant arrival rate from per-bin counts: optimal
//! segmentation by PELT (Killick, Fearnhead & Eckley 2012) under a Poisson
//! likelihood with a BIC penalty.
//!
//! The cost of a segment of L bins holding S calls is twice its negative
//! maximised Poisson log-likelihood, −2·(S·ln(S/L) − S) (terms that do not
//! depend on the segmentation dropped). The penalty per change point is
//! β = 2·ln(n) for n bins (BIC with two parameters per new segment, its
//! rate and its start: the "BIC" penalty of R's `changepoint` package).
//! PELT finds the exact minimum of total cost + β·(change points), pruning
//! candidates that can never start the last segment again; typically O(n).

use serde::Serialize;

/// One segment `[from, to)` of bins.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RateSegment {
    pub from_bin: usize,
    pub to_bin: usize,
    pub calls: u64,
}

/// The penalty per change point for `n` bins.
pub fn penalty(n: usize) -> f64 {
    2.0 * (n.max(2) as f64).ln()
}

fn cost(sum: f64, len: f64) -> f64 {
    if sum <= 0.0 {
        0.0
    } else {
        -2.0 * (sum * (sum / len).ln() - sum)
    }
}

/// The optimal segmentation of `counts` (one segment at least; none for no bins).
pub fn pelt(counts: &[u64]) -> Vec<RateSegment> {
    let n = counts.len();
    if n == 0 {
        return Vec::new();
    }
    let beta = penalty(n);
    let mut prefix = vec![0.0f64; n + 1];
    for (i, &c) in counts.iter().enumerate() {
        prefix[i + 1] = prefix[i] + c as f64;
    }
    let seg = |a: usize, b: usize| cost(prefix[b] - prefix[a], (b - a) as f64);
    // f[t]: best cost of bins [0, t); last[t]: start of its last segment.
    let mut f = vec![0.0f64; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -beta;
    let mut cands: Vec<usize> = vec![0];
    for t in 1..=n {
        let (mut best, mut arg) = (f64::INFINITY, 0);
        for &s in &cands {
            let v = f[s] + seg(s, t) + beta;
            if v < best {
                best = v;
                arg = s;
            }
        }
        f[t] = best;
        last[t] = arg;
        // Prune: s can never be optimal again once f[s] + cost(s, t) > f[t].
        cands.retain(|&s| f[s] + seg(s, t) <= best);
        cands.push(t);
    }
    let mut cuts = vec![n];
    let mut t = n;
    while t > 0 {
        t = last[t];
        cuts.push(t);
    }
    cuts.reverse();
    cuts.windows(2)
        .map(|w| RateSegment { from_bin: w[0], to_bin: w[1], calls: (prefix[w[1]] - prefix[w[0]]).round() as u64 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_series_is_one_segment() {
        let counts = [100, 104, 97, 101, 99, 103, 96, 100, 102, 98];
        assert_eq!(pelt(&counts), vec![RateSegment { from_bin: 0, to_bin: 10, calls: 1000 }]);
    }

    #[test]
    fn a_step_is_found_where_it_is() {
        let mut counts = vec![100u64; 20];
        counts[8..14].iter_mut().for_each(|c| *c = 250);
        let s = pelt(&counts);
        let cuts: Vec<usize> = s.iter().map(|s| s.from_bin).collect();
        assert_eq!(cuts, vec![0, 8, 14]);
        assert_eq!(s[1].calls, 1500);
    }

    #[test]
    fn the_penalty_keeps_small_jumps_out() {
        // Splitting [10, 14] gains 2·(10 ln(10/12) + 14 ln(14/12)) ≈ 0.67 < β = 2 ln 2.
        assert_eq!(pelt(&[10, 14]).len(), 1);
        // [10, 60]: the gain is ≈ 39.6, well above β.
        assert_eq!(pelt(&[10, 60]).len(), 2);
        assert!(pelt(&[]).is_empty());
        assert_eq!(pelt(&[0, 0, 0]).len(), 1);
    }
}
