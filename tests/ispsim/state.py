"""In-memory model of an ISPmanager 6 panel and the API functions the project uses."""

from __future__ import annotations

import copy
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from . import persist
from .accounts import (
    ADMIN_LEVEL,
    RESELLER_LEVEL,
    SUPER_LEVEL,
    USER_LEVEL,
    base_limits,
    check_name,
    edit_form,
    list_row,
    new_password,
    parse_limits,
)
from .accounts import LIMITS as LIMITS  # re-exported: the package API predates accounts.py
from .ips import FAMILIES, IpPool, canonical
from .objects import OBJECT_LISTS, Objects
from .replay import Replay
from .wire import (
    HTML_TYPE,
    ApiError,
    Caller,
    Dialect,
    Doc,
    Params,
    Reply,
    dialect_of,
    elid_names,
    error_reply,
    form,
    json_reply,
    ok,
    page_of,
    paged,
    rows,
    sjson_extras,
    text,
)

RESELLER_EDITIONS = frozenset({"host", "business"})
IP_EDITIONS = frozenset({"business"})  # also the only edition whose lists show traffic
PRESET_LEVELS = frozenset({str(USER_LEVEL), str(RESELLER_LEVEL)})
SECRET_PARAMS = frozenset({"passwd", "confirm", "password", "key", "authinfo"})
# Functions a user or reseller may call (ipaddr then lists only their own addresses);
# everything else is admin-only.
USER_FUNCS = frozenset({"whoami", "usrparam", "ipaddr"})
ALWAYS_WRITE = frozenset(
    {f"{kind}.{op}" for kind in ("user", "reseller") for op in ("suspend", "resume", "delete")}
    | {"session.newkey", "ipaddr.delete"}
)
WRITE_WITH_SOK = frozenset(
    {"user.edit", "user.add.finish", "preset.edit", "usrparam", "reseller.edit", "ipaddr.edit"}
)


def is_write(func: str, params: Params) -> bool:
    """True for calls that change panel state (the journal's `write` flag)."""
    return func in ALWAYS_WRITE or (func in WRITE_WITH_SOK and bool(params.get("sok")))


def mask_params(params: Params) -> Params:
    """Params as journaled: without func/out and with secrets hidden."""
    return {
        k: ("***" if k in SECRET_PARAMS else v)
        for k, v in params.items()
        if k not in ("func", "out")
    }


def _ip_family(params: Params) -> str:
    family = params.get("iptype", "")
    if family not in FAMILIES:
        raise ApiError("value", "iptype", "iptype must be ipv4 or ipv6")
    return family


def _secret_eq(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Panel:
    """Panel state plus API dispatch; every call runs under `lock`."""

    def __init__(
        self,
        admin_login: str,
        admin_password: str,
        edition: str = "lite",
        dialect: str | Dialect = "coremanager",
        admin_level: int = SUPER_LEVEL,
        replay: Replay | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self.replay = replay  # reads answered from a capture file (tests/ispsim/replay.py)
        self.admin_login = admin_login
        self.admin_password = admin_password
        self.admin_level = admin_level  # root is the server administrator (30); 29 also admin
        self.edition = edition
        self.dialect = dialect_of(dialect)
        self.users: dict[str, dict[str, Any]] = {}
        self.resellers: dict[str, dict[str, Any]] = {}
        self.presets: dict[str, dict[str, Any]] = {}
        self.ips = IpPool()
        self.objects = Objects()  # web and mail domains, mailboxes, databases, FTP users
        # The real panel leaves a deleted account's addresses assigned; the integration
        # must release them. True models a panel that cleans up by itself.
        self.release_ips_on_delete = False
        self.sso_keys: dict[str, str] = {}  # key -> username
        self.sessions: dict[str, str] = {}  # session id -> login
        self.logins: list[str] = []
        self.landings: list[tuple[str, str]] = []  # (login, startpage) of each key login
        self.state_file: str | None = None  # where the state is saved after every write
        self._funcs: dict[str, Callable[[Caller, Params], Doc]] = {
            "user.add.finish": self._user_add,
            "preset": self._preset_list,
            "preset.edit": self._preset_edit,
            "ipaddr": self._ipaddr_list,
            "ipaddr.edit": self._ipaddr_edit,
            "ipaddr.delete": self._ipaddr_delete,
            "usrparam": self._usrparam,
            "session.newkey": self._session_newkey,
            "whoami": self._whoami,
        }
        for func in OBJECT_LISTS:  # admin-wide lists of what accounts own
            self._funcs[func] = partial(self._object_list, func)
        # Resellers answer exactly as users do, on their own records.
        for kind, level in (("user", USER_LEVEL), ("reseller", RESELLER_LEVEL)):
            self._funcs[kind] = partial(self._account_list, level)
            self._funcs[f"{kind}.edit"] = partial(self._account_edit, level)
            self._funcs[f"{kind}.suspend"] = partial(self._account_set_active, level, False)
            self._funcs[f"{kind}.resume"] = partial(self._account_set_active, level, True)
            self._funcs[f"{kind}.delete"] = partial(self._account_delete, level)

    # -- kept state ------------------------------------------------------------------

    def keep_state_in(self, path: str) -> None:
        """Load what `path` holds, if it exists, and save there after every write from
        now on. Saved at once too: a path that cannot be written fails here, at start,
        not in the middle of a request."""
        with self.lock:
            if os.path.exists(path):
                persist.load(self, path)
            self.state_file = path
            self._saved()

    def _saved(self) -> None:
        """After a write, under `lock`: the state file, where one is kept, follows."""
        if self.state_file is not None:
            persist.write_private_json(self.state_file, persist.dump(self))

    # -- direct (in-process) helpers -------------------------------------------------

    def add_preset(
        self, name: str, limits: dict[str, str] | None = None, level: str = "16"
    ) -> None:
        params = {"name": name, **(limits or {}), "level": level}
        with self.lock:
            self._call_direct(self._save_preset, params)
            self._saved()

    def add_account(
        self,
        level: int,
        name: str,
        password: str,
        preset: str = "",
        comment: str = "",
        active: bool = True,
        limits: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        """Create a user (level 16) or reseller (level 24) as if through the API."""
        params = {"name": name, "passwd": password, "preset": preset, "comment": comment}
        params.update(fields)
        params.update(limits or {})
        with self.lock:
            if level == RESELLER_LEVEL and self.edition not in RESELLER_EDITIONS:
                raise ValueError(f"ISPmanager {self.edition} has no resellers")
            self._call_direct(partial(self._create_account, level), params)
            self._records(level)[name]["active"] = active
            self._saved()

    def set_usage(self, name: str, disk_mib: int | None, traffic_mib: int | None) -> None:
        with self.lock:
            account = self._account(name)
            if account is None:
                raise ValueError(f"no user or reseller {name!r}")
            if disk_mib is not None:
                account["quota_used"] = disk_mib
            if traffic_mib is not None:
                account["traffic_used"] = traffic_mib
            self._saved()

    def add_object(self, func: str, name: str, owner: str, **columns: Any) -> None:
        """A web domain, mail domain, mailbox, database or FTP user owned by `owner`."""
        with self.lock:
            if self._account(owner) is None:
                raise ValueError(f"no user or reseller {owner!r}")
            self.objects.add(func, name, owner, **columns)
            self._saved()

    def set_missing_lists(self, funcs: set[str]) -> None:
        """Object lists this panel does not have (an edition or build without them)."""
        unknown = set(funcs) - set(OBJECT_LISTS)
        if unknown:
            raise ValueError(f"unknown object lists {sorted(unknown)}")
        with self.lock:
            self.objects.missing = set(funcs)

    def snapshot_objects(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return self.objects.snapshot()

    def set_ip_pool(self, ipv4: list[str] | None, ipv6: list[str] | None) -> None:
        with self.lock:
            for family, addresses in (("ipv4", ipv4), ("ipv6", ipv6)):
                if addresses is not None:
                    self.ips.set_free(family, addresses)
            self._saved()

    def snapshot_users(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.users)

    def snapshot_resellers(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.resellers)

    def snapshot_presets(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.presets)

    def snapshot_ips(self) -> dict[str, dict[str, str]]:
        with self.lock:
            return self.ips.snapshot()

    def _call_direct(self, fn: Callable[[Params], object], params: Params) -> None:
        # Python-side setup errors should be loud, not wire-format documents.
        try:
            fn(params)
        except ApiError as exc:
            raise ValueError(f"{exc.type}/{exc.obj}: {exc.msg}") from exc

    # -- dispatch --------------------------------------------------------------------

    def dispatch(self, params: Params) -> Reply:  # noqa: C901 (one panel function per branch)
        func = params.get("func", "")
        with self.lock:
            # The browser SSO link is a plain GET without out=json.
            if func == "auth" and "key" in params:
                return self._key_login(params)
            dialect = self.dialect
            if params.get("out") != "json":
                return error_reply(
                    ApiError("value", "out", "Only out=json is supported"), dialect=dialect
                )
            try:
                if func == "auth":
                    return self._session_login(params)
                caller = self._authenticate(params)
            except ApiError as exc:
                return error_reply(exc, dialect=dialect)
            if self.replay is not None:
                if is_write(func, params):
                    self.replay.wrote()  # from now on the simulator's own state answers
                else:
                    served = self.replay.answer(params, caller.login)
                    if served is not None:
                        return served
            try:
                effective = self._apply_su(caller, params)
                handler = self._funcs.get(func) if self._in_edition(func) else None
                if handler is None:
                    raise ApiError("missed", "func", f"Unknown function '{func}'")
                if effective.level < ADMIN_LEVEL and func not in USER_FUNCS:
                    raise ApiError("access", func, "Access denied")
                doc = handler(effective, params)
                if is_write(func, params):
                    self._saved()  # a refused one raised ApiError, having changed nothing
                if dialect.page_size and isinstance(doc.get("elem"), list) and "p_cnt" not in doc:
                    doc = paged(doc, params, dialect)
                if dialect.sjson:
                    doc = sjson_extras(doc, params)
                return json_reply({"doc": doc}, login=caller.login, dialect=dialect)
            except ApiError as exc:
                return error_reply(exc, login=caller.login, dialect=dialect)

    def _in_edition(self, func: str) -> bool:
        """Lite and pro have no resellers; only business manages IP addresses."""
        family = func.partition(".")[0]
        if family == "reseller":
            return self.edition in RESELLER_EDITIONS
        if family == "ipaddr":
            return self.edition in IP_EDITIONS
        return True

    # -- authentication ----------------------------------------------------------------

    def _account(self, login: str) -> dict[str, Any] | None:
        """The user or reseller with this login (logins are unique across both)."""
        return self.users.get(login) or self.resellers.get(login)

    def _can_log_in(self, login: str) -> bool:
        account = self._account(login)
        return login == self.admin_login or (account is not None and account["active"])

    def _check_password(self, login: str, password: str) -> Caller:
        if login == self.admin_login and _secret_eq(password, self.admin_password):
            return Caller(login, self.admin_level)
        account = self._account(login)
        if account is not None and account["active"] and _secret_eq(password, account["password"]):
            return Caller(login, account["level"])
        raise ApiError("auth", "badpassword", "Invalid username or password")

    def _level(self, login: str) -> int:
        if login == self.admin_login:
            return self.admin_level
        return RESELLER_LEVEL if login in self.resellers else USER_LEVEL

    def _authenticate(self, params: Params) -> Caller:
        if "authinfo" in params:
            login, _, password = params["authinfo"].partition(":")
            return self._check_password(login, password)
        sid = params.get("auth", "")
        if sid:
            owner = self.sessions.get(sid)
            if owner is None or not self._can_log_in(owner):
                raise ApiError("auth", "session", "Session expired or invalid")
            return Caller(owner, self._level(owner))
        raise ApiError("auth", "badpassword", "Authentication required")

    def _session_login(self, params: Params) -> Reply:
        caller = self._check_password(params.get("username", ""), params.get("password", ""))
        sid = secrets.token_hex(16)
        self.sessions[sid] = caller.login
        auth = {"$id": sid, "$level": str(caller.level), "$": sid}
        return json_reply({"doc": {"auth": auth}}, login=caller.login, dialect=self.dialect)

    def _key_login(self, params: Params) -> Reply:
        username, key = params.get("username", ""), params.get("key", "")
        if self.sso_keys.get(key) != username or not self._can_log_in(username):
            return error_reply(
                ApiError("auth", "badkey", "Invalid or expired key"), dialect=self.dialect
            )
        del self.sso_keys[key]  # single use, like the real panel
        self.logins.append(username)
        start = params.get("startpage", "")  # the page to land on (third-party code's name)
        self.landings.append((username, start))
        where = f" on {start}" if start else ""
        page = f"<html><body>logged in as {username}{where}</body></html>".encode()
        return Reply(page, content_type=HTML_TYPE, login=username)

    def _apply_su(self, caller: Caller, params: Params) -> Caller:
        su = params.get("su", "")
        if not su:
            return caller
        if caller.level < ADMIN_LEVEL:
            raise ApiError("access", "su", "Only the administrator may use su")
        account = self._account(su)
        if account is None:
            raise ApiError("missed", "user", f"User '{su}' not found")
        return Caller(su, account["level"])

    # -- users and resellers ---------------------------------------------------------

    def _records(self, level: int) -> dict[str, dict[str, Any]]:
        return self.resellers if level == RESELLER_LEVEL else self.users

    def _get_account(self, level: int, name: str) -> dict[str, Any]:
        account = self._records(level).get(name)
        if account is None:
            raise ApiError("missed", "user", f"User '{name}' not found")
        return account

    def _get_preset(self, name: str, level: int | None = None) -> dict[str, Any]:
        """The preset; with `level`, only a template for accounts of that level."""
        preset = self.presets.get(name)
        if preset is None:
            raise ApiError("missed", "preset", f"Preset '{name}' not found")
        if level is not None and preset["level"] != str(level):
            raise ApiError("missed", "preset", f"Preset '{name}' is not for level {level}")
        return preset

    def _account_list(self, level: int, caller: Caller, params: Params) -> Doc:
        with_traffic = self.edition in IP_EDITIONS
        records = list(self._records(level).values())
        if self.dialect.page_size:  # only the page's rows are built
            return page_of(
                records, lambda a: list_row(a, with_traffic, self.dialect), params, self.dialect
            )
        return {"elem": [list_row(a, with_traffic, self.dialect) for a in records]}

    def _account_edit(self, level: int, caller: Caller, params: Params) -> Doc:
        elid = params.get("elid", "")
        if not params.get("sok"):
            return edit_form(self._get_account(level, elid), self.dialect) if elid else {}
        if not elid:
            self._create_account(level, params)
        else:
            self._update_account(level, self._get_account(level, elid), params)
        return ok()

    def _user_add(self, caller: Caller, params: Params) -> Doc:
        if not params.get("sok"):
            return {}
        self._create_account(USER_LEVEL, params)
        return ok()

    def _create_account(self, level: int, params: Params) -> None:
        # Validate everything (the IP address included) before anything is made.
        name = params.get("name", "")
        check_name(name)
        if self._account(name) is not None or name == self.admin_login:
            raise ApiError("exists", "user", f"User '{name}' already exists")
        password = new_password(params, required=True)
        preset_name = params.get("preset", "")
        preset_limits = self._get_preset(preset_name, level)["limits"] if preset_name else {}
        limits = base_limits(level) | preset_limits | parse_limits(params)
        owner = self._new_owner(level, params)
        address = self._address_for_new_account(params)
        domains = [
            params[f"{kind}_name"]
            for kind in ("webdomain", "emaildomain")
            if params.get(f"{kind}_name") and params.get(kind) != "off"
        ]
        self._records(level)[name] = {
            "name": name,
            "password": password,
            "fullname": params.get("fullname", ""),
            "email": params.get("email", ""),
            "comment": params.get("comment", ""),
            "preset": preset_name,
            "owner": owner,
            "level": level,
            "active": True,
            "limits": limits,
            "domains": list(dict.fromkeys(domains)),
            "quota_used": 0,
            "traffic_used": 0,
            "created": time.time(),
        }
        if address is not None:
            self.ips.assign(address, name)
        for kind in ("webdomain", "emaildomain"):  # the domains made with the account
            if params.get(f"{kind}_name") and params.get(kind) != "off":
                self.objects.add(kind, params[f"{kind}_name"], name)

    def _new_owner(self, level: int, params: Params) -> str:
        """A user may belong to a reseller (`owner`); resellers belong to the admin."""
        owner = params.get("owner", "")
        if level == RESELLER_LEVEL or owner in ("", self.admin_login):
            return self.admin_login
        if owner not in self.resellers:
            raise ApiError("missed", "user", f"Reseller '{owner}' not found")
        return owner

    def _address_for_new_account(self, params: Params) -> str | None:
        """The address `ipsrc=auto` will assign, or None; nothing is taken yet."""
        ipsrc = params.get("ipsrc", "")
        if ipsrc in ("", "do_not_assign"):
            return None
        if ipsrc != "auto" or self.edition not in IP_EDITIONS:
            raise ApiError("value", "ipsrc", f"ipsrc '{ipsrc}' is not available")
        return self.ips.pick(_ip_family(params))

    def _update_account(self, level: int, account: dict[str, Any], params: Params) -> None:
        # Validate everything first so a rejected edit changes nothing.
        if params.get("preset"):
            self._get_preset(params["preset"], level)
        password = new_password(params, required=False)
        limits = parse_limits(params)
        for key in ("preset", "fullname", "email", "comment"):
            if key in params:
                account[key] = params[key]
        if password is not None:
            account["password"] = password
        # Real-panel quirk: a limit absent from the request keeps its old value,
        # even when the preset changes; the preset's limits are NOT re-applied.
        account["limits"].update(limits)

    def _accounts_from_elid(self, level: int, params: Params) -> list[dict[str, Any]]:
        names = elid_names(params)
        if not names:
            raise ApiError("missed", "user", "No user given")
        return [self._get_account(level, name) for name in names]

    def _account_set_active(self, level: int, active: bool, caller: Caller, params: Params) -> Doc:
        for account in self._accounts_from_elid(level, params):
            account["active"] = active
        return ok()

    def _account_delete(self, level: int, caller: Caller, params: Params) -> Doc:
        names = {account["name"] for account in self._accounts_from_elid(level, params)}
        if level == RESELLER_LEVEL:
            # A reseller's users go with it.
            names |= {name for name, user in self.users.items() if user["owner"] in names}
        self.objects.drop_owned_by(names)
        for name in names:
            self.users.pop(name, None)
            self.resellers.pop(name, None)
            if self.release_ips_on_delete:
                self.ips.release(self.ips.owned_by(name))
        self.sso_keys = {k: u for k, u in self.sso_keys.items() if u not in names}
        self.sessions = {s: u for s, u in self.sessions.items() if u not in names}
        return ok()

    # -- presets -------------------------------------------------------------------

    def _preset_list(self, caller: Caller, params: Params) -> Doc:
        return rows(
            [{"name": p["name"], "level": p["level"], **p["limits"]} for p in self.presets.values()]
        )

    def _preset_edit(self, caller: Caller, params: Params) -> Doc:
        elid = params.get("elid", "")
        if not params.get("sok"):
            if not elid:
                return {}
            preset = self._get_preset(elid)
            return form(
                {"elid": elid, "name": preset["name"], "level": preset["level"], **preset["limits"]}
            )
        self._save_preset(params)
        return ok()

    def _save_preset(self, params: Params) -> None:
        name = params.get("elid") or params.get("name", "")
        if not name:
            raise ApiError("value", "name", "Preset name is required")
        limits = parse_limits(params)
        preset = self.presets.get(name)
        # An edit that leaves `level` out keeps the template's level.
        level = params.get("level") or (preset["level"] if preset else str(USER_LEVEL))
        if level not in PRESET_LEVELS:
            raise ApiError("value", "level", "level must be 16 (user) or 24 (reseller)")
        if preset is None:
            base = base_limits(int(level))
            self.presets[name] = {"name": name, "level": level, "limits": base | limits}
        else:
            preset["level"] = level
            preset["limits"].update(limits)

    # -- what accounts own ----------------------------------------------------------

    def _object_list(self, func: str, caller: Caller, params: Params) -> Doc:
        return self.objects.listing(func, self.dialect)

    # -- IP addresses (business) ---------------------------------------------------

    def _ipaddr_list(self, caller: Caller, params: Params) -> Doc:
        owner = None if caller.level >= ADMIN_LEVEL else caller.login
        return rows(self.ips.listing(owner))

    def _ipaddr_edit(self, caller: Caller, params: Params) -> Doc:
        elid = params.get("elid", "")
        if not params.get("sok"):
            return self._ipaddr_form(elid) if elid else {}
        if elid:  # editing an assigned address only moves it to another owner
            address = self.ips.reassign(elid, self._ip_owner(params))
            return {**ok(), "id": text(address)}
        if params.get("iprole", "assigned") != "assigned":
            raise ApiError("value", "iprole", "Only assigned addresses can be added")
        family = _ip_family(params)
        owner = self._ip_owner(params)
        address = self.ips.pick(family, params.get("name", ""))
        self.ips.assign(address, owner)
        return {**ok(), "id": text(address)}

    def _ip_owner(self, params: Params) -> str:
        owner = params.get("owner", "")
        if self._account(owner) is None:
            raise ApiError("missed", "user", f"User '{owner}' not found")
        return owner

    def _ipaddr_form(self, address: str) -> Doc:
        record = self.ips.record(address)
        if record is None:
            raise ApiError("missed", "ipaddr", f"IP address '{address}' not found")
        ip = canonical(address)
        return form({"elid": ip, "name": ip, **record})

    def _ipaddr_delete(self, caller: Caller, params: Params) -> Doc:
        addresses = elid_names(params)
        if not addresses:
            raise ApiError("missed", "ipaddr", "No IP address given")
        self.ips.release(addresses)
        return ok()

    # -- misc ----------------------------------------------------------------------

    def _usrparam(self, caller: Caller, params: Params) -> Doc:
        account = self._account(caller.login)
        if not params.get("sok"):
            return form({"name": caller.login, "email": account["email"] if account else ""})
        password = new_password(params, required=False)
        if account is not None and "email" in params:
            account["email"] = params["email"]
        if password is None:
            return ok()
        if account is None:
            self.admin_password = password
        else:
            account["password"] = password
        return ok()

    def _session_newkey(self, caller: Caller, params: Params) -> Doc:
        username = params.get("username", "")
        if username != self.admin_login and self._account(username) is None:
            raise ApiError("missed", "user", f"User '{username}' not found")
        key = params.get("key", "")
        if len(key) < 16:
            raise ApiError("value", "key", "Key must be at least 16 characters")
        self.sso_keys[key] = username
        return ok()

    def _whoami(self, caller: Caller, params: Params) -> Doc:
        """COREmanager answers with the login as a `user` element, its properties as
        attributes (a BILLmanager client reads `doc.user.$balance`); the `fields` dialect
        gives plain `name` / `level` fields instead."""
        fields: dict[str, object] = {"name": caller.login}
        if self.dialect.whoami_level:
            fields["level"] = caller.level
        if self.dialect.whoami_fields:
            return form(fields)
        return {"user": {**{f"${k}": str(v) for k, v in fields.items()}, "$": caller.login}}
