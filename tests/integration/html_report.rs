//! `surgesim report`, `--report` on run and compare, and the Markdown
//! summaries of `check --markdown` and `compare --markdown`.
//!
//! Every expected number is read here, independently, from the files the
//! run wrote (summary.json with serde_json, compare.csv with csv, the check
//! report with serde_json) and looked for in the rendered page by its exact
//! value (`data-v` attributes), so a page that shows other numbers fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel).display().to_string()
}

fn surgesim(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::cargo_bin("surgesim").expect("binary").current_dir(cwd).args(args).output().expect("starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && out.status.code() != Some(101), "{args:?} panicked: {stderr}");
    out
}

fn ok(cwd: &Path, args: &[&str]) -> Output {
    let out = surgesim(cwd, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A scenario like the small fixture, with markup in its description and
/// its header comment; `workers` sets the pool.
fn scenario(dir: &Path, file: &str, name: &str, workers: u32) -> PathBuf {
    let text = fs::read_to_string(fixture("small.toml")).unwrap();
    let text = text
        .replace("name = \"small\"", &format!("name = \"{name}\""))
        .replace("workers = 20", &format!("workers = {workers}"))
        .replace(
            "description = \"CLI test fixture: small pool under load, calls may wait up to 10 s\"",
            "description = \"pool <script>alert('d')</script> & co\"",
        );
    let text = format!("# Header <b>bold</b> & <script>alert('h')</script>\n#\n{text}");
    let p = dir.join(file);
    fs::write(&p, text).unwrap();
    p
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

/// The exact values (`data-v`) of the table row `<tr data-metric="NAME">`.
fn row_values(html: &str, metric: &str) -> Vec<f64> {
    let start = html.find(&format!("<tr data-metric=\"{metric}\">")).unwrap_or_else(|| panic!("no row {metric}"));
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    row.split("data-v=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap()).collect()
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Self-contained: no reference to anything outside the page.
pub(crate) fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in ["http://", "https://", "src=", "<link", "@import", "url(", "<iframe", "<img", "//cdn"] {
        assert!(!lower.contains(bad), "the page references an external resource: {bad}");
    }
    assert!(lower.contains("content-security-policy") && lower.contains("default-src 'none'"));
}

/// Balanced structure: the main elements open and close as often.
pub(crate) fn assert_balanced(html: &str) {
    for one in
        ["<html", "</html>", "<head>", "</head>", "<body>", "</body>", "<main>", "</main>", "<script>", "</script>"]
    {
        assert_eq!(count(html, one), 1, "{one} should appear once");
    }
    for tag in ["section", "table", "thead", "tbody", "tr", "svg", "figure", "details", "dl", "pre", "div", "p", "g"] {
        let open = count(html, &format!("<{tag}>")) + count(html, &format!("<{tag} "));
        let close = count(html, &format!("</{tag}>"));
        assert_eq!(open, close, "<{tag}> opened {open} times, closed {close} times");
    }
}

#[test]
fn run_report_shows_the_numbers_of_summary_json() {
    let t = TempDir::new().unwrap();
    let sc = scenario(t.path(), "s.toml", "small-html", 20);
    let sc = sc.to_str().unwrap();
    ok(t.path(), &["run", sc, "-r", "3", "--window", "07:01..07:04", "--out", "plain"]);
    ok(t.path(), &["run", sc, "-r", "3", "--window", "07:01..07:04", "--out", "run", "--report"]);
    // --report adds two files and changes none of the others.
    let names = |d: &str| {
        let mut v: Vec<String> = fs::read_dir(t.path().join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mut expected = names("plain");
    expected.extend(["provenance.json".to_string(), "report.html".to_string()]);
    expected.sort();
    assert_eq!(names("run"), expected);
    for f in names("plain").iter().filter(|f| !f.ends_with(".png")) {
        assert_eq!(
            fs::read(t.path().join("plain").join(f)).unwrap(),
            fs::read(t.path().join("run").join(f)).unwrap(),
            "{f}"
        );
    }

    let sm = json(&t.path().join("run/summary.json"));
    let html = fs::read_to_string(t.path().join("run/report.html")).unwrap();
    for m in ["arrived", "failed", "served_primary", "failure_rate", "failed_fallback_eligible"] {
        let full = sm["metrics"][m]["mean"].as_f64().unwrap();
        let win = sm["metrics"][format!("window.{m}")]["mean"].as_f64().unwrap();
        assert_eq!(row_values(&html, m), vec![full, win], "{m}");
    }
    assert_eq!(row_values(&html, "cost_total"), vec![sm["metrics"]["cost_total"]["mean"].as_f64().unwrap()]);
    // The intervals of summary.json are shown (rounded to 4 significant digits).
    let [lo, hi] = [0, 1].map(|i| sm["metrics"]["failed"]["ci95"][i].as_f64().unwrap());
    assert!(lo < hi);
    assert!(html.contains("<span class=\"ci\">["), "no interval shown");
    assert!(html.contains("07:01:00 – 07:04:00"), "the window is not stated");
    // The timeline is inlined, causes.csv is a table with one row per line.
    assert!(html.contains("aria-label=\"small-html: timeline\""));
    let causes = csv::Reader::from_path(t.path().join("run/causes.csv")).unwrap().into_records().count();
    let table = &html[html.find("id=\"s1-causes\"").expect("a causes table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(count(table, "<tr>"), causes + 1, "the header row and one row per line");
    assert!(causes > 0, "the fixture should fail some calls");
    // Provenance: the scenario's SHA-256, seed and replications, the command line.
    let digest: String = Sha256::digest(fs::read(sc).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
    assert!(html.contains(&digest));
    assert!(html.contains("--report"));
    let prov = json(&t.path().join("run/provenance.json"));
    assert_eq!(prov["scenarios"][0]["sha256"].as_str(), Some(digest.as_str()));
    assert_eq!(prov["seed"].as_u64(), sm["seed"].as_u64());
    // Everything read from files is escaped; the one script is the page's own.
    assert!(!html.contains("<script>alert"), "unescaped markup from a file");
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("pool &lt;script&gt;alert(&#39;d&#39;)&lt;/script&gt; &amp; co"));
    assert!(html.contains("Header &lt;b&gt;bold&lt;/b&gt;"));
    assert_self_contained(&html);
    assert_balanced(&html);

    // `report DIR` renders the same page from the folder.
    ok(t.path(), &["report", "run", "-o", "again.html"]);
    let again = fs::read_to_string(t.path().join("again.html")).unwrap();
    assert_eq!(again, html);
    // Without provenance.json the page says what was not recorded.
    ok(t.path(), &["report", "plain"]);
    let plain = fs::read_to_string(t.path().join("plain/report.html")).unwrap();
    assert!(plain.contains("not recorded"));
    assert_eq!(row_values(&plain, "failed"), row_values(&html, "failed"));
}

#[test]
fn a_tampered_scenario_name_is_escaped() {
    let t = TempDir::new().unwrap();
    ok(t.path(), &["run", &fixture("small.toml"), "--out", "run"]);
    let p = t.path().join("run/summary.json");
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("\"scenario\": \"small\"", "\"scenario\": \"<script>alert(1)</script>\"");
    assert!(text.contains("<script>"));
    fs::write(&p, text).unwrap();
    ok(t.path(), &["report", "run", "-o", "r.html"]);
    let html = fs::read_to_string(t.path().join("r.html")).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(count(&html, "<script"), 1);
    assert_balanced(&html);
}

#[test]
fn compare_report_and_markdown_show_compare_csv() {
    let t = TempDir::new().unwrap();
    let base = scenario(t.path(), "base.toml", "cmp-base", 20);
    let more = scenario(t.path(), "more.toml", "cmp-more-workers", 30);
    let (b, m) = (base.to_str().unwrap(), more.to_str().unwrap());
    ok(t.path(), &["compare", b, m, "-r", "4", "--out", "plain"]);
    let out = ok(t.path(), &["compare", b, m, "-r", "4", "--out", "cmp", "--report", "--markdown", "cmp.md"]);
    assert_eq!(
        fs::read(t.path().join("plain/compare.csv")).unwrap(),
        fs::read(t.path().join("cmp/compare.csv")).unwrap()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote"));

    let mut r = csv::Reader::from_path(t.path().join("cmp/compare.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let html = fs::read_to_string(t.path().join("cmp/report.html")).unwrap();
    let table = &html[html.find("id=\"s1-compare\"").expect("a compare table")..];
    let table = &table[..table.find("</table>").unwrap()];
    for (i, row) in rows.iter().enumerate() {
        let tr = table.split("<tr").nth(2 + i).unwrap();
        let vals: Vec<f64> =
            tr.split("data-v=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap()).collect();
        let expect: Vec<f64> =
            ["failed_mean", "failed_fallback_eligible_mean", "saved_mean", "cost_mean", "cost_delta_mean"]
                .iter()
                .map(|c| row[col(c)].parse().unwrap())
                .collect();
        assert_eq!(vals, expect, "row {}", &row[0]);
        assert!(tr.contains(&row[0]));
    }
    let saved: f64 = rows[1][col("saved_mean")].parse().unwrap();
    assert!(saved > 0.0, "more workers should save calls");
    // The bar chart of saved calls, with the variant's interval as whiskers.
    let chart = &html[html.find("<svg class=\"chart\"").expect("a bar chart")..];
    assert!(chart.contains("cmp-more-workers"));
    assert!(chart.contains("class=\"ci\""));
    assert_self_contained(&html);
    assert_balanced(&html);

    // Markdown: one table row per scenario, base first.
    let md = fs::read_to_string(t.path().join("cmp.md")).unwrap();
    let lines: Vec<&str> =
        md.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| scenario") && !l.starts_with("| ---")).collect();
    assert_eq!(lines.len(), 2, "{md}");
    assert!(lines[0].starts_with("| cmp-base (base) |"), "{md}");
    assert!(lines[1].starts_with("| cmp-more-workers |"), "{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("| --- ")).count(), 1);
}

#[test]
fn report_refuses_bad_folders_and_writes_nothing() {
    let t = TempDir::new().unwrap();
    ok(t.path(), &["run", &fixture("small.toml"), "--out", "run"]);
    let fails = |args: &[&str], needle: &str| {
        let out = surgesim(t.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!t.path().join("r.html").exists());
    };
    fails(&["report", "nowhere", "-o", "r.html"], "nowhere");
    fails(&["report", "run", "nowhere", "-o", "r.html"], "nowhere");
    fs::create_dir(t.path().join("foreign")).unwrap();
    fs::write(t.path().join("foreign/summary.json"), "{}").unwrap();
    fails(&["report", "foreign", "-o", "r.html"], ".surgesim-output");
    fs::create_dir(t.path().join("empty")).unwrap();
    fs::write(t.path().join("empty/.surgesim-output"), "").unwrap();
    fails(&["report", "empty", "-o", "r.html"], "empty");
    fs::remove_file(t.path().join("run/timeline.svg")).unwrap();
    fails(&["report", "run", "-o", "r.html"], "timeline.svg");
    // A summary.json from another version (a field it lacks).
    ok(t.path(), &["run", &fixture("small.toml"), "--out", "old"]);
    let p = t.path().join("old/summary.json");
    let mut v = json(&p);
    v.as_object_mut().unwrap().remove("warmup_s");
    fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    fails(&["report", "old", "-o", "r.html"], "warmup_s");
    // A plot that is not the SVG surgesim writes.
    ok(t.path(), &["run", &fixture("small.toml"), "--out", "svg"]);
    fs::write(t.path().join("svg/timeline.svg"), "<svg><script>alert(1)</script></svg>").unwrap();
    fails(&["report", "svg", "-o", "r.html"], "timeline.svg");
}

#[test]
fn check_markdown_lists_failures_first_and_keeps_the_exit_code() {
    let t = TempDir::new().unwrap();
    let (pass, fail) = (fixture("slo/pass.toml"), fixture("slo/fail.toml"));
    let plain = surgesim(t.path(), &["check", &pass, &fail]);
    let out = surgesim(t.path(), &["check", &pass, &fail, "--json", "c.json", "--markdown", "c.md"]);
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(out.status.code(), plain.status.code());
    let report = json(&t.path().join("c.json"));
    let md = fs::read_to_string(t.path().join("c.md")).unwrap();
    assert!(md.contains("❌ FAIL"), "{md}");
    let rows: Vec<Vec<String>> = md
        .lines()
        .skip_while(|l| !l.starts_with("| result"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect();
    let mut verdicts = Vec::new();
    for sc in report["scenarios"].as_array().unwrap() {
        for v in sc["verdicts"].as_array().unwrap() {
            let name = sc["scenario"].as_str().unwrap().replace('_', "\\_");
            let objective =
                format!("{} {}", v["objective"]["metric"].as_str().unwrap(), v["objective"]["op"].as_str().unwrap());
            verdicts.push((
                name,
                objective.replace('_', "\\_").replace('<', "&lt;").replace('>', "&gt;"),
                v["pass"].as_bool().unwrap(),
            ));
        }
    }
    assert_eq!(rows.len(), verdicts.len(), "{md}");
    let failing = verdicts.iter().filter(|v| !v.2).count();
    assert!(failing > 0 && failing < verdicts.len());
    for (i, row) in rows.iter().enumerate() {
        // Failing rows first, then passing ones.
        assert_eq!(row[0].contains("FAIL"), i < failing, "row {i}: {row:?}");
        let v = verdicts
            .iter()
            .find(|v| v.0 == row[1] && v.1 == row[2])
            .unwrap_or_else(|| panic!("row {row:?} not in the report"));
        assert_eq!(v.2, row[0].contains("pass"), "{row:?}");
    }
}

/// `--report` on sweep and plan: the page holds every `failed_mean` of
/// sweep.csv (read here with csv) and the plan's probes, and the other
/// files are those of the same command without `--report`.
#[test]
fn sweep_and_plan_reports_show_their_tables() {
    let t = TempDir::new().unwrap();
    let sc = scenario(t.path(), "s.toml", "pool", 20);
    let sc = sc.to_str().unwrap();
    let vary = "primary.workers=10..30:10";
    ok(t.path(), &["sweep", sc, "--vary", vary, "-r", "2", "--out", "plain"]);
    ok(t.path(), &["sweep", sc, "--vary", vary, "-r", "2", "--out", "sw", "--report"]);
    for f in ["sweep.csv", "sweep.txt", "headroom.svg"] {
        assert_eq!(
            fs::read(t.path().join("plain").join(f)).unwrap(),
            fs::read(t.path().join("sw").join(f)).unwrap(),
            "{f}"
        );
    }
    let html = fs::read_to_string(t.path().join("sw/report.html")).unwrap();
    assert_self_contained(&html);
    assert_balanced(&html);
    let mut rd = csv::Reader::from_path(t.path().join("sw/sweep.csv")).unwrap();
    let col = rd.headers().unwrap().iter().position(|h| h == "failed_mean").expect("failed_mean column");
    let mut n = 0;
    for row in rd.records() {
        let v: f64 = row.unwrap()[col].parse().unwrap();
        assert!(html.contains(&format!("data-v=\"{v}\"")), "sweep value {v} missing from the page");
        n += 1;
    }
    assert_eq!(n, 3);
    let a = ["sweep", sc, "--vary", vary, "--shard", "1/2", "--report"];
    assert_eq!(surgesim(t.path(), &a).status.code(), Some(2), "a shard has no page of its own");

    let o = surgesim(
        t.path(),
        &["plan", sc, "--vary", "primary.workers=5..40", "--slo", "failure_rate<=0.5", "--out", "pl", "--report"],
    );
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", String::from_utf8_lossy(&o.stderr));
    let html = fs::read_to_string(t.path().join("pl/report.html")).unwrap();
    assert_self_contained(&html);
    let probes = fs::read_to_string(t.path().join("pl/plan.csv")).unwrap();
    let probed = probes.lines().count() - 1;
    assert!(probed >= 1);
    assert!(count(&html, "<tr") > probed, "the page has a row per probe ({probed})");
}

/// A run with a queue and callers that retry: the page's summary lists the
/// same rows as the terminal (service levels, attempts, recovery), with the
/// values of summary.json; a recovery no run reached reads "never".
#[test]
fn run_report_lists_service_levels_and_attempts() {
    let tmp = TempDir::new().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/metastable.toml");
    let out = tmp.path().join("out");
    let (sc, out) = (sc.to_str().unwrap(), out.to_str().unwrap());
    let stdout = ok(tmp.path(), &["run", sc, "-r", "2", "--set", "duration=\"40m\"", "--out", out, "--report"]).stdout;
    let html = fs::read_to_string(Path::new(out).join("report.html")).unwrap();
    let summary = json(&Path::new(out).join("summary.json"));
    for m in
        ["service_level_20s", "asa_s", "abandon_rate", "attempts", "retries", "retry_amplification", "retrying_end"]
    {
        let want = summary["metrics"][m]["mean"].as_f64().unwrap_or_else(|| panic!("{m} in summary.json"));
        assert_eq!(row_values(&html, m).first().copied(), Some(want), "{m}");
    }
    assert!(summary["metrics"]["recovery_time_s"]["n"].as_u64() == Some(0), "the base scenario never recovers");
    let start = html.find("<tr data-metric=\"recovery_time_s\">").expect("a recovery row");
    assert!(html[start..].split("</tr>").next().unwrap().contains("never (0/2 runs)"));
    // The terminal says the same.
    let text = String::from_utf8_lossy(&stdout);
    assert!(text.lines().any(|l| l.starts_with("recovery_time_s") && l.ends_with("never (0/2 runs)")), "{text}");
}
