#!/usr/bin/env python3
"""The peers users would otherwise pick, on the very data yizhan-bench exported.

    peers.py EXPORT_DIR WORK_DIR [ckdtree] [redis] [postgis] [spopt]
    peers.py --ratios LOGFILE       # ratio lines from the FIGURE lines of a run
    peers.py --demand PINGS.csv LABEL   # movingpandas' stop detector on yizhan's pings

Prints one `FIGURE <name> <value> <unit> | <note>` line per figure, like yizhan-bench.
Redis and PostgreSQL are started here on 127.0.0.1 only, on private ports and in
WORK_DIR, and stopped before returning (also on errors). A peer that cannot run is
skipped loudly (`SKIP <peer>: <why>`), never silently.
"""

import math
import os
import shutil
import subprocess
import sys
import time

R = 6_371_008.8


def figure(name, value, unit, note):
    print(f"FIGURE {name} {value:.4f} {unit} | {note}", flush=True)


def skip(peer, why):
    print(f"SKIP {peer}: {why}", flush=True)


def load(export, name, cols):
    import numpy as np

    return np.fromfile(os.path.join(export, name), dtype="<f8").reshape(-1, cols)


def unit(lonlat):
    import numpy as np

    lon = np.radians(lonlat[:, 0])
    lat = np.radians(lonlat[:, 1])
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def chord(m):
    return 2.0 * math.sin(m / R / 2.0)


def best_rate(n, budget_s, fn):
    """Best of 3 rounds of fn() (which does n operations), operations per second."""
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        calls = 0
        while time.perf_counter() - t < budget_s / 3 or calls == 0:
            fn()
            calls += 1
        best = max(best, calls * n / (time.perf_counter() - t))
    return best


# ---------------------------------------------------------------- cKDTree
def ckdtree(export):
    import numpy as np
    from scipy.spatial import cKDTree

    st = load(export, "stations.f64", 2)
    qs = load(export, "queries.f64", 2)
    hs = load(export, "hotspots.f64", 2)
    xyz = unit(st)
    t = time.perf_counter()
    tree = cKDTree(xyz)
    figure("peer_ckdtree_build", (time.perf_counter() - t) * 1e3, "ms", f"cKDTree over {len(st)} unit vectors")
    q = unit(qs)
    # Cross-check: same 5 nearest stations as yizhan for the first 1,000 queries.
    ours = load(export, "knn5_first1000.f64", 5).astype(int)
    _, theirs = tree.query(q[:1000], k=5)
    agree = sum(set(a) == set(b) for a, b in zip(ours, theirs))
    figure("check_knn5_agreement", agree / 10.0, "%", "same 5-station sets as cKDTree, first 1,000 queries")
    rate = best_rate(len(q), 6.0, lambda: tree.query(q, k=5, workers=1))
    figure("peer_ckdtree_knn5", rate, "queries/s", "cKDTree.query(k=5, workers=1), batch of 100,000")
    h = unit(hs)
    c = chord(500.0)
    covered = 0
    t = time.perf_counter()
    d, _ = tree.query(h, k=1, distance_upper_bound=c, workers=-1)
    covered = int(np.isfinite(d).sum())
    el = time.perf_counter() - t
    ours = open(os.path.join(export, "coverage_covered.txt")).read().strip()
    figure(
        "peer_ckdtree_coverage_500m",
        el,
        "s",
        f"{len(hs)} hotspots, k=1 within 500 m, all cores; covered {covered} (yizhan {ours})",
    )


# ---------------------------------------------------------------- Redis
def redis_peer(export, work):
    import redis as redislib

    exe = shutil.which("redis-server")
    if not exe:
        return skip("redis", "redis-server not installed (apt-get install redis-server)")
    port = 6391
    rdir = os.path.join(work, "redis")
    os.makedirs(rdir, exist_ok=True)
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", rdir,
         "--protected-mode", "yes", "--daemonize", "no", "--logfile", os.path.join(rdir, "redis.log")],
        stdout=subprocess.DEVNULL,
    )
    try:
        r = redislib.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except Exception:
                time.sleep(0.05)
        st = load(export, "stations.f64", 2)
        qs = load(export, "queries.f64", 2)
        r.delete("st")
        t = time.perf_counter()
        p = r.pipeline(transaction=False)
        for i, (lon, lat) in enumerate(st):
            p.execute_command("GEOADD", "st", float(lon), float(lat), i)
            if i % 10_000 == 9_999:
                p.execute()
        p.execute()
        figure("peer_redis_load", time.perf_counter() - t, "s", f"GEOADD {len(st)} stations, pipelined")

        def batch(n=20_000, radius="1"):
            p = r.pipeline(transaction=False)
            for lon, lat in qs[:n]:
                p.execute_command("GEOSEARCH", "st", "FROMLONLAT", float(lon), float(lat), "BYRADIUS", radius, "km",
                                  "ASC", "COUNT", 5)
            return p.execute()

        res = batch(2_000)
        full = sum(len(x) == 5 for x in res) / len(res) * 100
        rate = best_rate(20_000, 6.0, batch)
        figure(
            "peer_redis_geosearch",
            rate,
            "queries/s",
            f"GEOSEARCH BYRADIUS 1 km ASC COUNT 5, pipelined (1 client, redis-py); {full:.0f}% of answers have 5",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------- PostGIS
PG_BIN = "/usr/lib/postgresql/15/bin"


def postgis_peer(export, work):
    import psycopg

    if not os.path.exists(f"{PG_BIN}/initdb"):
        return skip("postgis", f"{PG_BIN}/initdb missing (apt-get install postgresql postgresql-15-postgis-3)")
    if not os.path.exists("/usr/share/postgresql/15/extension/postgis.control"):
        return skip("postgis", "postgis extension missing (apt-get install postgresql-15-postgis-3)")
    pdir = os.path.join(work, "pg")
    shutil.rmtree(pdir, ignore_errors=True)
    os.makedirs(pdir)
    as_pg = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(pdir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(pdir, "data")
    port = 5491
    subprocess.run(as_pg + [f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   stdout=subprocess.DEVNULL)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {pdir} -c shared_buffers=1GB -c work_mem=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_parallel_workers_per_gather=2"
    subprocess.run(as_pg + [f"{PG_BIN}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(pdir, "log"), "-w", "start"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        conn = psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True)
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION postgis")
        st = load(export, "stations.f64", 2)
        qs = load(export, "queries.f64", 2)
        hs = load(export, "hotspots.f64", 2)[:1_000_000]
        t = time.perf_counter()
        cur.execute("CREATE TABLE st (id int, lon float8, lat float8)")
        with cur.copy("COPY st FROM STDIN") as cp:
            for i, (lon, lat) in enumerate(st):
                cp.write_row((i, float(lon), float(lat)))
        cur.execute("ALTER TABLE st ADD COLUMN g geography(Point, 4326)")
        cur.execute("UPDATE st SET g = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography")
        cur.execute("CREATE INDEX ON st USING gist (g)")
        cur.execute("ANALYZE st")
        figure("peer_postgis_load", time.perf_counter() - t, "s", f"COPY + GiST index, {len(st)} stations")
        sql = "SELECT id FROM st ORDER BY g <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 5"
        n = 5_000
        t = time.perf_counter()
        for lon, lat in qs[:n]:
            cur.execute(sql, (float(lon), float(lat)), prepare=True)
            cur.fetchall()
        figure("peer_postgis_knn5", n / (time.perf_counter() - t), "queries/s",
               "geography ORDER BY g <-> point LIMIT 5, prepared, 1 client (psycopg)")
        t = time.perf_counter()
        cur.execute("CREATE TABLE hs (lon float8, lat float8)")
        with cur.copy("COPY hs FROM STDIN") as cp:
            for lon, lat in hs:
                cp.write_row((float(lon), float(lat)))
        cur.execute("ALTER TABLE hs ADD COLUMN g geography(Point, 4326)")
        cur.execute("UPDATE hs SET g = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography")
        cur.execute("ANALYZE hs")
        figure("peer_postgis_load_hotspots", time.perf_counter() - t, "s", f"COPY {len(hs)} hotspots")
        t = time.perf_counter()
        cur.execute("SELECT count(*) FROM hs WHERE EXISTS (SELECT 1 FROM st WHERE ST_DWithin(hs.g, st.g, 500))")
        covered = cur.fetchone()[0]
        el = time.perf_counter() - t
        figure("peer_postgis_coverage_500m_1M", el, "s", f"ST_DWithin 500 m, {len(hs)} hotspots, covered {covered}")
        figure("peer_postgis_coverage_500m", el * 5.0, "s",
               "the 1,000,000-hotspot time x 5 (linear in hotspots: one index probe each), for 5,000,000")
        conn.close()
    finally:
        subprocess.run(as_pg + [f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- spopt
def spopt_peer(export):
    import numpy as np
    import pulp
    from spopt.locate import MCLP

    dem = load(export, "mclp_demand.f64", 3)
    sites = load(export, "mclp_sites.f64", 2)
    radius, p, ours_exact, ours_heur = open(os.path.join(export, "mclp.txt")).read().split()
    radius, p = float(radius), int(p)
    t = time.perf_counter()
    lat1 = np.radians(dem[:, 1])[:, None]
    lat2 = np.radians(sites[:, 1])[None, :]
    dl = np.radians(sites[:, 0][None, :] - dem[:, 0][:, None])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dl / 2) ** 2
    cost = 2 * R * np.arcsin(np.minimum(np.sqrt(h), 1.0))
    t_matrix = time.perf_counter() - t
    t = time.perf_counter()
    m = MCLP.from_cost_matrix(cost, dem[:, 2], service_radius=radius, p_facilities=p, name="mclp")
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    m = m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
    t_solve = time.perf_counter() - t
    status = pulp.LpStatus[m.problem.status] + "/" + pulp.LpSolution.get(m.problem.sol_status, "?")
    chosen = [j for j in range(len(sites)) if m.fac_vars[j].value() > 0.5]
    covered = float(dem[(cost[:, chosen] <= radius).any(axis=1), 2].sum())
    total = t_matrix + t_build + t_solve
    figure("peer_spopt_mclp", total, "s",
           f"spopt MCLP + CBC, {len(dem)} x {len(sites)}, p={p}: matrix {t_matrix:.1f} s, model {t_build:.1f} s, "
           f"CBC {t_solve:.1f} s (limit 120 s, status {status}); covered {covered:.0f} (yizhan exact {float(ours_exact):.0f})")


def spopt_lscp_peer(export):
    """spopt's LSCP with CBC on the same central-district instance as `lscp_exact_*`."""
    import numpy as np
    import pulp
    from spopt.locate import LSCP

    dem = load(export, "lscp_demand.f64", 3)
    sites = load(export, "lscp_sites.f64", 2)
    radius, ours = open(os.path.join(export, "lscp.txt")).read().split()
    radius = float(radius)
    t = time.perf_counter()
    lat1 = np.radians(dem[:, 1])[:, None]
    lat2 = np.radians(sites[:, 1])[None, :]
    dl = np.radians(sites[:, 0][None, :] - dem[:, 0][:, None])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dl / 2) ** 2
    cost = 2 * R * np.arcsin(np.minimum(np.sqrt(h), 1.0))
    m = LSCP.from_cost_matrix(cost, service_radius=radius, name="lscp")
    m = m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
    total = time.perf_counter() - t
    status = pulp.LpStatus[m.problem.status] + "/" + pulp.LpSolution.get(m.problem.sol_status, "?")
    chosen = sum(1 for j in range(len(sites)) if m.fac_vars[j].value() > 0.5)
    figure("peer_spopt_lscp", total, "s",
           f"spopt LSCP + CBC, {len(dem)} x {len(sites)} within {radius:.0f} m (limit 120 s, status {status}): "
           f"{chosen} sites (yizhan proven: {ours})")


# ---------------------------------------------------------------- movingpandas
def demand_peer(pings, label):
    """movingpandas on the pings `yizhan demand` reads: CSV -> one trajectory a rider ->
    TrajectoryStopDetector (50 m, 5 min: yizhan's defaults) -> PointClusterer of the
    stops (100 m cells, as yizhan's grid). Time and peak memory of this process."""
    import resource
    import warnings
    from datetime import timedelta

    warnings.filterwarnings("ignore")
    import geopandas as gpd
    import movingpandas as mpd
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(pings)
    # RFC 3339 with +08:00 -> UTC instants (movingpandas wants a naive or one-zone index).
    df["t"] = pd.to_datetime(df["timestamp"], utc=True).dt.tz_localize(None)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    tc = mpd.TrajectoryCollection(gdf, "id", t="t")
    t_read = time.perf_counter() - t
    stops = mpd.TrajectoryStopDetector(tc).get_stop_points(max_diameter=50, min_duration=timedelta(minutes=5))
    t_stops = time.perf_counter() - t - t_read
    clusters = mpd.PointClusterer(stops.geometry.tolist(), max_distance=100.0, is_latlon=True).get_clusters()
    total = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    figure(f"peer_movingpandas_demand_{label}", total, "s",
           f"movingpandas {mpd.__version__} on {len(df)} pings of {df['id'].nunique()} riders: read + trajectories "
           f"{t_read:.1f} s, TrajectoryStopDetector(50 m, 5 min) {t_stops:.1f} s -> {len(stops)} stops, "
           f"PointClusterer(100 m) -> {len(clusters)} clusters; 1 core")
    figure(f"peer_movingpandas_demand_{label}_rss", rss_mb, "MB",
           "peak memory (max RSS, getrusage) of the Python process above, interpreter and imports included")


# ---------------------------------------------------------------- ratios
def ratios(logfile):
    fig = {}
    for line in open(logfile):
        if line.startswith("FIGURE "):
            parts = line.split()
            fig[parts[1]] = float(parts[2])

    def ratio(label, ours, theirs, higher_is_better):
        if ours in fig and theirs in fig and fig[ours] > 0 and fig[theirs] > 0:
            r = fig[ours] / fig[theirs] if higher_is_better else fig[theirs] / fig[ours]
            print(f"RATIO {label} {r:.1f}x | yizhan {ours} {fig[ours]:.4g} vs {theirs} {fig[theirs]:.4g}")
        else:
            print(f"RATIO {label} n/a | missing {ours} or {theirs}")

    ratio("knn5_vs_ckdtree", "knn5", "peer_ckdtree_knn5", True)
    ratio("knn5_vs_redis", "knn5", "peer_redis_geosearch", True)
    ratio("knn5_vs_postgis", "knn5", "peer_postgis_knn5", True)
    ratio("coverage_vs_ckdtree", "coverage_500m", "peer_ckdtree_coverage_500m", False)
    ratio("coverage_vs_postgis", "coverage_500m", "peer_postgis_coverage_500m", False)
    ratio("coverage_zorder_vs_ckdtree", "coverage_500m_zorder", "peer_ckdtree_coverage_500m", False)
    ratio("coverage_zorder_vs_postgis", "coverage_500m_zorder", "peer_postgis_coverage_500m", False)
    ratio("mclp_exact_vs_spopt", "mclp_end_to_end", "peer_spopt_mclp", False)
    ratio("mclp_heuristic_vs_spopt", "mclp_heuristic", "peer_spopt_mclp", False)
    ratio("lscp_cbc_vs_spopt", "lscp_exact_cbc", "peer_spopt_lscp", False)
    ratio("lscp_microlp_vs_spopt", "lscp_exact_microlp", "peer_spopt_lscp", False)
    ratio("http_nearest_vs_postgis", "http_nearest", "peer_postgis_knn5", True)
    for label in sorted({k[len("peer_movingpandas_demand_"):] for k in fig
                         if k.startswith("peer_movingpandas_demand_") and not k.endswith("_rss")}):
        ratio(f"demand_{label}_vs_movingpandas", f"demand_{label}", f"peer_movingpandas_demand_{label}", False)
        ratio(f"demand_{label}_memory_vs_movingpandas", f"demand_{label}_rss",
              f"peer_movingpandas_demand_{label}_rss", False)


def main():
    if sys.argv[1] == "--ratios":
        return ratios(sys.argv[2])
    if sys.argv[1] == "--demand":
        try:
            return demand_peer(sys.argv[2], sys.argv[3])
        except Exception as e:
            return skip("movingpandas", f"{type(e).__name__}: {e}")
    export, work = sys.argv[1], sys.argv[2]
    which = sys.argv[3:] or ["ckdtree", "redis", "postgis", "spopt"]
    runs = {
        "ckdtree": lambda: ckdtree(export),
        "redis": lambda: redis_peer(export, work),
        "postgis": lambda: postgis_peer(export, work),
        "spopt": lambda: (spopt_peer(export), spopt_lscp_peer(export)),
    }
    for name in which:
        try:
            runs[name]()
        except Exception as e:  # one peer failing must not hide the others
            skip(name, f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
