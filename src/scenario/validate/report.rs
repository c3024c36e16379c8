//! `[report]`: the service-level thresholds and the labels their metrics
//! are named by.
//!
//! The metrics exist when the scenario can queue (`[admission]` lets calls
//! wait) or when thresholds are listed explicitly; otherwise there are
//! none, so scenarios without a queue keep every output byte.

use super::ctx::{Ctx, R};
use crate::observe::MAX_SERVICE_LEVELS;
use crate::scenario::raw::RawReport;
use crate::time::{parse_duration, Tick};

/// The thresholds used when a queueing scenario lists none: 20 s, the
/// "80 % within 20 s" service level of call-centre practice.
pub const DEFAULT_THRESHOLD: &str = "20s";

const FIELD: &str = "report.service_level_thresholds";

/// The thresholds with their labels, in the order written; empty when the
/// scenario cannot queue and lists none.
pub(crate) fn validate_service_levels(cx: &Ctx, r: Option<&RawReport>, waits: bool) -> R<Vec<(String, Tick)>> {
    let listed = r.and_then(|r| r.service_level_thresholds.as_ref());
    let Some(values) = listed else {
        if !waits {
            return Ok(Vec::new());
        }
        let t = parse_duration(DEFAULT_THRESHOLD).expect("the default threshold parses");
        return Ok(vec![(DEFAULT_THRESHOLD.to_string(), t)]);
    };
    if values.is_empty() || values.len() > MAX_SERVICE_LEVELS {
        return cx.err(FIELD, format!("{} thresholds: expected 1 to {MAX_SERVICE_LEVELS}", values.len()));
    }
    let mut out: Vec<(String, Tick)> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let field = format!("{FIELD}[{i}]");
        let (label, t) = threshold(v).map_err(|m| cx.invalid(&field, m))?;
        if let Some((other, _)) = out.iter().find(|(l, u)| *u == t || *l == label) {
            return cx.err(field, format!("{label:?} repeats the threshold {other:?}"));
        }
        out.push((label, t));
    }
    Ok(out)
}

/// One threshold and its label: a duration string as written (spaces
/// dropped, `.` written `p`: `"1.5s"` → `1p5s`), or a number of seconds
/// (`20` → `20s`).
fn threshold(v: &toml::Value) -> Result<(String, Tick), String> {
    let expect = "expected a duration of at least 0s such as \"20s\", \"1m30s\" or a number of seconds";
    let (text, label) = match v {
        toml::Value::String(s) => (s.clone(), s.clone()),
        toml::Value::Integer(n) => (n.to_string(), format!("{n}s")),
        toml::Value::Float(x) => (x.to_string(), format!("{x}s")),
        other => return Err(format!("{other}: {expect}")),
    };
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("{text:?} is negative: {expect}"));
    }
    let tick = parse_duration(t).map_err(|_| format!("{text:?} is not a duration: {expect}"))?;
    let label: String = label.chars().filter(|c| !c.is_whitespace()).map(|c| if c == '.' { 'p' } else { c }).collect();
    if !label.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{text:?}: {expect}"));
    }
    Ok((label.to_ascii_lowercase(), tick))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_text() {
        let s = |x: &str| threshold(&toml::Value::String(x.into())).map(|(l, t)| (l, t.0));
        assert_eq!(s("20s"), Ok(("20s".into(), 20_000_000)));
        assert_eq!(s("1m30s"), Ok(("1m30s".into(), 90_000_000)));
        assert_eq!(s("1.5s"), Ok(("1p5s".into(), 1_500_000)));
        assert_eq!(threshold(&toml::Value::Integer(20)).map(|(l, _)| l), Ok("20s".into()));
        assert!(s("-5s").unwrap_err().contains("negative"));
        assert!(s("soon").unwrap_err().contains("not a duration"));
        assert!(threshold(&toml::Value::Integer(-3)).unwrap_err().contains("negative"));
    }
}
