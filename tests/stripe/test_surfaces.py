"""Where /stripe shows beside the actions: `isphooks serve`'s route, functions/main.py's entry
point (and nothing of it in another action's cold start), OpenAPI, Terraform, the bundle
and docs/stripe.md. `stripe` is no action of the table (shared/actions.py) but a door of
its own: the table's tests allow for it by name."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import requests

from shared.web.openapi import document
from tests.e2e.conftest import Served
from tests.helpers import SECRET, server_entry, signed
from tests.stripe.conftest import (
    CREATED,
    ROOT,
    STRIPE_SECRET,
    USERNAME,
    now_s,
    sign,
    stripe_section,
    subscription_event,
)

COLD_START = """
import json, os, sys
os.environ["ISPHOOKS_SECRETS"] = "env:ISPHOOKS_DOC"
os.environ["ISPHOOKS_DOC"] = json.dumps({
    "webhook_secrets": [%(secret)r],
    "servers": {"isp1": {"url": "https://127.0.0.1:9/ispmgr", "password": "x"}},
    "stripe": %(section)s,
})
import functions.main as main
from shared.web.serve import make_app
app = make_app().test_client()
assert app.post("/suspend", json={}).status_code == 401
assert app.post("/check", json={}).status_code == 401
loaded = sorted(m for m in sys.modules if m == "stripe" or m.startswith(("stripe.", "shared.stripe")))
assert loaded == [], loaded
assert app.post("/stripe", json={}).status_code == 401
assert "shared.stripe.handler" in sys.modules
assert "stripe" not in sys.modules  # no Stripe library at run time
print("ok")
"""


def test_other_actions_never_import_the_stripe_door():
    code = COLD_START % {"secret": SECRET, "section": json.dumps(stripe_section())}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_main_py_has_the_entry_point_and_functions_has_no_module_for_it():
    import functions.main as main

    assert callable(main.stripe) and "stripe" not in main.ACTIONS
    assert not (ROOT / "functions" / "stripe.py").exists()
    from infra.bundle import entries

    bundled = entries()
    assert {"shared/stripe/handler.py", "shared/stripe/door.py"} <= set(bundled)


def test_isphooks_serve_routes_stripe(tmp_path, sim):
    path = tmp_path / "isphooks.json"
    doc = {
        "webhook_secrets": [SECRET],
        "servers": {"isp1": server_entry(sim)},
        "stripe": stripe_section(),
    }
    path.write_text(json.dumps(doc))
    served = Served(path, tmp_path / "serve.log")
    try:
        raw = json.dumps(subscription_event(CREATED, "active", now_s() - 60)).encode()
        headers = {"Content-Type": "application/json"}
        url = f"{served.url}/stripe"
        answer = requests.post(
            url, data=raw, headers={**headers, "Stripe-Signature": sign(raw)}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "created" and sim.user(USERNAME)["active"] is True
        standard = requests.post(url, data=raw, headers=signed(raw)[1], timeout=30)
        assert standard.status_code == 401
        assert requests.get(url, timeout=30).status_code == 405
        other = requests.post(
            f"{served.url}/suspend",
            data=raw,
            headers={**headers, "Stripe-Signature": sign(raw)},
            timeout=30,
        )
        assert other.status_code == 401
    finally:
        log = served.stop()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    stripe_lines = [line for line in lines if line.get("action") == "stripe"]
    assert [line["http_status"] for line in stripe_lines] == [200, 401, 405]
    assert stripe_lines[0]["auth"] == "signature" and "auth" not in stripe_lines[1]
    assert STRIPE_SECRET not in log


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema's type list, for jsonschema."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable"):
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def test_openapi_documents_stripe_with_its_own_signature(deliver):
    import jsonschema

    spec = document()
    post = spec["paths"]["/stripe"]["post"]
    assert post["security"] == []  # not the document's Standard Webhooks or OIDC
    (header,) = post["parameters"]
    assert (header["name"], header["in"], header["required"]) == (
        "Stripe-Signature",
        "header",
        True,
    )
    assert set(post["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "id",
        "object",
        "type",
        "created",
        "data",
    }
    assert {"200", "400", "401", "422", "503"} <= set(post["responses"])
    assert "unknown_price" in post["responses"]["422"]["description"]
    schema = _json_schema(post["responses"]["200"]["content"]["application/json"]["schema"])
    t = now_s() - 60
    for event in (
        subscription_event(CREATED, "active", t),
        subscription_event(CREATED, "active", t),
        subscription_event("invoice.paid", "active", t),
    ):
        jsonschema.validate(deliver(event).get_json(), schema)
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed["paths"]["/stripe"] == spec["paths"]["/stripe"]


def test_terraform_deploys_a_public_stripe_function():
    from tests.infra.test_terraform import TF

    assert TF["locals"]["doors"] == '${var.stripe ? ["stripe"] : []}'
    assert TF["variable"]["stripe"]["default"] is True
    function = TF["resource"]["google_cloudfunctions2_function"]["action"]
    assert function["for_each"] == "${toset(concat(local.actions, local.doors))}"
    assert function["build_config"][0]["entry_point"] == "${each.key}"  # entry point `stripe`
    iam = TF["resource"]["google_cloud_run_service_iam_member"]
    assert "concat(var.billing_actions, local.doors)" in iam["public"]["for_each"]
    assert "setproduct(local.doors, var.invoker_members)" in iam["invokers"]["for_each"]
    assert "contains(local.doors, action)" in TF["output"]["billing_function_names"]["value"]
    url = TF["output"]["stripe_endpoint_url"]["value"]
    assert url == '${var.stripe ? google_cloudfunctions2_function.action["stripe"].url : null}'


def test_docs_say_how_to_sell_with_stripe():
    text = (ROOT / "docs" / "stripe.md").read_text(encoding="utf-8")
    for needed in (
        "terraform output stripe_endpoint_url",
        "customer.subscription.created",
        "customer.subscription.resumed",
        "endpoint_secrets",
        "on_past_due",
        "on_cancel",
        "unknown_price",
        "lookup_key",
        "sso",
        "same second",
        "incomplete_expired",
    ):
        assert needed in text, needed
    assert "../shared" not in text and "contract" not in text.lower()
