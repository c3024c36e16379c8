//! Reading a scenario file (with `--set` overrides) into a [`Scenario`].

use std::path::{Path, PathBuf};

use super::overrides::{apply_overrides, Override};
use super::raw::RawScenario;
use super::validate::validate;
use super::Scenario;

/// Why a scenario could not be loaded. Every variant names the file and,
/// where it can, the line or the field and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Toml { path: String, source: toml::de::Error },
    #[error("{path}: field `{field}`: {msg}")]
    Invalid { path: String, field: String, msg: String },
    #[error("{path}: --set {arg}: {msg}")]
    Override { path: String, arg: String, msg: String },
}

/// Loads, overrides and validates the scenario at `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: shown.clone(), source })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, &shown, &base, overrides)
}

/// As [`load`], from text; `shown` names the source in errors and `base` is
/// the folder relative file references are resolved against.
pub fn load_str(text: &str, shown: &str, base: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let toml_err = |source| ScenarioError::Toml { path: shown.to_string(), source };
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
