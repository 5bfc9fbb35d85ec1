"""Structural checks of infra/ with python-hcl2: what can be proven offline without the
Google provider (which cannot be downloaded here, so `terraform validate` cannot run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from functions.main import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
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
    merged: dict[str, Any] = {
        "resource": {},
        "variable": {},
        "locals": {},
        "output": {},
        "terraform": [],
    }
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
    # and each door of its own beside them (docs/stripe.md; tests/stripe/test_surfaces.py)
    assert _function()["for_each"] == "${toset(concat(local.actions, local.doors))}"


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
        "${google_service_account.build.id}"
    )
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
    assert env["ISPHOOKS_SECRETS"] == "${local.config_store[var.config_source]}"
    assert TF["locals"]["config_store"]["api"] == "gcp:${google_secret_manager_secret.config.id}"


def test_config_is_mounted_as_a_file_by_default():
    """Secret volume (no SDK in the cold start): `secret` is the secret's id, not its full
    name; project_id is required; version `latest`, so rotation reaches the file."""
    dynamic = _function()["service_config"][0]["dynamic"]
    volume = next(block["secret_volumes"] for block in dynamic if "secret_volumes" in block)
    assert volume["for_each"].startswith('${var.config_source == "volume"')
    content = volume["content"][0]
    assert content["secret"] == "${google_secret_manager_secret.config.secret_id}"
    assert content["project_id"] == "${var.project_id}"
    assert content["mount_path"] == "${var.config_mount_path}"
    assert content["versions"] == [{"version": "latest", "path": "isphooks.json"}]
    assert TF["locals"]["config_file"] == "${var.config_mount_path}/isphooks.json"
    assert TF["locals"]["config_store"]["volume"] == "file:${local.config_file}"
    source = TF["variable"]["config_source"]
    assert source["default"] == "volume"
    assert '["volume", "api"]' in source["validation"][0]["condition"]


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
    assert public["for_each"].startswith(
        '${var.private || var.public_access != "allUsers" ? toset([])'
    )
    access = TF["variable"]["public_access"]
    assert access["default"] == "allUsers"
    assert "invoker_check_disabled" in access["validation"][0]["condition"]
    # every function the WHMCS modules call, check and usage included (issue 21)
    assert set(TF["variable"]["billing_actions"]["default"]) == set(ACTIONS)
    assert "checkov:skip=" in (INFRA / "iam.tf").read_text()


def test_invoker_members_reach_only_the_billing_actions():
    invokers = _resources("google_cloud_run_service_iam_member")["invokers"]
    assert "setproduct(var.billing_actions, var.invoker_members)" in invokers["for_each"]
    scheduler = _resources("google_cloud_run_service_iam_member")["scheduler"]
    assert scheduler["member"] == "serviceAccount:${google_service_account.scheduler.email}"


def test_the_scheduler_keeps_its_token_access_to_usage_and_check():
    """Public or not, the scheduler's own binding covers every action it has a job for:
    usage and check always (locals.jobs), scheduled retries when configured."""
    scheduler = _resources("google_cloud_run_service_iam_member")["scheduler"]
    assert scheduler["for_each"] == "${toset([for job in local.jobs : job.action])}"
    jobs = str(TF["locals"]["jobs"])
    assert '"usage"' in jobs and '"check"' in jobs


def test_every_function_the_whmcs_modules_call_is_billing_facing():
    """Issue 21: WHMCS calls check (Test Connection) and usage (Usage Update, Server Sync):
    on a real deployment a scheduler-only function answers those with Cloud Run's 403."""
    php = "".join(p.read_text() for p in (ROOT / "integrations" / "whmcs").rglob("*.php"))
    called = set(re.findall(r"request\(\$params, '([a-z]+)'", php))
    assert {"create", "suspend", "check", "usage", "sso"} <= called
    assert called <= set(TF["variable"]["billing_actions"]["default"])


def test_scheduler_targets_and_audiences_are_run_app_urls_one_per_function():
    audience = TF["locals"]["scheduler_audience"]
    assert "google_cloudfunctions2_function.action[action].service_config[0].uri" in audience
    assert "distinct([for job in local.jobs : job.action])" in audience
    target = _resources("google_cloud_scheduler_job")["job"]["http_target"][0]
    assert target["uri"] == "${local.scheduler_audience[each.value.action]}"
    assert target["oidc_token"][0]["audience"] == "${local.scheduler_audience[each.value.action]}"
    assert ".url" not in (INFRA / "scheduler.tf").read_text()
    assert TF["output"]["scheduler_audience"]["value"] == "${local.scheduler_audience}"
    assert "scheduler_audiences" not in TF["output"]


def test_iam_api_enabled_and_service_accounts_wait_for_it():
    assert "iam.googleapis.com" in TF["locals"]["services"]
    for account in _resources("google_service_account").values():
        assert account["depends_on"] == ['${google_project_service.apis["iam.googleapis.com"]}']


def test_build_account_grants_are_the_documented_ones_scoped_narrowly():
    build = "serviceAccount:${google_service_account.build.email}"
    project = _resources("google_project_iam_member")
    assert project["build_logs"]["role"] == "roles/logging.logWriter"
    # Artifact Registry: the one repository the builds push to, never the project.
    assert not [g for g in project.values() if "artifactregistry" in g["role"]]
    repo_grant = _resources("google_artifact_registry_repository_iam_member")
    assert repo_grant["build_pushes_images"] == {
        "location": "${google_artifact_registry_repository.functions.location}",
        "repository": "${google_artifact_registry_repository.functions.name}",
        "role": "roles/artifactregistry.writer",
        "member": build,
    }
    assert _function()["build_config"][0]["docker_repository"] == (
        "${google_artifact_registry_repository.functions.id}"
    )
    assert _resources("google_artifact_registry_repository")["functions"]["format"] == "DOCKER"
    # Storage: objectAdmin on our bucket and, by an IAM condition, on gcf-v2-sources only.
    bucket = _resources("google_storage_bucket_iam_member")["build_reads_source"]
    assert (bucket["role"], bucket["member"]) == ("roles/storage.objectAdmin", build)
    sources = project["build_reads_gcf_sources"]
    assert (sources["role"], sources["member"]) == ("roles/storage.objectAdmin", build)
    expression = sources["condition"][0]["expression"]
    assert expression.startswith('resource.name.startsWith(\\"projects/_/buckets/gcf-v2-sources-')
    assert "${data.google_project.this.number}-${var.region}" in expression
    unconditioned = [g for g in project.values() if "storage" in g["role"] and "condition" not in g]
    assert unconditioned == []


def test_the_first_build_waits_for_the_grants_to_propagate():
    sleep = _resources("time_sleep")["iam_propagation"]
    assert sleep["create_duration"] == "${var.iam_propagation_wait}"
    assert set(sleep["depends_on"]) == {
        "${google_project_iam_member.build_logs}",
        "${google_artifact_registry_repository_iam_member.build_pushes_images}",
        "${google_storage_bucket_iam_member.build_reads_source}",
        "${google_project_iam_member.build_reads_gcf_sources}",
        "${google_secret_manager_secret_iam_member.runtime_reads_config}",
    }
    assert "${time_sleep.iam_propagation}" in _function()["depends_on"]


def test_replaced_archives_expire_as_noncurrent_objects():
    (rule,) = _resources("google_storage_bucket")["source"]["lifecycle_rule"]
    assert rule["condition"] == [{"days_since_noncurrent_time": "${var.noncurrent_source_days}"}]
    assert rule["action"] == [{"type": "Delete"}]
    assert "num_newer_versions" not in (INFRA / "main.tf").read_text()


def test_log_based_metrics_read_our_structured_logs():
    metrics = _resources("google_logging_metric")
    assert set(metrics) == {"deliveries", "server_errors", "service_failures"}
    base = TF["locals"]["request_logs"]
    assert 'resource.type=\\"cloud_run_revision\\"' in base
    assert "jsonPayload.http_status>=100" in base
    assert metrics["deliveries"]["label_extractors"] == {
        "action": "EXTRACT(jsonPayload.action)",
        "outcome": "EXTRACT(jsonPayload.outcome)",
        "http_status": "EXTRACT(jsonPayload.http_status)",
    }
    assert metrics["server_errors"]["filter"].endswith("jsonPayload.http_status>=500")
    assert metrics["server_errors"]["label_extractors"] == {"action": "EXTRACT(jsonPayload.action)"}
    assert 'jsonPayload.outcome=\\"error\\"' in metrics["service_failures"]["filter"]
    assert metrics["service_failures"]["label_extractors"]["service_id"] == (
        "EXTRACT(jsonPayload.service_id)"
    )
    for metric in metrics.values():
        labels = {label["key"] for label in metric["metric_descriptor"][0]["labels"]}
        assert labels == set(metric["label_extractors"])
        assert metric["metric_descriptor"][0]["metric_kind"] == "DELTA"


def test_alert_policies_on_sustained_failures_notify_the_configured_channels():
    policies = _resources("google_monitoring_alert_policy")
    assert set(policies) == {"server_error_ratio", "service_failing"}
    for policy in policies.values():
        assert policy["notification_channels"] == "${var.notification_channels}"
        assert policy["documentation"][0]["mime_type"] == "text/markdown"
    ratio = policies["server_error_ratio"]["conditions"][0]["condition_threshold"][0]
    assert "google_logging_metric.server_errors.name" in ratio["filter"]
    assert "google_logging_metric.deliveries.name" in ratio["denominator_filter"]
    assert ratio["aggregations"] == ratio["denominator_aggregations"]
    assert ratio["aggregations"][0]["group_by_fields"] == ["metric.label.action"]
    assert ratio["threshold_value"] == "${var.alert_5xx_ratio}"
    assert ratio["duration"] != "0s"  # sustained, not one bad minute
    failing = policies["service_failing"]["conditions"][0]["condition_threshold"][0]
    assert "google_logging_metric.service_failures.name" in failing["filter"]
    assert failing["aggregations"][0]["group_by_fields"] == ["metric.label.service_id"]
    assert TF["variable"]["notification_channels"]["default"] == []
    assert "logging.googleapis.com/user/" == TF["locals"]["metric_prefix"]
    assert {"logging.googleapis.com", "monitoring.googleapis.com"} <= set(TF["locals"]["services"])


@pytest.mark.parametrize("name", ["google", "time"])
def test_provider_is_pinned(name):
    required = TF["terraform"][0]["required_providers"][0][name]
    assert required["source"] == f"hashicorp/{name}"
    assert re.match(r"^>= ?\d+\.\d+\.\d+, ?< ?\d+", required["version"])
    assert TF["terraform"][0]["required_version"].startswith(">= 1.5")


def test_outputs_give_every_action_url():
    assert "google_cloudfunctions2_function.action" in TF["output"]["function_urls"]["value"]


def test_function_names_output_comes_from_the_functions_resource():
    """infra/README.md's loops take the function names from `terraform output`, never from
    a list typed by hand (which had missed `status`): every function, and the
    billing-facing ones, both from the for_each the functions are made from."""
    every = TF["output"]["function_names"]["value"]
    assert every == "${[for action, fn in google_cloudfunctions2_function.action : fn.name]}"
    billing = TF["output"]["billing_function_names"]["value"]
    assert billing == (
        "${[for action, fn in google_cloudfunctions2_function.action : fn.name"
        " if contains(var.billing_actions, action) || contains(local.doors, action)]}"
    )
    assert _function()["name"] == "${var.name_prefix}-${each.key}"


def test_r3_f5_reconcile_has_its_own_memory_and_concurrency():
    """Security round 3, finding 5: eight 2 MiB reconciles at once peaked above the
    functions' 256Mi; reconcile gets its own memory and concurrency, sized from the bench
    (`make bench`, reconcile part: ~155 MiB for four at once)."""
    service = _function()["service_config"][0]
    assert service["available_memory"] == (
        '${each.key == "reconcile" ? var.reconcile_memory : var.memory}'
    )
    assert service["max_instance_request_concurrency"] == (
        '${each.key == "reconcile" ? var.reconcile_concurrency : var.concurrency}'
    )
    assert TF["variable"]["reconcile_memory"]["default"] == "512Mi"
    assert TF["variable"]["reconcile_concurrency"]["default"] == 4


# Static egress (egress.tf): one reserved address for every function's outbound traffic, so
# panels that accept port 1500 only from known addresses can allow it. Off by default.

EGRESS_ONLY = "${var.static_egress ? 1 : 0}"
EGRESS_TYPES = {
    "google_project_service",
    "google_compute_network",
    "google_compute_subnetwork",
    "google_compute_firewall",
    "google_vpc_access_connector",
    "google_compute_router",
    "google_compute_address",
    "google_compute_router_nat",
    "time_sleep",
}


def _egress_resources() -> dict[tuple[str, str], dict[str, Any]]:
    """Every resource block of egress.tf, by (type, name)."""
    with (INFRA / "egress.tf").open() as fh:
        doc = _clean(hcl2.load(fh))
    return {
        (rtype, name): body
        for block in doc.get("resource", [])
        for rtype, named in block.items()
        for name, body in named.items()
    }


def test_static_egress_is_off_by_default():
    variable = TF["variable"]["static_egress"]
    assert variable["type"] == "bool"
    assert variable["default"] is False
    assert TF["locals"]["egress_count"] == EGRESS_ONLY


def test_every_egress_resource_exists_only_with_static_egress():
    """Nothing of egress.tf is created (or billed) while static_egress is false: each
    resource has count = (static_egress ? 1 : 0) or a for_each empty without it."""
    resources = _egress_resources()
    assert {rtype for rtype, _ in resources} == EGRESS_TYPES
    for (rtype, name), body in resources.items():
        if "for_each" in body:
            assert body["for_each"].startswith("${var.static_egress ? "), (rtype, name)
            assert body["for_each"].endswith(": toset([])}"), (rtype, name)
        else:
            assert body["count"] == "${local.egress_count}", (rtype, name)
    services = _resources("google_project_service")["egress"]
    assert "compute.googleapis.com" in services["for_each"]
    assert "vpcaccess.googleapis.com" in services["for_each"]
    assert services["disable_on_destroy"] is False
    # every other file stays as it was: no egress resource anywhere else
    for path in INFRA.glob("*.tf"):
        if path.name != "egress.tf":
            assert "static_egress ? 1 : 0" not in path.read_text(), path


def test_functions_use_the_connector_only_with_static_egress_and_all_traffic():
    service = _function()["service_config"][0]
    assert service["vpc_connector"] == (
        "${var.static_egress ? google_vpc_access_connector.egress[0].id : null}"
    )
    assert service["vpc_connector_egress_settings"] == (
        '${var.static_egress ? "ALL_TRAFFIC" : null}'
    )
    # the first requests already leave from the NAT's address
    assert "${google_compute_router_nat.egress}" in _function()["depends_on"]
    # the connector is named nowhere else, so nothing uses it unconditionally
    text = "\n".join(p.read_text() for p in INFRA.glob("*.tf") if p.name != "egress.tf")
    assert text.count("google_vpc_access_connector.egress") == 1


def test_connector_on_its_own_subnet_in_the_functions_region():
    connector = _resources("google_vpc_access_connector")["egress"]
    subnet = _resources("google_compute_subnetwork")["egress"]
    assert connector["subnet"] == [{"name": "${google_compute_subnetwork.egress[0].name}"}]
    assert "network" not in connector and "ip_cidr_range" not in connector
    assert connector["region"] == subnet["region"] == _function()["location"] == "${var.region}"
    # instances, not throughput (6.x: each pair conflicts with the other)
    assert connector["min_instances"] == 2
    assert connector["max_instances"] == "${var.egress_connector_max_instances}"
    assert not {"min_throughput", "max_throughput"} & set(connector)
    lifecycle = connector["lifecycle"][0]
    # turning it off detaches the functions before the connector is deleted
    assert lifecycle["create_before_destroy"] is True
    # Google: under 21 characters, each hyphen counted twice
    condition = lifecycle["precondition"][0]["condition"]
    assert 'length(regexall("-", local.egress_connector_name)) <= 20' in condition
    name = "isphooks-egress"  # the default: name_prefix + "-egress"
    assert len(name) + name.count("-") <= 20
    assert subnet["ip_cidr_range"] == "${var.egress_subnet_cidr}"
    assert TF["variable"]["egress_subnet_cidr"]["default"].endswith("/28")
    assert (
        'endswith(var.egress_subnet_cidr, "/28")'
        in (TF["variable"]["egress_subnet_cidr"]["validation"][0]["condition"])
    )
    # checkov CKV_GCP_74, CKV_GCP_26
    assert subnet["private_ip_google_access"] is True
    assert subnet["log_config"]
    assert _resources("google_compute_network")["egress"]["auto_create_subnetworks"] is False


def test_egress_network_denies_all_ingress():
    """checkov CKV2_GCP_18: the network has a firewall of its own."""
    rule = _resources("google_compute_firewall")["egress_deny_ingress"]
    assert rule["network"] == "${google_compute_network.egress[0].self_link}"
    assert rule["direction"] == "INGRESS"
    assert rule["source_ranges"] == ["0.0.0.0/0"]
    assert rule["deny"] == [{"protocol": "all"}]
    assert "allow" not in rule


def test_nat_uses_only_the_reserved_address_for_the_connector_subnet():
    nat = _resources("google_compute_router_nat")["egress"]
    address = _resources("google_compute_address")["egress"]
    assert nat["nat_ip_allocate_option"] == "MANUAL_ONLY"
    assert nat["nat_ips"] == ["${google_compute_address.egress[0].self_link}"]
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetwork"] == [
        {
            "name": "${google_compute_subnetwork.egress[0].self_link}",
            "source_ip_ranges_to_nat": ["ALL_IP_RANGES"],
        }
    ]
    assert nat["router"] == "${google_compute_router.egress[0].name}"
    assert nat["log_config"] == [{"enable": True, "filter": "ERRORS_ONLY"}]
    assert nat["lifecycle"][0]["create_before_destroy"] is True
    assert address["address_type"] == "EXTERNAL"
    assert nat["region"] == address["region"] == "${var.region}"
    router = _resources("google_compute_router")["egress"]
    assert router["network"] == "${google_compute_network.egress[0].id}"
    assert router["region"] == "${var.region}"


def test_egress_ip_output_is_the_reserved_address_or_null():
    assert TF["output"]["egress_ip"]["value"] == (
        "${var.static_egress ? google_compute_address.egress[0].address : null}"
    )


def test_readme_explains_static_egress():
    readme = (INFRA / "README.md").read_text()
    section = readme[readme.index("## Static egress") : readme.index("## Rotating webhook")]
    for needed in (
        "static_egress = true",
        "egress_ip",
        "1500",
        "ALL_TRAFFIC",
        "Secret Manager",
        ">= 7.21",
        "iptables",
        "firewall-cmd",
        "What it costs",
        "create_before_destroy",
    ):
        assert needed in section, needed
