"""Checks Lore's OpenAPI document and responses against it (run by tests/it/openapi.rs).

    openapi_check.py SPEC CASES

SPEC is the served /v1/openapi.json; CASES a JSON list of captured responses:
{"path": "/v1/nodes/{node}" (the documented template, or null for no route), "method":
"get", "status": 200, "content_type": "application/json", "body": <JSON or text>}.

The document must pass openapi-spec-validator. For each case, the status must be
documented for the operation (for 405, on any operation of the path; for no route, a 404
is checked against components/responses/NotFound), the media type must be one of that
response's, and the body must validate against its schema ($refs resolved in the whole
document, JSON Schema 2020-12 as OpenAPI 3.1 uses). Prints {"spec": null or the error,
"results": [null or why, one per case]} and exits 0; the Rust test judges.
"""

import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:lore:openapi"


def escape(token):
    return token.replace("~", "~0").replace("/", "~1")


def follow(spec, pointer):
    """The object at `pointer`, following a Reference Object there; with its pointer."""
    node = spec
    for token in pointer.strip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        pointer = node["$ref"][1:]
        node = follow(spec, pointer)[0]
    return node, pointer


def response_pointer(spec, case):
    """Pointer of the response object documented for the case, or why there is none."""
    status = str(case["status"])
    if case["path"] is None:
        if status == "404":
            return "/components/responses/NotFound", None
        return None, f"status {status} for an unknown route (only 404 is expected)"
    item = spec["paths"].get(case["path"])
    if item is None:
        return None, f"path {case['path']} is not documented"
    methods = [case["method"]] if case["method"] in item else []
    if status == "405":
        methods = [m for m in item if "responses" in item.get(m, {})]
    for method in methods:
        if status in item[method]["responses"]:
            return f"/paths/{escape(case['path'])}/{method}/responses/{status}", None
    if not methods:
        return None, f"{case['method']} {case['path']} is not documented"
    return None, f"status {status} is not documented for {case['method']} {case['path']}"


def check(spec, registry, case):
    pointer, why = response_pointer(spec, case)
    if why:
        return why
    response, pointer = follow(spec, pointer)
    media = (case.get("content_type") or "").split(";")[0].strip()
    content = response.get("content", {})
    if media not in content:
        return f"media type `{media}` is not documented for status {case['status']}: {list(content)}"
    schema_pointer = f"{pointer}/content/{escape(media)}/schema"
    validator = Draft202012Validator({"$ref": f"{BASE}#{schema_pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(case["body"]), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path)
        return f"{len(errors)} schema error(s); first at /{where}: {first.message[:300]}"
    return None


def main():
    spec = json.load(open(sys.argv[1]))
    cases = json.load(open(sys.argv[2]))
    try:
        validate(spec)
        spec_error = None
    except Exception as err:  # the validator's own error types vary by version
        spec_error = f"{type(err).__name__}: {err}"[:2000]
    registry = Registry().with_resource(BASE, Resource(contents=spec, specification=DRAFT202012))
    results = []
    for case in cases:
        try:
            results.append(check(spec, registry, case))
        except Exception as err:
            results.append(f"checker failed: {type(err).__name__}: {err}")
    json.dump({"spec": spec_error, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
