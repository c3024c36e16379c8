//! `surgesim check` end to end: exit codes, JUnit, JSON, baselines,
//! determinism, and the rule that an objective is judged on its confidence
//! bound, not its mean (the judge itself is unit-tested in src/slo.rs).

use std::process::Output;

use tempfile::TempDir;

use crate::common::{fixture, repo, surgesim};

/// `surgesim check args…` (from the repository's folder).
fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    surgesim(&repo(""), &all)
}

fn fx(name: &str) -> String {
    fixture(&format!("slo/{name}"))
}

#[test]
fn passing_and_failing_scenarios_exit_0_and_1_and_junit_names_the_failure() {
    let tmp = TempDir::new().unwrap();
    let pass = check(&[&fx("pass.toml")]);
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stdout));
    let junit = tmp.path().join("slo.xml");
    let json = tmp.path().join("slo.json");
    let fail = check(&[
        &fx("pass.toml"),
        &fx("fail.toml"),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(fail.status.code(), Some(1));
    let text = String::from_utf8_lossy(&fail.stdout);
    assert!(text.contains("FAIL") && text.contains("failure_rate"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuites") && xml.contains("failures=\"1\""), "{xml}");
    // The failing case is the failure_rate objective of slo-fail.
    let suite = xml.split("<testsuite ").find(|s| s.starts_with("name=\"slo-fail\"")).expect("a suite per scenario");
    let case = suite.split("<testcase ").find(|c| c.contains("<failure")).expect("a failed case");
    assert!(case.starts_with("name=\"failure_rate &lt;= 0.0001\""), "{case}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["passed"], false);
    let verdicts = report["scenarios"][1]["verdicts"].as_array().unwrap();
    let v = verdicts.iter().find(|v| v["objective"]["metric"] == "failure_rate").unwrap();
    // The rule: the upper bound is what was compared, and it is above the threshold.
    assert_eq!(v["pass"], false);
    assert!(v["bound"].as_f64().unwrap() > 0.0001 && v["margin"].as_f64().unwrap() < 0.0);
    assert!(v["bound"].as_f64().unwrap() >= v["mean"].as_f64().unwrap());
}

#[test]
fn a_misspelt_metric_exits_2_naming_it_and_the_valid_names() {
    let tmp = TempDir::new().unwrap();
    let text = std::fs::read_to_string(fx("pass.toml")).unwrap().replace("max_failure_rate", "max_failure_rat");
    let f = tmp.path().join("typo.toml");
    std::fs::write(&f, text).unwrap();
    let out = check(&[f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failure_rat`") && err.contains("valid metrics") && err.contains("failure_rate"), "{err}");
}

#[test]
fn baselines_flag_regressions_but_not_improvements() {
    let tmp = TempDir::new().unwrap();
    let base = tmp.path().join("baseline.json");
    // Record a baseline on a smaller pool (more failures) …
    let sc = tmp.path().join("pol.toml");
    let text = std::fs::read_to_string(fx("pass.toml")).unwrap();
    std::fs::write(
        &sc,
        text.replace("workers = 40", "workers = 28").replace("max_failure_rate = 0.01", "max_failure_rate = 0.5"),
    )
    .unwrap();
    assert_eq!(check(&[sc.to_str().unwrap(), "--write-baseline", base.to_str().unwrap()]).status.code(), Some(0));
    // … a bigger pool is an improvement: not flagged.
    std::fs::write(&sc, text.replace("max_failure_rate = 0.01", "max_failure_rate = 0.5")).unwrap();
    let better = check(&[sc.to_str().unwrap(), "--baseline", base.to_str().unwrap()]);
    assert_eq!(better.status.code(), Some(0), "{}", String::from_utf8_lossy(&better.stdout));
    // … an even smaller one regresses, though its SLO (0.5) still holds.
    std::fs::write(
        &sc,
        text.replace("workers = 40", "workers = 24").replace("max_failure_rate = 0.01", "max_failure_rate = 0.5"),
    )
    .unwrap();
    let worse = check(&[sc.to_str().unwrap(), "--baseline", base.to_str().unwrap()]);
    assert_eq!(worse.status.code(), Some(1));
    let text = String::from_utf8_lossy(&worse.stdout);
    assert!(text.contains("REGRESSION") && text.contains("failed vs baseline"), "{text}");
}

#[test]
fn checking_twice_gives_identical_reports() {
    let tmp = TempDir::new().unwrap();
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    for (p, threads) in [(&a, "1"), (&b, "2")] {
        check(&[&fx("pass.toml"), &fx("fail.toml"), "--json", p.to_str().unwrap(), "--threads", threads]);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// Per-replication values of `failed` and `served_primary` of `text` over
/// replications 0..5, counted from each run's totals.
fn per_run(text: &str) -> (Vec<f64>, Vec<f64>) {
    let sc = surgesim::scenario::load_str(text, "judge.toml", &repo(""), &[]).unwrap();
    let agg = surgesim::experiment::run(&sc, 5, surgesim::model::RunOptions::default());
    let failed = agg.runs.iter().map(|r| (r.totals.failed_by.iter().sum::<u64>() + r.totals.abandoned) as f64);
    let served = agg.runs.iter().map(|r| r.totals.served_primary as f64);
    (failed.collect(), served.collect())
}

/// Mean and the half-width of its 95 % interval over 5 values (t(0.975, 4
/// degrees of freedom) = 2.776445105, from the tables).
fn mean_and_half(v: &[f64]) -> (f64, f64) {
    assert_eq!(v.len(), 5);
    let mean = v.iter().sum::<f64>() / 5.0;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    (mean, 2.776_445_105 * sd / 5f64.sqrt())
}

/// An objective that the mean meets but its confidence bound does not
/// fails: for `max_` the upper bound is compared, for `min_` the lower one.
/// A threshold beyond the bound passes.
#[test]
fn an_objective_met_on_average_but_not_with_confidence_fails() {
    let tmp = TempDir::new().unwrap();
    let base = std::fs::read_to_string(fx("fail.toml")).unwrap();
    let base = &base[..base.find("[slo]").expect("fail.toml has an [slo] block")];
    let (failed, served) = per_run(base);
    let (fm, fh) = mean_and_half(&failed);
    let (sm, sh) = mean_and_half(&served);
    assert!(fh > 1.0 && sh > 1.0, "the replications must spread: failed {failed:?}, served {served:?}");
    let cases = [
        // (objective, threshold, passes): between the mean and the bound,
        // then beyond the bound.
        ("max_failed", fm + fh / 2.0, false),
        ("min_served_primary", sm - sh / 2.0, false),
        ("max_failed", fm + fh * 1.5, true),
        ("min_served_primary", sm - sh * 1.5, true),
    ];
    for (i, (key, threshold, passes)) in cases.into_iter().enumerate() {
        let path = tmp.path().join(format!("judge-{i}.toml"));
        std::fs::write(&path, format!("{base}[slo]\nreplications = 5\n{key} = {threshold:?}\n")).unwrap();
        let json = tmp.path().join(format!("judge-{i}.json"));
        let out = check(&[path.to_str().unwrap(), "--json", json.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(if passes { 0 } else { 1 }), "{key} = {threshold}:\n{text}");
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let v = &report["scenarios"][0]["verdicts"][0];
        let (mean, half) = if key == "max_failed" { (fm, fh) } else { (sm, sh) };
        let bound = if key == "max_failed" { mean + half } else { mean - half };
        let got = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("verdict has no {k}: {v}"));
        assert!((got("mean") - mean).abs() < 1e-9 * mean, "{key}: mean {} vs {mean}", got("mean"));
        assert!((got("bound") - bound).abs() < 1e-6 * mean, "{key}: bound {} vs {bound}", got("bound"));
        assert_eq!(v["pass"], passes, "{key} = {threshold}: {v}");
    }
}
