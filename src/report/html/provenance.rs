//! `provenance.json`: what summary.json does not record about how a folder
//! was made (the command line, the date, the scenario files with their
//! SHA-256 and header comment). Written only when a report is asked for,
//! so that folders written without one keep their exact bytes.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::esc;

/// File name inside the output folder.
pub const FILE: &str = "provenance.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Provenance {
    /// Version of surgesim that wrote the folder.
    pub surgesim_version: String,
    /// `run`, `compare`, `sweep` or `plan`.
    pub command: String,
    /// The command line, one argument per item.
    pub command_line: Vec<String>,
    /// When the folder was written (UTC; `SOURCE_DATE_EPOCH` if set).
    pub date_utc: String,
    pub seed: Option<u64>,
    pub replications: Option<u64>,
    /// The scenario files as given, base first.
    pub scenarios: Vec<ScenarioSource>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioSource {
    /// The path as given on the command line.
    pub path: String,
    /// SHA-256 of the file's bytes (as `surgesim check` reports it).
    pub sha256: String,
    /// The comment block at the top of the file, without the `#`s.
    pub header: String,
    /// The whole file.
    pub text: String,
}

impl Provenance {
    /// Records the scenario files and the current process's command line.
    pub fn new(
        command: &str,
        scenarios: &[&Path],
        seed: Option<u64>,
        replications: Option<u64>,
    ) -> std::io::Result<Self> {
        let scenarios = scenarios.iter().map(|p| ScenarioSource::read(p)).collect::<std::io::Result<Vec<_>>>()?;
        Ok(Provenance {
            surgesim_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            command_line: std::env::args().collect(),
            date_utc: now_utc(),
            seed,
            replications,
            scenarios,
        })
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("provenance serialises");
        s.push('\n');
        s
    }
}

impl ScenarioSource {
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        Ok(ScenarioSource { path: path.display().to_string(), sha256, header: header_comment(&text), text })
    }
}

/// The leading comment block of a TOML file, `# ` removed, blank lines kept
/// inside it; stops at the first line that is neither a comment nor blank.
pub fn header_comment(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(c) = t.strip_prefix('#') {
            lines.push(c.strip_prefix(' ').unwrap_or(c).trim_end());
        } else if t.is_empty() && lines.is_empty() {
            continue;
        } else {
            break;
        }
    }
    lines.join("\n").trim_end().to_string()
}

fn now_utc() -> String {
    let secs =
        std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    chrono::DateTime::from_timestamp(secs, 0)
        .map_or_else(|| secs.to_string(), |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// The scenario files' header comments, and each whole file folded away.
pub fn scenario_files(p: &Provenance) -> String {
    let mut s = String::new();
    for (i, sc) in p.scenarios.iter().enumerate() {
        let role = match (p.scenarios.len(), i) {
            (1, _) => String::new(),
            (_, 0) => " (base)".to_string(),
            _ => format!(" (variant {i})"),
        };
        if !sc.header.is_empty() {
            let _ = writeln!(
                s,
                "<p>What the scenario file {}{} says about itself:</p><pre class=\"header\">{}</pre>",
                esc(&sc.path),
                esc(&role),
                esc(&sc.header)
            );
        }
        let _ = writeln!(
            s,
            "<details><summary>The scenario file {}{}</summary><pre class=\"src\">{}</pre></details>",
            esc(&sc.path),
            esc(&role),
            esc(&sc.text)
        );
    }
    s
}

/// The provenance list: from provenance.json when the folder has one, else
/// what the result files record, and a note of what is missing.
pub fn block(p: Option<&Provenance>, version: &str, seed: Option<u64>, replications: Option<u64>) -> String {
    let mut facts: Vec<(String, String)> = vec![("surgesim version".into(), version.to_string())];
    let seed = seed.or(p.and_then(|p| p.seed));
    let replications = replications.or(p.and_then(|p| p.replications));
    if let Some(seed) = seed {
        facts.push(("seed".into(), seed.to_string()));
    }
    if let Some(r) = replications {
        facts.push(("replications".into(), r.to_string()));
    }
    match p {
        Some(p) => {
            for sc in &p.scenarios {
                facts.push(("scenario file".into(), sc.path.clone()));
                facts.push(("its SHA-256".into(), sc.sha256.clone()));
            }
            facts.push(("command line".into(), shell_words(&p.command_line)));
            facts.push(("written".into(), p.date_utc.clone()));
        }
        None => facts.push((
            "not recorded".into(),
            "scenario file and hash, command line, date: the folder was written without --report, which records them in provenance.json".into(),
        )),
    }
    let mut s = String::from("<h3>Provenance</h3>\n<dl class=\"facts\">");
    for (k, v) in &facts {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    s.push_str("</dl>\n");
    s
}

/// The command line as a shell would take it back.
fn shell_words(args: &[String]) -> String {
    let safe = |a: &str| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    args.iter()
        .map(|a| if safe(a) { a.clone() } else { format!("'{}'", a.replace('\'', r"'\''")) })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_leading_comment_block() {
        let t = "\n# First line.\n#\n#   indented\nname = \"x\" # not this\n# nor this\n";
        assert_eq!(header_comment(t), "First line.\n\n  indented");
        assert_eq!(header_comment("name = \"x\"\n"), "");
    }

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let args = ["surgesim", "run", "a b.toml", "--set", "x='y'"].map(String::from);
        assert_eq!(shell_words(&args), r"surgesim run 'a b.toml' --set 'x='\''y'\'''");
    }
}
