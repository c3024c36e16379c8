//! Shell integration: `surgesim completions SHELL` and `surgesim man`.
//! The subcommands are read from `surgesim --help`, so a new subcommand
//! that the generated scripts or the page miss fails here.

use std::path::Path;
use std::process::{Command, Output};

fn surgesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_surgesim")).args(args).output().expect("cannot start surgesim")
}

fn stdout_of(args: &[&str]) -> String {
    let out = surgesim(args);
    assert!(
        out.status.success(),
        "surgesim {args:?} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is not UTF-8")
}

/// The names in the "Commands:" block of `surgesim --help`.
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let mut names = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end() == "Commands:" {
            inside = true;
        } else if inside {
            if !line.starts_with("  ") {
                break;
            }
            names.push(line.split_whitespace().next().unwrap().to_string());
        }
    }
    // Guard against a help layout this parser no longer understands: the
    // checks below would pass vacuously on an empty list.
    for must in ["run", "sweep", "merge", "completions", "man"] {
        assert!(names.iter().any(|n| n == must), "`{must}` not found in --help's commands: {names:?}\n{help}");
    }
    names
}

/// `word` occurs in `text` with no identifier character on either side.
fn mentions(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 200, "{shell} completion is almost empty:\n{script}");
        for name in &names {
            assert!(mentions(&script, name), "{shell} completion does not mention subcommand `{name}`");
        }
        assert!(script.contains("--vary"), "{shell} completion does not mention sweep's --vary");
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let out = surgesim(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tcsh") && err.contains("bash"), "{err}");
}

#[test]
fn man_is_roff_and_names_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".TH") || page.starts_with(".ie"), "not roff:\n{}", &page[..page.len().min(200)]);
    assert!(page.lines().any(|l| l.starts_with(".TH surgesim 1")), "no .TH surgesim 1 line");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS"] {
        assert!(page.lines().any(|l| l == section), "no `{section}`");
    }
    // `help` is clap's own subcommand; the page documents --help instead.
    for name in subcommands().iter().filter(|n| *n != "help") {
        let heading = format!(".SS \"surgesim {name}\"");
        assert!(page.lines().any(|l| l == heading), "no section for `{name}` (expected `{heading}`)");
    }
    // Flags of subcommands are on the page (roff escapes '-' as '\-').
    for flag in ["\\-\\-vary", "\\-\\-shard", "\\-\\-replications", "\\-\\-junit"] {
        assert!(page.contains(flag), "man page lacks {flag}");
    }
}

fn bash_present() -> bool {
    Command::new("bash").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Sources the bash completion, then runs `body` in the same shell.
fn in_bash_with_completion(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("surgesim.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).unwrap();
    let program = format!("set -e\nsource {}\n{body}", quote(&script));
    let out = Command::new("bash").arg("--norc").arg("--noprofile").arg("-c").arg(&program).output().unwrap();
    assert!(
        out.status.success(),
        "bash failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// What bash's completion function offers for the words `line` (the last
/// one being completed).
fn complete(line: &[&str]) -> Vec<String> {
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let cword = line.len() - 1;
    let prev = if cword > 0 { line[cword - 1] } else { "" };
    let body = format!(
        "COMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{joined}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         _surgesim surgesim '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = words.join(" "),
        joined = line.join(" "),
        cur = line[cword],
    );
    in_bash_with_completion(&body).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_registers_and_completes() {
    if !bash_present() {
        eprintln!("bash not found: skipping the bash completion check");
        return;
    }
    let registered = in_bash_with_completion("complete -p surgesim\n");
    assert!(
        registered.contains("-F _surgesim") && registered.trim_end().ends_with(" surgesim"),
        "complete -p surgesim printed: {registered}"
    );

    let offered = complete(&["surgesim", ""]);
    for name in subcommands() {
        assert!(offered.contains(&name), "`surgesim <TAB>` does not offer `{name}`: {offered:?}");
    }
    assert_eq!(complete(&["surgesim", "swe"]), ["sweep"], "`surgesim swe<TAB>`");
    assert_eq!(complete(&["surgesim", "sweep", "--va"]), ["--vary"], "`surgesim sweep --va<TAB>`");
    let shells = complete(&["surgesim", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_string()), "`surgesim completions <TAB>` lacks {shell}: {shells:?}");
    }
}
