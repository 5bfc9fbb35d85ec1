"""The config document: schema errors name the key and never quote a value; stores; cache."""

from __future__ import annotations

import json
import threading

import pytest

from shared import config as cfg
from shared.config import stores
from shared.errors import ConfigInvalid, ConfigUnavailable

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _doc(**server_overrides):
    server = {
        "url": "https://isp1.example.net:1500/ispmgr",
        "username": "root",
        "password": "S3cret-Panel-Pass",
    }
    server.update(server_overrides)
    return {"webhook_secrets": [SECRET], "servers": {"isp1": server}}


def test_defaults_are_filled_in():
    conf = cfg.parse_document(json.dumps(_doc()))
    server = conf.servers["isp1"]
    assert (server.edition, server.group, server.timeout_s, server.max_accounts) == (
        "lite",
        "default",
        60.0,
        None,
    )
    assert server.tls == cfg.Tls()
    assert conf.first_webhook_secret == SECRET


def test_repr_of_the_config_carries_no_secret():
    doc = {
        **_doc(),
        "usage_callback": {
            "url": "https://billing.example/usage",
            "secret": "whsec_dXNhZ2UtY2FsbGJhY2stc2VjcmV0",
        },
    }
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
        ({"webhook_secrets": [SECRET]}, "servers"),
        ({**_doc(), "servers": {}}, "servers"),
        ({**_doc(), "extra": 1}, "extra"),
        ({**_doc(), "scheduler": {"audience": 5, "service_accounts": []}}, "scheduler"),
    ],
)
def test_an_invalid_top_level_names_the_key_and_hides_values(doc, key):
    with pytest.raises(ConfigInvalid) as info:
        cfg.parse_document(json.dumps(doc))
    assert key in info.value.message
    assert "S3cret" not in info.value.message
    assert info.value.status == 500


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"edition": "ultimate"}, "servers.isp3.edition"),
        ({"url": "ftp://x"}, "servers.isp3.url"),
        ({"url": "http://isp3.example.net/ispmgr"}, "servers.isp3.url"),  # no allow_insecure
        ({"passwrd": "typo"}, "servers.isp3.passwrd"),
        ({"password": None}, "servers.isp3.password"),
        ({"tls": {"pin_sha256": "S3cret"}}, "servers.isp3.tls.pin_sha256"),
    ],
)
def test_an_invalid_server_entry_makes_only_that_server_unusable(entry, key):
    """v1.2 (docs/interface.md §6): the message names the key, never a value."""
    doc = _doc()
    doc["servers"]["isp3"] = {
        **doc["servers"]["isp1"],
        "password": "S3cret-Other",
        "group": "eu",
        **entry,
    }
    conf = cfg.parse_document(json.dumps(doc))
    assert conf.servers["isp1"].unusable is None
    broken = conf.servers["isp3"]
    assert broken.unusable is not None and key in broken.unusable
    assert broken.unusable.startswith("server isp3 is unusable: invalid config: ")
    assert "S3cret" not in broken.unusable and "example.net" not in broken.unusable
    assert broken.url == "" and broken.password == "" and broken.group == "eu"


def test_password_missing_is_named():
    doc = _doc()
    del doc["servers"]["isp1"]["password"]
    unusable = cfg.parse_document(json.dumps(doc)).servers["isp1"].unusable
    assert unusable is not None and "servers.isp1.password" in unusable


def test_a_server_entry_that_is_not_an_object_or_badly_named_is_unusable():
    doc = _doc()
    doc["servers"].update({"isp2": "https://isp2", "bad name": doc["servers"]["isp1"]})
    conf = cfg.parse_document(json.dumps(doc))
    assert "servers.isp2: must be an object" in str(conf.servers["isp2"].unusable)
    assert "servers.bad name (name)" in str(conf.servers["bad name"].unusable)
    assert conf.servers["isp1"].unusable is None


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
    monkeypatch.setenv("ISPHOOKS_CFG_DOC", json.dumps(_doc()))
    monkeypatch.setenv("ISPHOOKS_SECRETS_TTL", "0")
    cache = cfg.ConfigCache(lambda: "env:ISPHOOKS_CFG_DOC")
    a = cache.get()
    assert cache.get() is not a


def test_a_file_store_is_kept_until_the_file_changes(tmp_path, monkeypatch):
    """v1.3: the TTL is for the stores that cost a request; a file is re-read when its
    modification time, size or inode changes."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_doc()))
    monkeypatch.setenv("ISPHOOKS_SECRETS_TTL", "0")
    cache = cfg.ConfigCache(lambda: f"file:{path}")
    a = cache.get()
    assert cache.get() is a
    path.write_text(json.dumps(_doc()) + " ")
    assert cache.get() is not a
