#!/usr/bin/env python3
"""Offline upper bound (certificate) for the bench MCLP instance, with HiGHS.

The MCLP (Church & ReVelle 1974) max sum_i w_i z_i, z_i <= sum_{j in N_i} y_j,
sum_j y_j <= p, z in [0, 1], relaxed to y in [0, 1] but with one integer variable
K_R = sum_{j in R} y_j per region R of a k-d split of the candidate sites (2^level
regions of about equal size): every MCLP solution is feasible (its K_R are integers),
so HiGHS's dual bound of this mixed program is an upper bound of the MCLP optimum, and
HiGHS can branch on them ("how many sites in region R"), which closes the gap that the
LP relaxation (spreading fractions of sites over the dense area) leaves.

Usage (numbers of the run recorded in the commit that added this file):
  yizhan-bench mclp --city CITY --export DIR            # mclp_sites.f64
  YZ_EXPORT=DIR YZ_OUT=rows.txt cargo test --release -p yizhan-plan --lib \
      dump_bench_rows -- --ignored                      # the exact rows of the model
  pip install highspy numpy
  python3 mclp_certificate.py rows.txt DIR/mclp_sites.f64 6 3000

With integral weights, a dual bound below best + 1 proves `best` optimal.

Measured (HiGHS 1.16 through highspy, 1 thread, this 2-core VM, 2026-11-29), on the
exact rows of the bench instance (8,697 rows, 1,000 sites, p = 10):
  level 6 (64 regions of 15-16 sites), all 1,000 sites: relaxation 8192.0, dual bound
    8192.76 < 8193 after 189 nodes, 483 s: the optimum is 8,192;
  level 5 (32 regions of 11-12 sites) on the 364 sites left by LP reduced-cost fixing
    at 8,193 (LP 8297.37; the largest bound of a site left out was 8192.37): bound
    8192.79, 219 nodes, 374 s (the same proof);
  level 3 (8 regions of 45-46 sites), same 364 sites: bound 8258.4, 533 s;
  the plain MCLP program (no counts), same 364 sites, 2,400 s: bound 8289.2.
An optimal set of sites (found by 4,000 restarts of the swap search): 235 244 431 450
484 521 560 616 795 167 (0-based indices into mclp_sites.f64).
"""
import math
import struct
import sys
import time

import highspy
import numpy as np


def main():
    rows_path, sites_path, level, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    p = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    lines = open(rows_path).read().split("\n")
    m = int(lines[0].split()[0])
    rows = []
    for line in lines[1:]:
        if line.strip():
            v = line.split()
            rows.append((float(v[0]), [int(x) for x in v[1:]]))
    raw = open(sites_path, "rb").read()
    ll = struct.unpack("<%dd" % (len(raw) // 8), raw)
    lon, lat = np.array(ll[0::2]), np.array(ll[1::2])
    assert len(lon) == m
    lat0 = math.radians(lat.mean())
    xy = np.stack([np.radians(lon) * 6371008.8 * math.cos(lat0), np.radians(lat) * 6371008.8], 1)

    regions = []

    def split(idx, lev):
        if lev == 0 or len(idx) < 2:
            regions.append(idx)
            return
        ax = int(np.argmax(xy[idx].max(0) - xy[idx].min(0)))
        o = sorted(idx, key=lambda j: (xy[j, ax], j))
        h = len(o) // 2
        split(o[:h], lev - 1)
        split(o[h:], lev - 1)

    split(list(range(m)), level)
    n = len(rows)
    print(f"{m} sites, {n} rows, {len(regions)} regions of {min(map(len, regions))}..{max(map(len, regions))} sites")
    h = highspy.Highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", limit)
    inf = highspy.kHighsInf
    for _ in range(m):
        h.addVar(0, 1)
    for _ in range(n):
        h.addVar(0, 1)
    for r in regions:
        h.addVar(0, len(r))
    nv = m + n + len(regions)
    cost = [0.0] * m + [-w for w, _ in rows] + [0.0] * len(regions)
    h.changeColsCost(nv, np.arange(nv, dtype=np.int32), np.array(cost))
    for i, (_, c) in enumerate(rows):
        idx = [m + i] + c
        h.addRow(-inf, 0, len(idx), np.array(idx, dtype=np.int32), np.array([1.0] + [-1.0] * len(c)))
    h.addRow(-inf, p, m, np.arange(m, dtype=np.int32), np.ones(m))
    for g, r in enumerate(regions):
        idx = list(r) + [m + n + g]
        h.addRow(0, 0, len(idx), np.array(idx, dtype=np.int32), np.array([1.0] * len(r) + [-1.0]))
    # Only the counts are integer: y in [0, 1] makes a relaxation (the bound stays valid)
    # that HiGHS solves faster here; its solutions are checked below.
    ints = np.arange(m + n, nv).astype(np.int32)
    h.changeColsIntegrality(len(ints), ints, np.array([highspy.HighsVarType.kInteger] * len(ints)))
    t = time.time()
    h.run()
    info = h.getInfo()
    best, bound = -info.objective_function_value, -info.mip_dual_bound
    x = h.getSolution().col_value
    sites = [j for j in range(m) if x[j] > 0.5]
    covered = set(sites)
    value = sum(w for w, c in rows if covered.intersection(c))
    print(f"relaxation {best:.3f} bound {bound:.3f} nodes {info.mip_node_count} time {time.time() - t:.1f} s")
    print(f"sites {sites}: {len(sites)} sites covering {value}")
    if len(sites) <= p and all(w == int(w) for w, _ in rows) and bound < value + 1:
        print(f"optimum proven: {value:.0f}")
    else:
        print(f"upper bound: {bound:.3f}")


if __name__ == "__main__":
    main()
