//! Saved planning scenarios.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::gpkg_store::GpkgStore;
use crate::history::{now, record};
use crate::rows::{corrupt, read_all};

/// A saved planning scenario: candidate sites and their comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Id assigned by the store.
    pub id: i64,
    /// Name given by the planner.
    pub name: String,
    /// When it was saved.
    pub created_at: String,
    /// Who saved it.
    pub created_by: String,
    /// Candidate sites (GeoJSON FeatureCollection).
    pub candidates: serde_json::Value,
    /// The comparison table, if computed.
    pub comparison: Option<serde_json::Value>,
}

impl GpkgStore {
    /// Save a scenario.
    pub fn save_scenario(
        &mut self,
        actor: &str,
        name: &str,
        candidates: &serde_json::Value,
        comparison: Option<&serde_json::Value>,
    ) -> Result<Scenario> {
        validate_name(name)?;
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "INSERT INTO scenarios (name, created_at, created_by, candidates, comparison) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, at, actor, candidates.to_string(), comparison.map(|c| c.to_string())],
        )?;
        let id = tx.last_insert_rowid();
        let sc = Scenario {
            id,
            name: name.to_string(),
            created_at: at,
            created_by: actor.to_string(),
            candidates: candidates.clone(),
            comparison: comparison.cloned(),
        };
        record(
            &tx,
            actor,
            "scenario_save",
            "scenario",
            &id.to_string(),
            None,
            Some(serde_json::to_value(&sc).unwrap_or_default()),
        )?;
        tx.commit()?;
        Ok(sc)
    }

    /// Every saved scenario, newest first.
    pub fn scenarios(&self) -> Result<Vec<Scenario>> {
        read_all(
            &self.conn,
            "SELECT id, name, created_at, created_by, candidates, comparison FROM scenarios ORDER BY id DESC",
            |r| scenario_row(r)?,
        )
    }

    /// One scenario.
    pub fn scenario(&self, id: i64) -> Result<Scenario> {
        self.conn
            .query_row(
                "SELECT id, name, created_at, created_by, candidates, comparison FROM scenarios WHERE id = ?1",
                [id],
                scenario_row,
            )
            .optional()?
            .ok_or(StoreError::UnknownScenario(id))?
    }

    /// Delete a scenario (its content stays in the history).
    pub fn delete_scenario(&mut self, actor: &str, id: i64) -> Result<()> {
        let before = self.scenario(id)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM scenarios WHERE id = ?1", [id])?;
        record(
            &tx,
            actor,
            "scenario_delete",
            "scenario",
            &id.to_string(),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Refuse an empty scenario name.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid {
            field: "name",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

fn scenario_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Scenario>> {
    let id: i64 = r.get(0)?;
    let cands: String = r.get(4)?;
    let comp: Option<String> = r.get(5)?;
    let (name, created_at, created_by) = (r.get(1)?, r.get(2)?, r.get(3)?);
    Ok((|| {
        Ok(Scenario {
            id,
            name,
            created_at,
            created_by,
            candidates: serde_json::from_str(&cands)
                .map_err(|e| corrupt("scenarios", &id.to_string(), e))?,
            comparison: comp
                .map(|c| serde_json::from_str(&c))
                .transpose()
                .map_err(|e| corrupt("scenarios", &id.to_string(), e))?,
        })
    })())
}
