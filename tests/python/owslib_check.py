"""Check yizhan's OGC API Features with OWSLib, as a city GIS client would.

Usage: owslib_check.py BASE_URL   (e.g. http://127.0.0.1:8080/ogc)

Lists the collections, then pages through every collection's items with a small
limit by following OWSLib's offset paging, and prints one JSON object:
{"collections": [...], "counts": {id: features read}, "matched": {id: numberMatched},
 "declared_max": the items limit's maximum in the API document (read through OWSLib),
 "pages_at_max": {id: requests needed to read it all at that page size}}
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
    # The page size a client may use: the API document's maximum for `limit`.
    doc = api.api()
    items = next(v for k, v in doc["paths"].items()
                 if k.endswith("/collections/{cid}/items") or k.endswith("/collections/{collectionId}/items"))
    limit = next(p for p in items["get"]["parameters"] if p.get("name") == "limit")
    declared = limit["schema"]["maximum"]
    pages = {}
    for cid in ids:
        offset, requests, seen = 0, 0, 0
        while True:
            got = api.collection_items(cid, limit=declared, offset=offset)
            requests += 1
            seen += len(got["features"])
            if not any(l.get("rel") == "next" for l in got.get("links", [])):
                break
            offset += declared
        if seen != counts[cid]:
            raise SystemExit(f"{cid}: {seen} features at the declared page size, {counts[cid]} by pages of 7")
        pages[cid] = requests
    print(json.dumps({"collections": ids, "counts": counts, "matched": matched,
                      "conformance": conformance, "declared_max": declared,
                      "pages_at_max": pages}))


if __name__ == "__main__":
    main()
