"""The config document: schema errors name the key and never quote a value; stores; cache."""

from __future__ import annotations

import json
import threading

import pytest

from shared import config as cfg
from shared import stores
from shared.errors import ConfigInvalid, ConfigUnavailable

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _doc(**server_overrides):
    server = {"url": "https://isp1.example.net:1500/ispmgr", "username": "root",
              "password": "S3cret-Panel-Pass"}
    server.update(server_overrides)
    return {"webhook_secrets": [SECRET], "servers": {"isp1": server}}


def test_defaults_are_filled_in():
    conf = cfg.parse_document(json.dumps(_doc()))
    server = conf.servers["isp1"]
    assert (server.edition, server.group, server.timeout_s, server.max_accounts) == (
        "lite", "default", 60.0, None)
    assert server.tls == cfg.Tls()
    assert conf.first_webhook_secret == SECRET


def test_repr_of_the_config_carries_no_secret():
    doc = {**_doc(), "usage_callback": {"url": "https://billing.example/usage",
                                        "secret": "whsec_dXNhZ2UtY2FsbGJhY2stc2VjcmV0"}}
    conf = cfg.parse_document(json.dumps(doc))
    text = repr(conf) + repr(conf.usage_callback) + str(conf.servers["isp1"])
    assert "isp1.example.net" in text and "billing.example" in text
    for secret in ("S3cret-Panel-Pass", SECRET, "dXNhZ2UtY2FsbGJhY2stc2VjcmV0", "whsec_"):
        assert secret not in text
    assert repr(conf.webhook_keys[0]) not in text


def test_pin_is_normalised_case_and_colons_ignored():
    pin = ":".join(["AB"] * 32)
    conf = cfg.parse_document(json.dumps(_doc(tls={"pin_sha256": pin})))
    assert conf.servers["isp1"].tls.pin_sha256 == "ab" * 32


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({**_doc(), "webhook_secrets": ["whsec_S3cret-not-base64!"]}, "webhook_secrets"),
        (_doc(edition="ultimate"), "servers.isp1.edition"),
        (_doc(url="ftp://x"), "servers.isp1.url"),
        (_doc(passwrd="typo"), "servers.isp1.passwrd"),
        (_doc(tls={"pin_sha256": "S3cret"}), "servers.isp1.tls.pin_sha256"),
        ({"webhook_secrets": [SECRET]}, "servers"),
        ({**_doc(), "extra": 1}, "extra"),
    ],
)
def test_invalid_document_names_the_key_and_hides_values(doc, key):
    with pytest.raises(ConfigInvalid) as info:
        cfg.parse_document(json.dumps(doc))
    assert key in info.value.message
    assert "S3cret" not in info.value.message
    assert info.value.status == 500


def test_password_missing_is_named():
    doc = _doc()
    del doc["servers"]["isp1"]["password"]
    with pytest.raises(ConfigInvalid, match=r"servers\.isp1\.password"):
        cfg.parse_document(json.dumps(doc))


def test_not_json_is_invalid_without_quoting_it():
    with pytest.raises(ConfigInvalid) as info:
        cfg.parse_document(b'{"password": "S3cret"')
    assert "S3cret" not in info.value.message


def test_file_and_env_stores(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_doc()))
    assert cfg.read_document(f"file:{path}") == path.read_bytes()
    monkeypatch.setenv("ISPHOOKS_TEST_DOC", "{}")
    assert cfg.read_document("env:ISPHOOKS_TEST_DOC") == b"{}"
    with pytest.raises(ConfigUnavailable):
        cfg.read_document(f"file:{tmp_path / 'missing.json'}")
    with pytest.raises(ConfigUnavailable):
        cfg.read_document("env:ISPHOOKS_NOT_SET_ANYWHERE")
    with pytest.raises(ConfigInvalid, match="file:PATH"):
        cfg.read_document("s3:bucket/key")


def test_cache_reads_once_within_ttl_and_rereads_when_stale(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_doc()))
    reads = []
    real = stores.STORES["file"]
    monkeypatch.setitem(stores.STORES, "file", lambda p: reads.append(p) or real(p))
    cache = cfg.ConfigCache(lambda: f"file:{path}")
    threads = [threading.Thread(target=cache.get) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = cache.get()
    assert len(reads) == 1
    path.write_text(json.dumps(_doc(password="rotated-password")))
    fresh = cache.reload_if_stale(first)
    assert fresh.servers["isp1"].password == "rotated-password"
    assert cache.reload_if_stale(first) is fresh  # a second stale holder does not re-read
    assert len(reads) == 2


def test_ttl_zero_rereads_every_time(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_doc()))
    monkeypatch.setenv("ISPHOOKS_SECRETS_TTL", "0")
    cache = cfg.ConfigCache(lambda: f"file:{path}")
    a = cache.get()
    assert cache.get() is not a
