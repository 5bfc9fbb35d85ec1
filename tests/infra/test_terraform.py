"""Structural checks of infra/ with python-hcl2: what can be proven offline without the
Google provider (which cannot be downloaded here, so `terraform validate` cannot run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from functions.main import ACTIONS

INFRA = Path(__file__).resolve().parents[2] / "infra"
SUPPORTED_RUNTIMES = {"python311", "python312", "python313"}


def _clean(value: Any) -> Any:
    """python-hcl2 keeps string quotes and marks blocks; strip both."""
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": {}, "variable": {}, "locals": {}, "output": {},
                              "terraform": []}
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as fh:
            doc = _clean(hcl2.load(fh))
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                merged["resource"].setdefault(rtype, {}).update(named)
        for block in doc.get("variable", []):
            merged["variable"].update(block)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
        for block in doc.get("output", []):
            merged["output"].update(block)
        merged["terraform"] += doc.get("terraform", [])
    return merged


TF = _load()


def _resources(rtype: str) -> dict[str, Any]:
    return TF["resource"].get(rtype, {})


def _function() -> dict[str, Any]:
    functions = _resources("google_cloudfunctions2_function")
    assert list(functions) == ["action"], "one for_each resource for all actions"
    return functions["action"]


def test_every_action_has_a_function_and_vice_versa():
    import functions.main as entry_points

    assert TF["locals"]["actions"] == list(ACTIONS)
    for action in ACTIONS:
        assert callable(getattr(entry_points, action)), action
    assert _function()["for_each"] == "${toset(local.actions)}"


def test_entry_point_is_the_action_and_runtime_supported():
    build = _function()["build_config"][0]
    assert build["entry_point"] == "${each.key}"
    assert build["runtime"] == "${var.runtime}"
    runtime = TF["variable"]["runtime"]
    assert runtime["default"] in SUPPORTED_RUNTIMES
    assert "python311" in runtime["validation"][0]["condition"]


def test_source_is_the_content_hashed_bundle_in_a_private_bucket():
    assert "filesha256(local.source_zip)" in TF["locals"]["source_object"]
    bucket = _resources("google_storage_bucket")["source"]
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["versioning"][0]["enabled"] is True


def test_no_default_service_account_anywhere():
    service = _function()["service_config"][0]
    assert service["service_account_email"] == "${google_service_account.runtime.email}"
    assert _function()["build_config"][0]["service_account"] == (
        "${google_service_account.build.id}")
    for job in _resources("google_cloud_scheduler_job").values():
        oidc = job["http_target"][0]["oidc_token"][0]
        assert oidc["service_account_email"] == "${google_service_account.scheduler.email}"
    text = "\n".join(p.read_text() for p in INFRA.glob("*.tf"))
    assert "compute@developer.gserviceaccount.com" not in text


def test_runtime_reads_only_its_own_secret():
    members = _resources("google_secret_manager_secret_iam_member")
    assert list(members) == ["runtime_reads_config"]
    grant = members["runtime_reads_config"]
    assert grant["secret_id"] == "${google_secret_manager_secret.config.id}"
    assert grant["role"] == "roles/secretmanager.secretAccessor"
    project_roles = _resources("google_project_iam_member")
    for grant in project_roles.values():
        assert "secretmanager" not in str(grant)
        assert "runtime" not in str(grant["member"])
    env = _function()["service_config"][0]["environment_variables"]
    assert env["ISPHOOKS_SECRETS"] == "gcp:${google_secret_manager_secret.config.id}"


def test_no_secret_value_in_any_tf_file():
    assert "google_secret_manager_secret_version" not in TF["resource"]
    for path in INFRA.glob("*.tf"):
        text = path.read_text()
        assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}", text), path
        assert not re.search(r"(password|passwd|secret_data)\s*=", text), path


def test_scheduler_deadline_exceeds_function_timeout_and_retries():
    jobs = _resources("google_cloud_scheduler_job")
    assert set(jobs) == {"job"}
    job = jobs["job"]
    assert job["attempt_deadline"] == "${var.function_timeout_s + 60}s"
    assert _function()["service_config"][0]["timeout_seconds"] == "${var.function_timeout_s}"
    timeout = TF["variable"]["function_timeout_s"]
    assert timeout["default"] + 60 <= 1800  # Cloud Scheduler's HTTP deadline cap
    assert "<= 1740" in timeout["validation"][0]["condition"]
    assert job["retry_config"][0]["retry_count"] >= 1
    jobs_local = TF["locals"]["jobs"]
    assert "usage" in str(jobs_local) and "check" in str(jobs_local)
    assert TF["variable"]["usage_schedule"]["default"].count(" ") == 4


def test_billing_actions_public_with_a_reason_and_private_switch():
    public = _resources("google_cloud_run_service_iam_member")["public"]
    assert public["member"].startswith("allUsers")
    assert "var.private ? toset([])" in public["for_each"]
    assert set(TF["variable"]["billing_actions"]["default"]) == set(ACTIONS) - {"usage", "check"}
    assert "checkov:skip=" in (INFRA / "iam.tf").read_text()


@pytest.mark.parametrize("name", ["google"])
def test_provider_is_pinned(name):
    required = TF["terraform"][0]["required_providers"][0][name]
    assert required["source"] == "hashicorp/google"
    assert re.match(r"^>= ?\d+\.\d+\.\d+, ?< ?\d+", required["version"])
    assert TF["terraform"][0]["required_version"].startswith(">= 1.5")


def test_outputs_give_every_action_url():
    assert "google_cloudfunctions2_function.action" in TF["output"]["function_urls"]["value"]
