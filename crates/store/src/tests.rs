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

#[test]
fn import_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut store = Store::open(&path).unwrap();
    let mut calls = 0;
    let sum = store.import(&dataset(), &mut |_, _| calls += 1).unwrap();
    assert_eq!(sum.stations, 2);
    assert!(calls >= 1);
    drop(store);
    let store = Store::open(&path).unwrap();
    let d = store.load().unwrap();
    let orig = dataset();
    assert_eq!(d.stations.items(), orig.stations.items());
    assert_eq!(d.hotspots.items(), orig.hotspots.items());
    assert_eq!(d.cells.items()[0].polygon, orig.cells.items()[0].polygon);
    assert_eq!(
        d.boundary.unwrap().geometry,
        orig.boundary.unwrap().geometry
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.schema_version().unwrap(), schema::SCHEMA_VERSION);
    let app: i64 = store
        .connection()
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, schema::GPKG_APPLICATION_ID);
}

#[test]
fn edits_are_validated_atomic_and_recorded() {
    let mut store = Store::open_in_memory().unwrap();
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

    let at = Utc::now();
    let s = store.set_occupancy("operator:C", "C", 7, at).unwrap();
    assert_eq!(s.free_seats(), 18);
    assert!(matches!(
        store.set_occupancy("x", "C", 99, at),
        Err(StoreError::Invalid {
            field: "occupied",
            ..
        })
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
    assert_eq!(h[4].before.as_ref().unwrap()["capacity"], 25);
    // The history cannot be rewritten.
    assert!(store
        .connection()
        .execute("DELETE FROM history", [])
        .is_err());
    assert!(store
        .connection()
        .execute("UPDATE history SET actor = 'x'", [])
        .is_err());
}

#[test]
fn scenarios_crud() {
    let mut store = Store::open_in_memory().unwrap();
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
}

#[test]
fn tokens_hash_verify_revoke() {
    let mut store = Store::open_in_memory().unwrap();
    let (info, secret) = store
        .create_token(&Role::Planner, Some("union office"))
        .unwrap();
    assert!(secret.starts_with("yz_") && secret.len() == 67);
    let stored: String = store
        .connection()
        .query_row("SELECT hash FROM yizhan_tokens", [], |r| r.get(0))
        .unwrap();
    assert!(!stored.contains(&secret[3..]), "only a hash is stored");
    assert_eq!(
        store.verify_token(&secret).unwrap().unwrap().role,
        Role::Planner
    );
    assert!(store.verify_token("yz_nope").unwrap().is_none());
    store.revoke_token(info.id).unwrap();
    assert!(store.verify_token(&secret).unwrap().is_none());
    assert!(matches!(
        store.revoke_token(info.id),
        Err(StoreError::UnknownToken(_))
    ));
    assert_eq!(
        "operator:AH-01".parse::<Role>().unwrap(),
        Role::Operator("AH-01".into())
    );
    assert!("operator:".parse::<Role>().is_err());
    assert!("root".parse::<Role>().is_err());
    for (text, want) in [
        (" admin ", Some(Role::Admin)),
        ("planner", Some(Role::Planner)),
        (" operator: S1 ", Some(Role::Operator("S1".into()))),
        ("operator:  ", None),
        ("Admin", None),
        ("", None),
    ] {
        assert_eq!(text.parse::<Role>().ok(), want, "{text:?}");
    }
    for r in [Role::Admin, Role::Planner, Role::Operator("AH-01".into())] {
        assert_eq!(r.to_string().parse::<Role>().unwrap(), r, "{r}");
    }
    assert!(Role::Operator("A".into()).can_report("A"));
    assert!(!Role::Operator("A".into()).can_report("B"));
    assert!(!Role::Operator("A".into()).can_plan());
}

#[test]
fn newer_schema_is_refused_and_foreign_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    {
        let store = Store::open(&path).unwrap();
        store
            .connection()
            .execute(
                "UPDATE yizhan_meta SET value = '99' WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer"));

    let other = dir.path().join("other.sqlite");
    {
        let c = Connection::open(&other).unwrap();
        c.execute("CREATE TABLE t (x)", []).unwrap();
    }
    assert!(matches!(Store::open(&other), Err(StoreError::NotAStore(_))));
}

/// `gpkg_contents`' extent of `table`: (min x, min y, max x, max y).
fn extent(store: &Store, table: &str) -> [Option<f64>; 4] {
    store
        .connection()
        .query_row(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?1",
            [table],
            |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
        )
        .unwrap()
}

#[test]
fn extents_follow_the_features() {
    let mut store = Store::open_in_memory().unwrap();
    store.import(&dataset(), &mut |_, _| {}).unwrap();
    let some = |e: [f64; 4]| e.map(Some);
    for (table, want) in [
        ("stations", some([118.47, 24.72, 118.48, 24.73])),
        ("cells", some([118.46, 24.71, 118.47, 24.72])),
        ("hotspots", some([118.465, 24.715, 118.465, 24.715])),
        ("boundary", some([118.46, 24.71, 118.47, 24.72])),
        ("candidates", [None; 4]),
    ] {
        assert_eq!(extent(&store, table), want, "{table}");
    }
    // A write moves the extent of its layer.
    store
        .create_station("t", &station("C", 118.50, 24.70))
        .unwrap();
    assert_eq!(
        extent(&store, "stations"),
        some([118.47, 24.70, 118.50, 24.73])
    );
    let mut b = station("B", 118.475, 24.725);
    b.name = "moved".into();
    store.update_station("t", &b).unwrap();
    assert_eq!(
        extent(&store, "stations"),
        some([118.47, 24.70, 118.50, 24.725])
    );
}
