//! The append-only history: its records, the writer every write calls inside its
//! transaction, and reading it back.

use chrono::Utc;
use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::gpkg_store::GpkgStore;

/// One record of the append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Sequence number, increasing.
    pub seq: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// Who (token label / role, or `import`).
    pub actor: String,
    /// What: create, update, retire, occupancy, import, scenario_save, scenario_delete.
    pub action: String,
    /// Which kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: String,
    /// State before, as JSON.
    pub before: Option<serde_json::Value>,
    /// State after, as JSON.
    pub after: Option<serde_json::Value>,
}

/// Now, as the history and the tokens write it (UTC, RFC 3339, milliseconds).
pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Append one history record in the write's transaction `tx`.
pub(crate) fn record(
    tx: &Transaction<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO history (at, actor, action, entity, entity_id, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![now(), actor, action, entity, entity_id, before.map(|b| b.to_string()), after.map(|a| a.to_string())],
    )?;
    Ok(())
}

impl GpkgStore {
    /// The newest sequence number (0 when the history is empty).
    pub(crate) fn last_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM history", [], |r| {
                r.get(0)
            })?)
    }

    /// History records after `after_seq`, oldest first, at most `limit`.
    pub fn history(&self, after_seq: i64, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut st = self.conn.prepare(
            "SELECT seq, at, actor, action, entity, entity_id, before, after FROM history WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![after_seq, limit as i64], |r| {
            let parse = |s: Option<String>| s.and_then(|t| serde_json::from_str(&t).ok());
            Ok(HistoryEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                entity: r.get(4)?,
                entity_id: r.get(5)?,
                before: parse(r.get(6)?),
                after: parse(r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
