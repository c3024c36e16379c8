//! Duration distributions, in seconds, validated and ready to sample.
//!
//! Sampling is O(1) for every family (ziggurat for the exponential and the
//! normal under the lognormal, Marsaglia–Tsang for the gamma); the empirical
//! distribution is a uniform pick among its observed values.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use crate::time::Tick;

/// A distribution of non-negative durations.
#[derive(Clone, Debug)]
pub enum Dist {
    Exponential {
        mean: f64,
    },
    /// `ln X ~ Normal(mu, sigma)`, X in seconds.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
        sampler: Gamma<f64>,
    },
    Deterministic {
        value: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
    /// Observed values; each sample picks one uniformly.
    Empirical {
        values: Vec<f64>,
    },
}

/// z such that P(Z <= z) = 0.95 for a standard normal.
pub const Z95: f64 = 1.644_853_626_951_472_2;

impl Dist {
    /// Lognormal from its median and 95th percentile (p95 > median > 0).
    pub fn lognormal_from_quantiles(median: f64, p95: f64) -> Dist {
        let mu = median.ln();
        let sigma = (p95.ln() - mu) / Z95;
        Dist::LogNormal { mu, sigma }
    }

    /// Gamma with `shape` and `scale` (both > 0).
    pub fn gamma(shape: f64, scale: f64) -> Dist {
        let sampler = Gamma::new(shape, scale).expect("validated gamma parameters");
        Dist::Gamma { shape, scale, sampler }
    }

    /// The mean, in seconds.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Deterministic { value } => *value,
            Dist::Uniform { lo, hi } => (lo + hi) / 2.0,
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }

    /// One sample, in seconds (always finite and >= 0). The exponential,
    /// the common case, is drawn inline; the other families out of line.
    #[inline(always)]
    pub fn sample_secs<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if let Dist::Exponential { mean } = self {
            let e: f64 = Exp1.sample(rng);
            return e * mean;
        }
        self.sample_other(rng)
    }

    /// [`Dist::sample_secs`] of every family but the exponential.
    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Deterministic { value } => *value,
            Dist::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            Dist::Empirical { values } => values[rng.random_range(0..values.len())],
        }
    }

    /// One sample rounded to ticks, capped at one year so that an extreme
    /// tail draw cannot overflow the clock.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Tick {
        const YEAR_S: f64 = 365.0 * 86_400.0;
        Tick::from_secs_f64(self.sample_secs(rng).clamp(0.0, YEAR_S))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};

    fn sample_mean(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = stream(1, 0, Stream::Durations);
        let xs: Vec<f64> = (0..n).map(|_| d.sample_secs(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, (v / n as f64).sqrt())
    }

    /// Sample means against the means worked out from the parameters (not
    /// from `Dist::mean`), within 4 standard errors; `Dist::mean` must give
    /// the same values.
    #[test]
    fn sample_means_match_theory() {
        // Lognormal with median 45 s and p95 120 s: σ = ln(120/45) / z95,
        // mean = 45·e^(σ²/2).
        let sigma = (120.0f64 / 45.0).ln() / 1.644_853_626_951_472_2;
        let cases = [
            (Dist::Exponential { mean: 30.0 }, 30.0),
            (Dist::lognormal_from_quantiles(45.0, 120.0), 45.0 * (sigma * sigma / 2.0).exp()),
            (Dist::gamma(2.0, 15.0), 2.0 * 15.0),
            (Dist::Uniform { lo: 10.0, hi: 50.0 }, (10.0 + 50.0) / 2.0),
            (Dist::Empirical { values: vec![1.0, 2.0, 6.0] }, 3.0),
            (Dist::Deterministic { value: 2.5 }, 2.5),
        ];
        for (d, mean) in &cases {
            let (m, se) = sample_mean(d, 200_000);
            assert!((m - mean).abs() <= 4.0 * se, "{d:?}: sample mean {m} vs {mean} (se {se})");
            assert!((d.mean() - mean).abs() < 1e-9 * mean, "{d:?}: mean() {} vs {mean}", d.mean());
        }
    }

    #[test]
    fn lognormal_quantiles_round_trip() {
        let d = Dist::lognormal_from_quantiles(45.0, 120.0);
        let Dist::LogNormal { mu, sigma } = d else { unreachable!() };
        assert!((mu.exp() - 45.0).abs() < 1e-9);
        assert!(((mu + Z95 * sigma).exp() - 120.0).abs() < 1e-9);
    }

    #[test]
    fn deterministic_is_exact() {
        let mut rng = stream(1, 0, Stream::Durations);
        assert_eq!(Dist::Deterministic { value: 2.5 }.sample(&mut rng), Tick(2_500_000));
    }
}
