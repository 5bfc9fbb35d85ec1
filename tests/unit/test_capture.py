"""The capture's masks (docs/interface.md §11, shared/probe/capture.py), the probe's readers of a
version, and the probe's place outside the deployed bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.bundle import EXCLUDE, entries
from shared.probe.capture import MASK, Masker
from shared.probe.objects import find_version

ROOT = Path(__file__).resolve().parents[2]
PROBE_MODULES = {
    "shared/probe/capture.py",
    "shared/probe/__init__.py",
    "shared/probe/facts.py",
    "shared/probe/lifecycle.py",
    "shared/probe/objects.py",
    "shared/probe/raw.py",
}


def _answer(masker: Masker, doc: dict) -> dict:
    return json.loads(masker.answer(json.dumps({"doc": doc}).encode()))["doc"]


def test_service_ids_become_pseudonyms_in_order_of_first_appearance_across_the_capture():
    masker = Masker()
    first = _answer(
        masker,
        {
            "elem": [
                {"name": {"$": "bob"}, "comment": {"$": "isphooks:service=1001\nnote"}},
                {
                    "name": {"$": "carol"},
                    "comment": {
                        "$": "isphooks:service=77 \r\nisphooks:order="
                        "state:suspended@1764000060000;password@1"
                    },
                },
            ]
        },
    )
    assert first["elem"][0]["comment"]["$"] == "isphooks:service=svc1\nnote"
    assert first["elem"][1]["comment"]["$"] == "isphooks:service=svc2\r\nisphooks:order=masked"
    # a later answer and a request's parameter: the same ids, the same pseudonyms
    assert masker.params({"comment": "x\nisphooks:service=77"}) == {
        "comment": "x\nisphooks:service=svc2"
    }
    later = _answer(masker, {"comment": "isphooks:service=1001\nisphooks:service=5"})
    assert later["comment"] == "isphooks:service=svc1\nisphooks:service=svc3"
    assert masker.services == {"1001": "svc1", "77": "svc2", "5": "svc3"}
    # a reason that merely mentions a marker, mid-line, is no isphooks line
    assert masker.text("paid; isphooks:service=9 later") == "paid; isphooks:service=9 later"


def test_the_host_and_every_address_get_consistent_placeholders():
    masker = Masker("Panel.Example.NET")
    text = (
        "https://panel.example.net:1500/ispmgr from 10.1.2.3 and 2a01:4f8::1, "
        "again 10.1.2.3, [2A01:4F8:0::1], ::ffff:10.9.9.9, 203.0.113.7."
    )
    assert masker.text(text) == (
        "https://panel.example:1500/ispmgr from 192.0.2.1 and 2001:db8::1, again 192.0.2.1, "
        "[2001:db8::1], 2001:db8::2, 192.0.2.2."
    )
    for kept in (
        "999.1.1.1",
        "12:30:45",
        "6.98.0-2024.01.01_12:00",
        "aa:bb:cc:dd:ee:ff",
        "C++ std::vector",
    ):
        assert masker.text(kept) == kept
    rows = _answer(masker, {"elem": [{"name": {"$": "10.1.2.3"}, "$remote_addr": "10.7.7.7"}]})
    assert rows["elem"][0] == {"name": {"$": "192.0.2.1"}, "$remote_addr": "192.0.2.3"}


def test_secrets_are_masked_in_their_fields_and_wherever_they_appear():
    masker = Masker(secrets=("Admin-Pass/+1=",))
    params = masker.params(
        {
            "passwd": "New-Pass-7",
            "confirm": "New-Pass-7",
            "key": "k" * 32,
            "username": "bob",
            "authinfo": "root:Admin-Pass/+1=",
        }
    )
    assert params == {
        "passwd": MASK,
        "confirm": MASK,
        "key": MASK,
        "username": "bob",
        "authinfo": MASK,
    }
    # an answer that echoes them (sjson's tparams) or a message quoting them
    doc = _answer(
        masker,
        {
            "tparams": {"password": {"$": "x1"}, "elid": "bob"},
            "msg": "New-Pass-7 / Admin-Pass%2F%2B1%3D / Admin-Pass%2F%2B1%3D",
            "url": "?username=bob&key=" + "k" * 32 + "&auth=0123456789abcdef",
        },
    )
    assert doc["tparams"] == {"password": {"$": MASK}, "elid": "bob"}
    assert doc["msg"] == f"{MASK} / {MASK} / {MASK}"
    assert doc["url"] == f"?username=bob&key={MASK}&auth={MASK}"
    # a short one is masked in its own field only: masked everywhere it would hide words
    masker.params({"passwd": "admin"})
    assert masker.text("admin") == "admin"


def test_a_session_is_masked_and_its_level_kept():
    sid = "3f9c2b7a9e0d4c1b8a7f6e5d4c3b2a19"
    doc = _answer(Masker(), {"auth": {"$id": sid, "$level": "30", "$": sid}})
    assert doc == {"auth": {"$id": MASK, "$level": "30", "$": MASK}}
    assert sid not in Masker().answer(f'<a href="?auth={sid}&func=dashboard">'.encode())
    assert Masker().params({"auth": sid}) == {"auth": MASK}


@pytest.mark.parametrize(
    "doc, version",
    [
        ({"version": {"$": "6.98.0-2024.01.01_12:00"}}, "6.98.0-2024.01.01_12:00"),
        ({"elem": [{"name": "ispmanager-lite", "ver": "6.82.0"}]}, "6.82.0"),
        ({"license": {"$panel_version": "6.1.2", "$name": "x"}}, "6.1.2"),
        ({"version": {"$": "unknown"}, "id": "6.1"}, None),
        ({"elem": []}, None),
    ],
)
def test_a_version_is_a_field_named_so_that_reads_as_one(doc, version):
    assert find_version(doc) == version


def test_the_bundle_leaves_the_probe_out_and_nothing_bundled_imports_it():
    assert PROBE_MODULES <= EXCLUDE
    bundled = entries()
    assert not PROBE_MODULES & set(bundled)
    importing = [
        name
        for name, data in bundled.items()
        if name.endswith(".py")
        and re.search(rb"shared\.(capture|probe)|from shared import .*\bprobe", data)
    ]
    assert importing == []
