//! Tests of the plots: every figure writes an SVG and a PNG, odd data never
//! panics, and no temporary file is left behind.
//! `SURGESIM_PLOT_DIR=DIR` keeps pictures there for a person to look at.

use std::fs;
use std::path::{Path, PathBuf};

use super::{frontier, headroom, timeline, Curve, CurvePoint};
use crate::experiment::{self, Aggregate};
use crate::model::RunOptions;
use crate::scenario::{self, Scenario};

const SMALL: &str = r#"
    name = "plot-small"
    description = "a short surge against a broken fallback"
    clock_start = "06:50"
    duration = "20m"
    bin = "1m"
    window = "07:00..07:05"
    [arrivals]
    kind = "poisson"
    rate = 4.0
    spike = { at = "8m", multiplier = 3.0, ramp = "30s", hold = "5m", decay = "2m" }
    [[classes]]
    name = "short"
    share = 0.4
    duration = { dist = "exponential", mean = "40s" }
    fallback_eligible = true
    [[classes]]
    name = "long"
    share = 0.6
    duration = { dist = "exponential", mean = "2m" }
    [primary]
    workers = 20
    calls_per_worker = 10
    [primary.autoscaler]
    policy = "target-utilization"
    target = 0.7
    interval = "30s"
    provision_delay = "2m"
    min = 20
    max = 100
    [fallback]
    max_concurrency = 50
    cold_start = "2s"
    image_arch = "arm64"
    runtime_arch = "x86_64"
    [fallback.canary]
    interval = "1m"
"#;

fn load(text: &str) -> Scenario {
    scenario::load_str(text, "t.toml", Path::new("."), &[]).expect("valid scenario")
}

fn assert_pictures(svg: &Path, png: &Path, must_contain: &[&str]) {
    let s = fs::read_to_string(svg).expect("svg written");
    assert!(s.contains("<svg"), "not an SVG");
    for text in must_contain {
        assert!(s.contains(text), "SVG lacks {text:?}");
    }
    let p = fs::read(png).expect("png written");
    assert!(p.len() > 1000, "PNG too small: {} bytes", p.len());
    assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
    // No temporary files left behind.
    let dir = svg.parent().unwrap();
    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Where to keep pictures for a person to look at (`SURGESIM_PLOT_DIR`).
fn keep_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("SURGESIM_PLOT_DIR")?);
    fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

#[test]
fn timeline_writes_svg_and_png() {
    let sc = load(SMALL);
    let agg = experiment::run(&sc, 2, RunOptions::default());
    assert!(agg.mean("failed") > 0.0, "the scenario should fail calls");
    let dir = tempfile::TempDir::new().unwrap();
    let (svg, png) = (dir.path().join("timeline.svg"), dir.path().join("timeline.png"));
    timeline(&sc, &agg, &svg, &png).unwrap();
    assert_pictures(&svg, &png, &["plot-small", "07:00", "reporting window", "worker_not_available"]);
    if let Some(keep) = keep_dir() {
        timeline(&sc, &agg, &keep.join("small-timeline.svg"), &keep.join("small-timeline.png")).unwrap();
    }
}

#[test]
fn timeline_without_failures_or_runs() {
    let sc = load(
        r#"
        name = "quiet"
        duration = "10m"
        [arrivals]
        kind = "poisson"
        rate = 1.0
        [[classes]]
        name = "all"
        share = 1.0
        duration = { dist = "exponential", mean = "10s" }
        [primary]
        workers = 100
    "#,
    );
    let dir = tempfile::TempDir::new().unwrap();
    let agg = experiment::run(&sc, 1, RunOptions::default());
    let (svg, png) = (dir.path().join("a.svg"), dir.path().join("a.png"));
    timeline(&sc, &agg, &svg, &png).unwrap();
    assert_pictures(&svg, &png, &["quiet", "no failed calls"]);
    // No runs at all: empty axes, no panic.
    let empty = Aggregate::new(&sc, Vec::new());
    let (svg, png) = (dir.path().join("b.svg"), dir.path().join("b"));
    timeline(&sc, &empty, &svg, &png).unwrap();
    assert_pictures(&svg, &png, &["quiet", "no runs"]);
}

#[test]
fn unwritable_path_is_an_error_not_a_panic() {
    let sc = load(SMALL);
    let agg = Aggregate::new(&sc, Vec::new());
    let dir = tempfile::TempDir::new().unwrap();
    let missing = dir.path().join("no/such/dir");
    let err = timeline(&sc, &agg, &missing.join("t.svg"), &missing.join("t.png")).unwrap_err();
    assert!(err.path.ends_with("t.svg"), "{err}");
}

fn curve(label: &str, pts: &[(f64, f64, f64, f64)]) -> Curve {
    Curve { label: label.into(), points: pts.iter().map(|&(x, mean, lo, hi)| CurvePoint { x, mean, lo, hi }).collect() }
}

#[test]
fn headroom_writes_svg_and_png() {
    let series = vec![
        curve(
            "target 0.7",
            &[
                (0.0, 900.0, 850.0, 950.0),
                (10.0, 400.0, 360.0, 450.0),
                (20.0, 80.0, 60.0, 100.0),
                (30.0, 0.0, 0.0, 0.0),
            ],
        ),
        curve("target 0.5", &[(0.0, 500.0, 420.0, 580.0), (10.0, 120.0, 90.0, 150.0), (20.0, 5.0, 0.0, 12.0)]),
    ];
    let dir = tempfile::TempDir::new().unwrap();
    let (svg, png) = (dir.path().join("headroom.svg"), dir.path().join("headroom.png"));
    headroom("failures vs headroom", "extra workers (%)", "failed calls", &series, &svg, &png).unwrap();
    assert_pictures(&svg, &png, &["failures vs headroom", "target 0.7", "target 0.5", "failed calls"]);
    if let Some(keep) = keep_dir() {
        let (s, p) = (keep.join("headroom.svg"), keep.join("headroom.png"));
        headroom("failures vs provisioned headroom", "extra workers (%)", "failed calls", &series, &s, &p).unwrap();
    }
}

#[test]
fn headroom_survives_odd_data() {
    let nan = f64::NAN;
    let cases: Vec<Vec<Curve>> = vec![
        vec![],
        vec![curve("empty", &[])],
        vec![
            curve("empty", &[]),
            curve(
                "nan",
                &[(1.0, nan, 0.0, 1.0), (nan, 1.0, 0.0, 2.0), (2.0, 3.0, nan, f64::INFINITY), (3.0, 2.0, 1.0, 3.0)],
            ),
        ],
        vec![curve("all nan", &[(nan, nan, nan, nan)])],
        vec![curve("zeros", &[(0.0, 0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0)])],
        vec![curve("one point", &[(5.0, 7.0, 6.0, 8.0)])],
        vec![curve("same x", &[(5.0, 7.0, 6.0, 8.0), (5.0, 9.0, 9.0, 9.0)])],
        vec![curve("negative", &[(-3.0, -1e9, -2e9, -1.0), (1e-12, 4e9, 3e9, 5e9)])],
    ];
    let dir = tempfile::TempDir::new().unwrap();
    for (i, series) in cases.iter().enumerate() {
        let (svg, png) = (dir.path().join(format!("h{i}.svg")), dir.path().join(format!("h{i}.png")));
        headroom("odd", "x", "y", series, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &["odd"]);
    }
    let s = fs::read_to_string(dir.path().join("h1.svg")).unwrap();
    assert!(s.contains("no data"));
}

#[test]
fn frontier_bracket_and_picture() {
    // Met at 1.5, failed at 1.75: the line at 1.5, the band up to 1.75.
    assert_eq!(CurvePoint::bracket(600.0, 1.5, Some(1.75)), CurvePoint { x: 600.0, mean: 1.5, lo: 1.5, hi: 1.75 });
    // Nothing failed: no band above the line.
    assert_eq!(CurvePoint::bracket(800.0, 4.0, None), CurvePoint { x: 800.0, mean: 4.0, lo: 4.0, hi: 4.0 });
    let c = Curve {
        label: "largest arrivals.spike.multiplier meeting failure_rate".into(),
        points: vec![CurvePoint::bracket(600.0, 1.5, Some(1.75)), CurvePoint::bracket(800.0, 4.0, None)],
    };
    let dir = tempfile::TempDir::new().unwrap();
    let (svg, png) = (dir.path().join("frontier.svg"), dir.path().join("frontier.png"));
    frontier("survivable", "primary.workers", "arrivals.spike.multiplier", &c, &svg, &png).unwrap();
    assert_pictures(
        &svg,
        &png,
        &["survivable", "primary.workers", "largest arrivals.spike.multiplier (band: bisection bracket)"],
    );
}

/// Renders the bundled scenarios (and a few variants) and checks each
/// picture. To keep them for a person to look at:
/// `SURGESIM_PLOT_DIR=/tmp/surgesim-plots cargo test --lib report::plot`.
#[test]
fn bundled_scenario_pictures() {
    let tmp = tempfile::TempDir::new().unwrap();
    let keep = keep_dir().unwrap_or_else(|| tmp.path().to_path_buf());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut texts: Vec<(String, String)> = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            texts.push((stem, fs::read_to_string(&path).unwrap()));
        }
    }
    let incident = fs::read_to_string(dir.join("incident-2025-07-25.toml")).unwrap();
    let canary = "\n[fallback.canary]\ninterval = \"5m\"\non_detect = { primary_min = 600, after = \"2m\" }\n";
    texts.push(("incident-with-canary".into(), format!("{incident}{canary}")));
    let queued =
        SMALL.replace("duration = \"20m\"", "duration = \"6h\"").replace("bin = \"1m\"", "bin = \"5m\"").replace(
            "runtime_arch = \"x86_64\"",
            "runtime_arch = \"arm64\"\n[admission]\nmax_wait = \"20s\"\nqueue_limit = 40",
        );
    texts.push(("queued-6h".into(), queued));
    for (stem, text) in texts {
        let sc = scenario::load_str(&text, &stem, &dir, &[]).expect("bundled scenario");
        let agg = experiment::run(&sc, 2, RunOptions::default());
        let (svg, png) = (keep.join(format!("{stem}-timeline.svg")), keep.join(format!("{stem}-timeline.png")));
        timeline(&sc, &agg, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &[&sc.name]);
    }
}
