//! The GeoPackage schema and yizhan's migrations.
//!
//! The file is an OGC GeoPackage 1.3 (`application_id` 'GPKG', `user_version`
//! 10300), so QGIS and GDAL open it directly. yizhan's own schema version lives in
//! the `yizhan_meta` table, since GeoPackage reserves `user_version`.

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 3;

/// `PRAGMA application_id` of a GeoPackage ('GPKG').
pub const GPKG_APPLICATION_ID: i64 = 0x4750_4B47;
/// `PRAGMA user_version` of a GeoPackage 1.3.
pub const GPKG_USER_VERSION: i64 = 10300;

/// WKT of WGS 84 geographic 2D (EPSG:4326), as GDAL writes it.
pub const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// The GeoPackage core tables (requirement 10-14 of the standard).
pub const GPKG_CORE: &str = r#"
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE IF NOT EXISTS yizhan_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
"#;

/// Migrations, in order: entry `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE stations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_zh TEXT,
  kind TEXT NOT NULL,
  amenities TEXT NOT NULL,
  capacity INTEGER NOT NULL CHECK (capacity >= 0),
  opening_hours TEXT NOT NULL,
  grid_unit TEXT,
  operator TEXT,
  address TEXT,
  occupied INTEGER CHECK (occupied IS NULL OR occupied >= 0),
  occupancy_reported_at TEXT
);
CREATE TABLE hotspots (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  workers INTEGER NOT NULL CHECK (workers >= 0),
  worker_type TEXT NOT NULL,
  grid_unit TEXT
);
CREATE TABLE cells (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POLYGON NOT NULL,
  id TEXT NOT NULL UNIQUE,
  grid_unit TEXT,
  unit_name TEXT,
  demand REAL NOT NULL
);
CREATE TABLE candidates (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  name TEXT,
  capacity INTEGER
);
CREATE TABLE boundary (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom MULTIPOLYGON NOT NULL,
  name TEXT NOT NULL,
  properties TEXT NOT NULL
);
CREATE TABLE scenarios (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  candidates TEXT NOT NULL,
  comparison TEXT
);
CREATE TABLE history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE TRIGGER history_append_only_update BEFORE UPDATE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_append_only_delete BEFORE DELETE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TABLE yizhan_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  label TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('stations', 'features', 'stations', 'Rest stations and childcare classes', 4326),
  ('hotspots', 'features', 'hotspots', 'Outdoor-worker hotspots (demand points)', 4326),
  ('cells', 'features', 'cells', 'Management grid cells', 4326),
  ('candidates', 'features', 'candidates', 'Candidate sites for new stations', 4326),
  ('boundary', 'features', 'boundary', 'Town outline', 4326),
  ('scenarios', 'attributes', 'scenarios', 'Saved planning scenarios', NULL),
  ('history', 'attributes', 'history', 'Append-only history of changes', NULL);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
  ('stations', 'geom', 'POINT', 4326, 0, 0),
  ('hotspots', 'geom', 'POINT', 4326, 0, 0),
  ('cells', 'geom', 'POLYGON', 4326, 0, 0),
  ('candidates', 'geom', 'POINT', 4326, 0, 0),
  ('boundary', 'geom', 'MULTIPOLYGON', 4326, 0, 0);
"#,
    // 1 → 2: the GeoPackage R-tree spatial index on every feature table.
    crate::rtree::MIGRATION,
    // 2 → 3: a hotspot's demand profile by hour (#20), as JSON text.
    r#"
ALTER TABLE hotspots ADD COLUMN profile TEXT;
"#,
];
