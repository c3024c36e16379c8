//! Reading an output folder back: which kind of result it holds, its files
//! as typed values (summary.json with serde, CSV files with their header),
//! and the errors that name the folder, the file, the line or the column.
//!
//! Error messages never quote the content of a file, only where it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::report::MARKER;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: no such folder")]
    NotFound { path: String },
    #[error("{path}: not a folder (give an output folder of surgesim run, compare, sweep, plan or frontier)")]
    NotAFolder { path: String },
    #[error("{path}: not an output folder of surgesim (no {MARKER} in it)")]
    Foreign { path: String },
    #[error(
        "{path}: no result surgesim can report on (expected summary.json, compare.csv, compare-range.csv, sweep.csv, plan.csv or frontier.csv)"
    )]
    Unknown { path: String },
    #[error("{path}: one shard of a sweep; join the shards with `surgesim merge` and report on the merged folder")]
    Shard { path: String },
    #[error("{dir}: {file} is missing (the folder is incomplete or from another version of surgesim)")]
    Missing { dir: String, file: String },
    #[error("{file}: {reason}")]
    Bad { file: String, reason: String },
    #[error(transparent)]
    Write(#[from] crate::report::output::OutputError),
}

/// What an output folder holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Compare,
    /// `compare --calibration`: the comparison over a calibration's set.
    CompareRange,
    Sweep,
    Plan,
    Frontier,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::CompareRange => "compare-range",
            Kind::Sweep => "sweep",
            Kind::Plan => "plan",
            Kind::Frontier => "frontier",
        }
    }

    /// The file that identifies the kind, then the files it needs.
    fn files(self) -> &'static [&'static str] {
        match self {
            Kind::Run => &["summary.json", "timeseries.csv", "causes.csv", "timeline.svg"],
            Kind::Compare => &["compare.csv", "compare.txt"],
            Kind::CompareRange => &["compare-range.csv", "compare-points.csv", "compare.txt"],
            Kind::Sweep => &["sweep.csv", "sweep.txt", "headroom.svg"],
            Kind::Plan => &["plan.csv", "plan.txt"],
            Kind::Frontier => &["frontier.csv", "frontier-probes.csv", "frontier.txt", "frontier.svg"],
        }
    }
}

/// An output folder whose kind is known and whose required files exist.
pub struct Folder {
    pub path: PathBuf,
    pub kind: Kind,
}

impl Folder {
    /// Checks the folder: it exists, surgesim wrote it, and it holds every
    /// file its kind needs.
    pub fn open(path: &Path) -> Result<Folder, ReportError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(ReportError::NotFound { path: shown });
        }
        if !path.is_dir() {
            return Err(ReportError::NotAFolder { path: shown });
        }
        if !path.join(MARKER).is_file() {
            return Err(ReportError::Foreign { path: shown });
        }
        Folder::detect(path)
    }

    /// Like [`Folder::open`], for a folder still being written (no marker yet).
    pub fn detect(path: &Path) -> Result<Folder, ReportError> {
        let shown = path.display().to_string();
        let kinds = [Kind::Run, Kind::Compare, Kind::CompareRange, Kind::Sweep, Kind::Plan, Kind::Frontier];
        let Some(kind) = kinds.into_iter().find(|k| path.join(k.files()[0]).is_file()) else {
            if path.join("sweep.part.csv").is_file() {
                return Err(ReportError::Shard { path: shown });
            }
            return Err(ReportError::Unknown { path: shown });
        };
        for f in kind.files() {
            if !path.join(f).is_file() {
                return Err(ReportError::Missing { dir: shown, file: f.to_string() });
            }
        }
        Ok(Folder { path: path.to_path_buf(), kind })
    }

    pub fn has(&self, name: &str) -> bool {
        self.path.join(name).is_file()
    }

    fn shown(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    /// A text file of the folder.
    pub fn text(&self, name: &str) -> Result<String, ReportError> {
        let p = self.path.join(name);
        let bytes = std::fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ReportError::Missing { dir: self.path.display().to_string(), file: name.to_string() }
            } else {
                ReportError::Bad { file: self.shown(name), reason: format!("cannot read: {e}") }
            }
        })?;
        String::from_utf8(bytes).map_err(|e| ReportError::Bad {
            file: self.shown(name),
            reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })
    }

    /// A CSV file of the folder.
    pub fn csv(&self, name: &str) -> Result<Csv, ReportError> {
        Csv::parse(&self.shown(name), self.text(name)?.as_bytes())
    }

    /// A JSON file of the folder, into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ReportError> {
        let text = self.text(name)?;
        serde_json::from_str(&text).map_err(|e| ReportError::Bad {
            file: self.shown(name),
            reason: format!(
                "{} (line {}, column {}; written by another version of surgesim?)",
                strip_ctx(&e),
                e.line(),
                e.column()
            ),
        })
    }

    /// The first line of a text file (the caption surgesim printed).
    pub fn first_line(&self, name: &str) -> Result<String, ReportError> {
        Ok(self.text(name)?.lines().next().unwrap_or_default().to_string())
    }

    /// A short title: the scenario name where the folder records it, else the folder name.
    pub fn title(&self) -> Result<String, ReportError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(match self.kind {
            Kind::Run => self.json::<Summary>("summary.json")?.scenario,
            Kind::Compare | Kind::CompareRange => {
                let c = self.csv(if self.kind == Kind::Compare { "compare.csv" } else { "compare-range.csv" })?;
                let col = c.col("scenario")?;
                c.rows.first().map_or(name, |r| r[col].clone())
            }
            _ => {
                let line = self.first_line(match self.kind {
                    Kind::Sweep => "sweep.txt",
                    Kind::Plan => "plan.txt",
                    _ => "frontier.txt",
                })?;
                line.split_once(" — ").map_or(name, |(scen, _)| scen.to_string())
            }
        })
    }

    pub fn provenance(&self) -> Result<Option<super::Provenance>, ReportError> {
        if self.has(super::provenance::FILE) {
            self.json(super::provenance::FILE).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// serde_json's message without its own "at line … column …" suffix.
fn strip_ctx(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A CSV file: its header and its records, as text.
pub struct Csv {
    pub file: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Csv, ReportError> {
        let bad = |reason: String| ReportError::Bad { file: file.to_string(), reason };
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let header: Vec<String> =
            r.headers().map_err(|e| bad(format!("unreadable header: {e}")))?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|_| bad(format!("line {}: not a well-formed CSV record", i + 2)))?;
            if rec.len() != header.len() {
                return Err(bad(format!("line {}: {} fields, the header has {}", i + 2, rec.len(), header.len())));
            }
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Csv { file: file.to_string(), header, rows })
    }

    /// Index of a column, or an error naming it.
    pub fn col(&self, name: &str) -> Result<usize, ReportError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| ReportError::Bad {
            file: self.file.clone(),
            reason: format!("no column `{name}` (written by another version of surgesim?)"),
        })
    }

    /// The number in row `row`, column `col`; an empty cell is NaN.
    pub fn num(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        let cell = self.rows[row][col].trim();
        if cell.is_empty() {
            return Ok(f64::NAN);
        }
        cell.parse().map_err(|_| ReportError::Bad {
            file: self.file.clone(),
            reason: format!("line {}, column `{}`: not a number", row + 2, self.header[col]),
        })
    }
}

/// A mean with its interval, as stored in summary.json and the CSV files.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Est {
    #[serde(deserialize_with = "nan_if_null")]
    pub mean: f64,
    #[serde(default)]
    pub ci95: Option<[f64; 2]>,
    #[serde(default)]
    pub n: usize,
}

impl Est {
    /// From a CSV triple `NAME_mean, NAME_ci_lo, NAME_ci_hi` (empty bounds: no interval).
    pub fn from_csv(csv: &Csv, row: usize, name: &str) -> Result<Est, ReportError> {
        let mean = csv.num(row, csv.col(&format!("{name}_mean"))?)?;
        let lo = csv.num(row, csv.col(&format!("{name}_ci_lo"))?)?;
        let hi = csv.num(row, csv.col(&format!("{name}_ci_hi"))?)?;
        let ci95 = (lo.is_finite() && hi.is_finite()).then_some([lo, hi]);
        Ok(Est { mean, ci95, n: 0 })
    }
}

/// The parts of summary.json the report shows (see `report::json::Summary`).
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub surgesim_version: String,
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub replications: usize,
    pub clock_start: String,
    pub duration_s: f64,
    pub bin_s: f64,
    pub warmup_s: f64,
    pub window: Option<Window>,
    pub confidence: f64,
    pub totals: Totals,
    pub classes: BTreeMap<String, Totals>,
    pub metrics: BTreeMap<String, Est>,
    pub warnings: Vec<String>,
}

/// The window section: its bounds and its totals.
#[derive(Debug, Deserialize)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
    pub from_clock: String,
    pub to_clock: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Deserialize)]
pub struct Totals {
    #[serde(deserialize_with = "nan_if_null")]
    pub arrived: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub served_primary: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub served_fallback: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub failed: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub failed_fallback_eligible: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub failure_rate: f64,
}

/// JSON has no NaN: serde_json writes it as `null`.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Seconds since midnight of a clock label `HH:MM[:SS]`.
pub fn clock_secs(label: &str) -> Option<f64> {
    let mut parts = label.split(':').map(|p| p.parse::<u32>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let s = parts.next().unwrap_or(Some(0))?;
    Some(f64::from(h * 3600 + m * 60 + s))
}
