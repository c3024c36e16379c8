//! The page around the sections: head (content security policy that
//! forbids every network request), the stylesheet (screen, phone, print),
//! the one inline script (sortable tables), and small builders for tables
//! and key figures shared by the sections.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::esc;
use super::read::{Est, Kind};
use crate::report::{num, sig};

/// One rendered output folder.
pub struct Section {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub body: String,
}

const CSS: &str = r#"
:root{--ink:#1b1f24;--muted:#5b6470;--line:#d8dde3;--soft:#f4f6f8;--accent:#1f4e79;--bad:#b42318;--good:#1a7f37;--warn:#9a6700}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1120px;margin:0 auto;padding:24px 20px 48px}
header.top{border-bottom:3px solid var(--accent);margin-bottom:8px}
header.top h1{font-size:1.6rem;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 12px}
nav.toc{font-size:.9rem;margin:8px 0 16px}
nav.toc a{margin-right:14px;color:var(--accent)}
section.folder{margin-top:28px}
section.folder>h2{font-size:1.35rem;margin:0 0 2px;padding-top:8px;border-top:1px solid var(--line)}
h3{font-size:1.08rem;margin:26px 0 8px}
p{margin:6px 0}
.kind{display:inline-block;font-size:.72rem;text-transform:uppercase;letter-spacing:.06em;background:var(--accent);color:#fff;border-radius:3px;padding:1px 6px;vertical-align:middle;margin-right:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:var(--soft)}
.card .k{font-size:.8rem;color:var(--muted)}
.card .v{font-size:1.45rem;font-weight:600;font-variant-numeric:tabular-nums}
.card .i{font-size:.78rem;color:var(--muted);font-variant-numeric:tabular-nums}
.card.bad .v{color:var(--bad)}
.note{border-left:4px solid var(--warn);background:#fff8e6;padding:6px 10px;margin:8px 0}
.answer{border-left:4px solid var(--accent);background:#eef4fa;padding:8px 12px;margin:10px 0;font-weight:600}
pre.header{white-space:pre-wrap;background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;font-size:.86rem;margin:8px 0}
pre.src{white-space:pre-wrap;font-size:.8rem;background:var(--soft);padding:10px;border-radius:6px;overflow-x:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.tw{overflow-x:auto;margin:8px 0;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.88rem;min-width:50%}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{min-width:18em}
td .ci{display:block;font-size:.76rem;color:var(--muted)}
tbody tr:nth-child(even){background:#fafbfc}
tr.base td{font-style:italic}
td.pass{color:var(--good);font-weight:600}
td.fail{color:var(--bad);font-weight:600}
td.undecided{color:var(--warn);font-weight:600}
table.sortable th{cursor:pointer}
table.sortable th[data-dir=asc]::after{content:" \25B2";font-size:.7em}
table.sortable th[data-dir=desc]::after{content:" \25BC";font-size:.7em}
figure{margin:10px 0 18px}
figure .plot{overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figure svg{display:block;width:100%;height:auto}
figure svg.chart{max-width:860px}
figcaption{font-size:.82rem;color:var(--muted);margin-top:4px}
svg.chart .ct{font-size:14px;font-weight:600;fill:var(--ink)}
svg.chart .tick{font-size:11px;fill:var(--muted);text-anchor:middle}
svg.chart .al{font-size:12px;fill:var(--muted);text-anchor:middle}
svg.chart .bl{font-size:12px;fill:var(--ink);text-anchor:end}
svg.chart .bv{font-size:11px;fill:var(--ink)}
svg.chart .grid{stroke:#e6e9ed}
svg.chart .zero{stroke:#555;stroke-width:1}
svg.chart .bar{fill:#2e7d4f;opacity:.85}
svg.chart .bar.neg{fill:var(--bad)}
svg.chart .ci{stroke:#222;stroke-width:1.4;fill:none}
details{margin:8px 0}
summary{cursor:pointer;color:var(--accent)}
footer{margin-top:36px;font-size:.8rem;color:var(--muted);border-top:1px solid var(--line);padding-top:8px}
@media (max-width:640px){
 body{font-size:14px}
 main{padding:14px 10px 32px}
 header.top h1{font-size:1.3rem}
 figure .plot svg.wide{min-width:720px}
 .cards{grid-template-columns:repeat(2,1fr)}
 .card .v{font-size:1.2rem}
 th,td{padding:3px 6px}
}
@media print{
 @page{margin:14mm}
 body{font-size:10.5pt}
 main{max-width:none;padding:0}
 nav.toc,summary{display:none}
 section.folder{break-before:auto}
 h2,h3{break-after:avoid}
 figure,.cards,tr,pre.header{break-inside:avoid}
 .tw,figure .plot{overflow:visible}
 figure .plot svg.wide{min-width:0}
 a{color:inherit;text-decoration:none}
 tbody tr:nth-child(even){background:none}
}
"#;

/// Sortable tables (click a header; numbers sort by their exact value) and
/// every `<details>` opened for printing.
const JS: &str = r#"(function(){
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('thead th').forEach(function(th){
  th.tabIndex=0;
  function go(){
   var b=t.tBodies[0],i=th.cellIndex,asc=th.getAttribute('data-dir')!=='asc';
   t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('data-dir')});
   th.setAttribute('data-dir',asc?'asc':'desc');
   var key=function(r){var c=r.cells[i];if(!c)return '';var v=c.getAttribute('data-v');return v!==null&&v!==''&&!isNaN(+v)?+v:c.textContent.trim()};
   Array.prototype.slice.call(b.rows).sort(function(x,y){var p=key(x),q=key(y),o=(typeof p==='number'&&typeof q==='number')?p-q:String(p).localeCompare(String(q));return asc?o:-o}).forEach(function(r){b.appendChild(r)});
  }
  th.addEventListener('click',go);
  th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go()}});
 });
});
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true})});
})();"#;

fn script_hash() -> String {
    use base64_lite as b64;
    b64::encode(&Sha256::digest(JS.as_bytes()))
}

/// Standard base64 of a digest, for the content security policy.
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// The whole document.
pub fn page(sections: &[Section]) -> String {
    let names: Vec<&str> = sections.iter().map(|s| s.title.as_str()).collect();
    let mut unique = names.clone();
    unique.dedup();
    let title = format!("surgesim report — {}", unique.join(", "));
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        s,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'\">",
        script_hash()
    );
    let _ = writeln!(s, "<meta name=\"generator\" content=\"surgesim {}\">", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>", esc(&title));
    let _ = writeln!(s, "<header class=\"top\"><h1>{}</h1>", esc(&title));
    let kinds: Vec<&str> = sections.iter().map(|x| x.kind.name()).collect();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} output folder{} ({}); every number below is read from the files surgesim wrote there.</p></header>",
        sections.len(),
        if sections.len() == 1 { "" } else { "s" },
        esc(&kinds.join(", "))
    );
    if sections.len() > 1 {
        s.push_str("<nav class=\"toc\">");
        for x in sections {
            let _ = write!(s, "<a href=\"#{}\">{} {}</a>", x.id, esc(x.kind.name()), esc(&x.title));
        }
        s.push_str("</nav>\n");
    }
    for x in sections {
        let _ = writeln!(
            s,
            "<section class=\"folder\" id=\"{}\" data-kind=\"{}\">\n<h2><span class=\"kind\">{}</span>{}</h2>\n{}</section>",
            x.id,
            x.kind.name(),
            x.kind.name(),
            esc(&x.title),
            x.body
        );
    }
    let _ = writeln!(
        s,
        "<footer>Written by surgesim {} from the output folders above; self-contained (no network, no external file).</footer>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(s, "</main>\n<script>{JS}</script>\n</body>\n</html>\n");
    s
}

/// A table cell: its HTML, an optional exact value to sort by, a class.
pub struct Cell {
    pub html: String,
    pub v: Option<f64>,
    pub class: &'static str,
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell { html: esc(s), v: None, class: "" }
    }

    /// A number, shown with `digits` significant digits.
    pub fn num(v: f64, digits: usize) -> Cell {
        Cell { html: esc(&sig(v, digits)), v: Some(v), class: "n" }
    }

    /// A mean with its interval below it.
    pub fn est(e: &Est) -> Cell {
        let mut html = esc(&sig(e.mean, 5));
        if let Some([l, u]) = e.ci95.filter(|c| c[0].is_finite() && c[1].is_finite()) {
            let _ = write!(html, "<span class=\"ci\">[{}, {}]</span>", esc(&sig(l, 4)), esc(&sig(u, 4)));
        }
        Cell { html, v: Some(e.mean), class: "n" }
    }

    pub fn class(mut self, class: &'static str) -> Cell {
        self.class = class;
        self
    }
}

/// A sortable table.
pub fn table(id: &str, headers: &[(&str, bool)], rows: Vec<(String, Vec<Cell>)>) -> String {
    let mut s = String::new();
    let _ = write!(s, "<div class=\"tw\"><table class=\"sortable\" id=\"{}\"><thead><tr>", esc(id));
    for (h, numeric) in headers {
        let _ = write!(s, "<th{}>{}</th>", if *numeric { " class=\"n\"" } else { "" }, esc(h));
    }
    s.push_str("</tr></thead><tbody>\n");
    for (attrs, cells) in rows {
        let _ = write!(s, "<tr{attrs}>");
        for c in cells {
            s.push_str("<td");
            if !c.class.is_empty() {
                let _ = write!(s, " class=\"{}\"", c.class);
            }
            if let Some(v) = c.v {
                let _ = write!(s, " data-v=\"{}\"", esc(&num(v)));
            }
            let _ = write!(s, ">{}</td>", c.html);
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// A key figure: name, value, interval.
pub fn card(name: &str, e: &Est, bad: bool, digits: usize) -> String {
    let ci = match e.ci95 {
        Some([l, u]) if l.is_finite() && u.is_finite() => format!("95% CI [{}, {}]", sig(l, 4), sig(u, 4)),
        _ => String::from("\u{a0}"),
    };
    format!(
        "<div class=\"card{}\"><div class=\"k\">{}</div><div class=\"v\" data-v=\"{}\">{}</div><div class=\"i\">{}</div></div>",
        if bad { " bad" } else { "" },
        esc(name),
        esc(&num(e.mean)),
        esc(&sig(e.mean, digits)),
        esc(&ci)
    )
}

/// An inlined plot with its caption.
pub fn figure(svg: &str, caption: &str) -> String {
    format!("<figure><div class=\"plot\">{svg}</div><figcaption>{}</figcaption></figure>\n", esc(caption))
}

#[cfg(test)]
mod tests {
    use super::base64_lite::encode;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
    }
}
