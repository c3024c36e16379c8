//! Shards: `--shard K/N` runs the points with `index % N == K − 1`, and
//! `merge` joins the parts into the table one unsharded sweep writes.
//!
//! Each part carries a [`Manifest`]: what sweep it belongs to (scenario
//! digest, grid, replications, surgesim version), which shard it is, and
//! which points it holds. [`merge`] refuses parts of different sweeps,
//! missing or repeated shards, and parts whose rows are not the points
//! their manifest promises.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::grid::Shard;
pub use super::info::{AxisSpec, SweepInfo};
use super::rows::Table;

/// Manifest format tag; bumped when the meaning of a field changes.
pub const FORMAT: &str = "surgesim-sweep-part/1";

/// `manifest.json` of a part folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    #[serde(flatten)]
    pub sweep: SweepInfo,
    pub shard: Shard,
    /// The point indices this part holds, increasing.
    pub points: Vec<usize>,
}

impl Manifest {
    pub fn new(sweep: SweepInfo, shard: Shard) -> Manifest {
        let points = (0..sweep.points_total).filter(|&i| shard.contains(i)).collect();
        Manifest { format: FORMAT.into(), sweep, shard, points }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest serialises");
        s.push('\n');
        s
    }

    pub fn from_json(part: &str, text: &str) -> Result<Manifest, MergeError> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| MergeError::Part {
            part: part.into(),
            msg: format!("manifest.json is not a part manifest: {e}"),
        })?;
        if m.format != FORMAT {
            return Err(MergeError::Part {
                part: part.into(),
                msg: format!("manifest format {:?}, expected {FORMAT:?}", m.format),
            });
        }
        Ok(m)
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
    Ok(())
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
