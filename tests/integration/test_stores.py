"""The cloud stores through their real SDKs: botocore's signer against moto's server (with
moto checking signatures), the Google client (REST transport) against a loopback fake. Failures are 503, bad documents 500, and no
message or log line ever carries the document."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.config import CACHE, parse_document, read_document, stores
from shared.errors import ConfigInvalid, ConfigUnavailable
from tests.helpers import SECRET, create_body, server_entry, without_record

DOC_SECRET = "Doc-Panel-Pass-77"


def _doc(sim, **server):
    return json.dumps(
        {"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim, **server)}}
    )


def test_aws_store_reads_the_secret_string_and_binary(aws_env, sim):
    name = "isphooks/" + uuid.uuid4().hex
    aws_env.create_secret(Name=name, SecretString=_doc(sim))
    assert parse_document(read_document(f"aws:{name}")).servers["isp1"].url == sim.url
    arn = aws_env.create_secret(Name=name + "-bin", SecretBinary=_doc(sim).encode())["ARN"]
    assert parse_document(read_document(f"aws:{arn}")).servers["isp1"].url == sim.url


def test_aws_missing_secret_is_unavailable_without_content(aws_env):
    with pytest.raises(ConfigUnavailable, match="ResourceNotFoundException"):
        read_document("aws:isphooks/does-not-exist")


def test_aws_request_is_signed_as_aws_checks_it(aws_env, moto_server, monkeypatch, sim):
    """moto in its IAM mode recomputes the SigV4 signature with the user's secret key."""
    import boto3
    import requests

    from shared.config import stores

    iam = boto3.client("iam", endpoint_url=moto_server, region_name="eu-west-1")
    user = "isphooks-" + uuid.uuid4().hex[:8]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(
        UserName=user,
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
                ],
            }
        ),
    )
    name = "isphooks/" + uuid.uuid4().hex
    aws_env.create_secret(Name=name, SecretString=_doc(sim))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    requests.post(moto_server + "/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
    try:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        assert parse_document(read_document(f"aws:{name}")).servers["isp1"].url == sim.url
        monkeypatch.setattr(stores, "_clients", {})
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")
        with pytest.raises(ConfigUnavailable, match="refused the secret: HTTP 403"):
            read_document(f"aws:{name}")
    finally:
        requests.post(
            moto_server + "/moto-api/reset-auth", data=b"inf", timeout=5
        ).raise_for_status()


def test_aws_without_region_is_a_config_error(aws_env, monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigInvalid, match="region"):
        read_document("aws:isphooks/x")


def test_aws_default_endpoint_follows_the_region(monkeypatch):
    from shared.config import stores

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)
    assert stores._aws_endpoint("eu-west-1") == "https://secretsmanager.eu-west-1.amazonaws.com/"
    assert stores._aws_endpoint("cn-north-1") == (
        "https://secretsmanager.cn-north-1.amazonaws.com.cn/"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://vpce.example/")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://other.example")
    assert stores._aws_endpoint("eu-west-1") == "https://vpce.example/"


def test_aws_unreachable_endpoint_is_unavailable(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(ConfigUnavailable, match="unreachable"):
        read_document("aws:isphooks/x")


def test_gcp_store_reads_latest_and_numbered_versions(gcp_fake, sim):
    name = "projects/p1/secrets/isphooks"
    gcp_fake.add_version(name, _doc(sim, edition="lite").encode())
    gcp_fake.add_version(name, _doc(sim, edition="host").encode())
    assert parse_document(read_document(f"gcp:{name}")).servers["isp1"].edition == "host"
    assert (
        parse_document(read_document(f"gcp:{name}/versions/latest")).servers["isp1"].edition
        == "host"
    )
    assert parse_document(read_document(f"gcp:{name}/versions/1")).servers["isp1"].edition == "lite"


@pytest.mark.parametrize(
    "location", ["gcp:projects/p1/secrets/missing", "gcp:projects/p1/secrets/isphooks/versions/9"]
)
def test_gcp_missing_secret_or_version_is_unavailable(gcp_fake, sim, location):
    gcp_fake.add_version("projects/p1/secrets/isphooks", _doc(sim).encode())
    with pytest.raises(ConfigUnavailable, match="NotFound"):
        read_document(location)


def test_gcp_wrong_checksum_is_refused(gcp_fake, sim):
    gcp_fake.add_version("projects/p1/secrets/isphooks", _doc(sim).encode())
    gcp_fake.corrupt_checksum = True
    with pytest.raises(ConfigUnavailable, match="checksum") as info:
        read_document("gcp:projects/p1/secrets/isphooks")
    assert sim.admin_password not in info.value.message


def test_gcp_malformed_name_is_a_config_error():
    with pytest.raises(ConfigInvalid, match="gcp:projects/P/secrets/S"):
        read_document("gcp:my-secret")


def test_crc32c_known_answer():
    # RFC 3720 test vector: 32 bytes of zeros
    assert stores._crc32c(b"\x00" * 32) == 0x8A9136AA
    assert stores._crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("store", ["aws", "gcp"])
def test_requests_through_each_cloud_store(
    call, sim, aws_env, gcp_fake, monkeypatch, store, capsys
):
    name = "isphooks-" + uuid.uuid4().hex[:8]
    if store == "aws":
        aws_env.create_secret(Name=name, SecretString=_doc(sim))
        location = f"aws:{name}"
    else:
        location = f"gcp:projects/p1/secrets/{name}"
        gcp_fake.add_version(location[4:], _doc(sim).encode())
    monkeypatch.setenv("ISPHOOKS_SECRETS", location)
    CACHE.clear()
    assert call("create", create_body()).status_code == 201
    assert without_record(sim.user("bob")["comment"]) == "isphooks:service=1001"


def test_store_failure_is_503_and_bad_document_is_500_naming_the_key(
    call, sim, gcp_fake, monkeypatch, capsys
):
    monkeypatch.setenv("ISPHOOKS_SECRETS", "gcp:projects/p1/secrets/absent")
    CACHE.clear()
    resp = call("suspend", {"service_id": "1", "server": "isp1", "username": "bob"})
    assert resp.status_code == 503 and resp.json["error"]["code"] == "config_unavailable"
    assert resp.headers["Retry-After"]

    # an invalid top level: every request fails, the key only in the log
    bad = json.dumps(
        {
            "webhook_secrets": [SECRET],
            "servers": {"isp1": {"url": sim.url, "password": DOC_SECRET}},
            "schedulr": {"audience": DOC_SECRET},
        }
    )
    gcp_fake.add_version("projects/p1/secrets/bad", bad.encode())
    monkeypatch.setenv("ISPHOOKS_SECRETS", "gcp:projects/p1/secrets/bad")
    CACHE.clear()
    resp = call("suspend", {"service_id": "1", "server": "isp1", "username": "bob"})
    assert resp.status_code == 500
    assert "schedulr" not in resp.json["error"]["message"]  # to the log only
    logged = capsys.readouterr().out
    assert "schedulr" in logged
    output = logged + resp.get_data(as_text=True)
    # v1.2: an invalid server entry fails only that server, and an authenticated caller
    # is told which key
    worse = json.dumps(
        {
            "webhook_secrets": [SECRET],
            "servers": {"isp1": {"url": sim.url, "password": DOC_SECRET, "edition": "platinum"}},
        }
    )
    gcp_fake.add_version("projects/p1/secrets/worse", worse.encode())
    monkeypatch.setenv("ISPHOOKS_SECRETS", "gcp:projects/p1/secrets/worse")
    CACHE.clear()
    resp = call("suspend", {"service_id": "1", "server": "isp1", "username": "bob"})
    assert resp.status_code == 500 and resp.json["error"]["code"] == "internal"
    assert "servers.isp1.edition" in resp.json["error"]["message"]
    output += capsys.readouterr().out + resp.get_data(as_text=True)
    assert DOC_SECRET not in output and sim.admin_password not in output
    assert SECRET not in output and SECRET[6:] not in output


def test_a_file_store_is_read_again_when_the_file_changes(call, sim, config_path, monkeypatch):
    """v1.3: a server added to the local config is known at the next request, not after
    the 5-minute TTL (which stays for the network stores)."""
    monkeypatch.setenv("ISPHOOKS_SECRETS_TTL", "300")
    doc = json.loads(config_path.read_text())
    assert call("check", {"server": "isp2"}).status_code == 404  # cached now
    doc["servers"]["isp2"] = dict(doc["servers"]["isp1"])
    config_path.write_text(json.dumps(doc))
    resp = call("check", {"server": "isp2"})
    assert resp.status_code == 200 and resp.json["servers"][0]["ok"] is True
    # an editor that writes a new file and renames it (a new inode) is seen too
    del doc["servers"]["isp2"]
    fresh = config_path.with_suffix(".new")
    fresh.write_text(json.dumps(doc))
    fresh.replace(config_path)
    assert call("check", {"server": "isp2"}).status_code == 404
