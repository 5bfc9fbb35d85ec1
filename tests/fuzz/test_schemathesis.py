"""Schemathesis fuzzing of every action of a running `isphooks serve`, generated from the
OpenAPI document (`shared.web.openapi.document()`, what openapi.json holds), against the panel
simulator.

Every generated request (valid and invalid bodies alike, and schemathesis's other-method
probes) is signed with Standard Webhooks over the exact bytes sent, so the fuzzing gets past
authentication into JSON parsing, the schemas and the actions; most bodies are aimed at the
simulator's server, accounts and templates so the actions really run. Separately, unsigned
and badly signed requests must be 401 without a single panel call. For every response:
never a 5xx (the simulator is healthy), every error is the envelope of docs/interface.md §5
with `retryable` equal to status >= 500, every 400 says which `fields`, and the response
conforms to the document.

Bounded and reproducible for CI: schemathesis's coverage phase (deterministic boundary and
type-confusion cases) plus MAX_EXAMPLES derandomized hypothesis cases per action, no
example database. The number of cases run is printed by the last test (`-s` shows it).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from standardwebhooks.webhooks import Webhook

from shared.panel import RESELLER_LIMIT_FIELDS
from shared.web.openapi import document
from tests import tiers
from tests.e2e.conftest import Served
from tests.helpers import LIMITS, OLD_SECRET, SECRET, start_sim, write_config

# The module's tests count into COUNTS, which its last test checks: under pytest-xdist they
# all run in one worker, in order (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("schemathesis")

MAX_EXAMPLES = tiers.sized(10, 40)  # per action: 10 in the fast tier (tests/tiers.py)
UNSIGNED_EXAMPLES = 8
SEED = 20240917


def _config(*, max_examples: int, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # valid and invalid bodies
                "max-examples": max_examples,
                "deterministic": True,  # hypothesis derandomize: the same cases on every run
                "database": "none",
                "with-security-parameters": False,  # the signature headers are ours to compute
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": coverage},
                "stateful": {"enabled": False},
            },
        }
    )


def _fuzzable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document, with one concession to schemathesis 4.32: its coverage phase gives up
    on a whole body (leaving only five top-level type-confusion cases for create and
    upgrade) when a string has both a grouped-alternation `pattern` and length bounds, as
    `plan.username_template` does. Without the two bounds it covers every field; the
    server still enforces them (a 400), and the pattern stays."""
    doc = copy.deepcopy(doc)
    template = doc["components"]["schemas"]["Plan"]["properties"]["username_template"]
    template.pop("minLength")
    template.pop("maxLength")
    return doc


# The Standard Webhooks signature gets past authentication everywhere but at /stripe, which
# takes Stripe's signature only (tests/stripe fuzz it signed that way): its signed cases here
# would all be 401. It stays in the unsigned fuzzing below.
schema = schemathesis.openapi.from_dict(
    _fuzzable(document()), config=_config(max_examples=MAX_EXAMPLES, coverage=True)
).exclude(path="/stripe")
# The authentication fuzzing needs no boundary cases: every body must be refused alike.
unsigned_schema = schemathesis.openapi.from_dict(
    document(), config=_config(max_examples=UNSIGNED_EXAMPLES, coverage=False)
)
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Accounts on the simulator the fuzzer aims at: (service_id, username, kind), covering ours,
# one made by hand (no marker), another service's, a reseller, and one that does not exist.
ACCOUNTS = [
    ("s1", "alice", "user"),
    ("s0", "hand", "user"),
    ("s9", "theirs", "user"),
    ("r1", "resel", "reseller"),
    ("s2", "nobody", "user"),
]
COMMENTS = {
    "alice": "isphooks:service=s1",
    "hand": "made by hand",
    "theirs": "isphooks:service=s9",
    "resel": "isphooks:service=r1",
}
ACCOUNT_ACTIONS = {"suspend", "unsuspend", "terminate", "upgrade", "password", "sso"}

# Found by this suite and fixed: a `plan.username_template` failing its Regexp answered
# 500 (marshmallow str.format()s the error text, which held literal `{service_id}`).

COUNTS: Counter[str] = Counter()
STATUSES: dict[str, Counter[int]] = {"signed": Counter(), "unsigned": Counter()}
ERROR_CODES: Counter[str] = Counter()


class Stack:
    """One simulator (business edition: resellers and dedicated IPs) and one
    `isphooks serve` for the whole module."""

    def __init__(self, tmp_path) -> None:
        self.sim = start_sim(edition="business")
        self.sim.add_preset("rbasic", dict(LIMITS), level="24")
        self.config = write_config(tmp_path / "isphooks.json", self.sim)
        self.served = Served(self.config, tmp_path / "serve.log")
        self.sent_text: set[str] = set()
        self.replant()

    def replant(self) -> None:
        """Put back the accounts earlier cases terminated, so later ones still reach them."""
        for _, name, kind in ACCOUNTS:
            if name not in COMMENTS:
                continue
            if kind == "reseller":
                if self.sim.reseller(name) is None:
                    self.sim.add_reseller(
                        name, "Reseller-Pass-1", preset="rbasic", comment=COMMENTS[name]
                    )
            elif self.sim.user(name) is None:
                self.sim.add_user(name, "User-Pass-123", preset="basic", comment=COMMENTS[name])

    def remember_sent(self, body: Any, key: str = "") -> None:
        """Every string a request carried outside a `password` field: isphooks may log those."""
        if isinstance(body, dict):
            for name, value in body.items():
                self.sent_text.add(str(name))
                self.remember_sent(value, str(name))
        elif isinstance(body, list):
            for value in body:
                self.remember_sent(value, key)
        elif isinstance(body, str) and key != "password":
            self.sent_text.add(body)

    def stop(self) -> None:
        try:
            self.served.stop()
        finally:
            # The suite's log hygiene scan looks for every password the simulator saw in
            # every log. A fuzzed password such as "00000000" may also be a fuzzed
            # service_id or reason elsewhere, which the log rightly shows: leave those out.
            with self.sim._seen_lock:
                self.sim.seen_secrets = {
                    s
                    for s in self.sim.seen_secrets
                    if not any(s in text for text in self.sent_text)
                }
            self.sim.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("fuzz"))
    yield stack
    stack.stop()


def _rng(action: str, body: Any) -> random.Random:
    """Choices made per case, derived from the case itself: reproducible, and without
    `given` (which would switch schemathesis's coverage phase off)."""
    seed = hashlib.sha256(f"{action} {body!r}".encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _aim(action: str, body: Any, rng: random.Random) -> Any:  # noqa: C901
    """Mostly point a generated body at the simulator's server, accounts and templates, so
    the case reaches the action instead of stopping at `unknown_server`."""
    if not isinstance(body, dict) or rng.random() < 0.25:
        return body
    body = dict(body)
    if "server" in body or action != "create":
        body["server"] = "isp1"
    if action == "create" and "server_group" in body:
        if "server" in body:
            body.pop("server_group")
        else:
            body["server_group"] = "default"
    if action == "create" and "username" in body and rng.random() < 0.5:
        body["username"] = f"fz{rng.randrange(10**6)}"  # a fresh name: a real creation
    if action in ACCOUNT_ACTIONS and ("username" in body or action != "sso"):
        service_id, username, kind = rng.choice(ACCOUNTS)
        body.update(service_id=service_id, username=username)
        if kind == "reseller" or "kind" in body:
            body["kind"] = kind
    plan = body.get("plan")
    limits = plan.get("limits") if isinstance(plan, dict) else None
    if (
        isinstance(limits, dict)
        and body.get("kind") != "reseller"
        and set(limits) & set(RESELLER_LIMIT_FIELDS)
    ):
        # Reseller limits on a user are a 400: half the time make it a reseller instead.
        if rng.random() < 0.5:
            body["kind"] = "reseller"
        else:
            body["plan"] = plan = {
                **plan,
                "limits": {k: v for k, v in limits.items() if k not in RESELLER_LIMIT_FIELDS},
            }
    if isinstance(plan, dict) and "template" in plan:
        # The reseller template is level 25; a user template for a reseller is a 422.
        templates = ["rbasic"] if body.get("kind") == "reseller" else ["basic", "pro"]
        body["plan"] = {**plan, "template": rng.choice(templates)}
    if "event_time" in body and rng.random() < 0.7:
        # A time in the accepted range (the last 30 days), so the order rules run too.
        body["event_time"] = int(time.time() * 1000) - rng.randrange(30 * 86_400_000)
    services = body.get("services")
    if action == "reconcile" and isinstance(services, list):
        # Point the rows at the simulator's accounts; keep what is not a row as it came.
        aimed = []
        for row in services:
            if isinstance(row, dict) and rng.random() < 0.8:
                service_id, username, kind = rng.choice(ACCOUNTS)
                row = {**row, "username": username, "kind": kind}
                if rng.random() < 0.5:
                    row["service_id"] = service_id
            aimed.append(row)
        body["services"] = aimed
    return body


def _serialize(body: Any, rng: random.Random) -> bytes:
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes):
        return body
    style = rng.choice(["ascii", "utf8", "compact"])
    if style == "compact":
        return json.dumps(body, separators=(",", ":")).encode()
    return json.dumps(body, ensure_ascii=style == "ascii").encode()


def _sign(raw: bytes, secret: str = SECRET, when: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers over exactly `raw`: made by the reference library, which
    signs text only, or by hand (the spec's HMAC) for bytes that are not UTF-8."""
    msg_id = "msg_" + uuid.uuid4().hex
    when = when or datetime.now(tz=UTC)
    stamp = str(int(when.timestamp()))
    try:
        signature = Webhook(secret).sign(msg_id, when, raw.decode())
    except UnicodeDecodeError:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
        signature = "v1," + base64.b64encode(digest).decode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def _describe(method: str, action: str, raw: bytes, headers: dict[str, str], response) -> str:
    return (
        f"\n{method} /{action}\nrequest headers: {headers}\nrequest body: {raw!r}\n"
        f"-> HTTP {response.status_code} {response.headers}\n{response.content!r}"
    )


def _check_envelope(where: str, action: str, response) -> None:
    status = response.status_code
    assert status != 500, "internal error (a bug, never for bad input)" + where
    # The simulator is healthy here, so no answer may be a 5xx at all.
    assert status < 500, "a 5xx against a healthy panel" + where
    if status < 400:
        assert status in ((200, 201) if action == "create" else (200,)), where
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("status"), str), where
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError("the error body is not JSON" + where) from None
    assert isinstance(body, dict) and set(body) == {"error"}, "not the error envelope" + where
    error = body["error"]
    assert isinstance(error, dict), where
    assert isinstance(error.get("code"), str) and error["code"], where
    assert isinstance(error.get("message"), str) and error["message"], where
    assert isinstance(error.get("retryable"), bool), where
    assert error["retryable"] is (status >= 500), "retryable must be status >= 500" + where
    if status == 400:
        assert isinstance(error.get("fields"), dict) and error["fields"], (
            "a 400 must say which fields" + where
        )


@schema.parametrize()
def test_signed_requests_reach_the_actions_and_answer_by_the_contract(case, stack):
    action = case.path.strip("/")
    rng = _rng(action, case.body)
    body = _aim(action, case.body, rng)
    raw = _serialize(body, rng)
    headers = _sign(raw)
    stack.replant()
    stack.remember_sent(body)
    response = case.call(base_url=stack.served.url, headers=headers, data=raw, timeout=30)
    COUNTS[f"signed {action}"] += 1
    STATUSES["signed"][response.status_code] += 1
    _check_envelope(_describe(case.method, action, raw, headers, response), action, response)
    if response.status_code >= 400:
        ERROR_CODES[f"{response.status_code} {response.json()['error']['code']}"] += 1
    case.validate_response(response, checks=CHECKS)


def _bad_auth(raw: bytes, data: st.DataObject) -> dict[str, str]:
    """Headers that must not authenticate `raw`."""
    kind = data.draw(
        st.sampled_from(
            [
                "none",
                "garbage",
                "wrong-secret",
                "other-body",
                "stale",
                "future",
                "partial",
                "bearer",
            ]
        ),
        label="auth",
    )
    printable = st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80
    )
    base = {"Content-Type": "application/json"}
    if kind == "none":
        return base
    if kind == "garbage":
        return {
            **base,
            "webhook-id": data.draw(printable),
            "webhook-timestamp": data.draw(st.one_of(printable, st.integers(0, 2**40).map(str))),
            "webhook-signature": data.draw(
                st.one_of(
                    printable,
                    st.binary(min_size=32, max_size=32).map(
                        lambda b: "v1," + base64.b64encode(b).decode()
                    ),
                )
            ),
        }
    if kind == "wrong-secret":
        key = data.draw(st.binary(min_size=16, max_size=64), label="key")
        secret = "whsec_" + base64.b64encode(key).decode()
        assert secret not in (SECRET, OLD_SECRET)
        return _sign(raw, secret=secret)
    if kind == "other-body":
        return _sign(raw + b" ")
    if kind in ("stale", "future"):
        skew = data.draw(st.integers(301, 10**6), label="skew")
        when = datetime.fromtimestamp(time.time() + (skew if kind == "future" else -skew), UTC)
        return _sign(raw, when=when)
    if kind == "partial":
        headers = _sign(raw)
        drop = data.draw(
            st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]), label="drop"
        )
        headers.pop(drop)
        return headers
    return {**base, "Authorization": "Bearer " + data.draw(printable, label="token")}


@unsigned_schema.parametrize()
@unsigned_schema.given(data=st.data())
def test_unsigned_or_badly_signed_requests_are_401_and_reach_no_panel(case, data, stack):
    action = case.path.strip("/")
    rng = _rng(action, case.body)
    body = _aim(action, case.body, rng)
    raw = _serialize(body, rng)
    headers = _bad_auth(raw, data)
    stack.remember_sent(body)
    before = len(stack.sim.journal)
    response = case.call(base_url=stack.served.url, headers=headers, data=raw, timeout=30)
    COUNTS[f"unsigned {action}"] += 1
    STATUSES["unsigned"][response.status_code] += 1
    where = _describe(case.method, action, raw, headers, response)
    _check_envelope(where, action, response)
    assert response.status_code == 401, where
    assert response.json()["error"]["code"] == "unauthenticated", where
    assert len(stack.sim.journal) == before, "a panel was called without authentication" + where


ACTION_NAMES = sorted(path.strip("/") for path in document()["paths"])
_TRICKY = [
    b'{"service_id": "\\ud800"}',
    b'{"a": 1e400}',
    b'{"a": ' + b"9" * 5000 + b"}",
    b"NaN",
    b"-Infinity",
    b'{"a": NaN}',
    b"\xef\xbb\xbf{}",
    "{}".encode("utf-16"),
    b'{"a": 1, "a": 2}',
    b"{" * 3,
    b"\x00",
    b"null",
    b'"\\u0000"',
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
raw_bodies = st.one_of(
    st.binary(max_size=256),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(_TRICKY),
    st.integers(1, 400).map(lambda n: b'{"x": ' * n + b"1" + b"}" * n),
)


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(action=st.sampled_from(ACTION_NAMES), raw=raw_bodies)
def test_signed_raw_bodies_of_any_shape_never_crash(stack, action, raw):
    """What schemathesis does not send: non-JSON bytes, bare JSON values, odd numbers and
    encodings, duplicate keys, deep nesting."""
    headers = _sign(raw)
    response = requests.post(f"{stack.served.url}/{action}", data=raw, headers=headers, timeout=30)
    COUNTS[f"raw {action}"] += 1
    _check_envelope(_describe("POST", action, raw, headers, response), action, response)


@pytest.mark.parametrize(
    "raw",
    [b"[" * 5000 + b"]" * 5000, b'{"x":' * 2000 + b"1" + b"}" * 2000],
    ids=["array", "object"],
)
def test_deeply_nested_json_is_a_400_not_a_500(stack, raw):
    response = requests.post(
        f"{stack.served.url}/suspend", data=raw, headers=_sign(raw), timeout=30
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["fields"] == {"_body": ["not valid JSON"]}


@pytest.mark.parametrize("action", ["create", "upgrade"])
@pytest.mark.parametrize("template", ["u*", "{user}", "a b"])
def test_an_invalid_username_template_is_a_400_not_a_500(stack, action, template):
    body = {
        "service_id": "s1",
        "server": "isp1",
        "username": "alice",
        "plan": {"template": "basic", "username_template": template},
    }
    response = stack.served.post(action, body)
    assert response.status_code == 400, response.text
    assert "plan.username_template" in response.json()["error"]["fields"]


def test_zz_fuzzing_ran_and_reached_the_actions(stack):
    """Runs last in this module: report the number of cases, and make sure the signed
    fuzzing got past authentication into validation and the actions."""
    signed = sum(n for key, n in COUNTS.items() if key.startswith("signed "))
    unsigned = sum(n for key, n in COUNTS.items() if key.startswith("unsigned "))
    raw = sum(n for key, n in COUNTS.items() if key.startswith("raw "))
    print(
        f"\nfuzz cases: {signed} schemathesis signed + {unsigned} schemathesis unsigned/"
        f"bad-signature + {raw} hypothesis raw bodies = {signed + unsigned + raw} requests"
    )
    for key in sorted(COUNTS):
        print(f"  {key}: {COUNTS[key]}")
    for kind, statuses in STATUSES.items():
        print(f"  {kind} statuses: {dict(sorted(statuses.items()))}")
    print(f"  signed error codes: {dict(sorted(ERROR_CODES.items()))}")
    if not signed or not unsigned:
        pytest.skip("the fuzz tests did not run (deselected)")
    fuzzed = {key.split()[1] for key in COUNTS if key.startswith("signed ")}
    assert fuzzed == {path.strip("/") for path in document()["paths"]} - {"stripe"}
    statuses = STATUSES["signed"]
    assert statuses[400] > 0, "no case reached the schema validation"
    assert statuses[200] + statuses[201] > 0, "no case reached an action"
    assert statuses[401] == 0, "signed cases were refused: the signing is broken"
    assert set(STATUSES["unsigned"]) == {401}
