"""Validate yizhan's served API document with openapi-spec-validator, for the
OpenAPI version it claims.

Usage: openapi_check.py URL   (e.g. http://127.0.0.1:8080/ogc/api)

Prints one JSON object {"openapi": version, "errors": [messages]}.
"""
import json
import sys
import urllib.request

from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator


def main() -> None:
    with urllib.request.urlopen(sys.argv[1]) as r:
        doc = json.load(r)
    version = doc.get("openapi", "")
    validator = OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator(doc).iter_errors()]
    print(json.dumps({"openapi": version, "errors": errors}))


if __name__ == "__main__":
    main()
