//! Shards: `--shard K/N` runs the points with `index % N == K − 1`, and
//! `merge` joins the parts into the table one unsharded sweep writes.
//!
//! Each part carries a [`Manifest`]: what sweep it belongs to (scenario
//! digest, grid, replications, surgesim version), which shard it is, and
//! which points it holds. [`merge`] refuses parts of different sweeps,
//! missing or repeated shards, and parts whose rows are not the points
//! their manifest promises.
//!
//! # Edited parts
//! A manifest also records the sha-256 of its `sweep.part.csv`, of its
//! grid's values ([`Grid::digest`]) and the seed, and *seals* each field
//! that identifies the sweep: `seals[field]` is the sha-256 of the CSV's
//! digest, the field's name and its value. A manifest edited by hand (a
//! part of another seed given this sweep's digest, a `replications` that
//! does not match the runs) then fails its seal, and `merge` names the
//! part and the field. The grid is rebuilt from the ranges as written and
//! every parameter cell of every row is checked against it, so an
//! off-grid or NaN cell is refused too. (This catches edits, not forgery:
//! whoever recomputes the digests can still lie.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::axis::Axis;
use super::grid::Grid;
pub use super::grid::Shard;
pub use super::info::{AxisSpec, SweepInfo};
use super::rows::Table;

/// Manifest format tag; bumped when the meaning of a field changes.
pub const FORMAT: &str = "surgesim-sweep-part/2";

/// Hex sha-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `manifest.json` of a part folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    #[serde(flatten)]
    pub sweep: SweepInfo,
    /// The scenario's seed (after `--seed`).
    pub seed: u64,
    pub shard: Shard,
    /// The point indices this part holds, increasing.
    pub points: Vec<usize>,
    /// [`Grid::digest`] of the grid.
    pub grid_sha256: String,
    /// sha-256 of `sweep.part.csv` as written.
    pub csv_sha256: String,
    /// Each field of [`Manifest::sealed_fields`] bound to the rows: the
    /// sha-256 of `csv_sha256`, the field's name and its value as JSON.
    pub seals: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of shard `shard` of the sweep `sweep` over `grid`,
    /// whose `sweep.part.csv` is `csv`.
    pub fn new(sweep: SweepInfo, shard: Shard, seed: u64, grid: &Grid, csv: &[u8]) -> Manifest {
        let points = (0..sweep.points_total).filter(|&i| shard.contains(i)).collect();
        let mut m = Manifest {
            format: FORMAT.into(),
            sweep,
            seed,
            shard,
            points,
            grid_sha256: grid.digest(),
            csv_sha256: sha256_hex(csv),
            seals: BTreeMap::new(),
        };
        m.seals = m.sealed_fields().into_iter().map(|(f, v)| (f.to_string(), m.seal(f, &v))).collect();
        m
    }

    /// The fields that identify the sweep and the part, with their values.
    pub fn sealed_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        fn v<T: Serialize>(x: &T) -> serde_json::Value {
            serde_json::to_value(x).expect("a manifest field serialises")
        }
        let s = &self.sweep;
        vec![
            ("scenario", v(&s.scenario)),
            ("scenario_digest", v(&s.scenario_digest)),
            ("seed", v(&self.seed)),
            ("grid", v(&s.grid)),
            ("grid_sha256", v(&self.grid_sha256)),
            ("points_total", v(&s.points_total)),
            ("replications", v(&s.replications)),
            ("surgesim_version", v(&s.surgesim_version)),
            ("shard", v(&self.shard)),
            ("points", v(&self.points)),
        ]
    }

    fn seal(&self, field: &str, value: &serde_json::Value) -> String {
        sha256_hex(format!("surgesim-part-seal-v1\n{}\n{field}\n{value}", self.csv_sha256).as_bytes())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest serialises");
        s.push('\n');
        s
    }

    pub fn from_json(part: &str, text: &str) -> Result<Manifest, MergeError> {
        let bad = |msg: String| MergeError::Part { part: part.into(), msg };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("manifest.json is not a part manifest: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(f) => {
                let f: String = f.chars().take(40).collect();
                return Err(bad(format!(
                    "manifest.json: format {f:?}, expected {FORMAT:?} (was the part written by another surgesim version?)"
                )));
            }
            None => return Err(bad("manifest.json is not a part manifest: no field `format`".into())),
        }
        serde_json::from_value(value).map_err(|e| bad(format!("manifest.json is not a part manifest: {e}")))
    }
}

/// Why parts cannot be merged. Each variant names the part folders.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: pass the part folders written by `surgesim sweep --shard K/N`")]
    NoParts,
    #[error("part {part}: {msg}")]
    Part { part: String, msg: String },
    #[error("parts {a} and {b} are not from the same sweep: their {what} differ ({va} vs {vb})")]
    Mismatch { a: String, b: String, what: String, va: String, vb: String },
    #[error("parts {a} and {b} are both shard {shard}")]
    Duplicate { a: String, b: String, shard: Shard },
    #[error("incomplete: missing shard(s) {missing} of N = {n}; run `surgesim sweep … --shard K/{n}` for each missing K and pass every part folder")]
    Missing { missing: String, n: usize },
    #[error("parts {a} and {b} overlap: both hold point {index}")]
    Overlap { a: String, b: String, index: usize },
}

/// One part folder's contents, named for messages.
pub struct Part {
    pub name: String,
    pub manifest: Manifest,
    pub table: Table,
    /// sha-256 of `sweep.part.csv` as read.
    pub csv_sha256: String,
}

/// Checks that `parts` are the complete, non-overlapping shards of one
/// sweep, and joins their rows in point order.
pub fn merge(parts: &[Part]) -> Result<(SweepInfo, Table), MergeError> {
    let first = parts.first().ok_or(MergeError::NoParts)?;
    for p in parts {
        check_part(p)?;
        let (a, b) = (&first.manifest, &p.manifest);
        let mismatch = |what: &str, va: String, vb: String| {
            Err(MergeError::Mismatch { a: first.name.clone(), b: p.name.clone(), what: what.into(), va, vb })
        };
        let (sa, sb) = (&a.sweep, &b.sweep);
        if sa.scenario_digest != sb.scenario_digest {
            return mismatch(
                "scenarios (text, --set or --seed)",
                format!("{} {}", sa.scenario, short(&sa.scenario_digest)),
                format!("{} {}", sb.scenario, short(&sb.scenario_digest)),
            );
        }
        if sa.grid != sb.grid {
            let g = |s: &SweepInfo| s.grid.iter().map(|a| a.arg.clone()).collect::<Vec<_>>().join(" ");
            return mismatch("grids (--vary)", g(sa), g(sb));
        }
        if a.seed != b.seed {
            return mismatch("seeds", a.seed.to_string(), b.seed.to_string());
        }
        if sa.replications != sb.replications {
            return mismatch("replications", sa.replications.to_string(), sb.replications.to_string());
        }
        if a.shard.n != b.shard.n {
            return mismatch("shard counts N", a.shard.n.to_string(), b.shard.n.to_string());
        }
        if sa.surgesim_version != sb.surgesim_version {
            return mismatch("surgesim versions", sa.surgesim_version.clone(), sb.surgesim_version.clone());
        }
        if first.table.header != p.table.header {
            return mismatch("columns", first.table.header.join(","), p.table.header.join(","));
        }
    }
    let mut by_k: BTreeMap<usize, &Part> = BTreeMap::new();
    for p in parts {
        if let Some(prev) = by_k.insert(p.manifest.shard.k, p) {
            return Err(MergeError::Duplicate { a: prev.name.clone(), b: p.name.clone(), shard: p.manifest.shard });
        }
    }
    let n = first.manifest.shard.n;
    let missing: Vec<usize> = (1..=n).filter(|k| !by_k.contains_key(k)).collect();
    if !missing.is_empty() {
        let missing = missing.iter().map(|k| format!("{k}/{n}")).collect::<Vec<_>>().join(", ");
        return Err(MergeError::Missing { missing, n });
    }
    let mut rows: BTreeMap<usize, (&str, &Vec<String>)> = BTreeMap::new();
    for p in parts {
        for (i, row) in p.table.indices().into_iter().zip(&p.table.rows) {
            if let Some((other, _)) = rows.insert(i, (&p.name, row)) {
                return Err(MergeError::Overlap { a: other.to_string(), b: p.name.clone(), index: i });
            }
        }
    }
    let total = first.manifest.sweep.points_total;
    if rows.len() != total || rows.keys().next_back().is_some_and(|&last| last + 1 != total) {
        return Err(MergeError::Part {
            part: first.name.clone(),
            msg: format!("the parts hold {} of {total} points", rows.len()),
        });
    }
    let table =
        Table { header: first.table.header.clone(), rows: rows.into_values().map(|(_, r)| r.clone()).collect() };
    Ok((first.manifest.sweep.clone(), table))
}

fn short(digest: &str) -> String {
    format!("sha256:{}…", &digest[..digest.len().min(12)])
}

/// A part is whole: its manifest's points follow the K/N rule, and its
/// rows are exactly those points.
fn check_part(p: &Part) -> Result<(), MergeError> {
    let m = &p.manifest;
    let bad = |msg: String| Err(MergeError::Part { part: p.name.clone(), msg });
    if m.shard.k == 0 || m.shard.k > m.shard.n {
        return bad(format!("shard {} is not K/N with 1 <= K <= N", m.shard));
    }
    let expected: Vec<usize> = (0..m.sweep.points_total).filter(|&i| m.shard.contains(i)).collect();
    if m.points != expected {
        return bad(format!("its manifest lists points {:?}, but shard {} holds {:?}", m.points, m.shard, expected));
    }
    let held = p.table.indices();
    if held != m.points {
        let missing: Vec<usize> = m.points.iter().filter(|i| !held.contains(i)).copied().collect();
        return bad(format!(
            "sweep.part.csv holds points {held:?}, but its manifest lists {:?}{}",
            m.points,
            if missing.is_empty() {
                String::new()
            } else {
                format!(" (missing {missing:?}: was the shard interrupted?)")
            }
        ));
    }
    if p.csv_sha256 != m.csv_sha256 {
        return bad("sweep.part.csv does not match field `csv_sha256` of manifest.json: the rows were edited after the part was written".into());
    }
    for (field, value) in m.sealed_fields() {
        match m.seals.get(field) {
            None => return bad(format!("manifest.json has no seal for field `{field}`")),
            Some(seal) if *seal != m.seal(field, &value) => {
                return bad(format!(
                    "manifest.json field `{field}` ({}) was edited after the part was written: it no longer matches its seal",
                    clip(&value.to_string())
                ))
            }
            Some(_) => {}
        }
    }
    check_grid(p)
}

/// The grid the manifest's ranges describe matches its counts and digest,
/// and every parameter cell of every row is that point's value.
fn check_grid(p: &Part) -> Result<(), MergeError> {
    let (m, s) = (&p.manifest, &p.manifest.sweep);
    let bad = |msg: String| Err(MergeError::Part { part: p.name.clone(), msg });
    let mut axes = Vec::new();
    for spec in &s.grid {
        let axis = match Axis::parse("--vary", &spec.arg) {
            Ok(a) => a,
            Err(e) => return bad(format!("manifest.json field `grid`: {}", clip(&e.to_string()))),
        };
        if axis.path != spec.path || axis.len() != spec.values {
            return bad(format!(
                "manifest.json field `grid`: {} has {} values on path {}, not {} on {}",
                clip(&spec.arg),
                axis.len(),
                clip(&axis.path),
                spec.values,
                clip(&spec.path)
            ));
        }
        axes.push(axis);
    }
    if axes.is_empty() {
        return bad("manifest.json field `grid` is empty".into());
    }
    let grid = Grid::new(axes);
    if let Err(e) = grid.check_size() {
        return bad(format!("manifest.json field `grid`: {e}"));
    }
    if grid.len() != s.points_total {
        return bad(format!(
            "manifest.json field `points_total` is {}, but its grid has {} points",
            s.points_total,
            grid.len()
        ));
    }
    if grid.digest() != m.grid_sha256 {
        return bad("manifest.json field `grid_sha256` does not match the grid its ranges describe".into());
    }
    let paths = grid.paths();
    let head = &p.table.header;
    if head.first().map(String::as_str) != Some("point") || head.get(1..=paths.len()) != Some(&paths[..]) {
        return bad(format!(
            "sweep.part.csv: the columns after `point` are not the grid's paths ({})",
            clip(&paths.join(","))
        ));
    }
    for (i, row) in p.table.indices().into_iter().zip(&p.table.rows) {
        let point = grid.point(i);
        for (j, v) in point.values.iter().enumerate() {
            let cell = row.get(j + 1).map_or("", String::as_str);
            if cell != v.to_string() {
                return bad(format!(
                    "sweep.part.csv: point {i}: column `{}` is {:?}, but point {i} of the grid has {v}",
                    paths[j],
                    clip(cell)
                ));
            }
        }
    }
    Ok(())
}

/// At most 60 characters of `text`, for messages.
fn clip(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shards() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains(bad));
        }
    }
}
