//! Random small scenarios: their parameters, the proptest strategies that
//! draw them, and their TOML text.

use std::fmt::Write as _;

use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum DurP {
    Fixed(f64),
    Exponential(f64),
    LogNormal { median: f64, p95: f64 },
}

#[derive(Clone, Debug)]
pub struct ClassP {
    pub weight: u32,
    pub duration: DurP,
    pub eligible: bool,
}

#[derive(Clone, Debug)]
pub enum AdmissionP {
    /// No waiting: a call that finds no slot fails at once.
    Immediate,
    MaxWait {
        secs: u32,
        limit: Option<u32>,
    },
    Patience {
        mean: u32,
        limit: Option<u32>,
    },
}

#[derive(Clone, Debug)]
pub struct ScalerP {
    pub step: bool,
    pub target: f64,
    /// min = 1 + min_pick % workers.
    pub min_pick: u32,
    pub max_extra: u32,
    pub interval: u32,
    pub delay: u32,
    pub exponential_delay: bool,
    pub cooldown: u32,
}

#[derive(Clone, Debug)]
pub enum HealthP {
    Healthy,
    Broken,
    Degraded(f64),
    BrokenSpell { from: u32, len: u32 },
}

#[derive(Clone, Debug)]
pub struct CanaryP {
    pub interval: u32,
    pub failures: u32,
    pub after: u32,
    pub primary_min: Option<u32>,
    pub stop_routing: bool,
    pub fix: bool,
}

#[derive(Clone, Debug)]
pub struct FallbackP {
    pub max_concurrency: u32,
    pub cold_start_ms: u32,
    /// provisioned = provisioned_pick % (max_concurrency + 1).
    pub provisioned_pick: u32,
    pub health: HealthP,
    pub canary: Option<CanaryP>,
}

#[derive(Clone, Debug)]
pub struct ScenarioP {
    pub seed: u64,
    pub duration: u32,
    pub bin: u32,
    pub warmup: u32,
    pub rate: f64,
    /// A ramp at `at_frac` of the run to `to` calls/s over `over` seconds.
    pub ramp: Option<(f64, f64, u32)>,
    pub classes: Vec<ClassP>,
    pub workers: u32,
    pub calls_per_worker: u32,
    pub admission: AdmissionP,
    pub scaler: Option<ScalerP>,
    pub fallback: Option<FallbackP>,
    /// Reporting window as fractions of the run.
    pub window: Option<(f64, f64)>,
    /// Calls in flight at the start, as a fraction of the slots.
    pub initial: Option<f64>,
}

pub fn dur_p() -> impl Strategy<Value = DurP> {
    prop_oneof![
        (0.0..120.0f64).prop_map(DurP::Fixed),
        (0.5..120.0f64).prop_map(DurP::Exponential),
        (0.5..60.0f64, 1.1..8.0f64).prop_map(|(m, k)| DurP::LogNormal { median: m, p95: m * k }),
    ]
}

pub fn class_p() -> impl Strategy<Value = ClassP> {
    (1u32..=100, dur_p(), any::<bool>()).prop_map(|(weight, duration, eligible)| ClassP { weight, duration, eligible })
}

pub fn admission_p() -> impl Strategy<Value = AdmissionP> {
    prop_oneof![
        Just(AdmissionP::Immediate),
        (1u32..=60, proptest::option::of(0u32..=30)).prop_map(|(secs, limit)| AdmissionP::MaxWait { secs, limit }),
        (1u32..=60, proptest::option::of(0u32..=30)).prop_map(|(mean, limit)| AdmissionP::Patience { mean, limit }),
    ]
}

pub fn scaler_p() -> impl Strategy<Value = ScalerP> {
    (any::<bool>(), 0.3..=1.0f64, any::<u32>(), 0u32..=50, 5u32..=60, 0u32..=120, any::<bool>(), 0u32..=120).prop_map(
        |(step, target, min_pick, max_extra, interval, delay, exponential_delay, cooldown)| ScalerP {
            step,
            target,
            min_pick,
            max_extra,
            interval,
            delay,
            exponential_delay,
            cooldown,
        },
    )
}

pub fn fallback_p() -> impl Strategy<Value = FallbackP> {
    let health = prop_oneof![
        Just(HealthP::Healthy),
        Just(HealthP::Broken),
        (0.0..=1.0f64).prop_map(HealthP::Degraded),
        (0u32..=300, 1u32..=300).prop_map(|(from, len)| HealthP::BrokenSpell { from, len }),
    ];
    let canary = (10u32..=120, 1u32..=3, 0u32..=60, proptest::option::of(1u32..=60), any::<bool>(), any::<bool>())
        .prop_map(|(interval, failures, after, primary_min, stop_routing, fix)| CanaryP {
            interval,
            failures,
            after,
            primary_min,
            stop_routing,
            fix,
        });
    (1u32..=20, 0u32..=5000, any::<u32>(), health, proptest::option::of(canary)).prop_map(
        |(max_concurrency, cold_start_ms, provisioned_pick, health, canary)| FallbackP {
            max_concurrency,
            cold_start_ms,
            provisioned_pick,
            health,
            canary,
        },
    )
}

pub fn scenario_p() -> impl Strategy<Value = ScenarioP> {
    let timing = (
        // TOML integers are i64: larger seeds are rejected by scenario::load.
        0..=i64::MAX as u64,
        60u32..=300,
        prop::sample::select(vec![7u32, 10, 30, 60, 61, 300, 1000]),
        prop_oneof![Just(0u32), 1u32..=120],
        0.1..30.0f64,
        proptest::option::of((0.0..1.0f64, 0.0..30.0f64, 1u32..=60)),
        proptest::option::of((0.0..1.0f64, 0.0..1.0f64)),
    );
    let model = (
        prop::collection::vec(class_p(), 1..=3),
        1u32..=50,
        1u32..=5,
        admission_p(),
        proptest::option::of(scaler_p()),
        proptest::option::of(fallback_p()),
        proptest::option::of(0.0..1.0f64),
    );
    (timing, model).prop_map(
        |(
            (seed, duration, bin, warmup, rate, ramp, window),
            (classes, workers, calls_per_worker, admission, scaler, fallback, initial),
        )| ScenarioP {
            seed,
            duration,
            bin,
            warmup,
            rate,
            ramp,
            classes,
            workers,
            calls_per_worker,
            admission,
            scaler,
            fallback,
            window,
            initial,
        },
    )
}

pub fn clock(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

impl ScenarioP {
    /// The scenario as TOML, with `arrivals` (a whole `[arrivals]` table) or
    /// the generated Poisson process.
    pub fn toml_with(&self, arrivals: Option<&str>) -> String {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(w, "name = \"prop\"\nseed = {}\nclock_start = \"00:00\"", self.seed);
        let _ = writeln!(w, "duration = {}\nbin = {}\nwarmup = {}", self.duration, self.bin, self.warmup);
        if let Some((a, b)) = self.window {
            let from = (a * (self.duration - 1) as f64) as u32;
            let to = from + 1 + (b * (self.duration - from - 1) as f64) as u32;
            let _ = writeln!(w, "window = \"{}..{}\"", clock(from), clock(to));
        }
        let total: u32 = self.classes.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        for (i, c) in self.classes.iter().enumerate() {
            let share = if i + 1 == self.classes.len() { 1.0 - acc } else { c.weight as f64 / total as f64 };
            acc += share;
            let _ = writeln!(w, "[[classes]]\nname = \"c{i}\"\nshare = {share:?}\nfallback_eligible = {}", c.eligible);
            let _ = match c.duration {
                DurP::Fixed(v) => writeln!(w, "duration = {v:?}"),
                DurP::Exponential(m) => writeln!(w, "duration = {{ dist = \"exponential\", mean = {m:?} }}"),
                DurP::LogNormal { median, p95 } => {
                    writeln!(w, "duration = {{ dist = \"lognormal\", median = {median:?}, p95 = {p95:?} }}")
                }
            };
        }
        let _ = writeln!(w, "[primary]\nworkers = {}\ncalls_per_worker = {}", self.workers, self.calls_per_worker);
        if let Some(a) = &self.scaler {
            let min = 1 + a.min_pick % self.workers;
            let max = self.workers + a.max_extra;
            let _ = writeln!(w, "[primary.autoscaler]");
            if a.step {
                let _ = writeln!(
                    w,
                    "policy = \"step\"\nsteps = [ {{ above = {:?}, add = 2 }}, {{ above = 0.95, add = 5 }} ]\n\
                     scale_in = {{ below = 0.2, remove = 1 }}",
                    a.target.min(0.9)
                );
            } else {
                let _ = writeln!(w, "policy = \"target-utilization\"\ntarget = {:?}", a.target);
            }
            let delay = if a.exponential_delay {
                format!("{{ dist = \"exponential\", mean = {} }}", a.delay.max(1))
            } else {
                a.delay.to_string()
            };
            let _ = writeln!(
                w,
                "min = {min}\nmax = {max}\ninterval = {}\nprovision_delay = {delay}\nscale_down_cooldown = {}",
                a.interval, a.cooldown
            );
        }
        if let Some(f) = &self.fallback {
            let _ = writeln!(
                w,
                "[fallback]\nmax_concurrency = {}\ncold_start = \"{}ms\"\nprovisioned_concurrency = {}",
                f.max_concurrency,
                f.cold_start_ms,
                f.provisioned_pick % (f.max_concurrency + 1)
            );
            let _ = match f.health {
                HealthP::Healthy => writeln!(w, "health = \"healthy\""),
                HealthP::Broken => writeln!(w, "health = \"broken\""),
                HealthP::Degraded(p) => writeln!(w, "health = {{ degraded = {p:?} }}"),
                HealthP::BrokenSpell { from, len } => {
                    writeln!(w, "health = {{ broken_from = {from}, broken_until = {} }}", from + len)
                }
            };
            if let Some(c) = &f.canary {
                let _ = writeln!(w, "[fallback.canary]\ninterval = {}\nfailures_to_alert = {}", c.interval, c.failures);
                let mut action = format!("after = {}", c.after);
                if let Some(m) = c.primary_min {
                    let _ = write!(action, ", primary_min = {m}");
                }
                if c.stop_routing {
                    action.push_str(", stop_routing = true");
                }
                if c.fix || (c.primary_min.is_none() && !c.stop_routing) {
                    action.push_str(", fix_fallback = true");
                }
                let _ = writeln!(w, "on_detect = {{ {action} }}");
            }
        }
        let _ = match &self.admission {
            AdmissionP::Immediate => Ok(()),
            AdmissionP::MaxWait { secs, limit } => {
                let _ = writeln!(w, "[admission]\nmax_wait = {secs}");
                limit.map_or(Ok(()), |l| writeln!(w, "queue_limit = {l}"))
            }
            AdmissionP::Patience { mean, limit } => {
                let _ = writeln!(w, "[admission]\npatience = {{ dist = \"exponential\", mean = {mean} }}");
                limit.map_or(Ok(()), |l| writeln!(w, "queue_limit = {l}"))
            }
        };
        if let Some(frac) = self.initial {
            let slots = self.workers * self.calls_per_worker;
            let _ = writeln!(w, "[initial]\ncalls_in_flight = {}", (frac * slots as f64) as u32);
        }
        match arrivals {
            Some(a) => s.push_str(a),
            None => {
                let _ = writeln!(s, "[arrivals]\nkind = \"poisson\"");
                let _ = match self.ramp {
                    None => writeln!(s, "rate = {:?}", self.rate),
                    Some((at, to, over)) => writeln!(
                        s,
                        "rate = [ {{ at = 0, per_s = {r:?} }}, {{ at = {}, per_s = {r:?}, to_per_s = {to:?}, over = {over} }} ]",
                        1 + (at * (self.duration - 1) as f64) as u32,
                        r = self.rate
                    ),
                };
            }
        }
        s
    }

    pub fn toml(&self) -> String {
        self.toml_with(None)
    }

    pub fn fixed_capacity(&self) -> bool {
        self.scaler.is_none()
            && self.fallback.as_ref().and_then(|f| f.canary.as_ref()).is_none_or(|c| c.primary_min.is_none())
    }
}
