//! Fuzzing the scenario reader: arbitrary and mutated scenario texts and
//! `--set` overrides never panic (errors are fine); what validates also
//! runs without panicking.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use tempfile::TempDir;

use surgesim::arrivals::ArrivalSpec;
use surgesim::experiment::simulate;
use surgesim::scenario::overrides::Override;
use surgesim::scenario::{load_str, PolicyKind, Scenario};
use surgesim::time::Tick;

use super::generated::scenario_p;
use super::{config, LOG};
use crate::common::repo;

/// Whether a scenario that validated is small enough to simulate here (the
/// fuzzers run what validates, within a budget of time and memory).
fn cheap(sc: &Scenario) -> bool {
    let span = sc.warmup.saturating_add(sc.duration);
    let a = &sc.primary.autoscaler;
    let ticks = |every: Tick| every.0 == 0 || span.0 / every.0 <= 20_000;
    let canary = sc.fallback.as_ref().and_then(|f| f.canary.as_ref());
    span <= Tick::from_secs(6 * 3600)
        && sc.expected_calls() <= 20_000.0
        && sc.primary.workers <= 5_000
        && (matches!(a.policy, PolicyKind::None) || (a.max <= 5_000 && ticks(a.interval)))
        && a.schedule.iter().all(|&(_, m)| m <= 5_000)
        && sc.initial_calls <= 20_000
        && sc.duration.0.div_ceil(sc.bin.0) <= 20_000
        && canary.is_none_or(|c| ticks(c.interval) && c.on_detect.iter().all(|x| x.primary_min.unwrap_or(0) <= 5_000))
}

/// Loads `text` (no panic allowed) and simulates it if it validated and is
/// cheap (no panic allowed either).
fn load_and_run(text: &str, base: &Path, overrides: &[Override]) {
    if let Ok(sc) = load_str(text, "fuzz.toml", base, overrides) {
        if cheap(&sc) {
            let r = simulate(&sc, 0, LOG);
            assert!(r.end.arrival_error.is_none() || matches!(sc.arrivals, ArrivalSpec::Trace(_)));
        }
    }
}

/// Strings that probe durations, clocks, windows and the enumerations.
const EDGE_STRINGS: &[&str] = &[
    "",
    "0s",
    "1us",
    "0.5us",
    "1ms",
    "90s",
    "-5m",
    "1h30m",
    "2d",
    "1000000d",
    "1e400s",
    "nan",
    "inf",
    "25:00",
    "23:59:59",
    "00:00..00:01",
    "00:01..00:00",
    "07:00..07:15",
    "broken",
    "healthy",
    "x86_64",
    "arm64",
    "poisson",
    "trace",
    "mmpp",
    "hawkes",
    "exponential",
    "lognormal",
    "gamma",
    "uniform",
    "empirical",
    "deterministic",
    "target-utilization",
    "step",
    "scheduled",
    "none",
    "lambda",
    "x.csv",
    ".",
    "/dev/null",
    "\u{0}",
    "é",
    "2025-07-25T07:00:00Z",
    "a",
    "c0",
];

/// Values that probe the edges of every field type.
fn interesting_value() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    let ints = prop::sample::select(vec![
        0i64,
        -1,
        1,
        2,
        59,
        3600,
        65_535,
        65_536,
        i64::from(u32::MAX),
        i64::from(u32::MAX) + 1,
        999_999_999_999,
        1_000_000_000_000,
        18_446_744_073_709,
        i64::MAX,
        i64::MIN,
    ]);
    let floats = prop::sample::select(vec![
        0.0f64,
        -0.0,
        1e-300,
        5e-324,
        1e-7,
        0.5,
        0.999_999_9,
        1.000_001,
        1.5,
        1e9,
        1e12,
        1e300,
        f64::MAX,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]);
    let strings = prop::sample::select(EDGE_STRINGS);
    let leaf = prop_oneof![
        3 => ints.prop_map(V::Integer),
        3 => floats.prop_map(V::Float),
        3 => strings.prop_map(|s| V::String(s.to_string())),
        1 => any::<bool>().prop_map(V::Boolean),
        1 => any::<i64>().prop_map(V::Integer),
        1 => any::<f64>().prop_map(V::Float),
        // Plausible values, so that mutated scenarios often still validate
        // and the engine runs them.
        3 => (0i64..100).prop_map(V::Integer),
        3 => (0.0..2.0f64).prop_map(V::Float),
        2 => (1u32..600).prop_map(|s| V::String(format!("{s}s"))),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(V::Array),
            prop::collection::vec((field_name(), inner), 0..3)
                .prop_map(|kv| V::Table(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// One edge case per TOML type: an integer, a float, a string, a bool.
fn typed_edge() -> impl Strategy<Value = (i64, f64, String, bool)> {
    (
        prop_oneof![
            prop::sample::select(vec![
                0i64,
                -1,
                1,
                i64::from(u32::MAX),
                i64::from(u32::MAX) + 1,
                1_000_000_000_000,
                i64::MAX
            ]),
            0i64..1000
        ],
        prop_oneof![
            prop::sample::select(vec![0.0f64, -0.0, -1.0, 1e-300, 1.000_001, 1e12, 1e300, f64::NAN, f64::INFINITY]),
            -0.5..2.0f64
        ],
        prop_oneof![
            prop::sample::select(EDGE_STRINGS).prop_map(str::to_string),
            "[0-9]{1,4}(us|ms|s|m|h|d)",
            "-?[0-9]{1,3}(\\.[0-9])?[smh]",
        ],
        any::<bool>(),
    )
}

/// Scenario field names (so that inserted keys reach real fields).
const FIELDS: &[&str] = &[
    "name",
    "seed",
    "duration",
    "bin",
    "warmup",
    "window",
    "clock_start",
    "kind",
    "rate",
    "spike",
    "rate_file",
    "interpolate",
    "file",
    "sort",
    "origin",
    "scale",
    "shift",
    "states",
    "per_s",
    "mean_sojourn",
    "base_per_s",
    "branching",
    "decay",
    "at",
    "to_per_s",
    "over",
    "multiplier",
    "ramp",
    "hold",
    "share",
    "dist",
    "mean",
    "median",
    "p95",
    "mu",
    "sigma",
    "shape",
    "value",
    "min",
    "max",
    "column",
    "workers",
    "calls_per_worker",
    "autoscaler",
    "policy",
    "preset",
    "target",
    "tolerance",
    "interval",
    "provision_delay",
    "max_step_up",
    "max_step_up_percent",
    "max_step_down",
    "scale_down_cooldown",
    "scale_down_stabilization",
    "steps",
    "above",
    "add",
    "scale_in",
    "below",
    "remove",
    "schedule",
    "warm_pool",
    "warm_pool_delay",
    "max_concurrency",
    "cold_start",
    "idle_timeout",
    "provisioned_concurrency",
    "burst_limit",
    "scale_rate",
    "scale_interval",
    "image_arch",
    "runtime_arch",
    "health",
    "degraded",
    "broken_from",
    "broken_until",
    "canary",
    "offset",
    "failures_to_alert",
    "on_detect",
    "after",
    "primary_min",
    "stop_routing",
    "fix_fallback",
    "max_wait",
    "patience",
    "queue_limit",
    "primary_worker_hour",
    "fallback_per_invocation",
    "initial",
    "calls_in_flight",
    "slo",
    "max_failed",
    "replications",
    "confidence",
    "fallback",
    "admission",
    "cost",
    "arrivals",
    "classes",
    "primary",
    "fallback_eligible",
    "extends",
    "overrides",
];

fn field_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(FIELDS)
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the value at the `at`-th leaf of the TOML tree: by `value`,
    /// or, with `typed`, by the edge case of the leaf's own type.
    Replace { at: Index, value: toml::Value, typed: Option<(i64, f64, String, bool)> },
    /// Remove the `at`-th path.
    Remove { at: Index },
    /// Insert `key = value` into the `at`-th table.
    Insert { at: Index, key: &'static str, value: toml::Value },
    /// Byte-level: delete, insert, overwrite or duplicate a range.
    Bytes { kind: u8, at: Index, len: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<Index>(), interesting_value(), prop::option::weighted(0.6, typed_edge()))
            .prop_map(|(at, value, typed)| Mutation::Replace { at, value, typed }),
        1 => any::<Index>().prop_map(|at| Mutation::Remove { at }),
        1 => (any::<Index>(), field_name(), interesting_value()).prop_map(|(at, key, value)| Mutation::Insert { at, key, value }),
        1 => (0u8..4, any::<Index>(), 0usize..24, prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(kind, at, len, bytes)| Mutation::Bytes { kind, at, len, bytes }),
    ]
}

/// Every path in a TOML tree (tables and arrays included), depth first.
fn paths(v: &toml::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(i.to_string());
                out.push(prefix.clone());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut toml::Value, path: &[String]) -> Option<&'a mut toml::Value> {
    let mut cur = v;
    for p in path {
        cur = match cur {
            toml::Value::Table(t) => t.get_mut(p)?,
            toml::Value::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn apply(text: String, m: &Mutation) -> String {
    if let Mutation::Bytes { kind, at, len, bytes } = m {
        let mut b = text.into_bytes();
        let i = if b.is_empty() { 0 } else { at.index(b.len() + 1) };
        let j = (i + len).min(b.len());
        match kind {
            0 => {
                b.drain(i..j);
            }
            1 => {
                b.splice(i..i, bytes.iter().copied());
            }
            2 => {
                b.splice(i..j, bytes.iter().copied());
            }
            _ => {
                let dup: Vec<u8> = b[i..j].to_vec();
                b.splice(j..j, dup);
            }
        }
        return String::from_utf8_lossy(&b).into_owned();
    }
    let Ok(table) = toml::from_str::<toml::Table>(&text) else { return text };
    let mut root = toml::Value::Table(table);
    let mut all = Vec::new();
    paths(&root, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return text;
    }
    match m {
        Mutation::Replace { at, value, typed } => {
            let leaves: Vec<&Vec<String>> = all
                .iter()
                .filter(|p| {
                    !matches!(get_mut(&mut root.clone(), p), Some(toml::Value::Table(_) | toml::Value::Array(_)))
                })
                .collect();
            if leaves.is_empty() {
                return text;
            }
            let path = leaves[at.index(leaves.len())].clone();
            if let Some(slot) = get_mut(&mut root, &path) {
                *slot = match (typed, &*slot) {
                    (Some((i, _, _, _)), toml::Value::Integer(_)) => toml::Value::Integer(*i),
                    (Some((_, f, _, _)), toml::Value::Float(_)) => toml::Value::Float(*f),
                    (Some((_, _, s, _)), toml::Value::String(_)) => toml::Value::String(s.clone()),
                    (Some((_, _, _, b)), toml::Value::Boolean(_)) => toml::Value::Boolean(*b),
                    _ => value.clone(),
                };
            }
        }
        Mutation::Remove { at } => {
            let path = &all[at.index(all.len())];
            let (last, parent) = path.split_last().expect("non-empty path");
            match get_mut(&mut root, parent) {
                Some(toml::Value::Table(t)) => {
                    t.remove(last);
                }
                Some(toml::Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
        Mutation::Insert { at, key, value } => {
            let mut tables: Vec<Vec<String>> = vec![Vec::new()];
            tables.extend(
                all.iter().filter(|p| matches!(get_mut(&mut root.clone(), p), Some(toml::Value::Table(_)))).cloned(),
            );
            if let Some(toml::Value::Table(t)) = get_mut(&mut root, &tables[at.index(tables.len())]) {
                t.insert(key.to_string(), value.clone());
            }
        }
        Mutation::Bytes { .. } => unreachable!(),
    }
    toml::to_string(&root).unwrap_or(text)
}

/// Valid scenario texts to mutate: generated ones, plus the bundled
/// scenarios and test fixtures (which use the features the generator does
/// not: spikes, MMPP, Hawkes, schedules, presets, windows…).
fn seed_texts() -> Vec<String> {
    let root = repo("");
    let root = root.as_path();
    let mut out = Vec::new();
    for dir in ["scenarios", "tests/fixtures", "tests/fixtures/hostile"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "toml")) {
            if let Ok(t) = std::fs::read_to_string(&f) {
                out.push(t);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary text never panics the scenario reader.
    #[test]
    fn fuzz_parser_arbitrary_text(bytes in prop::collection::vec(any::<u8>(), 0..2048), s in ".{0,300}") {
        let dir = TempDir::new().unwrap();
        load_and_run(&String::from_utf8_lossy(&bytes), dir.path(), &[]);
        load_and_run(&s, dir.path(), &[]);
    }

    /// Generated or bundled scenarios, mutated (values replaced by edge
    /// cases, keys removed or added, bytes changed), never panic the reader;
    /// what still validates runs without panicking.
    #[test]
    fn fuzz_parser_mutated_scenarios(
        p in scenario_p(),
        pick in any::<Index>(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let seeds = seed_texts();
        let base = if pick.index(seeds.len() + 1) == seeds.len() { p.toml() } else { seeds[pick.index(seeds.len())].clone() };
        let text = muts.iter().fold(base, apply);
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("x.csv"), "arrival\n1\n2\n").unwrap();
        load_and_run(&text, dir.path(), &[]);
    }

    /// `--set path=value` overrides (any path, any value) never panic.
    #[test]
    fn fuzz_parser_overrides(
        p in scenario_p(),
        sets in prop::collection::vec(
            (prop::collection::vec(prop_oneof![field_name().prop_map(str::to_string), "[0-9]{1,2}", "[a-z.]{0,6}"], 1..4),
             prop_oneof![interesting_value().prop_map(|v| v.to_string()), ".{0,12}"]),
            1..4),
    ) {
        let mut overrides = Vec::new();
        for (path, value) in &sets {
            if let Ok(o) = format!("{}={value}", path.join(".")).parse::<Override>() {
                overrides.push(o);
            }
        }
        load_and_run(&p.toml(), Path::new("."), &overrides);
    }
}
