//! The conformance suite: every store behaviour, checked on both backends. Each
//! case is a function of a [`Fixture`] (how to make a fresh store of one backend
//! and look inside it by hand); `conformance!` runs every case as its own test on
//! the GeoPackage, and all of them in one test on a private PostGIS cluster
//! (started once, stopped at the end; skipped loudly without PostgreSQL, failed
//! under `CI=true`).

use super::*;
use chrono::Utc;
use rusqlite::Connection;
use yizhan_core::model::Amenity;
use yizhan_core::model::{Boundary, GridCell, Hotspot, Station, StationKind, WorkerType};
use yizhan_core::{Dataset, LonLat};

fn station(id: &str, lon: f64, lat: f64) -> Station {
    Station {
        id: id.into(),
        name: format!("Station {id}"),
        name_zh: Some("驿站".into()),
        kind: StationKind::RestStation,
        location: LonLat::new(lon, lat).unwrap(),
        amenities: [Amenity::Microwave, Amenity::Charging]
            .into_iter()
            .collect(),
        capacity: 10,
        occupancy: None,
        opening_hours: "Mo-Fr 08:00-18:00".parse().unwrap(),
        grid_unit: Some("350582101001".into()),
        operator: Some("Anhai union".into()),
        address: None,
    }
}

fn dataset() -> Dataset {
    let cell = GridCell {
        id: "c1".into(),
        polygon: geo_types::Polygon::new(
            vec![
                (118.46, 24.71),
                (118.47, 24.71),
                (118.47, 24.72),
                (118.46, 24.72),
                (118.46, 24.71),
            ]
            .into(),
            vec![],
        ),
        grid_unit: Some("350582101001".into()),
        unit_name: Some("兴胜社区".into()),
        demand: 12.0,
        centroid: LonLat::new(118.465, 24.715).unwrap(),
    };
    let hot = Hotspot {
        id: "h1".into(),
        location: LonLat::new(118.465, 24.715).unwrap(),
        workers: 12,
        worker_type: WorkerType::Delivery,
        grid_unit: None,
        // A profile that is not uniform, with shares that are not round in binary.
        profile: Some({
            let mut p = yizhan_core::profile::DemandProfile::uniform();
            p.hourly = [0.0; 24];
            p.hourly[11] = 0.3;
            p.hourly[12] = 0.7;
            p
        }),
    };
    let boundary = Boundary {
        name: "Anhai".into(),
        geometry: geo_types::MultiPolygon::new(vec![cell.polygon.clone()]),
        properties: serde_json::Map::new(),
    };
    Dataset::new(
        vec![station("A", 118.47, 24.72), station("B", 118.48, 24.73)],
        vec![hot],
        vec![cell],
        vec![],
        Some(boundary),
    )
}

/// One backend under test.
trait Fixture {
    /// Where a fresh, empty store can be made.
    fn fresh(&self) -> Location;
    /// A database of another program: tables, but no yizhan schema.
    fn foreign(&self) -> Location;
    /// Run one SQL statement by hand, beside the store; `Err` when it is refused.
    fn execute(&self, at: &Location, sql: &str) -> std::result::Result<(), String>;
    /// The text of the first column of the first row of `sql`, run by hand.
    fn text(&self, at: &Location, sql: &str) -> String;
    /// The extent of a layer as the backend reports it to GIS clients:
    /// (min x, min y, max x, max y).
    fn extent(&self, at: &Location, table: &str) -> [Option<f64>; 4];
}

struct GpkgFixture {
    dir: tempfile::TempDir,
    n: std::cell::Cell<usize>,
}

impl GpkgFixture {
    fn new() -> Self {
        GpkgFixture {
            dir: tempfile::tempdir().unwrap(),
            n: Default::default(),
        }
    }
    fn next(&self, stem: &str) -> std::path::PathBuf {
        self.n.set(self.n.get() + 1);
        self.dir.path().join(format!("{stem}{}.gpkg", self.n.get()))
    }
    fn conn(at: &Location) -> Connection {
        Connection::open(at.file().expect("a GeoPackage")).unwrap()
    }
}

impl Fixture for GpkgFixture {
    fn fresh(&self) -> Location {
        Location::File(self.next("s"))
    }
    fn foreign(&self) -> Location {
        let p = self.next("other");
        Connection::open(&p)
            .unwrap()
            .execute("CREATE TABLE t (x)", [])
            .unwrap();
        Location::File(p)
    }
    fn execute(&self, at: &Location, sql: &str) -> std::result::Result<(), String> {
        Self::conn(at)
            .execute(sql, [])
            .map(drop)
            .map_err(|e| e.to_string())
    }
    fn text(&self, at: &Location, sql: &str) -> String {
        Self::conn(at).query_row(sql, [], |r| r.get(0)).unwrap()
    }
    fn extent(&self, at: &Location, table: &str) -> [Option<f64>; 4] {
        Self::conn(at)
            .query_row(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?1",
                [table],
                |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
            )
            .unwrap()
    }
}

struct PgFixture {
    cluster: crate::testing::Cluster,
}

impl PgFixture {
    fn client(&self, at: &Location) -> postgres::Client {
        match at {
            Location::Postgres(url) => postgres::Client::connect(url, postgres::NoTls).unwrap(),
            Location::File(_) => panic!("not a database"),
        }
    }
}

impl Fixture for PgFixture {
    fn fresh(&self) -> Location {
        Location::Postgres(self.cluster.url(&self.cluster.create_database("conf")))
    }
    fn foreign(&self) -> Location {
        let at = self.fresh();
        self.client(&at)
            .batch_execute("CREATE TABLE t (x int)")
            .unwrap();
        at
    }
    fn execute(&self, at: &Location, sql: &str) -> std::result::Result<(), String> {
        self.client(at)
            .batch_execute(sql)
            .map_err(|e| e.to_string())
    }
    fn text(&self, at: &Location, sql: &str) -> String {
        self.client(at).query_one(sql, &[]).unwrap().get(0)
    }
    fn extent(&self, at: &Location, table: &str) -> [Option<f64>; 4] {
        let r = self
            .client(at)
            .query_one(
                &format!(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
                     FROM (SELECT ST_Extent(geom)::geometry AS e FROM {table}) x"
                ),
                &[],
            )
            .unwrap();
        [r.get(0), r.get(1), r.get(2), r.get(3)]
    }
}

/// Each case as a test on the GeoPackage, and all of them on PostGIS.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod gpkg_backend {
            $(
                #[test]
                fn $case() {
                    super::$case(&super::GpkgFixture::new());
                }
            )*
        }

        #[test]
        fn postgis_backend() {
            let Some(cluster) = crate::testing::Cluster::start() else {
                return;
            };
            let f = PgFixture { cluster };
            $(
                eprintln!("postgis: {}", stringify!($case));
                $case(&f);
            )*
        }
    };
}

conformance!(
    import_and_load_round_trip,
    edits_are_validated_atomic_and_recorded,
    occupancy_reads_back_as_returned,
    scenarios_crud,
    tokens_hash_verify_revoke,
    newer_schema_is_refused_and_foreign_stores_too,
    extents_follow_the_features,
    reopening_keeps_everything,
    history_reads_back_as_changes,
);

fn import_and_load_round_trip(f: &dyn Fixture) {
    let at = f.fresh();
    let mut store = Store::open_at(&at).unwrap();
    let mut calls = 0;
    let sum = store.import(&dataset(), &mut |_, _| calls += 1).unwrap();
    assert_eq!(sum.stations, 2);
    assert!(calls >= 1);
    drop(store);
    let store = Store::open_at(&at).unwrap();
    let d = store.load().unwrap();
    let orig = dataset();
    assert_eq!(d.stations.items(), orig.stations.items());
    assert_eq!(d.hotspots.items(), orig.hotspots.items());
    assert_eq!(d.cells.items(), orig.cells.items());
    assert_eq!(d.candidates.items(), orig.candidates.items());
    assert_eq!(d.boundary, orig.boundary);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.schema_version().unwrap(), schema::SCHEMA_VERSION);
    // A second import replaces every layer.
    let mut store = store;
    let one = Dataset::new(
        vec![station("Z", 118.5, 24.8)],
        vec![],
        vec![],
        vec![],
        None,
    );
    store.import(&one, &mut |_, _| {}).unwrap();
    let d = store.load().unwrap();
    assert_eq!(d.stations.items(), one.stations.items());
    assert!(d.hotspots.is_empty() && d.cells.is_empty() && d.boundary.is_none());
}

fn edits_are_validated_atomic_and_recorded(f: &dyn Fixture) {
    let at = f.fresh();
    let mut store = Store::open_at(&at).unwrap();
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    // Duplicate id: refused, nothing changes.
    assert!(matches!(
        store.create_station("planner", &station("A", 118.0, 24.0)),
        Err(StoreError::DuplicateStation(_))
    ));
    let mut bad = station("C", 118.0, 24.0);
    bad.name = " ".into();
    assert!(matches!(
        store.create_station("planner", &bad),
        Err(StoreError::Invalid { field: "name", .. })
    ));
    assert_eq!(store.stations().unwrap().len(), 2);

    store
        .create_station("planner", &station("C", 118.49, 24.74))
        .unwrap();
    let mut c = store.station("C").unwrap();
    c.capacity = 25;
    store.update_station("planner", &c).unwrap();
    assert_eq!(store.station("C").unwrap().capacity, 25);
    assert!(matches!(
        store.update_station("planner", &station("Z", 1.0, 1.0)),
        Err(StoreError::UnknownStation(_))
    ));

    let now = Utc::now();
    let s = store.set_occupancy("operator:C", "C", 7, now).unwrap();
    assert_eq!(s.free_seats(), 18);
    assert!(matches!(
        store.set_occupancy("x", "C", 99, now),
        Err(StoreError::Invalid {
            field: "occupied",
            ..
        })
    ));
    assert!(matches!(
        store.set_occupancy("x", "nope", 1, now),
        Err(StoreError::UnknownStation(_))
    ));
    assert_eq!(store.station("C").unwrap().occupancy.unwrap().occupied, 7);

    store.retire_station("planner", "C").unwrap();
    assert!(matches!(
        store.station("C"),
        Err(StoreError::UnknownStation(_))
    ));
    assert!(matches!(
        store.retire_station("planner", "C"),
        Err(StoreError::UnknownStation(_))
    ));

    let h = store.history(0, 100).unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["import", "create", "update", "occupancy", "retire"]
    );
    assert!(h.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(h[4].before.as_ref().unwrap()["capacity"], 25);
    assert_eq!(h[3].after.as_ref().unwrap()["occupied"], 7);
    assert_eq!(h[1].actor, "planner");
    // Paging: after a seq, at most `limit`.
    let page = store.history(h[1].seq, 2).unwrap();
    assert_eq!(page, h[2..4]);
    // The history cannot be rewritten.
    assert!(f.execute(&at, "DELETE FROM history").is_err());
    assert!(f.execute(&at, "UPDATE history SET actor = 'x'").is_err());
    assert_eq!(store.history(0, 100).unwrap(), h);
}

fn occupancy_reads_back_as_returned(f: &dyn Fixture) {
    let mut store = Store::open_at(&f.fresh()).unwrap();
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    let at = Utc::now();
    let s = store.set_occupancy("op", "A", 3, at).unwrap();
    // What the write returns is what a reader sees (a replica reads the store).
    assert_eq!(store.station("A").unwrap(), s);
    let t = s.occupancy.unwrap().reported_at;
    assert!(
        (t - at).num_microseconds().unwrap().abs() < 1,
        "{t} vs {at}"
    );
    // A whole station written with a report keeps it too.
    let mut b = store.station("B").unwrap();
    b.occupancy = Some(yizhan_core::model::Occupancy {
        occupied: 4,
        reported_at: at,
    });
    let written = store.update_station("planner", &b).unwrap();
    assert_eq!(store.station("B").unwrap(), written);
    assert_eq!(store.load().unwrap().stations.items()[1], written);
}

fn scenarios_crud(f: &dyn Fixture) {
    let mut store = Store::open_at(&f.fresh()).unwrap();
    let cands = serde_json::json!({"type": "FeatureCollection", "features": []});
    let a = store
        .save_scenario("planner", "north", &cands, None)
        .unwrap();
    let b = store
        .save_scenario("planner", "south", &cands, Some(&serde_json::json!([1])))
        .unwrap();
    assert!(store.save_scenario("planner", "", &cands, None).is_err());
    assert_eq!(
        store
            .scenarios()
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        [b.id, a.id]
    );
    assert_eq!(store.scenario(b.id).unwrap(), b);
    assert_eq!(
        store.scenario(b.id).unwrap().comparison,
        Some(serde_json::json!([1]))
    );
    store.delete_scenario("planner", a.id).unwrap();
    assert!(matches!(
        store.scenario(a.id),
        Err(StoreError::UnknownScenario(_))
    ));
    assert!(matches!(
        store.delete_scenario("planner", a.id),
        Err(StoreError::UnknownScenario(_))
    ));
    let h = store.history(0, 10).unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["scenario_save", "scenario_save", "scenario_delete"]
    );
    assert_eq!(h[2].before.as_ref().unwrap()["name"], "north");
}

fn tokens_hash_verify_revoke(f: &dyn Fixture) {
    let at = f.fresh();
    let mut store = Store::open_at(&at).unwrap();
    let (info, secret) = store
        .create_token(&Role::Planner, Some("union office"))
        .unwrap();
    assert!(secret.starts_with("yz_") && secret.len() == 67);
    let stored = f.text(&at, "SELECT hash FROM yizhan_tokens");
    assert!(!stored.contains(&secret[3..]), "only a hash is stored");
    assert_eq!(stored.len(), 64);
    assert_eq!(
        store.verify_token(&secret).unwrap().unwrap().role,
        Role::Planner
    );
    assert!(store.verify_token("yz_nope").unwrap().is_none());
    let (_, other) = store
        .create_token(&Role::Operator("A".into()), None)
        .unwrap();
    assert_eq!(store.tokens().unwrap().len(), 2);
    store.revoke_token(info.id).unwrap();
    assert!(store.verify_token(&secret).unwrap().is_none());
    assert_eq!(
        store.verify_token(&other).unwrap().unwrap().role,
        Role::Operator("A".into())
    );
    assert!(matches!(
        store.revoke_token(info.id),
        Err(StoreError::UnknownToken(_))
    ));
    let listed = store.tokens().unwrap();
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
    assert_eq!(listed[0].label.as_deref(), Some("union office"));
}

fn newer_schema_is_refused_and_foreign_stores_too(f: &dyn Fixture) {
    let at = f.fresh();
    drop(Store::open_at(&at).unwrap());
    f.execute(
        &at,
        "UPDATE yizhan_meta SET value = '99' WHERE key = 'schema_version'",
    )
    .unwrap();
    let err = Store::open_at(&at).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer"));
    // The refused store is left as it was.
    assert_eq!(
        f.text(
            &at,
            "SELECT value FROM yizhan_meta WHERE key = 'schema_version'"
        ),
        "99"
    );
    let other = f.foreign();
    assert!(matches!(
        Store::open_at(&other),
        Err(StoreError::NotAStore(_))
    ));
}

fn extents_follow_the_features(f: &dyn Fixture) {
    let at = f.fresh();
    let mut store = Store::open_at(&at).unwrap();
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    let some = |e: [f64; 4]| e.map(Some);
    for (table, want) in [
        ("stations", some([118.47, 24.72, 118.48, 24.73])),
        ("cells", some([118.46, 24.71, 118.47, 24.72])),
        ("hotspots", some([118.465, 24.715, 118.465, 24.715])),
        ("boundary", some([118.46, 24.71, 118.47, 24.72])),
        ("candidates", [None; 4]),
    ] {
        assert_eq!(f.extent(&at, table), want, "{table}");
    }
    // A write moves the extent of its layer.
    store
        .create_station("t", &station("C", 118.50, 24.70))
        .unwrap();
    assert_eq!(
        f.extent(&at, "stations"),
        some([118.47, 24.70, 118.50, 24.73])
    );
    let mut b = station("B", 118.475, 24.725);
    b.name = "moved".into();
    store.update_station("t", &b).unwrap();
    assert_eq!(
        f.extent(&at, "stations"),
        some([118.47, 24.70, 118.50, 24.725])
    );
}

fn reopening_keeps_everything(f: &dyn Fixture) {
    let at = f.fresh();
    let (secret, scenario) = {
        let mut store = Store::open_at(&at).unwrap();
        store.import(&dataset(), &mut |_, _| {}).unwrap();
        store.set_occupancy("op", "A", 2, Utc::now()).unwrap();
        let (_, secret) = store.create_token(&Role::Admin, None).unwrap();
        let sc = store
            .save_scenario("p", "x", &serde_json::json!({"a": [1, 2]}), None)
            .unwrap();
        (secret, sc)
    };
    // Opening again migrates nothing and loses nothing.
    let store = Store::open_at(&at).unwrap();
    assert_eq!(store.station("A").unwrap().occupancy.unwrap().occupied, 2);
    assert_eq!(
        store.verify_token(&secret).unwrap().unwrap().role,
        Role::Admin
    );
    assert_eq!(store.scenario(scenario.id).unwrap(), scenario);
    assert_eq!(store.history(0, 10).unwrap().len(), 3);
}

#[test]
fn gpkg_is_a_geopackage_and_works_in_memory() {
    let f = GpkgFixture::new();
    let at = f.fresh();
    let mut store = Store::open_at(&at).unwrap();
    assert_eq!(store.backend(), BackendKind::Gpkg);
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    let app: i64 = GpkgFixture::conn(&at)
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, schema::GPKG_APPLICATION_ID);
    let mut mem = Store::open_in_memory().unwrap();
    mem.import(&dataset(), &mut |_, _| {}).unwrap();
    assert_eq!(
        mem.load().unwrap().stations.items(),
        dataset().stations.items()
    );
}

fn history_reads_back_as_changes(f: &dyn Fixture) {
    let mut store = Store::open_at(&f.fresh()).unwrap();
    assert_eq!(store.last_seq().unwrap(), 0);
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    let start = store.last_seq().unwrap();
    let c = store
        .create_station("p", &station("C", 118.49, 24.74))
        .unwrap();
    let mut b = store.station("B").unwrap();
    b.capacity = 3;
    let b = store.update_station("p", &b).unwrap();
    let a = store.set_occupancy("op", "A", 5, Utc::now()).unwrap();
    let retired = store.retire_station("p", "C").unwrap();
    store
        .save_scenario("p", "x", &serde_json::json!({}), None)
        .unwrap();
    let changes: Vec<Change> = store
        .changes(start, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.change)
        .collect();
    // Each record gives back exactly the station the write returned.
    assert_eq!(
        changes,
        [
            Change::Station {
                action: "created",
                station: Box::new(c)
            },
            Change::Station {
                action: "updated",
                station: Box::new(b)
            },
            Change::Occupancy(Box::new(a)),
            Change::Retired(Box::new(retired)),
            Change::None,
        ]
    );
    let all = store.changes(0, 100).unwrap();
    assert_eq!(all[0].change, Change::Reload);
    assert_eq!(store.last_seq().unwrap(), all.last().unwrap().seq);
}
