//! Shell integration: `surgesim completions SHELL` (clap_complete) and
//! `surgesim man` (one roff page, clap_mangen), both generated from the
//! clap definitions in `cli/mod.rs`, so they never drift from the flags.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// Shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {}

/// Writes the completion script for `args.shell` to stdout.
///
/// bash: `source <(surgesim completions bash)`, or save it as
/// `~/.local/share/bash-completion/completions/surgesim`.
pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = super::Cli::command();
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut out);
    emit(&out)
}

/// Writes one man page (roff) to stdout: the top-level page, then a
/// COMMANDS section with each subcommand's synopsis and options.
pub fn man(_args: ManArgs) -> Result<ExitCode> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let top = Man::new(cmd.clone());
    let mut out = Vec::new();
    top.render_title(&mut out)?;
    top.render_name_section(&mut out)?;
    top.render_synopsis_section(&mut out)?;
    top.render_description_section(&mut out)?;
    top.render_options_section(&mut out)?;
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page = Man::new(sub.clone());
        let bin = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        out.extend_from_slice(format!(".SS \"{}\"\n", roff_text(bin)).as_bytes());
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            out.extend_from_slice(format!("{}\n", roff_text(&about.to_string())).as_bytes());
        }
        let mut part = Vec::new();
        page.render_synopsis_section(&mut part)?;
        page.render_options_section(&mut part)?;
        out.extend_from_slice(&demote_headings(&part));
    }
    top.render_version_section(&mut out)?;
    emit(&out)
}

/// Inside a subcommand's part, `.SH NAME` headings would start new top-level
/// sections; they become an indented bold label instead.
fn demote_headings(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.strip_prefix(".SH ") {
            Some(heading) => {
                let lower = heading.trim_matches('"').to_lowercase();
                let mut chars = lower.chars();
                let label: String = chars.next().into_iter().flat_map(char::to_uppercase).chain(chars).collect();
                out.push_str(&format!(".PP\n\\fB{}:\\fR\n", roff_text(&label)));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

/// Text safe to put on a roff line: backslashes escaped, no leading control
/// character.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

fn emit(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `surgesim man | head` closes the pipe early: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write to stdout"),
    }
}
