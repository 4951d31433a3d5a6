//! The long-format cost matrix CSV reader ([`MatrixCsv`]): road-network distances or
//! any additive cost computed elsewhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::matrix::{DemandPoint, Problem, SiteInfo};
use crate::error::PlanError;

impl Problem {
    /// Read a long-format cost matrix (one row per demand–site pair). See [`MatrixCsv`].
    pub fn from_csv(spec: &MatrixCsv) -> Result<Self, PlanError> {
        read_matrix(spec)
    }
}

/// How to read a long-format cost matrix CSV: one line per demand–site pair, e.g.
/// spopt's `distance,name,DestinationName,demand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCsv {
    /// The matrix file.
    pub path: PathBuf,
    /// Column with the demand point id.
    pub demand_col: String,
    /// Column with the site id.
    pub site_col: String,
    /// Column with the cost (metres, or any additive cost).
    pub cost_col: String,
    /// Column with the demand weight in the matrix file (all 1 when neither this nor
    /// `weights` is given).
    #[serde(default)]
    pub weight_col: Option<String>,
    /// Weights from a second file instead: (file, id column, weight column).
    #[serde(default)]
    pub weights: Option<WeightsCsv>,
    /// Require every demand–site pair (default true): a missing pair is an error.
    #[serde(default = "yes")]
    pub require_complete: bool,
}

fn yes() -> bool {
    true
}

/// A second file with demand weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsCsv {
    /// The file.
    pub path: PathBuf,
    /// Column with the demand id.
    pub id_col: String,
    /// Column with the weight.
    pub weight_col: String,
}

fn open_csv(path: &Path) -> Result<(csv::Reader<std::fs::File>, Vec<String>), PlanError> {
    let err = |m: String| PlanError::Csv {
        path: path.to_path_buf(),
        message: m,
    };
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(e.to_string()))?;
    let headers = r
        .headers()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    Ok((r, headers))
}

fn column(path: &Path, headers: &[String], name: &str) -> Result<usize, PlanError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| PlanError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: headers.join(", "),
        })
}

fn number(path: &Path, rec: &csv::StringRecord, col: usize, name: &str) -> Result<f64, PlanError> {
    let s = rec.get(col).unwrap_or("");
    s.parse::<f64>().map_err(|_| PlanError::BadNumber {
        path: path.to_path_buf(),
        line: rec.position().map_or(0, |p| p.line()),
        column: name.to_string(),
        value: s.to_string(),
    })
}

fn read_matrix(spec: &MatrixCsv) -> Result<Problem, PlanError> {
    let path = spec.path.as_path();
    let (mut rdr, headers) = open_csv(path)?;
    let dc = column(path, &headers, &spec.demand_col)?;
    let sc = column(path, &headers, &spec.site_col)?;
    let cc = column(path, &headers, &spec.cost_col)?;
    let wc = spec
        .weight_col
        .as_deref()
        .map(|w| column(path, &headers, w))
        .transpose()?;
    let mut d_idx: HashMap<String, usize> = HashMap::new();
    let mut s_idx: HashMap<String, usize> = HashMap::new();
    let mut demand: Vec<DemandPoint> = Vec::new();
    let mut sites: Vec<SiteInfo> = Vec::new();
    let mut trip = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| PlanError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let did = rec.get(dc).unwrap_or("").to_string();
        let sid = rec.get(sc).unwrap_or("").to_string();
        let cost = number(path, &rec, cc, &spec.cost_col)?;
        let w = match wc {
            Some(c) => Some(number(
                path,
                &rec,
                c,
                spec.weight_col.as_deref().unwrap_or(""),
            )?),
            None => None,
        };
        let i = match d_idx.get(&did) {
            Some(&i) => {
                if let Some(w) = w {
                    if demand[i].weight != w {
                        return Err(PlanError::InconsistentWeight {
                            id: did,
                            first: demand[i].weight,
                            second: w,
                        });
                    }
                }
                i
            }
            None => {
                d_idx.insert(did.clone(), demand.len());
                demand.push(DemandPoint {
                    id: did,
                    weight: w.unwrap_or(1.0),
                });
                demand.len() - 1
            }
        };
        let j = *s_idx.entry(sid.clone()).or_insert_with(|| {
            sites.push(SiteInfo {
                id: sid,
                capacity: None,
            });
            sites.len() - 1
        });
        trip.push((i, j, cost));
    }
    if demand.is_empty() {
        return Err(PlanError::Empty {
            what: "demand points",
        });
    }
    if let Some(wf) = &spec.weights {
        let p = wf.path.as_path();
        let (mut r, h) = open_csv(p)?;
        let ic = column(p, &h, &wf.id_col)?;
        let wcol = column(p, &h, &wf.weight_col)?;
        let mut ws: HashMap<String, f64> = HashMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| PlanError::Csv {
                path: p.to_path_buf(),
                message: e.to_string(),
            })?;
            let w = number(p, &rec, wcol, &wf.weight_col)?;
            ws.insert(rec.get(ic).unwrap_or("").to_string(), w);
        }
        for d in &mut demand {
            d.weight = *ws.get(&d.id).ok_or_else(|| PlanError::MissingWeight {
                id: d.id.clone(),
                path: p.to_path_buf(),
            })?;
        }
    }
    let expected = demand.len() * sites.len();
    if spec.require_complete && trip.len() < expected {
        let mut have = vec![false; expected];
        for &(i, j, _) in &trip {
            have[i * sites.len() + j] = true;
        }
        let k = have.iter().position(|h| !h).unwrap_or(0);
        return Err(PlanError::MissingPairs {
            missing: have.iter().filter(|h| !**h).count(),
            expected,
            demand: demand[k / sites.len()].id.clone(),
            site: sites[k % sites.len()].id.clone(),
        });
    }
    Problem::from_triplets(demand, sites, trip)
}
