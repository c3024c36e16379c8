//! One varied parameter: `path=FROM..TO:STEP` and the values it takes.
//!
//! Integers stay integers when FROM, TO and STEP are all written as
//! integers (`primary.workers=300..600:50`), so integer fields accept them;
//! otherwise every value is a float (`arrivals.spike.multiplier=1.5..4:0.5`).
//! TO is inclusive. Float values are computed as `FROM + i·STEP` (never by
//! accumulation) and rounded to 12 significant digits, so `0.1..0.3:0.1`
//! is exactly `0.1, 0.2, 0.3` and TO is not lost to drift.

use std::fmt;

use crate::fmt::num;

/// Largest number of values one axis may take.
pub const MAX_VALUES: usize = 1_000_000;

/// Why a range is malformed. Every variant names the flag and the range as
/// written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AxisError {
    #[error("{flag} {arg}: {msg}; expected PATH=FROM..TO:STEP, e.g. primary.workers=300..600:50")]
    Syntax { flag: String, arg: String, msg: String },
    #[error("{flag} {arg}: the range is empty: TO ({to}) is below FROM ({from})")]
    Empty { flag: String, arg: String, from: String, to: String },
    #[error("{flag} {arg}: STEP must be positive, not {step}")]
    Step { flag: String, arg: String, step: String },
    #[error("{flag} {arg}: {count} values is more than {MAX_VALUES}; use a larger STEP")]
    TooMany { flag: String, arg: String, count: f64 },
}

/// One value of an axis.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum AxisValue {
    Int(i64),
    Float(f64),
}

impl AxisValue {
    pub fn as_f64(self) -> f64 {
        match self {
            AxisValue::Int(i) => i as f64,
            AxisValue::Float(f) => f,
        }
    }

    /// The value as a TOML value for the scenario tree.
    pub fn to_toml(self) -> toml::Value {
        match self {
            AxisValue::Int(i) => toml::Value::Integer(i),
            AxisValue::Float(f) => toml::Value::Float(f),
        }
    }
}

impl fmt::Display for AxisValue {
    /// Integers as integers; floats in the shortest exact form (`2` for 2.0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Int(i) => f.pad(&i.to_string()),
            AxisValue::Float(x) => f.pad(&num(*x)),
        }
    }
}

/// Rounds to 12 significant digits: removes the drift of `FROM + i·STEP`.
pub fn round12(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// A numeric range as written: bounds and an optional step.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    /// Dotted scenario path.
    pub path: String,
    pub from: AxisValue,
    pub to: AxisValue,
    pub step: Option<AxisValue>,
    /// The argument as written (for messages and manifests).
    pub arg: String,
}

impl AxisValue {
    /// Reads a number: an integer when written as one, else a finite float.
    pub fn parse(text: &str) -> Option<AxisValue> {
        number(text)
    }
}

fn number(text: &str) -> Option<AxisValue> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(AxisValue::Int(i));
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite()).map(AxisValue::Float)
}

impl Range {
    /// Parses `path=FROM..TO` or `path=FROM..TO:STEP`.
    pub fn parse(flag: &str, arg: &str) -> Result<Range, AxisError> {
        let syntax = |msg: String| AxisError::Syntax { flag: flag.into(), arg: arg.into(), msg };
        let (path, range) = arg.split_once('=').ok_or_else(|| syntax("no `=`".into()))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(|p| p.trim().is_empty()) {
            return Err(syntax(format!("malformed path {path:?}")));
        }
        let (from, rest) = range.split_once("..").ok_or_else(|| syntax("no `..` between FROM and TO".into()))?;
        let (to, step) = match rest.split_once(':') {
            Some((t, s)) => (t, Some(s)),
            None => (rest, None),
        };
        let num_of = |what: &str, text: &str| {
            number(text).ok_or_else(|| syntax(format!("{what} {:?} is not a finite number", text.trim())))
        };
        let from = num_of("FROM", from)?;
        let to = num_of("TO", to)?;
        let step = step.map(|s| num_of("STEP", s)).transpose()?;
        Ok(Range { path: path.to_string(), from, to, step, arg: arg.to_string() })
    }
}

/// A validated axis: a path and its values, in increasing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    /// The range as written, `path=FROM..TO:STEP`.
    pub arg: String,
    /// The flag it came from (`--vary`, `--frontier`), for messages.
    pub flag: String,
    pub from: AxisValue,
    pub to: AxisValue,
    pub step: AxisValue,
    /// Invariant: at least one value, strictly increasing.
    pub values: Vec<AxisValue>,
}

impl Axis {
    /// Parses `path=FROM..TO:STEP` (STEP required).
    pub fn parse(flag: &str, arg: &str) -> Result<Axis, AxisError> {
        let r = Range::parse(flag, arg)?;
        let Some(step) = r.step else {
            return Err(AxisError::Syntax { flag: flag.into(), arg: arg.into(), msg: "no `:STEP`".into() });
        };
        Axis::new(flag, &r, step)
    }

    /// Builds the axis of `range` with `step` (the range's own step is ignored).
    pub fn new(flag: &str, range: &Range, step: AxisValue) -> Result<Axis, AxisError> {
        let (flag_s, arg) = (flag.to_string(), range.arg.clone());
        let (from, to) = (range.from, range.to);
        if step.as_f64() <= 0.0 || step.as_f64().is_nan() {
            return Err(AxisError::Step { flag: flag_s, arg, step: step.to_string() });
        }
        if to.as_f64() < from.as_f64() {
            return Err(AxisError::Empty { flag: flag_s, arg, from: from.to_string(), to: to.to_string() });
        }
        let values = match (from, to, step) {
            (AxisValue::Int(a), AxisValue::Int(b), AxisValue::Int(s)) => {
                let count = ((b as i128 - a as i128) / s as i128 + 1) as f64;
                if count > MAX_VALUES as f64 {
                    return Err(AxisError::TooMany { flag: flag_s, arg, count });
                }
                (0..count as i64).map(|i| AxisValue::Int(a + i * s)).collect()
            }
            _ => {
                let (a, b, s) = (from.as_f64(), to.as_f64(), step.as_f64());
                // The tolerance keeps TO when (TO − FROM)/STEP is an integer
                // up to rounding (e.g. (4 − 1.5)/0.5 or (0.3 − 0.1)/0.1).
                let steps = ((b - a) / s + 1e-9).floor();
                if steps + 1.0 > MAX_VALUES as f64 {
                    return Err(AxisError::TooMany { flag: flag_s, arg, count: steps + 1.0 });
                }
                (0..=steps as u64).map(|i| AxisValue::Float(round12(a + i as f64 * s))).collect()
            }
        };
        Ok(Axis { path: range.path.clone(), arg: range.arg.clone(), flag: flag.to_string(), from, to, step, values })
    }

    /// The axis with TO appended when the step does not land on it (as
    /// `10..30` with step 7, or with step 100): a search over FROM..TO then
    /// always has TO among its candidates. TO is the last value either way.
    pub fn ending_at_to(mut self) -> Axis {
        let last = self.values[self.values.len() - 1];
        if last.as_f64() < self.to.as_f64() {
            let to = match last {
                AxisValue::Int(_) => self.to,
                AxisValue::Float(_) => AxisValue::Float(round12(self.to.as_f64())),
            };
            if to.as_f64() > last.as_f64() {
                self.values.push(to);
            }
        }
        self
    }

    /// True when TO is a value the step does not land on (see
    /// [`Axis::ending_at_to`]).
    pub fn to_off_step(&self) -> bool {
        match self.values.as_slice() {
            [.., before, last] => last.as_f64() - before.as_f64() < self.step.as_f64() * (1.0 - 1e-9),
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when the values are integers.
    pub fn is_int(&self) -> bool {
        matches!(self.step, AxisValue::Int(_)) && matches!(self.from, AxisValue::Int(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(arg: &str) -> Vec<String> {
        Axis::parse("--vary", arg).unwrap().values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn integer_and_float_ranges_include_to_without_drift() {
        assert_eq!(vals("primary.workers=300..450:50"), ["300", "350", "400", "450"]);
        assert_eq!(vals("primary.workers=300..449:50"), ["300", "350", "400"]);
        assert_eq!(vals("a.m=1.5..4:0.5"), ["1.5", "2", "2.5", "3", "3.5", "4"]);
        assert_eq!(vals("a.x=0.1..0.3:0.1"), ["0.1", "0.2", "0.3"]);
        assert_eq!(vals("a.x=0..1:0.1").len(), 11);
        assert_eq!(vals("a.x=-2..2:2"), ["-2", "0", "2"]);
        assert_eq!(vals("a.x=5..5:1"), ["5"]);
        let a = Axis::parse("--vary", "a.m=2..4:0.5").unwrap();
        assert_eq!(a.values[0], AxisValue::Float(2.0));
        assert!(!a.is_int());
    }

    #[test]
    fn ending_at_to_adds_to_only_when_the_step_misses_it() {
        let ends = |arg: &str| {
            let a = Axis::parse("--vary", arg).unwrap().ending_at_to();
            (a.values.iter().map(|v| v.to_string()).collect::<Vec<_>>(), a.to_off_step())
        };
        assert_eq!(ends("w=10..30:100"), (vec!["10".to_string(), "30".into()], true));
        assert_eq!(ends("w=10..30:7"), (["10", "17", "24", "30"].map(String::from).to_vec(), true));
        assert_eq!(ends("w=10..30:5"), (["10", "15", "20", "25", "30"].map(String::from).to_vec(), false));
        assert_eq!(ends("w=5..5:3"), (vec!["5".to_string()], false));
        assert_eq!(ends("m=1..2:0.3"), (["1", "1.3", "1.6", "1.9", "2"].map(String::from).to_vec(), true));
        assert_eq!(ends("m=0.1..0.3:0.1"), (["0.1", "0.2", "0.3"].map(String::from).to_vec(), false));
        let mixed = Axis::parse("--vary", "w=10..30:7.5").unwrap().ending_at_to();
        assert_eq!(mixed.values.last(), Some(&AxisValue::Float(30.0)));
    }

    #[test]
    fn malformed_ranges_name_the_flag_and_argument() {
        for (arg, needle) in [
            ("primary.workers=600..300:50", "empty"),
            ("primary.workers=300..600:0", "positive"),
            ("primary.workers=300..600:-5", "positive"),
            ("primary.workers=300..600", "STEP"),
            ("primary.workers=a..600:5", "FROM"),
            ("primary.workers", "="),
            ("=1..2:1", "path"),
            ("x=1..1e9:0.0001", "more than"),
        ] {
            let e = Axis::parse("--vary", arg).unwrap_err().to_string();
            assert!(e.contains("--vary") && e.contains(arg) && e.contains(needle), "{arg}: {e}");
        }
    }
}
