//! `--set path=value` and `--vary path=…`: edits of the scenario's TOML
//! tree before validation, so that every field is addressable and every
//! override is checked exactly as the file is.
//!
//! A path is dotted: `primary.workers`, `fallback.canary.interval`. Array
//! elements are addressed by index (`classes.0.share`) or, for tables with a
//! `name`, by name (`classes.short.share`).

use std::fmt;
use std::str::FromStr;

use toml::{Table, Value};

/// One `path=value` edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: Value,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::String(s) => write!(f, "{}={}", self.path, s),
            v => write!(f, "{}={}", self.path, v),
        }
    }
}

impl FromStr for Override {
    type Err = String;

    /// `path=value`; the value is read as TOML (`400`, `0.7`, `true`,
    /// `[1, 2]`, `{ degraded = 0.3 }`) and otherwise taken as a string
    /// (`4m`, `broken`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (path, value) =
            s.split_once('=').ok_or_else(|| format!("{s:?}: expected path=value, e.g. primary.workers=400"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("{s:?}: malformed path {path:?}: expected dotted names, e.g. primary.workers"));
        }
        Ok(Override { path: path.to_string(), value: parse_value(value.trim()) })
    }
}

/// A command-line value as TOML, or as a string when it is not TOML.
pub fn parse_value(text: &str) -> Value {
    match toml::from_str::<Table>(&format!("v = {text}")) {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// Applies the overrides in order. On failure returns the offending
/// override (as written) and why.
pub fn apply_overrides(root: &mut Table, overrides: &[Override]) -> Result<(), (String, String)> {
    for o in overrides {
        set_path(root, &o.path, o.value.clone()).map_err(|msg| (o.to_string(), msg))?;
    }
    Ok(())
}

/// Sets `path` in `root`, creating missing tables on the way (validation
/// then rejects names that are not scenario fields).
pub fn set_path(root: &mut Table, path: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut tree = Value::Table(std::mem::take(root));
    let result = set_in(&mut tree, &parts, 0, value);
    if let Value::Table(t) = tree {
        *root = t;
    }
    result
}

fn set_in(cur: &mut Value, parts: &[&str], i: usize, value: Value) -> Result<(), String> {
    let part = parts[i];
    let last = i + 1 == parts.len();
    let here = parts[..i].join(".");
    let next = match cur {
        Value::Table(t) => {
            if last {
                t.insert(part.to_string(), value);
                return Ok(());
            }
            t.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()))
        }
        Value::Array(items) => {
            let idx = match part.parse::<usize>() {
                Ok(k) => k,
                Err(_) => items
                    .iter()
                    .position(|v| v.get("name").and_then(Value::as_str) == Some(part))
                    .ok_or_else(|| format!("`{here}` has no element named {part:?}"))?,
            };
            let n = items.len();
            let item =
                items.get_mut(idx).ok_or_else(|| format!("`{here}` has {n} elements; index {idx} is out of range"))?;
            if last {
                *item = value;
                return Ok(());
            }
            item
        }
        _ => return Err(format!("`{here}` is a value, not a table: cannot set `{part}` inside it")),
    };
    set_in(next, parts, i + 1, value)
}

/// Reads the value at `path`, if present.
pub fn get_path<'a>(root: &'a Table, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = root.get(parts.next()?)?;
    for part in parts {
        cur = match cur {
            Value::Table(t) => t.get(part)?,
            Value::Array(items) => match part.parse::<usize>() {
                Ok(k) => items.get(k)?,
                Err(_) => items.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(part))?,
            },
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn sets_nested_fields_and_array_elements_by_index_or_name() {
        let mut t = table("[primary]\nworkers = 3\n[[classes]]\nname = \"short\"\nshare = 1.0\n");
        let ovs: Vec<Override> =
            ["primary.workers=400", "classes.short.share=0.5", "classes.0.name=s", "fallback.health=broken"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        apply_overrides(&mut t, &ovs).unwrap();
        assert_eq!(get_path(&t, "primary.workers"), Some(&Value::Integer(400)));
        assert_eq!(get_path(&t, "classes.0.share"), Some(&Value::Float(0.5)));
        assert_eq!(get_path(&t, "classes.s.share"), Some(&Value::Float(0.5)));
        assert_eq!(get_path(&t, "fallback.health"), Some(&Value::String("broken".into())));
    }

    #[test]
    fn rejects_paths_through_values_and_missing_elements() {
        let mut t = table("[primary]\nworkers = 3\n[[classes]]\nname = \"short\"\n");
        assert!(set_path(&mut t, "primary.workers.x", Value::Integer(1)).is_err());
        assert!(set_path(&mut t, "classes.long.share", Value::Integer(1)).is_err());
        assert!(set_path(&mut t, "classes.3.share", Value::Integer(1)).is_err());
        assert!("noequals".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }
}
