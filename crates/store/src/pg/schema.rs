//! The PostGIS schema and its migrations.
//!
//! The same tables and columns as the GeoPackage's (`crate::schema`), with
//! PostgreSQL's types: geometries are PostGIS `geometry(…, 4326)` columns with
//! GiST indexes (so `ogrinfo PG:…` and QGIS list them as layers), JSON columns
//! are `jsonb`, the occupancy time is `timestamptz`, and counts are `bigint` (a
//! `u32` always fits). The history is append-only, enforced by a trigger. The
//! schema version lives in `yizhan_meta`, as in the GeoPackage; both backends
//! count versions from the same [`crate::schema::SCHEMA_VERSION`].

/// Taken (`pg_advisory_xact_lock`) while migrating, so replicas starting at once
/// migrate in turn ("yizhan" in ASCII).
pub(crate) const MIGRATION_LOCK: i64 = 0x0000_7969_7a68_616e;

/// Run before the migrations, every time: the extension and the meta table.
pub(crate) const BOOTSTRAP: &str = r#"
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS yizhan_meta (key text PRIMARY KEY, value text NOT NULL);
"#;

/// Migrations, in order: entry `i` brings the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE stations (
  fid bigserial PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  name_zh text,
  kind text NOT NULL,
  amenities text NOT NULL,
  capacity bigint NOT NULL CHECK (capacity >= 0),
  opening_hours text NOT NULL,
  grid_unit text,
  operator text,
  address text,
  occupied bigint CHECK (occupied IS NULL OR occupied >= 0),
  occupancy_reported_at timestamptz
);
CREATE INDEX stations_geom_gist ON stations USING gist (geom);
CREATE TABLE hotspots (
  fid bigserial PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  id text NOT NULL UNIQUE,
  workers bigint NOT NULL CHECK (workers >= 0),
  worker_type text NOT NULL,
  grid_unit text
);
CREATE INDEX hotspots_geom_gist ON hotspots USING gist (geom);
CREATE TABLE cells (
  fid bigserial PRIMARY KEY,
  geom geometry(Polygon, 4326) NOT NULL,
  id text NOT NULL UNIQUE,
  grid_unit text,
  unit_name text,
  demand double precision NOT NULL
);
CREATE INDEX cells_geom_gist ON cells USING gist (geom);
CREATE TABLE candidates (
  fid bigserial PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  id text NOT NULL UNIQUE,
  name text,
  capacity bigint
);
CREATE INDEX candidates_geom_gist ON candidates USING gist (geom);
CREATE TABLE boundary (
  fid bigserial PRIMARY KEY,
  geom geometry(MultiPolygon, 4326) NOT NULL,
  name text NOT NULL,
  properties jsonb NOT NULL
);
CREATE INDEX boundary_geom_gist ON boundary USING gist (geom);
CREATE TABLE scenarios (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at text NOT NULL,
  created_by text NOT NULL,
  candidates jsonb NOT NULL,
  comparison jsonb
);
CREATE TABLE history (
  seq bigserial PRIMARY KEY,
  at text NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id text NOT NULL,
  before jsonb,
  after jsonb
);
CREATE FUNCTION yizhan_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history is append-only';
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
  FOR EACH ROW EXECUTE FUNCTION yizhan_history_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
  FOR EACH STATEMENT EXECUTE FUNCTION yizhan_history_append_only();
CREATE TABLE yizhan_tokens (
  id bigserial PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  role text NOT NULL,
  label text,
  created_at text NOT NULL,
  revoked_at text
);
"#,
    // 1 → 2: the GeoPackage gained its R-tree index; PostGIS has had its GiST
    // indexes since version 1, so nothing changes here but the version.
    "SELECT 1;",
    // 2 → 3: a hotspot's demand profile by hour (#20).
    r#"
ALTER TABLE hotspots ADD COLUMN profile jsonb;
"#,
];
