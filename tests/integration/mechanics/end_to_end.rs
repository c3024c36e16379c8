//! Health modes, presets and canary actions end to end through `surgesim
//! run`, and `surgesim validate` on the mechanics scenarios.

use std::fs;

use serde_json::Value;
use tempfile::TempDir;

use super::replay::{check_capacity_follows_log, Decision, Provisioning};
use super::{check_z, load_mech, mech, mech_path, run0, run_cli};
use crate::common::surgesim;

fn class_num(s: &Value, class: &str, path: &[&str]) -> f64 {
    let mut v = &s["classes"][class];
    for k in path {
        v = &v[*k];
    }
    v.as_f64().unwrap_or_else(|| panic!("summary.json classes.{class}.{path:?} is not a number"))
}

#[test]
fn cli_health_healthy_serves_every_eligible_overflow() {
    let out = run_cli(&mech("fallback-degraded"), &["--set", "fallback.health=healthy"]);
    let s = out.summary();
    assert_eq!(class_num(&s, "eligible", &["failed"]), 0.0);
    assert!(class_num(&s, "eligible", &["served_fallback"]) > 1000.0);
    assert_eq!(out.metric("failed_fallback_eligible"), 0.0);
}

/// The bundled degraded scenario: failed starts / invocations = 0.25
/// within 3 binomial SE; the ineligible class never reaches the fallback.
#[test]
fn cli_health_degraded_fails_a_quarter_of_the_starts() {
    let out = run_cli(&mech("fallback-degraded"), &[]);
    let s = out.summary();
    let failed = class_num(&s, "eligible", &["failed_by_reason", "fallback_start_failed"]);
    let served = class_num(&s, "eligible", &["served_fallback"]);
    let n = out.metric("fallback_invocations");
    assert_eq!(n, failed + served);
    let p = 0.25;
    let se = (p * (1.0 - p) / n).sqrt();
    check_z(&format!("cli degraded p = {p}: failed starts / {n} invocations"), failed / n, p, se, 0.0);
    assert_eq!(class_num(&s, "other", &["failed_by_reason", "fallback_start_failed"]), 0.0);
    assert_eq!(class_num(&s, "eligible", &["failed"]), failed, "only start failures for the eligible class");
}

#[test]
fn cli_health_broken_fails_every_eligible_overflow() {
    let out = run_cli(&mech("fallback-degraded"), &["--set", "fallback.health=broken"]);
    let s = out.summary();
    let fbsf = class_num(&s, "eligible", &["failed_by_reason", "fallback_start_failed"]);
    assert!(fbsf > 0.0);
    assert_eq!(class_num(&s, "eligible", &["failed"]), fbsf, "eligible failures are all start failures");
    assert_eq!(class_num(&s, "eligible", &["arrived"]), class_num(&s, "eligible", &["served_primary"]) + fbsf);
    assert_eq!(out.metric("served_fallback"), 0.0);
}

/// broken_from/broken_until: start failures only in bins inside the broken
/// window (and in failures.csv only at arrival times inside it), nothing
/// served by the fallback there, served before and after.
#[test]
fn cli_health_broken_window_confines_start_failures() {
    let out = run_cli(&mech("fallback-broken-until"), &["--failure-log"]);
    let ts = out.timeseries();
    let (from, until) = (240.0, 480.0);
    let (mut inside, mut before, mut after) = (0.0, 0.0, 0.0);
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        let fbsf = ts.f(i, "failed_fallback_start_failed");
        if b <= from || a >= until {
            assert_eq!(fbsf, 0.0, "bin [{a}, {b}) is outside the broken window");
        }
        if a >= from && b <= until {
            assert_eq!(ts.f(i, "served_fallback"), 0.0, "bin [{a}, {b}) is inside the broken window");
            assert_eq!(fbsf, ts.f(i, "failed_fallback_eligible"), "bin [{a}, {b}): all eligible failures");
            inside += fbsf;
        }
        if b <= from {
            before += ts.f(i, "served_fallback");
        }
        if a >= until {
            after += ts.f(i, "served_fallback");
        }
    }
    assert!(inside > 0.0 && before > 0.0 && after > 0.0, "inside {inside}, served before {before}, after {after}");
    let f = out.failures();
    let mut n = 0;
    for i in 0..f.len() {
        if f.s(i, "reason") == "fallback_start_failed" {
            let t = f.f(i, "t_s");
            assert!((from..until).contains(&t), "start failure at {t} s, outside [{from}, {until})");
            n += 1;
        }
    }
    assert_eq!(n as f64, inside);
}

/// image_arch ≠ runtime_arch with no explicit health: broken, with a
/// warning in summary.json and the cause named in causes.csv.
#[test]
fn cli_health_arch_mismatch_breaks_the_fallback() {
    let out = run_cli(
        &mech("fallback-lambda"),
        &["--set", "fallback.image_arch=arm64", "--set", "fallback.runtime_arch=x86_64"],
    );
    let s = out.summary();
    let warnings = s["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("image_arch")), "{warnings:?}");
    assert_eq!(out.metric("served_fallback"), 0.0);
    let fbsf = out.metric("failed_fallback_start_failed");
    assert!(fbsf > 0.0);
    assert_eq!(out.metric("failed"), fbsf);
    assert_eq!(out.metric("arrived"), out.metric("served_primary") + fbsf);
    let causes = fs::read_to_string(out.dir.join("causes.csv")).unwrap();
    assert!(causes.contains("image arm64 ≠ runtime x86_64"), "{causes}");
    // The same architectures spelled differently are not a mismatch.
    let same = run_cli(
        &mech("fallback-lambda"),
        &["--set", "fallback.image_arch=aarch64", "--set", "fallback.runtime_arch=arm64"],
    );
    assert_eq!(same.summary()["warnings"].as_array().unwrap().len(), 0);
    assert_eq!(same.metric("failed"), 0.0);
}

/// causes.csv explains a broken fallback by the architectures only when
/// they actually differ (same normalisation as validation).
#[test]
fn causes_do_not_blame_equivalent_architectures() {
    let sc = load_mech(
        "fallback-lambda",
        &["fallback.image_arch=aarch64", "fallback.runtime_arch=arm64", "fallback.health=broken"],
    );
    assert!(sc.warnings.is_empty(), "validation sees no mismatch: {:?}", sc.warnings);
    let r = run0(&sc);
    let causes = surgesim::report::causes::explain(&sc, &r);
    assert!(!causes.is_empty());
    for c in &causes {
        assert!(!c.text.contains("≠"), "blames equal architectures: {}", c.text);
    }
}

/// Lambda preset: cold starts are paid once per execution environment
/// (lognormal median 0.4 s, p95 1.5 s: mean 0.552 s); environments are
/// reused warm for the 10 minutes of the run, so cold starts are a small
/// fraction of the invocations; no call fails at 1,000 concurrency. With
/// idle_timeout = 0 every invocation is cold instead.
#[test]
fn cli_lambda_preset_pays_cold_starts_once_per_environment() {
    let out = run_cli(&mech("fallback-lambda"), &[]);
    assert_eq!(out.metric("failed"), 0.0);
    let served_fb = out.metric("served_fallback");
    let cold = out.metric("fallback_cold_starts");
    assert!(cold > 0.0 && cold < 0.2 * served_fb, "{cold} cold starts for {served_fb} fallback calls");
    // Waits: primary calls wait 0 (no queue), fallback calls wait their cold start.
    let served = out.metric("served_primary") + served_fb;
    let mean_cold = out.metric("wait_mean_s") * served / cold;
    let z95 = 1.6448536269514722;
    let sigma = (1.5_f64 / 0.4).ln() / z95;
    let mean = 0.4 * (sigma * sigma / 2.0).exp();
    let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
    let se = sd / cold.sqrt();
    check_z("lambda: mean cold start paid by fallback calls, vs lognormal mean", mean_cold, mean, se, 0.0);
    let expired = run_cli(&mech("fallback-lambda"), &["--set", "fallback.idle_timeout=0s"]);
    assert_eq!(expired.metric("fallback_cold_starts"), expired.metric("served_fallback"));
}

/// The bundled canary scenario: detection at the break (a probe lands on
/// it), the primary floor raised at detection + 1 m with capacity one
/// provisioning delay later, and start failures only between the break
/// and the fix at detection + 3 m.
#[test]
fn cli_canary_mitigation_actions_take_effect_after_their_delays() {
    let out = run_cli(&mech("canary-mitigation"), &["--failure-log"]);
    let det = out.metric("detection_time_s");
    assert!((300.0..=360.0).contains(&det), "break at 300 s, 60 s probes: detected at {det}");
    let log = out.scaling();
    assert_eq!(
        log,
        vec![Decision {
            at: det + 60.0,
            from: 3,
            to: 8,
            cause: "on_detect".into(),
            ready: Some((det + 150.0, det + 150.0))
        }]
    );
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 3, 10, &Provisioning::fixed(90.0));
    let fix = det + 180.0;
    let f = out.failures();
    let mut n = 0;
    for i in 0..f.len() {
        if f.s(i, "reason") == "fallback_start_failed" {
            let t = f.f(i, "t_s");
            assert!(t >= 300.0 && t < fix, "start failure at {t} s, outside [break 300, fix {fix})");
            n += 1;
        }
    }
    assert!(n > 0);
    let served_after: f64 =
        (0..ts.len()).filter(|&i| ts.f(i, "t_start_s") >= fix).map(|i| ts.f(i, "served_fallback")).sum();
    assert!(served_after > 0.0, "the fixed fallback serves again");
}

// ---------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------

#[test]
fn cli_validate_warns_about_an_architecture_mismatch_only() {
    let tmp = TempDir::new().unwrap();
    let base = fs::read_to_string(mech_path("fallback-lambda")).unwrap();
    let write = |name: &str, img: &str, rt: &str| {
        let p = tmp.path().join(name);
        let text = base.replace(
            "preset = \"lambda\"",
            &format!("preset = \"lambda\"\nimage_arch = \"{img}\"\nruntime_arch = \"{rt}\""),
        );
        fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let bad = write("bad.toml", "arm64", "x86_64");
    let out = surgesim(tmp.path(), &["validate", &bad]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "a mismatch is a warning, not an error: {stdout}");
    assert!(stdout.contains("warning") && stdout.contains("arm64") && stdout.contains("x86_64"), "{stdout}");
    for (img, rt) in [("aarch64", "arm64"), ("amd64", "x86_64"), ("x86_64", "x86_64")] {
        let ok = write("ok.toml", img, rt);
        let out = surgesim(tmp.path(), &["validate", &ok]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0));
        assert!(!stdout.contains("warning"), "{img} vs {rt} is the same architecture: {stdout}");
    }
}

/// Every bundled mechanics scenario validates, without warnings.
#[test]
fn cli_every_mechanics_scenario_validates() {
    let dir = mech_path("x").parent().unwrap().to_path_buf();
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = surgesim(&dir, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches(": ok (").count(), files.len(), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        assert!(text.starts_with("# "), "{f} should open with a comment header explaining it");
    }
}
