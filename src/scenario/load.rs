//! Reading a scenario file (with `--set` overrides) into a [`Scenario`].

use std::path::{Path, PathBuf};

use super::error::{ScenarioError, Show};
use super::overrides::{apply_overrides, Override};
use super::raw::RawScenario;
use super::validate::validate;
use super::Scenario;

/// Loads, overrides and validates the scenario at `path`.
///
/// A file whose top level has `extends = "other.toml"` is a *variant*: the
/// other scenario with `name`, `description` and the dotted-path edits of
/// its `[overrides]` table applied (e.g. `"fallback.runtime_arch" =
/// "arm64"`). Relative files (traces, rate files) resolve against the
/// folder of the scenario that names them.
///
/// Every value a message quotes is cut short (see
/// [`crate::input::clip_quoted`]); nothing of a file that is not a
/// scenario (what `extends` names, a trace, a rate file) is quoted.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let r = read_variant(path, overrides, 0).map_err(ScenarioError::clipped)?;
    // A plain file still has the command-line overrides to apply (so that
    // its own errors carry line numbers); a variant has them applied, and
    // its text is put together, so no line of it is shown.
    if r.overrides_applied {
        load_text(&r.text, &r.shown, &r.base, &[], Show::Nothing)
    } else {
        load_text(&r.text, &r.shown, &r.base, overrides, Show::Line)
    }
}

/// A scenario text with its `extends` chain resolved.
struct Resolved {
    text: String,
    shown: String,
    base: PathBuf,
    overrides_applied: bool,
}

/// Resolves `extends` chains into one scenario text (with the command-line
/// overrides applied last), plus the name and folder to report and resolve
/// against.
fn read_variant(path: &Path, overrides: &[Override], depth: u32) -> Result<Resolved, ScenarioError> {
    let shown = path.display().to_string();
    let text = crate::input::read_text(path).map_err(|reason| ScenarioError::Read { path: shown.clone(), reason })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // A file that `extends` names is not known to be a scenario: an error
    // names its line and column, never its content.
    let show = if depth == 0 { Show::Line } else { Show::Position };
    let table: toml::Table = toml::from_str(&text).map_err(|e| ScenarioError::toml(&shown, &text, &e, show))?;
    let invalid = |field: &str, msg: String| ScenarioError::Invalid { path: shown.clone(), field: field.into(), msg };
    let Some(parent) = table.get("extends") else {
        return Ok(Resolved { text, shown, base, overrides_applied: false });
    };
    if depth >= 8 {
        return Err(invalid("extends", "more than 8 levels of `extends`: is there a cycle?".into()));
    }
    let Some(parent) = parent.as_str() else {
        return Err(invalid("extends", "expected the path of the scenario this one varies".into()));
    };
    for key in table.keys() {
        if !["extends", "name", "description", "overrides"].contains(&key.as_str()) {
            return Err(invalid(key, "a variant (with `extends`) takes only name, description and [overrides]".into()));
        }
    }
    let parent_path = base.join(parent);
    let parent = read_variant(&parent_path, &[], depth + 1).map_err(|e| match e {
        ScenarioError::Read { path, reason } => {
            invalid("extends", format!("cannot read the scenario it extends, {path}: {reason}"))
        }
        ScenarioError::Toml { path, msg } => {
            invalid("extends", format!("{path} is not a scenario file (not TOML): {msg}"))
        }
        other => other,
    })?;
    let mut merged: toml::Table = toml::from_str(&parent.text)
        .map_err(|e| ScenarioError::toml(&parent.shown, &parent.text, &e, Show::Nothing))?;
    for key in ["name", "description"] {
        if let Some(v) = table.get(key) {
            merged.insert(key.into(), v.clone());
        }
    }
    let mut edits = Vec::new();
    if let Some(o) = table.get("overrides") {
        let Some(o) = o.as_table() else {
            return Err(invalid("overrides", "expected a table of \"dotted.path\" = value".into()));
        };
        for (k, v) in o {
            // A relative file named here resolves against this variant's folder.
            let value = match v {
                toml::Value::String(f)
                    if (k.ends_with(".file") || k.ends_with("rate_file")) && Path::new(f).is_relative() =>
                {
                    let abs = std::path::absolute(base.join(f)).unwrap_or_else(|_| base.join(f));
                    toml::Value::String(abs.display().to_string())
                }
                v => v.clone(),
            };
            edits.push(Override { path: k.clone(), value });
        }
    }
    apply(&mut merged, &edits, &shown).map_err(|e| match e {
        ScenarioError::Override { path, arg, msg } => ScenarioError::VariantOverride { path, arg, msg },
        other => other,
    })?;
    apply(&mut merged, overrides, &shown)?;
    let text = toml::to_string(&merged).expect("a TOML table serialises");
    Ok(Resolved { text, shown, base: parent.base, overrides_applied: true })
}

fn apply(table: &mut toml::Table, overrides: &[Override], shown: &str) -> Result<(), ScenarioError> {
    apply_overrides(table, overrides).map_err(|(arg, msg)| ScenarioError::Override {
        path: shown.to_string(),
        arg,
        msg,
    })?;
    if !overrides.is_empty() {
        RawScenario::deserialize_table(table.clone()).map_err(|e| ScenarioError::Override {
            path: shown.to_string(),
            arg: overrides.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(" --set "),
            msg: e.message().to_string(),
        })?;
    }
    Ok(())
}

/// As [`load`], from text; `shown` names the source in errors and `base` is
/// the folder relative file references are resolved against.
pub fn load_str(text: &str, shown: &str, base: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    load_text(text, shown, base, overrides, Show::Line)
}

fn load_text(
    text: &str,
    shown: &str,
    base: &Path,
    overrides: &[Override],
    show: Show,
) -> Result<Scenario, ScenarioError> {
    load_unclipped(text, shown, base, overrides, show).map_err(ScenarioError::clipped)
}

fn load_unclipped(
    text: &str,
    shown: &str,
    base: &Path,
    overrides: &[Override],
    show: Show,
) -> Result<Scenario, ScenarioError> {
    let toml_err = |e: toml::de::Error| ScenarioError::toml(shown, text, &e, show);
    // Parse the text as written first, so errors carry line and column.
    let raw: RawScenario = toml::from_str(text).map_err(toml_err)?;
    let raw = if overrides.is_empty() {
        raw
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(toml_err)?;
        apply_overrides(&mut table, overrides).map_err(|(arg, msg)| ScenarioError::Override {
            path: shown.to_string(),
            arg,
            msg,
        })?;
        RawScenario::deserialize_table(table).map_err(|e| ScenarioError::Override {
            path: shown.to_string(),
            arg: overrides.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(" --set "),
            msg: e.message().to_string(),
        })?
    };
    validate(raw, shown, &resolve_base(base))
}

fn resolve_base(base: &Path) -> PathBuf {
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base.to_path_buf()
    }
}

impl RawScenario {
    fn deserialize_table(table: toml::Table) -> Result<RawScenario, toml::de::Error> {
        // Round-trip through text: the deserializer for text is the one whose
        // behaviour (and error messages) the file path already exercised.
        let text = toml::to_string(&table).expect("a TOML table serialises");
        toml::from_str(&text)
    }
}
