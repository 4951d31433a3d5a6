"""Check yizhan's OGC API Features with OWSLib, as a city GIS client would.

Usage: owslib_check.py BASE_URL   (e.g. http://127.0.0.1:8080/ogc)

Lists the collections, then pages through every collection's items with a small
limit by following OWSLib's offset paging, and prints one JSON object:
{"collections": [...], "counts": {id: features read}, "matched": {id: numberMatched}}
"""
import json
import sys

from owslib.ogcapi.features import Features


def main() -> None:
    base = sys.argv[1]
    api = Features(base)
    conformance = api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    counts, matched = {}, {}
    for cid in ids:
        page, offset, seen = 7, 0, []
        while True:
            items = api.collection_items(cid, limit=page, offset=offset)
            feats = items["features"]
            matched[cid] = items.get("numberMatched")
            seen.extend(f["id"] for f in feats)
            if not feats or not any(l.get("rel") == "next" for l in items.get("links", [])):
                break
            offset += page
        if len(seen) != len(set(seen)):
            raise SystemExit(f"{cid}: duplicate features while paging")
        counts[cid] = len(seen)
    print(json.dumps({"collections": ids, "counts": counts, "matched": matched,
                      "conformance": conformance}))


if __name__ == "__main__":
    main()
