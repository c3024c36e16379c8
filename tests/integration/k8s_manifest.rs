//! docs/k8s-indexed-job.yaml checked as Kubernetes would read it: the
//! fields an Indexed Job needs, the references between its objects, and the
//! command lines themselves, run with the real binary (every completion
//! index, then the merge Job) on a tiny scenario standing in for the
//! ConfigMap, compared byte for byte with an unsharded sweep.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_norway::Value;

const MANIFEST: &str = "docs/k8s-indexed-job.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest_text() -> String {
    std::fs::read_to_string(root().join(MANIFEST)).unwrap()
}

/// Every YAML document of the file (`---` separated).
fn documents() -> Vec<Value> {
    let text = manifest_text();
    let docs: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{MANIFEST}: {e}")))
        .filter(|v| !v.is_null())
        .collect();
    assert!(!docs.is_empty(), "{MANIFEST} holds no document");
    docs
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or_else(|| panic!("{MANIFEST}: {} is not a string: {cur:?}", path.join(".")))
}

fn u64_at(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64().unwrap_or_else(|| panic!("{MANIFEST}: {} is not a whole number: {cur:?}", path.join(".")))
}

fn seq<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_sequence().unwrap_or_else(|| panic!("{MANIFEST}: {what} is not a list: {v:?}"))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{MANIFEST}: no {kind} named {name}"))
}

/// The Job that runs the shards: the one with a completionMode.
fn sweep_job(docs: &[Value]) -> &Value {
    let jobs: Vec<&Value> = docs.iter().filter(|d| !d["spec"]["completionMode"].is_null()).collect();
    assert_eq!(jobs.len(), 1, "{MANIFEST}: expected one Job with a completionMode");
    jobs[0]
}

/// The single container of a Job and the shell line it runs
/// (`command: [/bin/sh, -c]`, `args: [LINE]`).
fn container_line(job: &Value) -> (&Value, String) {
    let containers = seq(&job["spec"]["template"]["spec"]["containers"], "containers");
    assert_eq!(containers.len(), 1, "one container per Job");
    let c = &containers[0];
    let command: Vec<&str> = seq(&c["command"], "command").iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(command, ["/bin/sh", "-c"], "the shard number is computed by the shell");
    let args = seq(&c["args"], "args");
    assert_eq!(args.len(), 1, "`sh -c` takes one command line");
    (c, args[0].as_str().unwrap().to_string())
}

/// N in `--shard $((JOB_COMPLETION_INDEX + 1))/N`.
fn shard_count(line: &str) -> u64 {
    const SHARD: &str = "--shard $((JOB_COMPLETION_INDEX + 1))/";
    let at = line
        .find(SHARD)
        .unwrap_or_else(|| panic!("the shard must come from JOB_COMPLETION_INDEX (0-based) as `{SHARD}N`: {line}"));
    let digits: String = line[at + SHARD.len()..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no shard count after `{SHARD}`: {line}"))
}

#[test]
fn sweep_job_is_an_indexed_batch_v1_job_with_one_pod_per_shard() {
    let docs = documents();
    let job = sweep_job(&docs);
    assert_eq!(str_at(job, &["apiVersion"]), "batch/v1");
    assert_eq!(str_at(job, &["kind"]), "Job");
    assert_eq!(str_at(job, &["spec", "completionMode"]), "Indexed");
    let completions = u64_at(job, &["spec", "completions"]);
    let parallelism = u64_at(job, &["spec", "parallelism"]);
    let (container, line) = container_line(job);
    let n = shard_count(&line);
    // Indexes 0..completions become shards 1..completions: all N shards run
    // exactly when completions == N (fewer leave shards missing for merge,
    // more name shards past N, which surgesim refuses).
    assert_eq!(completions, n, "completions must equal the N of --shard K/N");
    assert_eq!(parallelism, completions, "parallelism == completions: every shard at once");
    assert!(
        line.contains(&format!("/sweep-shard-$((JOB_COMPLETION_INDEX + 1))-of-{n}")),
        "each index writes its own part folder, named as merge expects: {line}"
    );
    assert!(line.trim_start().starts_with("exec surgesim sweep "), "{line}");

    // A Job's pods may not restart in place, and backoffLimitPerIndex (which
    // retries one index) requires restartPolicy Never and an Indexed Job.
    let restart = str_at(job, &["spec", "template", "spec", "restartPolicy"]);
    assert!(restart == "Never" || restart == "OnFailure", "restartPolicy {restart}");
    if !job["spec"]["backoffLimitPerIndex"].is_null() {
        assert_eq!(restart, "Never", "backoffLimitPerIndex requires restartPolicy: Never");
    }
    assert!(!str_at(container, &["image"]).is_empty());
    assert!(!str_at(container, &["name"]).is_empty());
}

#[test]
fn objects_refer_to_each_other_and_to_the_documented_configmap() {
    let docs = documents();
    for d in &docs {
        assert!(d["apiVersion"].is_string() && d["kind"].is_string(), "object without apiVersion/kind: {d:?}");
        let step = d["metadata"]["labels"]["step"].as_str();
        assert!(matches!(step, Some("sweep" | "merge")), "every object is labelled step=sweep or step=merge: {d:?}");
    }
    let sweep = sweep_job(&docs);
    assert_eq!(str_at(sweep, &["metadata", "labels", "step"]), "sweep");
    let merge = find(&docs, "Job", "surgesim-merge");
    assert_eq!(str_at(merge, &["apiVersion"]), "batch/v1");
    assert_eq!(str_at(merge, &["metadata", "labels", "step"]), "merge");

    // The header's `kubectl create configmap NAME --from-file=KEY=PATH`.
    let text = manifest_text();
    let create =
        text.lines().skip_while(|l| !l.contains("kubectl create configmap")).take(2).collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = create.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "configmap").expect("no `kubectl create configmap` in the header");
    let cm_name = words[at + 1];
    let from = words.iter().find_map(|w| w.strip_prefix("--from-file=")).expect("no --from-file= in the header");
    let (key, source) = from.split_once('=').expect("--from-file=KEY=PATH");
    let source = root().join(source);
    assert!(source.is_file(), "the header's ConfigMap source {} does not exist", source.display());
    let out = Command::new(env!("CARGO_BIN_EXE_surgesim")).arg("validate").arg(&source).output().unwrap();
    assert!(out.status.success(), "{}: {}", source.display(), String::from_utf8_lossy(&out.stderr));

    let pvcs: BTreeSet<&str> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("PersistentVolumeClaim"))
        .map(|d| {
            let modes: Vec<&str> =
                seq(&d["spec"]["accessModes"], "accessModes").iter().filter_map(|m| m.as_str()).collect();
            assert!(modes.contains(&"ReadWriteMany"), "every pod writes to the same claim: {modes:?}");
            str_at(d, &["metadata", "name"])
        })
        .collect();

    for (job, is_sweep) in [(sweep, true), (merge, false)] {
        let pod = &job["spec"]["template"]["spec"];
        let volumes = seq(&pod["volumes"], "volumes");
        let volume_names: BTreeSet<&str> = volumes.iter().map(|v| str_at(v, &["name"])).collect();
        for v in volumes {
            if !v["persistentVolumeClaim"].is_null() {
                let claim = str_at(v, &["persistentVolumeClaim", "claimName"]);
                assert!(pvcs.contains(claim), "claim {claim} is not defined in the file");
            }
            if !v["configMap"].is_null() {
                assert_eq!(str_at(v, &["configMap", "name"]), cm_name, "the ConfigMap the header creates");
            }
        }
        let (container, line) = container_line(job);
        for m in seq(&container["volumeMounts"], "volumeMounts") {
            let name = str_at(m, &["name"]);
            assert!(volume_names.contains(name), "volumeMount {name} has no volume");
        }
        if is_sweep {
            let scenario_mount = mount_of(container, |v| !v["configMap"].is_null(), pod);
            let path = format!("{scenario_mount}/{key}");
            assert!(line.contains(&format!("surgesim sweep {path} ")), "the sweep reads the ConfigMap's {key}: {line}");
        }
    }
}

/// mountPath of the container's mount whose volume satisfies `is`.
fn mount_of<'a>(container: &'a Value, is: impl Fn(&Value) -> bool, pod: &Value) -> &'a str {
    let volumes = seq(&pod["volumes"], "volumes");
    seq(&container["volumeMounts"], "volumeMounts")
        .iter()
        .find(|m| volumes.iter().any(|v| v["name"] == m["name"] && is(v)))
        .map(|m| str_at(m, &["mountPath"]))
        .expect("no such mount")
}

/// A scenario of a few thousand calls, standing in for the ConfigMap's.
const TINY: &str = r#"
name = "tiny"
seed = 7
clock_start = "09:00"
duration = "5m"
bin = "1m"

[arrivals]
kind = "poisson"
rate = 5.0

[[classes]]
name = "call"
share = 1.0
duration = { dist = "exponential", mean = "2m" }

[primary]
workers = 500
calls_per_worker = 1
"#;

/// Runs a container's command with its env, its mount paths mapped to
/// host folders, and `surgesim` on PATH being `program`.
fn run_container(container: &Value, line: &str, mounts: &[(String, PathBuf)], bin_dir: &Path, index: Option<u64>) {
    // Longest mount path first, so /out/x is not taken for /out.
    let mut mounts = mounts.to_vec();
    mounts.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
    let mut mapped = line.to_string();
    for (mount, host) in &mounts {
        mapped = mapped.replace(&format!("{mount}/"), &format!("{}/", host.display()));
    }
    let command: Vec<&str> = seq(&container["command"], "command").iter().map(|v| v.as_str().unwrap()).collect();
    let mut cmd = Command::new(command[0]);
    cmd.args(&command[1..]).arg(&mapped);
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    cmd.env("PATH", path);
    if let Some(env) = container["env"].as_sequence() {
        for e in env {
            cmd.env(str_at(e, &["name"]), str_at(e, &["value"]));
        }
    }
    if let Some(i) = index {
        cmd.env("JOB_COMPLETION_INDEX", i.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "index {index:?}: `{mapped}` exited {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn every_index_then_the_merge_job_reproduce_the_unsharded_sweep() {
    let docs = documents();
    let sweep = sweep_job(&docs);
    let merge = find(&docs, "Job", "surgesim-merge");
    let (sweep_container, sweep_line) = container_line(sweep);
    let (merge_container, merge_line) = container_line(merge);
    let completions = u64_at(sweep, &["spec", "completions"]);
    let n = shard_count(&sweep_line);

    let tmp = tempfile::tempdir().unwrap();
    let (scenario_dir, out_dir, bin, plain_bin) =
        (tmp.path().join("scenario"), tmp.path().join("out"), tmp.path().join("bin"), tmp.path().join("plain"));
    for d in [&scenario_dir, &out_dir, &bin, &plain_bin] {
        std::fs::create_dir(d).unwrap();
    }
    let real = env!("CARGO_BIN_EXE_surgesim");
    write_exe(&bin.join("surgesim"), &format!("#!/bin/sh\nexec '{real}' \"$@\"\n"));

    // The ConfigMap's key, as the sweep's command line names it.
    let scenario_mount = mount_of(sweep_container, |v| !v["configMap"].is_null(), &sweep["spec"]["template"]["spec"]);
    let key_at = sweep_line.find(&format!("{scenario_mount}/")).expect("the sweep reads no file from the ConfigMap");
    let key: String =
        sweep_line[key_at + scenario_mount.len() + 1..].chars().take_while(|c| !c.is_whitespace()).collect();
    std::fs::write(scenario_dir.join(&key), TINY).unwrap();
    let out_mount =
        mount_of(sweep_container, |v| !v["persistentVolumeClaim"].is_null(), &sweep["spec"]["template"]["spec"]);
    let merge_out_mount =
        mount_of(merge_container, |v| !v["persistentVolumeClaim"].is_null(), &merge["spec"]["template"]["spec"]);
    let sweep_mounts = [(scenario_mount.to_string(), scenario_dir.clone()), (out_mount.to_string(), out_dir.clone())];

    for index in 0..completions {
        run_container(sweep_container, &sweep_line, &sweep_mounts, &bin, Some(index));
    }
    // Each index wrote the part of shard index + 1.
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let dir = entry.unwrap().path();
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        parts.push((manifest["shard"]["k"].as_u64().unwrap(), manifest["shard"]["n"].as_u64().unwrap()));
    }
    parts.sort();
    let expected: Vec<(u64, u64)> = (1..=n).map(|k| (k, n)).collect();
    assert_eq!(parts, expected, "the parts the {completions} indexes wrote");

    run_container(merge_container, &merge_line, &[(merge_out_mount.to_string(), out_dir.clone())], &bin, None);

    // The same command line unsharded: a `surgesim` that drops --shard and
    // --out and writes to its own folder.
    let unsharded = tmp.path().join("unsharded");
    write_exe(
        &plain_bin.join("surgesim"),
        &format!(
            "#!/bin/sh\nn=$#\nwhile [ \"$n\" -gt 0 ]; do\n  case \"$1\" in\n    --shard|--out) shift 2; n=$((n - 2)) ;;\n    \
             *) set -- \"$@\" \"$1\"; shift; n=$((n - 1)) ;;\n  esac\ndone\nexec '{real}' \"$@\" --out '{}'\n",
            unsharded.display()
        ),
    );
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let plain_mounts = [(scenario_mount.to_string(), scenario_dir.clone()), (out_mount.to_string(), scratch)];
    run_container(sweep_container, &sweep_line, &plain_mounts, &plain_bin, Some(0));

    // The merge Job's --out, mapped.
    let merged_rel = merge_line
        .split_whitespace()
        .skip_while(|w| *w != "--out")
        .nth(1)
        .expect("the merge Job names its --out")
        .strip_prefix(&format!("{merge_out_mount}/"))
        .expect("the merge Job writes to the shared volume")
        .to_string();
    let merged = out_dir.join(merged_rel);
    let list = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    let files = list(&unsharded);
    assert!(files.contains(&"sweep.csv".to_string()), "{files:?}");
    assert_eq!(list(&merged), files);
    for f in &files {
        let a = std::fs::read(merged.join(f)).unwrap();
        let b = std::fs::read(unsharded.join(f)).unwrap();
        assert!(a == b, "{f}: the merged file differs from the unsharded sweep's");
    }
    let rows = std::fs::read_to_string(unsharded.join("sweep.csv")).unwrap().lines().count() - 1;
    assert!(rows as u64 > n, "a grid of {rows} points does not exercise {n} shards");
}
