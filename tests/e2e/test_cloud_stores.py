"""`isphooks serve` reading its config from AWS Secrets Manager (moto's server) and Google
Secret Manager (loopback fake): a lifecycle, then a panel password rotated in the store and
in the panel, picked up without a restart (one re-read on the refusal)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.conftest import Served
from tests.helpers import SECRET, server_entry

ACCOUNT = {"service_id": "2001", "server": "isp1", "username": "cloud1"}


def _doc(sim, password=None):
    entry = server_entry(sim, **({"password": password} if password else {}))
    return json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": entry}})


@pytest.mark.parametrize("store", ["aws", "gcp"])
def test_lifecycle_and_rotation_through_a_cloud_store(
    store, sim, aws_env, gcp_fake, monkeypatch, tmp_path
):
    name = "isphooks-" + uuid.uuid4().hex[:8]
    if store == "aws":
        aws_env.create_secret(Name=name, SecretString=_doc(sim))
        location = f"aws:{name}"

        def rotate(doc):
            aws_env.put_secret_value(SecretId=name, SecretString=doc)
    else:
        location = f"gcp:projects/p1/secrets/{name}"

        def rotate(doc):
            gcp_fake.add_version(location[4:], doc.encode())

        rotate(_doc(sim))
    monkeypatch.setenv("ISPHOOKS_SECRETS", location)
    served = Served(None, tmp_path / "serve.log")
    try:
        resp = served.post("create", {**ACCOUNT, "plan": {"template": "basic"}})
        assert resp.status_code == 201, resp.text
        assert served.post("suspend", ACCOUNT).json()["status"] == "suspended"
        assert sim.user("cloud1")["active"] is False

        new_password = "Rotated-Admin-Pass-" + uuid.uuid4().hex[:6]
        sim.panel.admin_password = new_password  # the panel's admin password changes…
        rotate(_doc(sim, password=new_password))  # …and the store gets the new one
        sim.clear_journal()
        resp = served.post("unsuspend", ACCOUNT)  # still inside the 300 s TTL
        assert resp.status_code == 200, resp.text
        assert [e["result"] for e in sim.journal][:2] == ["error:auth", "ok"]

        assert served.post("terminate", ACCOUNT).json()["status"] == "terminated"
        assert sim.user("cloud1") is None
    finally:
        output = served.stop()
    assert new_password not in output and "authinfo" not in output
