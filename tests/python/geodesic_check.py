"""Compare distances with pyproj's WGS 84 geodesic (Karney's method, as PROJ and
PostGIS geography use it).

Reads a JSON array of [lon1, lat1, lon2, lat2, metres] from standard input and
prints {"n": pairs, "max_abs_err_m": largest |metres - pyproj|, "worst": pair}.
"""
import json
import sys

from pyproj import Geod


def main() -> None:
    pairs = json.load(sys.stdin)
    geod = Geod(ellps="WGS84")
    worst, err = None, 0.0
    for lon1, lat1, lon2, lat2, d in pairs:
        _, _, ref = geod.inv(lon1, lat1, lon2, lat2)
        if abs(d - ref) >= err:
            worst, err = [lon1, lat1, lon2, lat2, d, ref], abs(d - ref)
    print(json.dumps({"n": len(pairs), "max_abs_err_m": err, "worst": worst}))


if __name__ == "__main__":
    main()
