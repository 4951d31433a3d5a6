//! The GeoPackage R-tree spatial index extension (`gpkg_rtree_index`, OGC 12-128r18
//! Annex F.3) on every feature table, so that QGIS and GDAL read a bounding box of
//! a city or country store without scanning every row.
//!
//! Each table `t` with geometry column `geom` has a SQLite R*Tree virtual table
//! `rtree_t_geom (id, minx, maxx, miny, maxy)` kept up to date by the standard's six
//! triggers. The triggers call `ST_IsEmpty`, `ST_MinX`, `ST_MaxX`, `ST_MinY` and
//! `ST_MaxY`, which a GeoPackage writer provides on its connection (GDAL and QGIS
//! register their own); yizhan's are [`register_functions`], from the blob's header
//! envelope or its vertices ([`crate::gpkg`]). So every write, the server's and any
//! other GeoPackage writer's, keeps the index current.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::gpkg;

/// The feature tables (all with geometry column `geom`) that carry an R-tree.
pub const INDEXED_TABLES: &[&str] = &["stations", "hotspots", "cells", "candidates", "boundary"];

/// The R-tree table of a feature table's `geom` column, as the standard names it.
pub fn rtree_table(table: &str) -> String {
    format!("rtree_{table}_geom")
}

/// Register the SQL functions that the R-tree triggers call. Each takes a
/// GeoPackage geometry blob and returns NULL for NULL; a blob that is not a
/// geometry is an SQL error (so a corrupt write is refused, not indexed wrong).
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        let Some(blob) = ctx.get::<Option<Vec<u8>>>(0)? else {
            return Ok(None);
        };
        let e = gpkg::blob_envelope(&blob)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        Ok(Some(e.is_none()))
    })?;
    for (name, i) in [
        ("ST_MinX", 0),
        ("ST_MaxX", 1),
        ("ST_MinY", 2),
        ("ST_MaxY", 3),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            let Some(blob) = ctx.get::<Option<Vec<u8>>>(0)? else {
                return Ok(None);
            };
            let e = gpkg::blob_envelope(&blob)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            Ok(e.map(|e| e[i]))
        })?;
    }
    Ok(())
}

/// The SQL of the standard's R-tree on `$t.geom` (primary key `fid`): the virtual
/// table, its six triggers (insert; update of the geometry to non-empty / empty with
/// the same id; update with a new id to non-empty / empty; delete), the rows already
/// there, and the `gpkg_extensions` row. A string literal, for the migrations.
macro_rules! rtree_sql {
    ($t:literal) => {
        concat!(
            "CREATE VIRTUAL TABLE rtree_", $t, "_geom USING rtree(id, minx, maxx, miny, maxy);\n",
            "CREATE TRIGGER rtree_", $t, "_geom_insert AFTER INSERT ON ", $t,
            " WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN",
            " INSERT OR REPLACE INTO rtree_", $t, "_geom VALUES (NEW.fid,",
            " ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;\n",
            "CREATE TRIGGER rtree_", $t, "_geom_update1 AFTER UPDATE OF geom ON ", $t,
            " WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN",
            " INSERT OR REPLACE INTO rtree_", $t, "_geom VALUES (NEW.fid,",
            " ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;\n",
            "CREATE TRIGGER rtree_", $t, "_geom_update2 AFTER UPDATE OF geom ON ", $t,
            " WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN",
            " DELETE FROM rtree_", $t, "_geom WHERE id = OLD.fid; END;\n",
            "CREATE TRIGGER rtree_", $t, "_geom_update3 AFTER UPDATE ON ", $t,
            " WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN",
            " DELETE FROM rtree_", $t, "_geom WHERE id = OLD.fid;",
            " INSERT OR REPLACE INTO rtree_", $t, "_geom VALUES (NEW.fid,",
            " ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;\n",
            "CREATE TRIGGER rtree_", $t, "_geom_update4 AFTER UPDATE ON ", $t,
            " WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN",
            " DELETE FROM rtree_", $t, "_geom WHERE id IN (OLD.fid, NEW.fid); END;\n",
            "CREATE TRIGGER rtree_", $t, "_geom_delete AFTER DELETE ON ", $t,
            " WHEN old.geom NOT NULL BEGIN",
            " DELETE FROM rtree_", $t, "_geom WHERE id = OLD.fid; END;\n",
            "INSERT OR REPLACE INTO rtree_", $t, "_geom SELECT fid,",
            " ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM ", $t,
            " WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);\n",
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)",
            " VALUES ('", $t, "', 'geom', 'gpkg_rtree_index',",
            " 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');\n",
        )
    };
}

/// Migration 1 → 2: the `gpkg_extensions` table and an R-tree on every feature
/// table ([`INDEXED_TABLES`]).
pub const MIGRATION: &str = concat!(
    "CREATE TABLE IF NOT EXISTS gpkg_extensions (\n",
    "  table_name TEXT,\n",
    "  column_name TEXT,\n",
    "  extension_name TEXT NOT NULL,\n",
    "  definition TEXT NOT NULL,\n",
    "  scope TEXT NOT NULL,\n",
    "  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)\n",
    ");\n",
    rtree_sql!("stations"),
    rtree_sql!("hotspots"),
    rtree_sql!("cells"),
    rtree_sql!("candidates"),
    rtree_sql!("boundary"),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpkg::{multipolygon_blob, point_blob, polygon_blob};
    use geo_types::{polygon, MultiPolygon, Point};
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_migration_names_every_indexed_table() {
        for t in INDEXED_TABLES {
            assert!(
                MIGRATION.contains(&format!("CREATE VIRTUAL TABLE {} ", rtree_table(t))),
                "{t}"
            );
            assert_eq!(
                MIGRATION
                    .matches(&format!("CREATE TRIGGER {}_", rtree_table(t)))
                    .count(),
                6,
                "{t}"
            );
        }
    }

    #[test]
    fn functions_read_the_envelope_of_each_blob_kind() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let env = |b: Vec<u8>| -> (bool, [f64; 4]) {
            conn.query_row(
                "SELECT ST_IsEmpty(?1), ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1)",
                [b],
                |r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])),
            )
            .unwrap()
        };
        assert_eq!(
            env(point_blob(Point::new(118.5, 24.7))),
            (false, [118.5, 118.5, 24.7, 24.7])
        );
        let p = polygon![(x: 1.0, y: 2.0), (x: 3.0, y: 2.5), (x: 2.0, y: 5.0)];
        assert_eq!(env(polygon_blob(&p)), (false, [1.0, 3.0, 2.0, 5.0]));
        let q = polygon![(x: -4.0, y: 0.0), (x: -3.0, y: 0.0), (x: -3.0, y: 1.0)];
        assert_eq!(
            env(multipolygon_blob(&MultiPolygon::new(vec![p, q]))),
            (false, [-4.0, 3.0, 0.0, 5.0])
        );
        // An empty point (NaN, NaN, as GDAL writes one) is empty; NULL is NULL.
        let empty = point_blob(Point::new(f64::NAN, f64::NAN));
        let e: bool = conn
            .query_row("SELECT ST_IsEmpty(?1)", [empty], |r| r.get(0))
            .unwrap();
        assert!(e);
        let n: Option<f64> = conn
            .query_row("SELECT ST_MinX(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, None);
        // Not a geometry: an SQL error, never a wrong box.
        assert!(conn
            .query_row("SELECT ST_MinX(x'00112233')", [], |r| r.get::<_, f64>(0))
            .is_err());
    }

    /// The index after random inserts, moves, id changes, emptyings and deletes
    /// answers every bounding-box query as a scan of the table does.
    #[test]
    fn index_follows_every_write_as_a_scan_does() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE stations (fid INTEGER PRIMARY KEY, geom BLOB);
             CREATE TABLE hotspots (fid INTEGER PRIMARY KEY, geom BLOB);
             CREATE TABLE cells (fid INTEGER PRIMARY KEY, geom BLOB);
             CREATE TABLE candidates (fid INTEGER PRIMARY KEY, geom BLOB);
             CREATE TABLE boundary (fid INTEGER PRIMARY KEY, geom BLOB);",
        )
        .unwrap();
        // Rows before the migration are indexed by it.
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        let pt = |rng: &mut rand::rngs::StdRng| {
            point_blob(Point::new(
                rng.random_range(118.0..119.0),
                rng.random_range(24.0..25.0),
            ))
        };
        for fid in 1..=50 {
            conn.execute(
                "INSERT INTO stations VALUES (?1, ?2)",
                rusqlite::params![fid, pt(&mut rng)],
            )
            .unwrap();
        }
        conn.execute_batch(MIGRATION).unwrap();
        let mut next = 51;
        for _ in 0..400 {
            match rng.random_range(0..5) {
                0 | 1 => {
                    conn.execute(
                        "INSERT INTO stations VALUES (?1, ?2)",
                        rusqlite::params![next, pt(&mut rng)],
                    )
                    .unwrap();
                    next += 1;
                }
                2 => {
                    conn.execute(
                        "UPDATE stations SET geom = ?1 WHERE fid = (SELECT fid FROM stations ORDER BY random() LIMIT 1)",
                        [pt(&mut rng)],
                    )
                    .unwrap();
                }
                3 => {
                    let g: Option<Vec<u8>> = match rng.random_range(0..3) {
                        0 => None,
                        1 => Some(point_blob(Point::new(f64::NAN, f64::NAN))),
                        _ => Some(pt(&mut rng)),
                    };
                    conn.execute(
                        "UPDATE stations SET fid = ?1, geom = ?2 WHERE fid = (SELECT fid FROM stations ORDER BY random() LIMIT 1)",
                        rusqlite::params![next, g],
                    )
                    .unwrap();
                    next += 1;
                }
                _ => {
                    conn.execute(
                        "DELETE FROM stations WHERE fid = (SELECT fid FROM stations ORDER BY random() LIMIT 1)",
                        [],
                    )
                    .unwrap();
                }
            }
        }
        let ids = |sql: &str, b: [f64; 4]| -> Vec<i64> {
            let mut s = conn.prepare(sql).unwrap();
            let mut v: Vec<i64> = s
                .query_map(b, |r| r.get(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            v.sort_unstable();
            v
        };
        for _ in 0..100 {
            let (x0, y0) = (rng.random_range(118.0..119.0), rng.random_range(24.0..25.0));
            let b = [
                x0,
                x0 + rng.random_range(0.0..0.4),
                y0,
                y0 + rng.random_range(0.0..0.4),
            ];
            // The R-tree keeps float32 boxes rounded outwards: its hits are
            // refined by the exact envelope, as a GIS reader does.
            let by_index = ids(
                "SELECT s.fid FROM rtree_stations_geom r JOIN stations s ON s.fid = r.id WHERE r.minx <= ?2 AND r.maxx >= ?1 AND r.miny <= ?4 AND r.maxy >= ?3 AND ST_MinX(s.geom) <= ?2 AND ST_MaxX(s.geom) >= ?1 AND ST_MinY(s.geom) <= ?4 AND ST_MaxY(s.geom) >= ?3",
                b,
            );
            let by_scan = ids(
                "SELECT fid FROM stations WHERE geom NOT NULL AND NOT ST_IsEmpty(geom) AND ST_MinX(geom) <= ?2 AND ST_MaxX(geom) >= ?1 AND ST_MinY(geom) <= ?4 AND ST_MaxY(geom) >= ?3",
                b,
            );
            assert_eq!(by_index, by_scan, "box {b:?}");
        }
        let (rows, indexed): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM stations WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)), (SELECT count(*) FROM rtree_stations_geom)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(rows, indexed);
        // Every row's box holds its geometry's envelope (no stale box).
        let held: i64 = conn
            .query_row(
                "SELECT count(*) FROM stations s JOIN rtree_stations_geom r ON r.id = s.fid WHERE r.minx <= ST_MinX(s.geom) AND r.maxx >= ST_MaxX(s.geom) AND r.miny <= ST_MinY(s.geom) AND r.maxy >= ST_MaxY(s.geom) AND r.maxx - r.minx < 1e-4 AND r.maxy - r.miny < 1e-4",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(held, rows);
        assert!(rows > 50, "the random writes left rows to check: {rows}");
    }
}
