//! Duration laws of one class, in constant memory: sufficient statistics
//! for exact maximum-likelihood fits, and a bounded reservoir sample for
//! the empirical law and the Kolmogorov–Smirnov distances.
//!
//! - Lognormal MLE: μ = mean of ln x, σ² = mean of (ln x − μ)², from
//!   Σ ln x and Σ ln² x (accumulated about the first value's logarithm so
//!   the variance does not cancel).
//! - Gamma MLE: shape k solves ln k − ψ(k) = ln(mean x) − mean(ln x)
//!   (bisection on a function that decreases from +∞ to 0), scale =
//!   mean x / k; from Σ x and Σ ln x.
//! - Empirical law: a uniform reservoir sample (Algorithm R) of at most
//!   [`RESERVOIR`] values, drawn with a fixed-seed generator, so the same
//!   log always gives the same sample and the same fit. With fewer values
//!   than that, the sample is every value.
//! - KS distance: sup |F̂ − F| between the sample's distribution and the
//!   fitted law (both laws fitted on all values, compared on the sample).
//!
//! Zero durations are counted but left out of the lognormal and gamma fits
//! (their likelihood is zero there). Cost: O(1) per value; O(m log m) to
//! finish, m the sample size.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use statrs::function::erf::erfc;
use statrs::function::gamma::{checked_gamma_lr, digamma};

/// Largest reservoir sample kept per class (8 bytes a value).
pub const RESERVOIR: usize = 50_000;

/// z with P(|Z| <= z) = 0.95.
pub const Z975: f64 = 1.959_963_984_540_054;

/// Running statistics of one class's durations (seconds).
#[derive(Clone, Debug)]
pub struct DurationStats {
    /// Positive values.
    n: u64,
    zeros: u64,
    sum: f64,
    /// The logarithm the sums below are taken about.
    shift: Option<f64>,
    sum_d: f64,
    sum_d2: f64,
    sample: Vec<f64>,
    seen: u64,
    rng: Pcg64Mcg,
}

/// A lognormal fit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogNormalFit {
    pub mu: f64,
    pub sigma: f64,
    /// e^μ, seconds.
    pub median_s: f64,
    /// 95 % interval of the median: e^(μ ± 1.96 σ/√n).
    pub median_ci95: [f64; 2],
    pub ks: f64,
}

/// A gamma fit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GammaFit {
    pub shape: f64,
    pub scale_s: f64,
    pub median_s: f64,
    pub ks: f64,
}

/// The empirical law, from the sample.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Empirical {
    pub mean_s: f64,
    pub median_s: f64,
    /// Distribution-free 95 % interval of the median: order statistics
    /// m/2 ± 1.96·√m/2 of the sample of size m.
    pub median_ci95: [f64; 2],
    pub p05_s: f64,
    pub p25_s: f64,
    pub p75_s: f64,
    pub p95_s: f64,
}

/// Everything known of one class's durations.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DurationFit {
    /// Values used (positive ones; zeros are counted apart).
    pub n: u64,
    pub zeros: u64,
    /// Size of the sample behind the empirical law and the KS distances.
    pub sample: usize,
    pub empirical: Option<Empirical>,
    pub lognormal: Option<LogNormalFit>,
    pub gamma: Option<GammaFit>,
    /// `"lognormal"` or `"gamma"` (the smaller KS distance), `"deterministic"`
    /// when every value is the same, or `"none"` with no values.
    pub chosen: &'static str,
    /// The sorted sample, for plots (not written to fit.json).
    #[serde(skip)]
    pub sorted: Vec<f64>,
}

impl DurationStats {
    /// Statistics with their own reservoir stream, seeded by `seed`.
    pub fn new(seed: u64) -> DurationStats {
        DurationStats {
            n: 0,
            zeros: 0,
            sum: 0.0,
            shift: None,
            sum_d: 0.0,
            sum_d2: 0.0,
            sample: Vec::new(),
            seen: 0,
            rng: Pcg64Mcg::seed_from_u64(0x05ee_df17 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        }
    }

    /// Adds one duration (finite, >= 0 seconds).
    #[inline]
    pub fn push(&mut self, x: f64) {
        if x <= 0.0 {
            self.zeros += 1;
            return;
        }
        self.n += 1;
        self.sum += x;
        let l = x.ln();
        let d = l - *self.shift.get_or_insert(l);
        self.sum_d += d;
        self.sum_d2 += d * d;
        self.seen += 1;
        if self.sample.len() < RESERVOIR {
            self.sample.push(x);
        } else {
            let j = self.rng.random_range(0..self.seen);
            if (j as usize) < RESERVOIR {
                self.sample[j as usize] = x;
            }
        }
    }

    /// The fits (O(m log m) in the sample size m).
    pub fn finish(&self) -> DurationFit {
        let mut sorted = self.sample.clone();
        sorted.sort_by(f64::total_cmp);
        let mut fit = DurationFit {
            n: self.n,
            zeros: self.zeros,
            sample: sorted.len(),
            empirical: empirical(&sorted, self.sum / self.n.max(1) as f64),
            lognormal: None,
            gamma: None,
            chosen: "none",
            sorted: Vec::new(),
        };
        if self.n == 0 {
            return fit;
        }
        let n = self.n as f64;
        let mean_d = self.sum_d / n;
        let var = (self.sum_d2 / n - mean_d * mean_d).max(0.0);
        let mu = self.shift.unwrap_or(0.0) + mean_d;
        let sigma = var.sqrt();
        // ln(mean) − mean(ln) >= 0 by Jensen; 0 when every value is equal.
        let s = (self.sum / n).ln() - mu;
        if self.n < 2 || sigma < 1e-9 || s < 1e-12 {
            fit.chosen = "deterministic";
            fit.sorted = sorted;
            return fit;
        }
        let half = Z975 * sigma / n.sqrt();
        let ln_cdf = |x: f64| 0.5 * erfc(-(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2));
        fit.lognormal = Some(LogNormalFit {
            mu,
            sigma,
            median_s: mu.exp(),
            median_ci95: [(mu - half).exp(), (mu + half).exp()],
            ks: ks(&sorted, ln_cdf),
        });
        let shape = gamma_shape(s);
        let scale = self.sum / n / shape;
        let g_cdf = |x: f64| checked_gamma_lr(shape, x / scale).unwrap_or(if x > 0.0 { 1.0 } else { 0.0 });
        fit.gamma =
            Some(GammaFit { shape, scale_s: scale, median_s: gamma_median(shape, scale), ks: ks(&sorted, g_cdf) });
        let (l, g) = (fit.lognormal.as_ref().map_or(1.0, |f| f.ks), fit.gamma.as_ref().map_or(1.0, |f| f.ks));
        fit.chosen = if g < l { "gamma" } else { "lognormal" };
        fit.sorted = sorted;
        fit
    }
}

/// Quantile `p` of a sorted sample (linear interpolation between ranks).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (h.floor() as usize, h - h.floor());
    let hi = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (hi - sorted[i])
}

fn empirical(sorted: &[f64], mean: f64) -> Option<Empirical> {
    if sorted.is_empty() {
        return None;
    }
    let m = sorted.len() as f64;
    let half = Z975 * m.sqrt() / 2.0;
    let lo = ((m / 2.0 - half).floor() as usize).clamp(1, sorted.len()) - 1;
    let hi = ((m / 2.0 + half).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(Empirical {
        mean_s: mean,
        median_s: quantile(sorted, 0.5),
        median_ci95: [sorted[lo], sorted[hi]],
        p05_s: quantile(sorted, 0.05),
        p25_s: quantile(sorted, 0.25),
        p75_s: quantile(sorted, 0.75),
        p95_s: quantile(sorted, 0.95),
    })
}

/// Kolmogorov–Smirnov distance between a sorted sample and a CDF.
pub fn ks(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let m = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d.max(f - i as f64 / m).max((i + 1) as f64 / m - f);
    }
    d
}

/// The gamma shape k with ln k − ψ(k) = s (s > 0), by bisection in log k.
pub fn gamma_shape(s: f64) -> f64 {
    let g = |k: f64| k.ln() - digamma(k) - s;
    let (mut lo, mut hi) = (1e-6_f64.ln(), 1e9_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Median of a gamma law, by bisection on its CDF.
fn gamma_median(shape: f64, scale: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, shape * scale * 10.0 + 10.0 * scale);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if checked_gamma_lr(shape, mid / scale).unwrap_or(1.0) < 0.5 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Gamma, LogNormal};

    fn stats_of(xs: impl Iterator<Item = f64>) -> DurationFit {
        let mut s = DurationStats::new(1);
        xs.for_each(|x| s.push(x));
        s.finish()
    }

    #[test]
    fn lognormal_mle_matches_the_closed_form() {
        // mu = mean ln x = ln 4 / 2 ... worked by hand for {1, 4}: ln 1 = 0, ln 4.
        let f = stats_of([1.0, 4.0].into_iter());
        let l = f.lognormal.unwrap();
        assert!((l.mu - 4f64.ln() / 2.0).abs() < 1e-12);
        assert!((l.sigma - 4f64.ln() / 2.0).abs() < 1e-12);
        assert!((l.median_s - 2.0).abs() < 1e-12);
    }

    #[test]
    fn gamma_shape_solves_its_equation() {
        // For shape 2: ln 2 − ψ(2) = ln 2 − (1 − γ) with γ Euler's constant.
        let s = 2f64.ln() - (1.0 - 0.577_215_664_901_532_9);
        assert!((gamma_shape(s) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_right_law_wins_on_large_samples() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let ln = LogNormal::new(3.0, 0.9).unwrap();
        let f = stats_of((0..40_000).map(|_| ln.sample(&mut rng)));
        assert_eq!(f.chosen, "lognormal");
        let g = Gamma::new(2.0, 30.0).unwrap();
        let f = stats_of((0..40_000).map(|_| g.sample(&mut rng)));
        assert_eq!(f.chosen, "gamma");
        let gf = f.gamma.unwrap();
        // SE of the shape MLE for k = 2 at n = 40000 is about 0.014.
        assert!((gf.shape - 2.0).abs() < 0.06, "{gf:?}");
    }

    #[test]
    fn reservoir_is_bounded_and_deterministic() {
        let run = || {
            let mut s = DurationStats::new(3);
            (1..=(RESERVOIR as u64 * 3)).for_each(|i| s.push(i as f64));
            s
        };
        let (a, b) = (run(), run());
        assert_eq!(a.sample.len(), RESERVOIR);
        assert_eq!(a.sample, b.sample);
        // A uniform sample of 1..=3R has mean about 1.5 R (SE about R·0.0041).
        let mean = a.sample.iter().sum::<f64>() / RESERVOIR as f64;
        let r = RESERVOIR as f64;
        assert!((mean - 1.5 * r).abs() < 4.0 * r * 0.866 / r.sqrt(), "{mean}");
    }

    #[test]
    fn equal_values_are_deterministic_and_zeros_counted() {
        let f = stats_of([0.0, 5.0, 5.0, 5.0].into_iter());
        assert_eq!((f.chosen, f.n, f.zeros), ("deterministic", 3, 1));
        assert!(stats_of(std::iter::empty()).empirical.is_none());
    }

    #[test]
    fn ks_of_a_perfect_grid_is_half_a_step() {
        let xs: Vec<f64> = (0..10).map(|i| (i as f64 + 0.5) / 10.0).collect();
        assert!((ks(&xs, |x| x) - 0.05).abs() < 1e-12);
    }
}
