//! The feature tables' extents in `gpkg_contents`.

use rusqlite::{params, Transaction};

use crate::error::Result;
use crate::gpkg;

/// Refresh `gpkg_contents` extents and change times of the feature tables.
pub(crate) fn update_extents(tx: &Transaction<'_>, tables: &[&str]) -> Result<()> {
    for table in tables {
        let mut st = tx.prepare(&format!("SELECT geom FROM {table}"))?;
        let mut failed = None;
        // Every outer vertex of every geometry that decodes (one that does not is
        // skipped), read row by row until SQLite fails.
        let coords = st
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .map_while(|blob| blob.map_err(|e| failed = Some(e)).ok())
            .filter_map(|blob| gpkg::decode(&blob).ok())
            .flat_map(|g| g.exterior_coords());
        let envelope = gpkg::envelope_of(coords);
        if let Some(e) = failed {
            return Err(e.into());
        }
        // The header's order is (min x, max x, min y, max y); gpkg_contents' is
        // (min x, min y, max x, max y).
        let ext = match envelope {
            Some([min_x, max_x, min_y, max_y]) => [min_x, min_y, max_x, max_y].map(Some),
            None => [None; 4],
        };
        tx.execute(
            "UPDATE gpkg_contents SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5,
             last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?1",
            params![table, ext[0], ext[1], ext[2], ext[3]],
        )?;
    }
    Ok(())
}
