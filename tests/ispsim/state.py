"""In-memory model of an ISPmanager 6 panel and the API functions the project uses."""

from __future__ import annotations

import copy
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LIMITS: tuple[str, ...] = (
    "limit_quota",
    "limit_traff",
    "limit_db",
    "limit_db_users",
    "limit_ftp_users",
    "limit_webdomains",
    "limit_emaildomains",
    "limit_emails",
    "limit_email_quota",
    "limit_memory",
    "limit_cpu",
    "limit_process",
)
ADMIN_LEVEL = 29
USER_LEVEL = 16
SECRET_PARAMS = frozenset({"passwd", "confirm", "password", "key", "authinfo"})
# Functions a level-16 user may call; everything else is admin-only.
USER_FUNCS = frozenset({"whoami", "usrparam"})
ALWAYS_WRITE = frozenset({"user.suspend", "user.resume", "user.delete", "session.newkey"})
WRITE_WITH_SOK = frozenset({"user.edit", "user.add.finish", "preset.edit", "usrparam"})

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
_NAME_RE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
# System accounts a panel will not hand out as logins (the panel's own list is undocumented).
RESERVED_NAMES = frozenset({"root", "admin", "mysql", "nobody", "www-data", "ftp", "mail"})
_LIMIT_VALUE_RE = re.compile(r"[0-9]*")

Params = dict[str, str]
Doc = dict[str, Any]


class ApiError(Exception):
    """An ISPmanager-style error answer (`doc.error` with `$type` / `$object`)."""

    def __init__(self, type_: str, obj: str, msg: str = "") -> None:
        self.type = type_
        self.obj = obj
        self.msg = msg or f"{type_} error: {obj}"
        super().__init__(self.msg)


@dataclass(frozen=True)
class Caller:
    login: str
    level: int


@dataclass(frozen=True)
class Reply:
    body: bytes
    content_type: str = JSON_TYPE
    result: str = "ok"  # "ok" or "error:<type>", as recorded in the journal
    login: str | None = None


def text(value: object) -> dict[str, str]:
    return {"$": "" if value is None else str(value)}


def error_doc(exc: ApiError) -> Doc:
    error = {
        "$type": exc.type,
        "$object": exc.obj,
        "$lang": "en",
        "msg": text(exc.msg),
        "detail": text(exc.msg),
    }
    return {"doc": {"error": error}}


def json_reply(doc: Doc, login: str | None = None) -> Reply:
    return Reply(json.dumps(doc).encode("utf-8"), login=login)


def error_reply(exc: ApiError, login: str | None = None) -> Reply:
    body = json.dumps(error_doc(exc)).encode("utf-8")
    return Reply(body, result=f"error:{exc.type}", login=login)


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


def _form(fields: dict[str, object]) -> Doc:
    return {k: text(v) for k, v in fields.items()}


def _rows(rows: list[dict[str, object]]) -> Doc:
    return {"elem": [_form(row) for row in rows]}


def _ok() -> Doc:
    return {"ok": {}}


def _secret_eq(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _parse_limits(params: Params) -> dict[str, str]:
    limits = {k: v for k, v in params.items() if k.startswith("limit_")}
    for name, value in limits.items():
        if not _LIMIT_VALUE_RE.fullmatch(value):
            raise ApiError("value", name, f"{name} must be empty or a non-negative integer")
    return limits


def _new_password(params: Params, required: bool) -> str | None:
    """Validated new password, or None when an edit leaves it unchanged."""
    passwd = params.get("passwd", "")
    confirm = params.get("confirm")
    if confirm is not None and confirm != passwd:
        raise ApiError("value", "confirm", "Passwords do not match")
    if not passwd:
        if required:
            raise ApiError("value", "passwd", "Password is required")
        return None
    if len(passwd) > 128 or any(not " " <= ch <= "~" for ch in passwd):
        raise ApiError("value", "passwd", "Password must be 1-128 printable ASCII characters")
    return passwd


def _elid_names(params: Params) -> list[str]:
    return [name.strip() for name in params.get("elid", "").split(",") if name.strip()]


class Panel:
    """Panel state plus API dispatch; every call runs under `lock`."""

    def __init__(self, admin_login: str, admin_password: str) -> None:
        self.lock = threading.Lock()
        self.admin_login = admin_login
        self.admin_password = admin_password
        self.users: dict[str, dict[str, Any]] = {}
        self.presets: dict[str, dict[str, Any]] = {}
        self.sso_keys: dict[str, str] = {}  # key -> username
        self.sessions: dict[str, str] = {}  # session id -> login
        self.logins: list[str] = []
        self._funcs: dict[str, Callable[[Caller, Params], Doc]] = {
            "user": self._user_list,
            "user.edit": self._user_edit,
            "user.add.finish": self._user_add,
            "user.suspend": self._user_suspend,
            "user.resume": self._user_resume,
            "user.delete": self._user_delete,
            "preset": self._preset_list,
            "preset.edit": self._preset_edit,
            "usrparam": self._usrparam,
            "session.newkey": self._session_newkey,
            "whoami": self._whoami,
        }

    # -- direct (in-process) helpers -------------------------------------------------

    def add_preset(self, name: str, limits: dict[str, str] | None = None) -> None:
        params = {"name": name, **(limits or {})}
        with self.lock:
            self._call_direct(self._save_preset, params)

    def add_user(
        self,
        name: str,
        password: str,
        preset: str = "",
        comment: str = "",
        active: bool = True,
        limits: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        params = {"name": name, "passwd": password, "preset": preset, "comment": comment}
        params.update(fields)
        params.update(limits or {})
        with self.lock:
            self._call_direct(self._create_user, params)
            self.users[name]["active"] = active

    def snapshot_users(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.users)

    def snapshot_presets(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.presets)

    def _call_direct(self, fn: Callable[[Params], object], params: Params) -> None:
        # Python-side setup errors should be loud, not wire-format documents.
        try:
            fn(params)
        except ApiError as exc:
            raise ValueError(f"{exc.type}/{exc.obj}: {exc.msg}") from exc

    # -- dispatch --------------------------------------------------------------------

    def dispatch(self, params: Params) -> Reply:
        func = params.get("func", "")
        with self.lock:
            # The browser SSO link is a plain GET without out=json.
            if func == "auth" and "key" in params:
                return self._key_login(params)
            if params.get("out") != "json":
                return error_reply(ApiError("value", "out", "Only out=json is supported"))
            try:
                if func == "auth":
                    return self._session_login(params)
                caller = self._authenticate(params)
            except ApiError as exc:
                return error_reply(exc)
            try:
                effective = self._apply_su(caller, params)
                handler = self._funcs.get(func)
                if handler is None:
                    raise ApiError("missed", "func", f"Unknown function '{func}'")
                if effective.level < ADMIN_LEVEL and func not in USER_FUNCS:
                    raise ApiError("access", func, "Access denied")
                return json_reply({"doc": handler(effective, params)}, login=caller.login)
            except ApiError as exc:
                return error_reply(exc, login=caller.login)

    # -- authentication ----------------------------------------------------------------

    def _can_log_in(self, login: str) -> bool:
        user = self.users.get(login)
        return login == self.admin_login or (user is not None and user["active"])

    def _check_password(self, login: str, password: str) -> Caller:
        if login == self.admin_login and _secret_eq(password, self.admin_password):
            return Caller(login, ADMIN_LEVEL)
        user = self.users.get(login)
        if user is not None and user["active"] and _secret_eq(password, user["password"]):
            return Caller(login, USER_LEVEL)
        raise ApiError("auth", "badpassword", "Invalid username or password")

    def _level(self, login: str) -> int:
        return ADMIN_LEVEL if login == self.admin_login else USER_LEVEL

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
        return json_reply({"doc": {"auth": auth}}, login=caller.login)

    def _key_login(self, params: Params) -> Reply:
        username, key = params.get("username", ""), params.get("key", "")
        if self.sso_keys.get(key) != username or not self._can_log_in(username):
            return error_reply(ApiError("auth", "badkey", "Invalid or expired key"))
        del self.sso_keys[key]  # single use, like the real panel
        self.logins.append(username)
        page = f"<html><body>logged in as {username}</body></html>".encode()
        return Reply(page, content_type=HTML_TYPE, login=username)

    def _apply_su(self, caller: Caller, params: Params) -> Caller:
        su = params.get("su", "")
        if not su:
            return caller
        if caller.level < ADMIN_LEVEL:
            raise ApiError("access", "su", "Only the administrator may use su")
        if su not in self.users:
            raise ApiError("missed", "user", f"User '{su}' not found")
        return Caller(su, USER_LEVEL)

    # -- users ---------------------------------------------------------------------

    def _get_user(self, name: str) -> dict[str, Any]:
        user = self.users.get(name)
        if user is None:
            raise ApiError("missed", "user", f"User '{name}' not found")
        return user

    def _get_preset(self, name: str) -> dict[str, Any]:
        preset = self.presets.get(name)
        if preset is None:
            raise ApiError("missed", "preset", f"Preset '{name}' not found")
        return preset

    def _user_list(self, caller: Caller, params: Params) -> Doc:
        rows: list[dict[str, object]] = [
            {
                "name": u["name"],
                "fullname": u["fullname"],
                "active": "on" if u["active"] else "off",
                "owner": u["owner"],
                "level": u["level"],
                "quota_used": u["quota_used"],
                "quota_total": u["limits"].get("limit_quota", ""),
            }
            for u in self.users.values()
        ]
        return _rows(rows)

    def _user_form(self, user: dict[str, Any]) -> Doc:
        fields: dict[str, object] = {"elid": user["name"]}
        for key in ("name", "fullname", "email", "comment", "preset", "owner"):
            fields[key] = user[key]
        fields["active"] = "on" if user["active"] else "off"
        fields.update(user["limits"])
        return _form(fields)

    def _user_edit(self, caller: Caller, params: Params) -> Doc:
        elid = params.get("elid", "")
        if not params.get("sok"):
            return self._user_form(self._get_user(elid)) if elid else {}
        if not elid:
            self._create_user(params)
        else:
            self._update_user(self._get_user(elid), params)
        return _ok()

    def _user_add(self, caller: Caller, params: Params) -> Doc:
        if not params.get("sok"):
            return {}
        self._create_user(params)
        return _ok()

    def _create_user(self, params: Params) -> None:
        name = params.get("name", "")
        if not _NAME_RE.fullmatch(name) or name in RESERVED_NAMES:
            raise ApiError("value", "name", "Invalid user name")
        if name in self.users or name == self.admin_login:
            raise ApiError("exists", "user", f"User '{name}' already exists")
        password = _new_password(params, required=True)
        preset_name = params.get("preset", "")
        preset_limits = self._get_preset(preset_name)["limits"] if preset_name else {}
        limits = {k: "" for k in LIMITS} | preset_limits | _parse_limits(params)
        # ipsrc / iptype are accepted and ignored: the project does not manage IPs yet.
        domains = [
            params[f"{kind}_name"]
            for kind in ("webdomain", "emaildomain")
            if params.get(f"{kind}_name") and params.get(kind) != "off"
        ]
        self.users[name] = {
            "name": name,
            "password": password,
            "fullname": params.get("fullname", ""),
            "email": params.get("email", ""),
            "comment": params.get("comment", ""),
            "preset": preset_name,
            "owner": self.admin_login,
            "level": USER_LEVEL,
            "active": True,
            "limits": limits,
            "domains": list(dict.fromkeys(domains)),
            "quota_used": 0,
            "created": time.time(),
        }

    def _update_user(self, user: dict[str, Any], params: Params) -> None:
        # Validate everything first so a rejected edit changes nothing.
        if params.get("preset"):
            self._get_preset(params["preset"])
        password = _new_password(params, required=False)
        limits = _parse_limits(params)
        for key in ("preset", "fullname", "email", "comment"):
            if key in params:
                user[key] = params[key]
        if password is not None:
            user["password"] = password
        # Real-panel quirk: a limit absent from the request keeps its old value,
        # even when the preset changes; the preset's limits are NOT re-applied.
        user["limits"].update(limits)

    def _users_from_elid(self, params: Params) -> list[dict[str, Any]]:
        names = _elid_names(params)
        if not names:
            raise ApiError("missed", "user", "No user given")
        return [self._get_user(name) for name in names]

    def _user_suspend(self, caller: Caller, params: Params) -> Doc:
        for user in self._users_from_elid(params):
            user["active"] = False
        return _ok()

    def _user_resume(self, caller: Caller, params: Params) -> Doc:
        for user in self._users_from_elid(params):
            user["active"] = True
        return _ok()

    def _user_delete(self, caller: Caller, params: Params) -> Doc:
        names = {user["name"] for user in self._users_from_elid(params)}
        for name in names:
            del self.users[name]
        self.sso_keys = {k: u for k, u in self.sso_keys.items() if u not in names}
        self.sessions = {s: u for s, u in self.sessions.items() if u not in names}
        return _ok()

    # -- presets -------------------------------------------------------------------

    def _preset_list(self, caller: Caller, params: Params) -> Doc:
        rows: list[dict[str, object]] = [
            {"name": p["name"], "level": p["level"], **p["limits"]} for p in self.presets.values()
        ]
        return _rows(rows)

    def _preset_edit(self, caller: Caller, params: Params) -> Doc:
        elid = params.get("elid", "")
        if not params.get("sok"):
            if not elid:
                return {}
            preset = self._get_preset(elid)
            return _form({"elid": elid, "name": preset["name"], **preset["limits"]})
        self._save_preset(params)
        return _ok()

    def _save_preset(self, params: Params) -> None:
        name = params.get("elid") or params.get("name", "")
        if not name:
            raise ApiError("value", "name", "Preset name is required")
        limits = _parse_limits(params)
        preset = self.presets.get(name)
        if preset is None:
            base = {k: "" for k in LIMITS}
            self.presets[name] = {"name": name, "level": str(USER_LEVEL), "limits": base | limits}
        else:
            preset["limits"].update(limits)

    # -- misc ----------------------------------------------------------------------

    def _usrparam(self, caller: Caller, params: Params) -> Doc:
        user = self.users.get(caller.login)
        if not params.get("sok"):
            return _form({"name": caller.login, "email": user["email"] if user else ""})
        password = _new_password(params, required=False)
        if user is not None and "email" in params:
            user["email"] = params["email"]
        if password is None:
            return _ok()
        if user is None:
            self.admin_password = password
        else:
            user["password"] = password
        return _ok()

    def _session_newkey(self, caller: Caller, params: Params) -> Doc:
        username = params.get("username", "")
        if username != self.admin_login and username not in self.users:
            raise ApiError("missed", "user", f"User '{username}' not found")
        key = params.get("key", "")
        if len(key) < 16:
            raise ApiError("value", "key", "Key must be at least 16 characters")
        self.sso_keys[key] = username
        return _ok()

    def _whoami(self, caller: Caller, params: Params) -> Doc:
        return _form({"name": caller.login, "level": caller.level})
