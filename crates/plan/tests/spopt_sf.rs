//! PySAL spopt's San Francisco test set (205 tracts × 16 stores, road distances):
//! yizhan must reproduce spopt's expected figures exactly.

use std::path::PathBuf;

use yizhan_plan::{solve, MatrixCsv, Model, Problem, SiteParams};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spopt-sf")
        .join(name)
}

/// The matrix with tracts in spopt's order (sorted by name, as its pivot table does).
fn sf_problem() -> Problem {
    let spec = MatrixCsv {
        path: fixture("SF_network_distance_candidateStore_16_censusTract_205_new.csv"),
        demand_col: "DestinationName".into(),
        site_col: "name".into(),
        cost_col: "distance".into(),
        weight_col: Some("demand".into()),
        weights: None,
        require_complete: true,
    };
    let p = Problem::from_csv(&spec).unwrap();
    assert_eq!((p.n_demand(), p.n_sites()), (205, 16));
    assert!(p.is_complete());
    sorted(p)
}

fn sorted(p: Problem) -> Problem {
    let mut order: Vec<usize> = (0..p.n_demand()).collect();
    order.sort_by(|&a, &b| p.demand()[a].id.cmp(&p.demand()[b].id));
    let demand = order.iter().map(|&i| p.demand()[i].clone()).collect();
    let mut trip = Vec::new();
    for (new_i, &i) in order.iter().enumerate() {
        let (s, c) = p.row(i);
        for (j, d) in s.iter().zip(c) {
            trip.push((new_i, *j as usize, *d));
        }
    }
    Problem::from_triplets(demand, p.sites().to_vec(), trip).unwrap()
}

fn params(model: Model, exact: bool) -> SiteParams {
    let mut sp = SiteParams::new(model);
    sp.p = Some(4);
    sp.radius_m = Some(5000.0);
    sp.exact = exact;
    sp
}

#[test]
fn mclp_matches_spopt_in_both_modes() {
    let prob = sf_problem();
    for exact in [false, true] {
        let s = solve(&prob, &params(Model::Mclp, exact)).unwrap();
        assert_eq!(s.uncovered_points, 21, "exact={exact}");
        // spopt computes perc_cov as (1 - n_uncov / n) * 100 and its test compares with
        // pytest.approx(89.75609756097561); the same formula here gives the same f64.
        assert_eq!(s.covered_points_pct, (1.0 - 21.0 / 205.0) * 100.0);
        assert!((s.covered_points_pct - 89.756_097_560_975_6).abs() < 1e-12);
        assert_eq!(s.objective, 875_247.0);
        let mut sites = s.sites.clone();
        sites.sort();
        assert_eq!(sites, ["Store_11", "Store_12", "Store_15", "Store_2"]);
        if exact {
            assert!(s.optimal);
            assert_eq!(s.gap, Some(0.0));
            assert_eq!(s.method, "exact");
        }
    }
}

#[test]
fn pmedian_matches_spopt_in_both_modes() {
    let prob = sf_problem();
    for exact in [false, true] {
        let s = solve(&prob, &params(Model::PMedian, exact)).unwrap();
        assert_eq!(s.mean_distance_m, Some(2982.1268579890657), "exact={exact}");
        // spopt: objective / sum of weights
        assert_eq!(s.objective / s.total_demand, 2982.1268579890657);
        if exact {
            assert!(s.optimal, "{s:?}");
            assert_eq!(s.method, "exact");
        }
    }
}

#[test]
fn weights_from_a_second_file_give_the_same_answer() {
    let spec = MatrixCsv {
        path: fixture("SF_network_distance_candidateStore_16_censusTract_205_new.csv"),
        demand_col: "DestinationName".into(),
        site_col: "name".into(),
        cost_col: "distance".into(),
        weight_col: None,
        weights: Some(yizhan_plan::WeightsCsv {
            path: fixture("SF_demand_205_centroid_uniform_weight.csv"),
            id_col: "NAME".into(),
            weight_col: "POP2000".into(),
        }),
        require_complete: true,
    };
    let prob = sorted(Problem::from_csv(&spec).unwrap());
    let s = solve(&prob, &params(Model::Mclp, false)).unwrap();
    assert_eq!(s.uncovered_points, 21);
    let s = solve(&prob, &params(Model::PMedian, false)).unwrap();
    assert_eq!(s.mean_distance_m, Some(2982.1268579890657));
}

#[test]
fn lscp_and_pcenter_run_on_sf() {
    let prob = sf_problem();
    let h = solve(&prob, &params(Model::PCenter, false)).unwrap();
    let e = solve(&prob, &params(Model::PCenter, true)).unwrap();
    assert!(e.optimal);
    assert!(e.objective <= h.objective + 1e-9);
    let mut lp = params(Model::Lscp, true);
    lp.radius_m = Some(e.objective);
    let l = solve(&prob, &lp).unwrap();
    assert!(l.optimal);
    assert!(l.new_sites.len() <= 4);
    assert_eq!(l.uncovered_points, 0);
}

#[test]
fn too_many_sites_is_a_clear_error() {
    let prob = sf_problem();
    let mut sp = params(Model::Mclp, false);
    sp.p = Some(1000);
    let e = solve(&prob, &sp).unwrap_err();
    assert!(matches!(
        e,
        yizhan_plan::PlanError::TooManySites {
            requested: 1000,
            available: 16
        }
    ));
    assert!(e.to_string().contains("1000"));
}
