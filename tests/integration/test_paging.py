"""Lists as long as real servers hold (docs/interface.md §9, Lists): a panel that answers
every list one page of 100 rows at a time, holding 260 accounts, each with a web domain
(IDN ones among them) and a comment with the operator's Cyrillic text. `usage`, its
counts, `reconcile`, `check`, placement and `status` see every account; a list that
cannot be read to its end is a 5xx, never a short list."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE
from tests.helpers import SECRET, create_body, list_reads, server_entry, start_sim, without_record
from tests.ispsim import Dialect

PAGE = 100
ACCOUNTS = 260
PAGED = Dialect("paged100", page_size=PAGE)
# the state and owner only in the list (where production billing code reads them)
PAGED_LIST_ONLY = Dialect("paged100_list_only", page_size=PAGE, form_active=False, form_owner=False)


def _populate(sim, count=ACCOUNTS, prefix="u"):
    for i in range(count):
        name = f"{prefix}{i:03d}"
        sim.add_user(
            name,
            "Seeded-Pass-1",
            preset="basic",
            active=i % 7 != 0,
            comment=f"isphooks:service=s{prefix}{i}\nКлиент с {2020 + i % 5} года",
        )
        # IDN domains in both forms the panel might keep (which one is unverified)
        domain = f"сайт{i}.рф" if i % 2 else f"xn--{i}-7sb.xn--p1ai"
        sim.add_object("webdomain", domain, name)


@pytest.fixture
def fleet(config_path):
    sims = []

    def start(dialect=PAGED, edition="business", **servers):
        sim = start_sim(edition=edition, dialect=dialect)
        sims.append(sim)
        return sim

    def use(**entries):
        config_path.write_text(
            json.dumps(
                {
                    "webhook_secrets": [SECRET],
                    "servers": {
                        name: server_entry(sim, **extra) for name, (sim, extra) in entries.items()
                    },
                }
            )
        )
        CACHE.clear()

    start.use = use
    yield start
    for sim in sims:
        sim.stop()


def test_usage_and_its_counts_see_every_account_on_every_page(call, fleet):
    sim = fleet()
    _populate(sim)
    fleet.use(isp1=(sim, {}))
    sim.clear_journal()
    resp = call("usage", {"server": "isp1", "counts": True})
    assert resp.status_code == 200, resp.json
    [server] = resp.json["servers"]
    assert server["error"] is None
    accounts = server["accounts"]
    assert len(accounts) == ACCOUNTS
    assert {a["username"] for a in accounts} == {f"u{i:03d}" for i in range(ACCOUNTS)}
    assert all(a["service_id"] == f"su{int(a['username'][1:])}" for a in accounts)
    assert all(a["web_domains"] == 1 for a in accounts)  # none null past the first page
    assert sum(a["suspended"] for a in accounts) == len(range(0, ACCOUNTS, 7))
    funcs = [e["func"] for e in sim.journal]
    # one read per page: 3 pages of users and of web domains, 1 of the rest
    assert funcs.count("user") == list_reads(ACCOUNTS, PAGED) == 3
    assert funcs.count("webdomain") == 3 and funcs.count("reseller") == 1


def test_reconcile_reports_no_account_missing(call, fleet):
    sim = fleet()
    _populate(sim)
    fleet.use(isp1=(sim, {}))
    services = [
        {
            "service_id": f"su{i}",
            "username": f"u{i:03d}",
            "state": "suspended" if i % 7 == 0 else "active",
        }
        for i in range(ACCOUNTS)
    ]
    resp = call("reconcile", {"server": "isp1", "services": services})
    assert resp.status_code == 200, resp.json
    assert resp.json["summary"] == {
        "in_sync": ACCOUNTS,
        "missing": 0,
        "orphaned": 0,
        "state": 0,
        "template": 0,
        "foreign": 0,
        "unmarked": 0,
    }


def test_check_counts_every_account(call, fleet):
    sim = fleet()
    _populate(sim)
    fleet.use(isp1=(sim, {}))
    [entry] = call("check", {"server": "isp1"}).json["servers"]
    assert entry["ok"] is True, entry
    assert entry["accounts"] == {"user": ACCOUNTS, "reseller": 0}


def test_placement_counts_every_account_of_every_server(call, fleet):
    big, small = fleet(), fleet()
    _populate(big)  # 260 of 300: room for 40
    _populate(small, count=50, prefix="v")  # 50 of 100: room for 50
    fleet.use(
        big=(big, {"group": "eu", "max_accounts": 300}),
        small=(small, {"group": "eu", "max_accounts": 100}),
    )
    body = create_body(service_id="new1", username="new1")
    del body["server"]
    resp = call("create", {**body, "server_group": "eu"})
    assert resp.status_code == 201, resp.json
    assert resp.json["server"] == "small"
    # and a service whose account sits on the third page of `big` converges there
    body = create_body(service_id="su250", username="u250")
    del body["server"]
    resp = call("create", {**body, "server_group": "eu"})
    assert resp.status_code == 200 and resp.json["server"] == "big", resp.json


def test_status_reads_the_state_from_the_row_on_a_later_page(call, fleet):
    sim = fleet(dialect=PAGED_LIST_ONLY)
    _populate(sim)
    fleet.use(isp1=(sim, {}))
    for i in (252, 259):  # page 3; 252 = 36 x 7 is suspended
        resp = call("status", {"service_id": f"su{i}", "server": "isp1", "username": f"u{i:03d}"})
        assert resp.status_code == 200, resp.json
        assert resp.json["ours"] is True and resp.json["owner"] == "root"
        assert resp.json["active"] is (i % 7 != 0)


@pytest.mark.parametrize("func", ["user", "webdomain"])
def test_a_list_that_fails_on_a_later_page_is_a_5xx_never_a_short_list(call, fleet, func):
    sim = fleet()
    _populate(sim)
    fleet.use(isp1=(sim, {}))
    sim.inject("http500", func=func, skip=1)  # page 2 fails
    resp = call("usage", {"server": "isp1", "counts": True})
    assert resp.status_code == 200
    [server] = resp.json["servers"]
    assert server["accounts"] == [] and "HTTP 500" in server["error"]
    if func == "user":
        sim.inject("http500", func=func, skip=1)
        services = [{"service_id": "su1", "username": "u001", "state": "active"}]
        resp = call("reconcile", {"server": "isp1", "services": services})
        assert resp.status_code == 503 and resp.json["error"]["retryable"] is True
        sim.inject("http500", func=func, skip=1)
        [entry] = call("check", {"server": "isp1"}).json["servers"]
        assert entry["ok"] is False


def test_cyrillic_operator_text_in_comments_is_kept_by_every_write(call, fleet):
    sim = fleet()
    _populate(sim, count=3)
    fleet.use(isp1=(sim, {}))
    account = {"service_id": "su1", "server": "isp1", "username": "u001"}
    assert call("suspend", {**account, "reason": "Неоплата счёта"}).status_code == 200
    assert call("unsuspend", account).status_code == 200
    assert without_record(sim.user("u001")["comment"]).split("\n") == [
        "isphooks:service=su1",
        "Клиент с 2021 года",
    ]
