"""`isphooks probe --lifecycle`: one throw-away account through every write isphooks makes
(docs/interface.md §11). CLI-only.

The account is `isphooksprobe<n>`, the first n from 1 whose name neither account list
shows; an account of that name that this run did not make (one the lists hide, or one made
meanwhile) stops the run before any write (a `UsageError`, exit 2). Every write names that
account and nothing else, and is made by the panel client's own operations
(`create_account`, `suspend`, `resume`, `edit_account`, `set_password`, `new_login_key`,
`delete`), each followed by a read of the account; the deletion is tried whatever failed
before it, and an account it could not delete is said so.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from shared.commands import UsageError
from shared.config import Server
from shared.errors import IsphooksError, PanelAuthRefused, PanelExists
from shared.panel import LIMIT_FIELDS, Account, transport
from shared.probe.capture import RecordingPanel
from shared.probe.raw import Fact

PREFIX = "isphooksprobe"
MAX_NAMES = 1000
COMMENT = (
    "made by isphooks probe to try the panel's writes; the probe deletes it at once "
    "(delete it by hand if it was left)"
)
START_PAGE = "webdomain"
REDIRECTS = 5
PAGE_BYTES = 64 * 1024
CHANGED_LIMIT = "limit_quota"
_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_TAGS = re.compile(r"(?s)<[^>]*>")


class Step(NamedTuple):
    step: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return self._asdict()


def prepare(panel: RecordingPanel, taken: set[str], template: str, templates: list[str]) -> str:
    """The throw-away account's name, once it is known to be nobody's; else a UsageError,
    before any write."""
    if template not in templates:
        listed = ", ".join(templates[:10]) or "none"
        raise UsageError(
            f"--template {template}: the panel has no such template (it lists: {listed})"
        )
    name = next(
        (f"{PREFIX}{n}" for n in range(1, MAX_NAMES + 1) if f"{PREFIX}{n}" not in taken), None
    )
    if name is None:
        raise UsageError(
            f"{PREFIX}1 to {PREFIX}{MAX_NAMES} are all taken: delete the "
            "accounts earlier probes left"
        )
    kinds = ("user", "reseller") if panel.server.has_resellers else ("user",)
    try:
        if any(panel.get_account(name, kind) is not None for kind in kinds):
            raise _not_ours(name)
    except IsphooksError as exc:
        raise UsageError(
            f"cannot tell whether {name} is free, so the lifecycle does not start: {exc.message}"
        ) from None
    return name


def _not_ours(name: str) -> UsageError:
    return UsageError(
        f"an account {name} exists that this run did not make (the account lists "
        "do not show it): the probe touches no account of another; delete it or "
        "find out whose it is"
    )


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(24))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def _state(account: Account | None) -> str:
    if account is None:
        return "gone"
    return {True: "active", False: "suspended", None: "state not shown"}[account.active]


def run(panel: RecordingPanel, name: str, template: str) -> tuple[list[Step], Fact]:
    """Create, suspend, resume, change the plan, change the password, log in once with a
    key, delete: the steps as answered, and where the key login landed."""
    steps: list[Step] = []
    landing = Fact(None, False, "no login key was minted (an earlier step failed)")

    def attempt(
        step: str, write: Callable[[], None], check: Callable[[Account | None], tuple[bool, str]]
    ) -> bool:
        try:
            write()
        except IsphooksError as exc:
            steps.append(Step(step, False, f"the panel answered: {exc.message}"))
            return False
        try:
            ok, seen = check(panel.get_account(name))
        except IsphooksError as exc:
            ok, seen = False, f"reading it back failed: {exc.message}"
        steps.append(Step(step, ok, f"the panel answered ok; read back: {seen}"))
        return ok

    try:
        limits = panel.template_limits(template)
    except IsphooksError as exc:
        steps.append(Step("create", False, f"the template cannot be read: {exc.message}"))
        return steps, landing
    plan = {"preset": template, **{p: limits.get(p, "") for p in LIMIT_FIELDS.values()}}
    password = _password()
    params = {
        "name": name,
        "passwd": password,
        "confirm": password,
        "comment": COMMENT,
        "webdomain": "off",
        "emaildomain": "off",
        **plan,
    }

    def create() -> None:
        try:
            panel.create_account(params)
        except PanelExists:  # made meanwhile by someone else: not ours to touch
            raise _not_ours(name) from None

    made = attempt(
        "create",
        create,
        lambda a: (
            a is not None and a.active is not False and a.preset in ("", template),
            f"{_state(a)}, template {a.preset or 'not shown'}" if a else "no such account",
        ),
    )
    if not made:
        try:
            if panel.get_account(name) is None:
                return steps, landing  # nothing made, nothing to delete
        except IsphooksError:
            pass  # it may exist: the deletion below is tried
    try:
        attempt(
            "suspend",
            lambda: panel.suspend(name),
            lambda a: (a is not None and a.active is not True, _state(a)),
        )
        attempt(
            "resume",
            lambda: panel.resume(name),
            lambda a: (a is not None and a.active is not False, _state(a)),
        )
        current = plan[CHANGED_LIMIT]
        changed = {**plan, CHANGED_LIMIT: str(int(current) + 1) if current.isdigit() else "1000"}
        attempt(
            "change_plan",
            lambda: panel.edit_account(name, changed),
            lambda a: (
                a is not None
                and a.limits.get(CHANGED_LIMIT, changed[CHANGED_LIMIT]) == changed[CHANGED_LIMIT],
                f"{CHANGED_LIMIT} {a.limits.get(CHANGED_LIMIT, 'not shown')}" if a else "gone",
            ),
        )
        steps.append(_new_password(panel, name))
        landing = _key_login(panel, name, steps)
    finally:
        attempt(
            "delete",
            lambda: panel.delete(name),
            lambda a: (
                a is None,
                "gone" if a is None else f"{name} is still there: delete it by hand",
            ),
        )
    return steps, landing


def _new_password(panel: RecordingPanel, name: str) -> Step:
    """Set a new password, then log in with it once (`whoami` as the account)."""
    password = _password()
    try:
        panel.set_password(name, password)
    except IsphooksError as exc:
        return Step("change_password", False, f"the panel answered: {exc.message}")
    panel.recorder.masker.secret(password)
    as_account = RecordingPanel(
        panel.server._replace(username=name, password=password), panel.recorder
    )
    try:
        me = as_account.whoami()
    except PanelAuthRefused:
        return Step(
            "change_password", False, "the panel answered ok, but the new password does not log in"
        )
    except IsphooksError as exc:
        return Step(
            "change_password",
            True,
            f"the panel answered ok; logging in with the new "
            f"password could not be tried: {exc.message}",
        )
    return Step(
        "change_password",
        True,
        f"the panel answered ok; the new password logs in (whoami: level {me.level})",
    )


def _key_login(panel: RecordingPanel, name: str, steps: list[Step]) -> Fact:
    """Mint one key with `startpage`, follow the login URL as a browser would (on the
    panel's own origin only, TLS as configured) and say where it lands."""
    try:
        key = panel.new_login_key(name)
    except IsphooksError as exc:
        steps.append(Step("login_key", False, f"the panel answered: {exc.message}"))
        return Fact(None, False, f"no login key: {exc.message}")
    query = urlencode(
        {"func": "auth", "username": name, "key": key, "checkcookie": "no", "startpage": START_PAGE}
    )
    url, origin = f"{panel.server.url}?{query}", urlsplit(panel.server.url)[:2]
    session, verify = _browser(panel.server)
    hops: list[str] = []
    try:
        for _ in range(REDIRECTS + 1):
            with session.get(
                url,
                verify=verify,
                stream=True,
                allow_redirects=False,
                timeout=(10, panel.server.timeout_s),
            ) as resp:
                body = resp.raw.read(PAGE_BYTES, decode_content=True) or b""
                status, location = resp.status_code, resp.headers.get("Location")
            given = dict(parse_qsl(urlsplit(url).query))
            given.pop("func", None)
            panel.recorder.add(
                "auth",
                given,
                False,
                body,
                http="GET",
                status=status,
                **({"location": location} if location else {}),
            )
            if not (location and 300 <= status < 400):
                break
            url = urljoin(url, location)
            hops.append(_path(url))
            if urlsplit(url)[:2] != origin:
                break  # not followed off the panel
    except requests.RequestException as exc:
        steps.append(
            Step("login_key", False, f"the login URL could not be followed ({type(exc).__name__})")
        )
        return Fact(None, False, f"the login URL could not be followed ({type(exc).__name__})")
    finally:
        session.close()
    page = body.decode("utf-8", errors="replace")
    found = _TITLE.search(page)
    title = " ".join((found.group(1) if found else _TAGS.sub(" ", page)).split())[:100]
    refused = '"error"' in page[:2000] or 'type="password"' in page
    seen = START_PAGE in page or any(START_PAGE in hop for hop in hops)
    landed = hops[-1] if hops else _path(panel.server.url)
    value = {
        "http_status": status,
        "landed": landed,
        "redirects": hops,
        "title": title,
        "startpage_seen": seen,
    }
    ok = status == 200 and not refused
    via = f" after {' → '.join(hops)}" if hops else ""
    detail = (
        f"the key login answered HTTP {status} at {landed}{via}: {title!r}; startpage="
        f"{START_PAGE} {'seen' if seen else 'not seen'} where it landed"
        + ("; the panel refused the key" if refused else "")
    )
    steps.append(Step("login_key", ok, detail))
    return Fact(value, ok, detail)


def _browser(server: Server) -> tuple[requests.Session, str | bool]:
    """A session of its own (the cookies the key login sets are not the client's), with
    the panel's TLS as configured: the pin holds for every URL of the panel's origin, so a
    redirect within it is pinned too."""
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment must not see the key
    verify: str | bool = server.tls.verify
    if server.tls.pin_sha256:
        parts = urlsplit(server.url)
        session.mount(
            f"{parts.scheme}://{parts.netloc}/", transport._PinnedAdapter(server.tls.pin_sha256)
        )
        verify = False  # the pin is the identity; urllib3 still checks it
    elif server.tls.ca_pem:
        verify = transport._ca_file(server.tls.ca_pem)
    return session, verify


def _path(url: str) -> str:
    """Where a URL points on the panel: its path and query, never its host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
