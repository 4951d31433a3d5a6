#!/usr/bin/env bash
# The benchmark suite of yizhan, in one command (see BENCHMARKS.md):
#
#   bench/run.sh [--quick] [--no-install] [--skip-peers] [--demand-only]
#
# 1. builds yizhan-bench (with HiGHS when cmake and libclang are there) and yizhan (release);
# 2. generates the country (seed 1) and city (seed 1) datasets, as `yizhan gen` does;
# 3. in-process figures (yizhan-bench core): load, k-NN, radius, coverage, MCLP, and
#    exports the same data and queries for the peers;
# 4. HTTP throughput of /api/v1/stations/nearest with wrk (bounded: 10 s);
# 5. the peers on the same data: cKDTree, Redis, PostGIS, spopt (bench/peers.py);
#    they listen on 127.0.0.1 only and are stopped at the end;
# 6. demand from GPS traces: `yizhan demand` on 10,000,000 synthetic pings (1,000 riders,
#    10,000 pings each, 07:00 to 20:53 at 5 s; --quick: 100 riders) and on its first 1,000,000 pings (--quick:
#    200,000), movingpandas' stop detector on that subset (bench/peers.py --demand; it
#    does some 6,000 pings a second, so 10,000,000 would take half an hour);
#    the pings go to $YZ_PINGS_DIR (default $YZ_WORK/pings; about 75 bytes a ping);
#    --demand-only runs this step alone (skipping 2-5);
# 7. the ratios.
# Every figure is one `FIGURE` line; the whole log is kept in $YZ_WORK/run.log.
# Not part of CI: it installs packages (apt-get, pip into a venv) and takes ~10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${YZ_WORK:-/tmp/yizhan-bench}
QUICK=""; INSTALL=1; PEERS=1; ONLY_DEMAND=0
for a in "$@"; do
  case $a in
    --quick) QUICK=--quick ;;
    --no-install) INSTALL=0 ;;
    --skip-peers) PEERS=0 ;;
    --demand-only) ONLY_DEMAND=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK"
LOG=$WORK/run.log
: > "$LOG"
say() { echo "$@" | tee -a "$LOG"; }
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

say "MACHINE $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); git $(git rev-parse --short HEAD)"

# ---- Peers' software (Debian packages and a Python venv). Skipped peers say so.
if [ "$INSTALL" = 1 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    PGV=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1); PGV=${PGV:-15}
    # cmake + libclang-dev: to build HiGHS (yizhan-bench --features highs, MCLP exact).
    if ! dpkg -s redis-server "postgresql-$PGV-postgis-3" wrk cmake libclang-dev >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        redis-server postgresql "postgresql-$PGV-postgis-3" wrk cmake libclang-dev >/dev/null || say "SKIP apt-get install failed"
      # Debian may start the packaged services: this suite runs its own, privately.
      service redis-server stop >/dev/null 2>&1 || true
      service postgresql stop >/dev/null 2>&1 || true
    fi
  else
    say "SKIP install: not root or no apt-get; using what is installed"
  fi
  if [ ! -x "$WORK/venv/bin/python" ]; then python3 -m venv "$WORK/venv"; fi
  "$WORK/venv/bin/python" -c 'import numpy, scipy, spopt, redis, psycopg' 2>/dev/null \
    || "$WORK/venv/bin/pip" install -q numpy scipy spopt redis "psycopg[binary]" \
    || say "SKIP pip install failed"
  "$WORK/venv/bin/python" -c 'import movingpandas' 2>/dev/null \
    || "$WORK/venv/bin/pip" install -q movingpandas \
    || say "SKIP pip install movingpandas failed"
fi

# ---- Build. With cmake and libclang, yizhan-bench is built with HiGHS (the MCLP exact
# figure is then HiGHS's; microlp's is printed next to it).
if [ "$ONLY_DEMAND" = 0 ] && command -v cmake >/dev/null && ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  cargo build --release -q -p yizhan-bench --features highs
else
  say "SKIP highs: cmake or libclang-dev missing (apt-get install cmake libclang-dev); MCLP exact with microlp only"
  cargo build --release -q -p yizhan-bench
fi
cargo build --release -q -p yizhan-cli
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=$TARGET/release/yizhan-bench
YIZHAN=$TARGET/release/yizhan

if [ "$ONLY_DEMAND" = 0 ]; then
# ---- Data.
[ -f "$WORK/country/stations.geojson" ] || "$BENCH" gen --scale country --seed 1 --out "$WORK/country"
[ -f "$WORK/city/stations.geojson" ] || "$BENCH" gen --scale city --seed 1 --out "$WORK/city"

# ---- In-process figures.
"$BENCH" core --country "$WORK/country" --city "$WORK/city" --export "$WORK/export" $QUICK | tee -a "$LOG"

# ---- HTTP: /api/v1/stations/nearest with wrk, on the country stations.
if command -v wrk >/dev/null; then
  mkdir -p "$WORK/serve"
  # The country stations, without the 5,000,000 hotspots (the nearest route needs
  # only stations; a dataset folder must still have a hotspots layer).
  cp "$WORK/country/stations.geojson" "$WORK/serve/"
  echo '{"type":"FeatureCollection","features":[]}' > "$WORK/serve/hotspots.geojson"
  PORT=18099
  "$YIZHAN" --data "$WORK/serve" serve --addr "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$PORT/api/v1/stations/nearest?lon=118.47&lat=24.72&k=5" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { say "SKIP http: server exited: $(tail -3 "$WORK/serve.log")"; SERVER_PID=""; break; }
    sleep 0.1
  done
  if [ -n "$SERVER_PID" ]; then
    "$WORK/venv/bin/python" - "$WORK/export/queries.f64" > "$WORK/paths.txt" <<'PY'
import sys, numpy as np
q = np.fromfile(sys.argv[1], dtype="<f8").reshape(-1, 2)[:20000]
for lon, lat in q:
    print(f"/api/v1/stations/nearest?lon={lon:.6f}&lat={lat:.6f}&k=5")
PY
    DUR=10s; [ -n "$QUICK" ] && DUR=3s
    YZ_PATHS=$WORK/paths.txt timeout 60 wrk -t2 -c32 -d"$DUR" --latency -s bench/wrk_nearest.lua \
      "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" 2>&1 || true
    grep -E "Requests/sec|Latency|99%" "$WORK/wrk.txt" | tee -a "$LOG" || true
    W=$(grep '^WRK ' "$WORK/wrk.txt" || true)
    if [ -n "$W" ]; then
      set -- $W
      RPS=$(awk -v n="$3" -v d="$5" 'BEGIN{printf "%.1f", n/d}')
      say "FIGURE http_nearest $RPS requests/s | wrk -t2 -c32 -d$DUR, k=5 at 20,000 exported query points; non-2xx ${7}, socket errors ${9}, p50 ${11} ms, p99 ${13} ms (wrk and server share the 2 cores)"
      say "FIGURE http_nearest_p99 ${13} ms | p99 latency of the run above"
    else
      say "SKIP http: wrk gave no summary: $(tail -3 "$WORK/wrk.txt")"
    fi
    cleanup; SERVER_PID=""
  fi
else
  say "SKIP http: wrk not installed (apt-get install wrk)"
fi

# ---- Peers.
if [ "$PEERS" = 1 ]; then
  "$WORK/venv/bin/python" bench/peers.py "$WORK/export" "$WORK" | tee -a "$LOG"
fi

fi # ONLY_DEMAND

# ---- Demand from GPS traces.
PINGS_DIR=${YZ_PINGS_DIR:-$WORK/pings}
RIDERS=1000; SUB=1000000
if [ -n "$QUICK" ]; then RIDERS=100; SUB=200000; fi
mkdir -p "$PINGS_DIR"
"$BENCH" pings --riders "$RIDERS" --seed 1 --data data/anhai --out "$PINGS_DIR/pings.csv" 2>&1 | tee -a "$LOG"
"$BENCH" demand --yizhan "$YIZHAN" --pings "$PINGS_DIR/pings.csv" --work "$WORK/demand" --label all | tee -a "$LOG"
# The subset: the first $SUB pings (rows are written rider by rider, 10,000 each).
head -n $((SUB + 1)) "$PINGS_DIR/pings.csv" > "$PINGS_DIR/pings-subset.csv"
rm -f "$PINGS_DIR/pings.csv"
"$BENCH" demand --yizhan "$YIZHAN" --pings "$PINGS_DIR/pings-subset.csv" --work "$WORK/demand" --label subset | tee -a "$LOG"
if [ "$PEERS" = 1 ]; then
  "$WORK/venv/bin/python" bench/peers.py --demand "$PINGS_DIR/pings-subset.csv" subset | tee -a "$LOG"
fi
rm -f "$PINGS_DIR/pings-subset.csv"

# ---- Ratios.
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$WORK/venv/bin/python" bench/peers.py --ratios "$LOG" | tee -a "$LOG"
