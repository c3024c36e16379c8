//! SVG in the page: plots surgesim wrote, rebuilt through a whitelist of
//! elements and attributes before they are inlined (so a tampered file can
//! carry no script, link or external reference), and the bar chart of
//! saved calls drawn here.

use std::fmt::Write as _;

use super::esc;
use super::read::Est;
use crate::report::sig;

const ELEMENTS: [&str; 11] =
    ["svg", "g", "rect", "text", "tspan", "polyline", "polygon", "line", "circle", "ellipse", "path"];
const ATTRIBUTES: [&str; 35] = [
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "width",
    "height",
    "viewBox",
    "points",
    "d",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "fill-opacity",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "dy",
    "dx",
    "transform",
];

/// Decodes the XML entities of attribute values and text.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').ok_or("an unterminated entity")? + i;
        let ent = &rest[i + 1..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).ok_or("an unknown entity")?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Rebuilds an SVG document from the elements and attributes surgesim's
/// plots use; anything else is refused (an element) or dropped (an
/// attribute, including every `on…` handler, `href` and `style`). The root
/// loses its fixed size (CSS scales it) and gets `label` as its name.
pub fn sanitize(svg: &str, label: &str) -> Result<String, String> {
    let mut out = String::with_capacity(svg.len());
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg.trim_start_matches('\u{feff}');
    let mut seen_root = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>").ok_or("an unterminated declaration")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->").ok_or("an unterminated comment")? + 3..];
        } else if rest.starts_with("<!") {
            return Err("a DOCTYPE or CDATA section".into());
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("an unterminated closing tag")?;
            let name = r[..end].trim();
            if stack.pop().as_deref() != Some(name) {
                return Err(format!("a misplaced closing tag </{name}>"));
            }
            let _ = write!(out, "</{name}>");
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('<') {
            let name_end = r.find(|c: char| c.is_whitespace() || c == '>' || c == '/').ok_or("an unterminated tag")?;
            let name = &r[..name_end];
            if !ELEMENTS.contains(&name) {
                return Err(format!("an element <{name}> surgesim's plots do not use"));
            }
            let root = !seen_root;
            if root && name != "svg" {
                return Err("no <svg> root element".into());
            }
            if stack.is_empty() && seen_root {
                return Err("content after the root element".into());
            }
            seen_root = true;
            let _ = write!(out, "<{name}");
            if root {
                let _ = write!(out, " class=\"wide\" role=\"img\" aria-label=\"{}\"", esc(label));
            }
            let mut a = &r[name_end..];
            let self_closing;
            loop {
                a = a.trim_start();
                if let Some(x) = a.strip_prefix("/>") {
                    self_closing = true;
                    a = x;
                    break;
                }
                if let Some(x) = a.strip_prefix('>') {
                    self_closing = false;
                    a = x;
                    break;
                }
                let eq = a.find('=').ok_or("an attribute without a value")?;
                let key = a[..eq].trim();
                let v = a[eq + 1..].trim_start();
                let q = v.chars().next().filter(|c| *c == '"' || *c == '\'').ok_or("an unquoted attribute")?;
                let close = v[1..].find(q).ok_or("an unterminated attribute value")? + 1;
                let value = unescape(&v[1..close])?;
                a = &v[close + 1..];
                let sized = root && (key == "width" || key == "height");
                if ATTRIBUTES.contains(&key) && !sized && !value.contains("url(") {
                    let _ = write!(out, " {key}=\"{}\"", esc(&value));
                }
            }
            if self_closing {
                out.push_str("/>");
            } else {
                out.push('>');
                stack.push(name.to_string());
            }
            rest = a;
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if stack.is_empty() {
                if !text.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            } else {
                out.push_str(&esc(&unescape(text)?));
            }
            rest = &rest[end..];
        }
    }
    if !seen_root || !stack.is_empty() {
        return Err("an incomplete SVG document".into());
    }
    Ok(out)
}

/// Tick positions covering `lo..hi` at a 1-2-5 step.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| span / s <= 6.0).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 20 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Horizontal bars of `mean` with their interval as whiskers, one per label.
pub fn bar_chart(title: &str, axis: &str, bars: &[(String, Est)]) -> String {
    let (w, row, top, bottom) = (760.0, 30.0, 34.0, 46.0);
    let left = 230.0;
    let right = 90.0;
    let h = top + bottom + row * bars.len() as f64;
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for (_, e) in bars {
        let [a, b] = e.ci95.unwrap_or([e.mean, e.mean]);
        for v in [e.mean, a, b] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }
    let ts = ticks(lo, hi);
    lo = lo.min(ts[0]);
    hi = hi.max(*ts.last().unwrap_or(&hi));
    let x = |v: f64| left + (v - lo) / (hi - lo) * (w - left - right);
    let mut s = String::new();
    let _ = write!(s, "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">", esc(title));
    let _ = write!(s, "<text x=\"{left}\" y=\"20\" class=\"ct\">{}</text>", esc(title));
    let axis_y = top + row * bars.len() as f64;
    for t in &ts {
        let tx = x(*t);
        let _ = write!(
            s,
            "<line x1=\"{tx:.1}\" y1=\"{top}\" x2=\"{tx:.1}\" y2=\"{axis_y}\" class=\"grid\"/><text x=\"{tx:.1}\" y=\"{:.1}\" class=\"tick\">{}</text>",
            axis_y + 16.0,
            esc(&sig(*t, 4))
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"al\">{}</text>",
        (left + w - right) / 2.0,
        axis_y + 36.0,
        esc(axis)
    );
    for (i, (label, e)) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let shown: String =
            if label.chars().count() > 32 { label.chars().take(31).chain(['…']).collect() } else { label.clone() };
        let _ = write!(s, "<g><title>{}</title>", esc(&format!("{label}: {}", interval_text(e))));
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"bl\">{}</text>",
            left - 8.0,
            y + row / 2.0 + 4.0,
            esc(&shown)
        );
        if e.mean.is_finite() {
            let (a, b) = (x(0.0), x(e.mean));
            let cls = if e.mean < 0.0 { "bar neg" } else { "bar" };
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"{cls}\"/>",
                a.min(b),
                y + 6.0,
                (b - a).abs().max(0.5),
                row - 12.0
            );
        }
        let mut end = x(e.mean.max(0.0));
        if let Some([l, u]) = e.ci95.filter(|c| c[0].is_finite() && c[1].is_finite()) {
            let (xl, xu, ym) = (x(l), x(u), y + row / 2.0);
            let _ = write!(
                s,
                "<path d=\"M{xl:.1} {:.1}V{:.1}M{xl:.1} {ym:.1}H{xu:.1}M{xu:.1} {:.1}V{:.1}\" class=\"ci\"/>",
                ym - 6.0,
                ym + 6.0,
                ym - 6.0,
                ym + 6.0
            );
            end = end.max(xu);
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"bv\">{}</text></g>",
            end + 6.0,
            y + row / 2.0 + 4.0,
            esc(&sig(e.mean, 4))
        );
    }
    let z = x(0.0);
    let _ = write!(s, "<line x1=\"{z:.1}\" y1=\"{top}\" x2=\"{z:.1}\" y2=\"{axis_y}\" class=\"zero\"/></svg>");
    s
}

/// `mean [lo, hi]` for titles and cells.
pub fn interval_text(e: &Est) -> String {
    match e.ci95 {
        Some([l, u]) if l.is_finite() && u.is_finite() => format!("{} [{}, {}]", sig(e.mean, 5), sig(l, 4), sig(u, 4)),
        _ => sig(e.mean, 6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_plot_markup_and_drops_the_rest() {
        let svg = r##"<?xml version="1.0"?><svg width="10" height="5" viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg" onload="x()"><rect x="0" fill="#FFF" style="a"/><text x="1">a &amp; b &lt;c&gt;</text></svg>"##;
        let out = sanitize(svg, "t<").unwrap();
        assert_eq!(
            out,
            "<svg class=\"wide\" role=\"img\" aria-label=\"t&lt;\" viewBox=\"0 0 10 5\"><rect x=\"0\" fill=\"#FFF\"/><text x=\"1\">a &amp; b &lt;c&gt;</text></svg>"
        );
    }

    #[test]
    fn sanitize_refuses_scripts_and_links() {
        assert!(sanitize("<svg><script>alert(1)</script></svg>", "").is_err());
        assert!(sanitize("<svg><a href=\"http://x\"><rect/></a></svg>", "").is_err());
        assert!(sanitize("<svg><image href=\"http://x\"/></svg>", "").is_err());
        assert!(sanitize("<svg><rect></svg>", "").is_err());
        assert!(sanitize("<html></html>", "").is_err());
        let out = sanitize("<svg><rect fill=\"url(http://x)\" x=\"1\"/></svg>", "").unwrap();
        assert!(!out.contains("url("), "{out}");
    }

    #[test]
    fn ticks_cover_the_range_at_round_steps() {
        assert_eq!(ticks(0.0, 100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(-3.0, 7.0), vec![-2.0, 0.0, 2.0, 4.0, 6.0]);
    }
}
