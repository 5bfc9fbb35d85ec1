"""The committed openapi.json is what `isphooks openapi` generates from the marshmallow
schemas, it is a valid OpenAPI 3.0 document, and it says what docs/interface.md says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from marshmallow import RAISE, fields

from functions.main import ACTIONS
from shared.web import openapi
from shared.web.schemas import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "openapi.json"
REGENERATE = "run `.venv/bin/isphooks openapi --output openapi.json` and commit the result"
# docs/interface.md §5: 431 is `isphooks serve`'s (security round 4)
ERROR_STATUSES = {
    "400",
    "401",
    "404",
    "405",
    "409",
    "413",
    "415",
    "422",
    "431",
    "500",
    "502",
    "503",
}


@pytest.fixture(scope="module")
def doc() -> dict:
    return openapi.document()


def _resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        _, kind, group, name = node["$ref"].split("/")
        assert kind == "components"
        node = doc["components"][group][name]
    return node


def test_committed_openapi_json_is_up_to_date():
    assert COMMITTED.exists(), f"openapi.json is missing: {REGENERATE}"
    assert COMMITTED.read_text(encoding="utf-8") == openapi.dump(), (
        f"openapi.json is stale: {REGENERATE}"
    )


def test_dump_is_deterministic_sorted_json_with_a_trailing_newline():
    text = openapi.dump()
    assert text == openapi.dump()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_cli_prints_and_writes_the_same_document(tmp_path):
    out = tmp_path / "openapi.json"
    printed = subprocess.run(
        [sys.executable, "-m", "shared.cli", "openapi"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    subprocess.run(
        [sys.executable, "-m", "shared.cli", "openapi", "--output", str(out)], cwd=ROOT, check=True
    )
    assert printed == out.read_text(encoding="utf-8") == openapi.dump()


def test_is_a_valid_openapi_3_0_document(doc):
    import schemathesis

    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]
    # schemathesis (a dev dependency) checks the document against the OpenAPI meta-schema.
    schemathesis.openapi.from_dict(doc).validate()
    try:
        from openapi_spec_validator import OpenAPIV30SpecValidator, validate
    except ImportError:  # not a declared dependency; the meta-schema check above stands
        return
    validate(doc, cls=OpenAPIV30SpecValidator)


def test_every_ref_resolves(doc):
    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                _resolve(doc, node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_lists_every_action_as_a_post_with_a_required_json_body(doc):
    assert set(ACTIONS) == set(SCHEMAS)
    # and the Stripe door, whose body is Stripe's event (tests/stripe/test_surfaces.py)
    assert set(doc["paths"]) == {f"/{action}" for action in ACTIONS} | {"/stripe"}
    for action in ACTIONS:
        item = doc["paths"][f"/{action}"]
        assert set(item) == {"post"}, action
        op = item["post"]
        assert op["operationId"] == action
        body = op["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == {"application/json"}
        schema = _resolve(doc, body["content"]["application/json"]["schema"])
        assert schema["type"] == "object"


def test_responses_are_the_contracts(doc):
    for action in ACTIONS:
        responses = doc["paths"][f"/{action}"]["post"]["responses"]
        success = {"200", "201"} if action == "create" else {"200"}
        assert set(responses) == success | ERROR_STATUSES, action
        for status in success:
            schema = _resolve(doc, responses[status]["content"]["application/json"]["schema"])
            assert schema["type"] == "object"
        for status in ERROR_STATUSES:
            response = _resolve(doc, responses[status])
            schema = _resolve(doc, response["content"]["application/json"]["schema"])
            assert schema is doc["components"]["schemas"]["Error"]
    assert "Retry-After" in doc["components"]["responses"]["Error503"]["headers"]


def test_error_component_is_the_envelope(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert inner["required"] == ["code", "message", "retryable"]
    assert inner["properties"]["code"]["type"] == "string"
    assert inner["properties"]["message"]["type"] == "string"
    assert inner["properties"]["retryable"]["type"] == "boolean"
    assert inner["properties"]["fields"]["type"] == "object"


def test_standard_webhooks_headers_are_a_security_requirement(doc):
    schemes = doc["components"]["securitySchemes"]
    headers = {s["name"] for s in schemes.values() if s["type"] == "apiKey" and s["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    webhook = next(req for req in doc["security"] if "webhookSignature" in req)
    assert set(webhook) == {"webhookId", "webhookTimestamp", "webhookSignature"}
    assert {"schedulerOidc": []} in doc["security"]


def _nested(schema) -> dict:
    found = {}
    for field in schema.fields.values():
        if isinstance(field, fields.Nested):
            found[type(field.schema).__name__.removesuffix("Schema")] = field.schema
            found.update(_nested(field.schema))
    return found


def test_request_schemas_are_faithful_to_marshmallow(doc):
    components = doc["components"]["schemas"]
    seen = {}
    for action, cls in SCHEMAS.items():
        name = cls.__name__.removesuffix("Schema")
        body = doc["paths"][f"/{action}"]["post"]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
        seen[name] = cls()
        seen.update(_nested(seen[name]))
    assert {"Plan", "Limits", "Ips"} <= set(seen)
    for name, schema in seen.items():
        component = components[name]
        keys = {field.data_key or attr for attr, field in schema.fields.items()}
        assert set(component["properties"]) == keys, name
        required = {
            field.data_key or attr for attr, field in schema.fields.items() if field.required
        }
        assert set(component.get("required", [])) == required, name
        assert schema.unknown == RAISE
        assert component["additionalProperties"] is False, name


def test_sso_as_is_under_its_json_name(doc):
    sso = doc["components"]["schemas"]["Sso"]
    assert "as" in sso["properties"] and "as_" not in sso["properties"]
    assert sso["properties"]["as"]["enum"] == ["user", "admin"]
    assert sso["required"] == ["server"]


def test_importing_the_handlers_does_not_import_apispec_or_this_module():
    """apispec is a dev dependency: request handling must never need it."""
    code = (
        "import sys, functions.main, shared.web.http, shared.cli; "
        "bad = [m for m in ('apispec', 'shared.web.openapi') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    # Importing the module itself stays cheap too: apispec loads only in document().
    code = "import sys, shared.web.openapi; assert 'apispec' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_only_the_cli_imports_the_openapi_module():
    imports = re.compile(
        r"^\s*(from\s+shared(\.web)?(\.openapi\s+import|\s+import\s+.*\bopenapi\b)"
        r"|import\s+shared(\.web)?\.openapi)",
        re.MULTILINE,
    )
    users = [
        path.relative_to(ROOT).as_posix()
        for package in ("shared", "functions")
        for path in (ROOT / package).rglob("*.py")
        if imports.search(path.read_text(encoding="utf-8"))
    ]
    assert users == ["shared/commands.py"]  # the CLI's commands, left out of the bundle
