//! [`ScenarioError`]: why a scenario could not be loaded, naming the file
//! and, where it can, the line or the field and what would be valid.

/// Why a scenario could not be loaded. Every variant names the file and,
/// where it can, the line or the field and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    // The cause is part of the message (and deliberately not a `source`,
    // which would print it twice in an error chain).
    #[error("cannot read scenario file {path}: {reason}")]
    Read { path: String, reason: std::io::Error },
    #[error("{path}: {reason}")]
    Toml { path: String, reason: toml::de::Error },
    #[error("{path}: field `{field}`: {msg}")]
    Invalid { path: String, field: String, msg: String },
    #[error("{path}: --set {arg}: {msg}")]
    Override { path: String, arg: String, msg: String },
    #[error("{path}: [overrides] {arg}: {msg}")]
    VariantOverride { path: String, arg: String, msg: String },
}
