//! Number formatting shared by every file and table surgesim writes: the
//! shortest exact form of a float, and a rounding to significant digits.
//! A leaf: sweeps, fits and reports all use it without importing each other.

/// Formats a float for CSV/terminal: the shortest exact form, integers
/// without a fraction.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return String::new();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Rounds to `digits` significant digits for display.
pub fn sig(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return num(v);
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
