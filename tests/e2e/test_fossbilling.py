"""The FOSSBilling server manager end to end: php-cli runs Server_Manager_Isphooks with the
FOSSBilling stand-in (tests/fossbilling/run.php builds the Server_Account / Server_Client /
Server_Package objects FOSSBilling's hosting service would) against `isphooks serve` and the
simulator, whose state is checked after each step. The identity the manager derives
(service_id, generated usernames) is checked against tests/fossbilling/reference.py."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from shared.config import CACHE
from tests import hygiene
from tests.e2e.conftest import Served, free_port, serve_panels
from tests.fossbilling.reference import service_id, username
from tests.fossbilling.runner import call, requires_php, results, run
from tests.helpers import LIMITS, SECRET, start_sim

pytestmark = requires_php

EMAIL = "Owner@Example.com"
PLAN = {
    "name": "Basic Hosting",
    "quota": "3072",
    "bandwidth": "20480",
    "max_domains": "2",
    "max_subdomains": "10",
    "max_parked_domains": "5",
    "max_ftp": "4",
    "max_sql": "6",
    "max_pop": "30",
    "custom": {"template": "basic"},
}
RESELLER_LIMITS = {**LIMITS, "limit_users": "10", "limit_ipv4addrs": "2", "limit_ipv6addrs": "4"}
RETRY = "running this again is safe"


@pytest.fixture
def panels():
    """A business panel (resellers too), isp1 in the isphooks config."""
    business = start_sim(edition="business")
    business.add_preset("reseller-basic", RESELLER_LIMITS, level="24")
    yield {"isp1": business}
    business.stop()


@pytest.fixture
def stack(panels, tmp_path, monkeypatch):
    served = serve_panels(panels, tmp_path, monkeypatch)
    yield served
    served.stop()
    CACHE.clear()


def server(served: Served, secret: str = SECRET, name: str = "isp1", **extra) -> dict:
    """What FOSSBilling's Servicehosting\\Service::getServerManager passes: the server row,
    its config JSON as FOSSBilling's API writes it (userprefix, tls_verify)."""
    return {
        "ip": "203.0.113.10",
        "host": None,
        "port": None,
        "secure": True,
        "username": name,
        "password": secret,
        "accesshash": served.url + "/{action}",
        "config": {"userprefix": None, "tls_verify": True},
        "passwordLength": None,
        **extra,
    }


def account(
    domain: str,
    user: str | None = None,
    password: str | None = "********",
    email: str = EMAIL,
    reseller: bool = False,
    plan: dict | None = None,
    note: str | None = None,
) -> dict:
    """What FOSSBilling's _getAM passes (the service's password is a placeholder after
    activation); `user`/`password` None: not set yet, as before activation."""
    spec = {
        "domain": domain,
        "reseller": reseller,
        "ip": "203.0.113.10",
        "client": {"email": email, "first_name": "Ivan", "last_name": "Petrov"},
        "package": plan or PLAN,
        "ns1": "ns1.example.net",
        "ns2": "ns2.example.net",
    }
    if user is not None:
        spec["username"] = user
    if password is not None:
        spec["password"] = password
    if note is not None:
        spec["note"] = note
    return spec


def activate(served: Served, domain: str, **kwargs) -> dict:
    """FOSSBilling's action_activate: generateUsername(sld.tld), a new password, createAccount."""
    out = run(server(served), call("activate", account(domain, password=None, **kwargs)))
    [result] = out["results"]
    if "value" in result:
        hygiene.remember(result["value"]["password"])
    return out


def logs_in_once(url: str, sim, login: str, tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(sim.ca_pem)
    hygiene.remember(parse_qs(urlparse(url).query)["key"][0])
    assert f"logged in as {login}" in requests.get(url, verify=str(ca), timeout=10).text
    assert "logged in as" not in requests.get(url, verify=str(ca), timeout=10).text  # single use


def test_every_method_end_to_end(stack, panels, tmp_path):
    sim = panels["isp1"]
    domain = "shop.example.com"
    login, sid = username(domain), service_id(EMAIL, domain)

    assert results(run(server(stack), call("testConnection"))) == [True]

    out = activate(stack, domain)
    [created] = results(out)
    assert created["username"] == login == "shopexamplec9516"
    user = sim.user(login)
    assert user is not None and f"isphooks:service={sid}" in user["comment"].split("\n")
    assert user["password"] == created["password"] and user["preset"] == "basic"
    assert user["domains"] == [domain]
    limits = user["limits"]
    assert (
        limits["limit_quota"],
        limits["limit_traff"],
        limits["limit_ftp_users"],
        limits["limit_db"],
        limits["limit_emails"],
    ) == ("3072", "20480", "4", "6", "30")
    assert limits["limit_webdomains"] == limits["limit_emaildomains"] == "3"  # 2 addon + main
    assert limits["limit_db_users"] == LIMITS["limit_db_users"]  # not in the plan: the template's
    assert any(
        f"isphooks create {login} on isp1: HTTP 201 created" in r["message"] for r in out["log"]
    )

    acct = account(domain, login)
    new_password = "Changed-In-FB-7"
    hygiene.remember(new_password)
    pro = {**PLAN, "name": "Pro", "quota": "8192", "max_sql": "12", "custom": {"template": "pro"}}
    out = run(
        server(stack),
        call("synchronizeAccount", acct),
        call("suspendAccount", {**acct, "note": "Overdue invoice #12"}),
        call("synchronizeAccount", acct),
        call("unsuspendAccount", acct),
        call("changeAccountPackage", acct, package=pro),
        call("changeAccountPassword", acct, arg=new_password),
        call("getLoginUrl", acct),
        count_requests=True,
    )
    synced, suspended, synced_again, unsuspended, upgraded, changed, url = results(out)
    assert synced == {
        "username": login,
        "domain": domain,
        "ip": "203.0.113.10",
        "reseller": False,
        "suspended": False,
        "package": "basic",
        "password_set": True,
    }
    assert suspended is True and synced_again["suspended"] is True
    assert unsuspended is upgraded is changed is True
    assert [r["action"] for r in out["requests"]] == [
        "status",
        "suspend",
        "status",
        "unsuspend",
        "upgrade",
        "password",
        "sso",
    ]
    user = sim.user(login)
    assert user["active"] is True and user["preset"] == "pro"
    assert user["limits"]["limit_quota"] == "8192" and user["limits"]["limit_db"] == "12"
    assert user["password"] == new_password
    assert new_password not in str(out["log"])
    logs_in_once(url, sim, login, tmp_path)
    assert url not in str(out["log"])

    out = run(
        server(stack),
        call("changeAccountUsername", acct, arg="newname"),
        call("changeAccountDomain", acct, arg="new.example.com"),
        call("changeAccountIp", acct, arg="203.0.113.99"),
        call("cancelAccount", acct),
        call("cancelAccount", acct),
        count_requests=True,
    )
    *renames, cancelled, again = results(out)
    assert [r[0] for r in renames] == ["Server_Exception"] * 3
    assert all("Nothing was changed." in r[1] for r in renames)
    assert cancelled is True and again is True  # terminate, then `absent`
    assert [r["action"] for r in out["requests"]] == ["terminate", "terminate"]  # no rename sent
    assert sim.user(login) is None and sim.users == {}


def test_a_create_retried_after_a_lost_answer_makes_one_account(stack, panels):
    """The panel made the account, isphooks' answer was lost (a 5xx): FOSSBilling's retry
    generates the same username and a new password, and isphooks converges on the account."""
    sim = panels["isp1"]
    domain = "retry-shop.example.org"
    sim.inject("http500", when="applied")
    first = activate(stack, domain)
    sim.clear_faults()
    [(kind, message, code)] = results(first)
    assert kind == "Server_Exception" and code == 503
    assert message.startswith("isphooks panel_unavailable:") and RETRY in message
    assert "press Sync on the service first" in message and service_id(EMAIL, domain) in message
    assert list(sim.users) == [username(domain)]  # the panel made it: only the answer was lost

    second = activate(stack, domain)
    [done] = results(second)
    assert done["username"] == username(domain)
    assert list(sim.users) == [username(domain)]  # one account
    user = sim.user(username(domain))
    assert user["password"] == done["password"]  # the retry's password stands
    assert f"isphooks:service={service_id(EMAIL, domain)}" in user["comment"].split("\n")


def test_suspend_with_a_cyrillic_note_on_an_idn_domain(stack, panels):
    sim = panels["isp1"]
    domain = "Сайт.рф"
    [created] = results(activate(stack, domain))
    login = created["username"]
    assert login == username(domain) and login.startswith("xn80aswgxnp1")
    user = sim.user(login)
    assert user["domains"] == ["xn--80aswg.xn--p1ai"]
    note = "Неоплата счёта\u202e №42\nпо договору"  # FOSSBilling passes the admin's reason as is
    out = run(server(stack), call("suspendAccount", account(domain, login, note=note)))
    assert results(out) == [True]
    user = sim.user(login)
    assert user["active"] is False
    assert "isphooks:suspended=Неоплата счёта №42 по договору" in user["comment"].split("\n")


def test_an_upgrade_changes_the_limits(stack, panels):
    sim = panels["isp1"]
    domain = "grow.example.net"
    [created] = results(activate(stack, domain))
    login = created["username"]
    assert sim.user(login)["limits"]["limit_quota"] == "3072"
    bigger = {**PLAN, "quota": "10G", "max_domains": "9", "max_pop": "unlimited", "max_ftp": ""}
    out = run(server(stack), call("changeAccountPackage", account(domain, login), package=bigger))
    assert results(out) == [True]
    limits = sim.user(login)["limits"]
    assert limits["limit_quota"] == "10240"
    assert limits["limit_webdomains"] == limits["limit_emaildomains"] == "10"
    # unlimited and empty: the template's values
    assert limits["limit_emails"] == LIMITS["limit_emails"]
    assert limits["limit_ftp_users"] == LIMITS["limit_ftp_users"]
    assert sim.user(login)["preset"] == "basic"


def test_login_urls_work_on_the_panel_for_a_user_and_a_reseller(stack, panels, tmp_path):
    sim = panels["isp1"]
    [user] = results(activate(stack, "login.example.com"))
    out = run(server(stack), call("getLoginUrl", account("login.example.com", user["username"])))
    [url] = results(out)
    logs_in_once(url, sim, user["username"], tmp_path)

    reseller_plan = {"name": "Reseller", "custom": {"template": "reseller-basic"}}
    [res] = results(activate(stack, "reseller.example.com", reseller=True, plan=reseller_plan))
    assert sim.reseller(res["username"]) is not None and sim.user(res["username"]) is None
    out = run(
        server(stack),
        call(
            "getResellerLoginUrl", account("reseller.example.com", res["username"], reseller=True)
        ),
    )
    [url] = results(out)
    logs_in_once(url, sim, res["username"], tmp_path)


def test_a_suspended_account_gets_no_login_url(stack, panels):
    [user] = results(activate(stack, "closed.example.com"))
    acct = account("closed.example.com", user["username"])
    out = run(server(stack), call("suspendAccount", acct), call("getLoginUrl", acct))
    suspended, (kind, message, code) = results(out)
    assert suspended is True and kind == "Server_Exception" and code == 409
    assert message.startswith("isphooks conflict:") and RETRY not in message


def test_test_connection_fails_clearly_on_a_wrong_secret(stack, panels):
    wrong = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    hygiene.remember(wrong, wrong[6:])
    out = run(server(stack, secret=wrong), call("testConnection"))
    [(kind, message, code)] = results(out)
    assert kind == "Server_Exception" and code == 401
    assert message.startswith("isphooks unauthenticated:") and RETRY not in message
    assert wrong[6:] not in str(out) and wrong[6:] not in stack.output()

    [(_, message, code)] = results(run(server(stack, name="nope"), call("testConnection")))
    assert code == 404 and message.startswith("isphooks unknown_server:")

    # without an Access Hash: http://127.0.0.1:<port>/check, since Secure is off and the host loopback
    plain = server(stack, accesshash=None, host="127.0.0.1", port=stack.port, secure=False)
    assert results(run(plain, call("testConnection"))) == [True]

    # a malformed secret: FOSSBilling's server form gets the setting error when it saves
    out = run(server(stack, secret="not-a-secret"), call("testConnection"))
    assert out["constructed"] is False
    assert out["error"]["message"].startswith(
        "isphooks setting: the server Password must be the whsec_"
    )
    assert out["error"]["code"] == 2001


def test_login_url_of_no_account_is_the_panel_url_without_a_request(stack, panels):
    panel = "https://isp1.example.net:1500/"
    calls = (call("getLoginUrl", None), call("getResellerLoginUrl", None))
    before = stack.output()
    out = run(
        server(stack, config={"userprefix": None, "tls_verify": True, "panel_url": panel}),
        *calls,
        count_requests=True,
    )
    assert results(out) == [panel, panel] and out["requests"] == []
    # FOSSBilling's own config JSON has no panel_url: nothing to offer, still no request
    out = run(server(stack), *calls, count_requests=True)
    assert results(out) == ["", ""] and out["requests"] == []
    # isphooks unreachable: the same answer, at once
    closed = f"http://127.0.0.1:{free_port()}/{{action}}"
    started = time.monotonic()
    out = run(server(stack, accesshash=closed, config={"panel_url": panel}), *calls)
    assert results(out) == [panel, panel] and time.monotonic() - started < 10
    assert stack.output() == before  # isphooks saw nothing


def test_a_newer_decision_supersedes_a_call_and_fossbilling_is_told(stack, panels):
    sim = panels["isp1"]
    domain = "newer.example.com"
    [created] = results(activate(stack, domain))
    login = created["username"]
    # an operator's unsuspend decided a little later than this call (isphooks send …)
    ahead = int(time.time() * 1000) + 120_000
    answer = stack.post(
        "unsuspend",
        {
            "service_id": service_id(EMAIL, domain),
            "server": "isp1",
            "username": login,
            "event_time": ahead,
        },
    )
    assert answer.status_code == 200, answer.text
    out = run(server(stack), call("suspendAccount", account(domain, login, note="late")))
    [(kind, message, code)] = results(out)
    assert kind == "Server_Exception" and code == 409
    assert message.startswith(
        f"isphooks superseded: a newer decision about account {login} on isp1"
    )
    assert sim.user(login)["active"] is True


def test_a_changed_client_email_is_a_conflict_that_names_both_services(stack, panels):
    sim = panels["isp1"]
    domain = "moved.example.com"
    [created] = results(activate(stack, domain))
    login = created["username"]
    changed = account(domain, login, email="new-address@example.com")
    out = run(server(stack), call("suspendAccount", changed), call("synchronizeAccount", changed))
    (_, suspend, code), (_, sync, _) = results(out)
    assert code == 409 and suspend.startswith("isphooks conflict:")
    assert (
        f"isphooks knows this service as {service_id('new-address@example.com', domain)}" in suspend
    )
    assert f"the marker of service {service_id(EMAIL, domain)}" in sync
    assert sim.user(login)["active"] is True
