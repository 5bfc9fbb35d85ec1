"""The account operations the functions call, on one server's panel: read, list, create,
edit, suspend, resume, delete, the password, the one-time login key, dedicated addresses
and `whoami`. `kind` "user" uses the `user.*` functions, "reseller" the `reseller.*` ones.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from shared.config import Server
from shared.errors import PanelMissing, PanelRejected
from shared.panel import lists, transport
from shared.panel.answers import (
    Whoami,
    document,
    flag,
    raise_for_error,
    read_whoami,
    text,
)

SECRET_PARAMS = frozenset({"passwd", "confirm", "password", "key", "authinfo"})
MASK = "***"


class Row(NamedTuple):
    """One row of a `user` / `reseller` list: its columns as plain strings."""

    kind: str
    columns: dict[str, str]

    def get(self, column: str) -> str:
        return self.columns.get(column, "")


class IpAddress(NamedTuple):
    address: str
    family: str
    owner: str


class Account(NamedTuple):
    name: str
    comment: str
    preset: str
    active: bool | None  # None: the panel shows the state neither in the form nor the list
    limits: dict[str, str]
    owner: str | None = None  # the login that owns it (admin or a reseller); None: not shown


def _columns(elem: dict[str, Any]) -> dict[str, str]:
    """A list row's columns as text, in place (a long list is not copied): `active` as "on"
    or "off" where it reads as a flag, else left out."""
    active = flag(elem.pop("active", None))
    for key, value in elem.items():
        if not isinstance(value, str):
            elem[key] = text(value)
    if active is not None:
        elem["active"] = "on" if active else "off"
    return elem


def masked(params: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if k in SECRET_PARAMS else v) for k, v in params.items()}


class Panel:
    """One server's API. With `dry_run`, reads go to the panel and writes are only recorded."""

    def __init__(
        self,
        server: Server,
        *,
        kind: str = "user",
        dry_run: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.server = server
        self.kind = kind
        self.dry_run = dry_run
        self.deadline = deadline  # time.monotonic() by which the whole request must answer
        self.calls: list[dict[str, Any]] = []
        # The account lists read by this action, by kind and name: where a form lacks the
        # state or the owner, they come from here. A write clears them (it may change a
        # state); the owner never changes (ispmanager-api.md §8).
        self._rows: dict[str, dict[str, Row]] = {}

    # -- raw call --

    def call(
        self, func: str, params: dict[str, str] | None = None, *, write: bool
    ) -> dict[str, Any]:
        params = params or {}
        if self.dry_run:
            self.calls.append({"func": func, "params": masked(params)})
            if write:
                return {"ok": {}}
        else:
            self.calls.append({"func": func})
            if write:
                self._rows.clear()
        doc = self._post(func, params, write)
        raise_for_error(func, doc)
        return doc

    def list_rows(self, func: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every row of the list `func`, however many pages the panel answers it in (one
        read per page; a list that cannot be read to its end is a 503)."""
        return lists.read_all(self._read, func, params or {}, self.server.name)

    def _read(self, func: str, params: dict[str, str]) -> dict[str, Any]:
        return self.call(func, params, write=False)

    def _post(self, func: str, params: dict[str, str], write: bool) -> dict[str, Any]:
        raw = transport.exchange(self.server, func, params, write=write, deadline=self.deadline)
        return document(raw, self.server.name, func)

    # -- accounts: `kind` "user" uses user.*, "reseller" uses reseller.* --

    def get_account(
        self, name: str, kind: str | None = None, *, fresh: bool = False
    ) -> Account | None:
        """The account `name` of this panel's kind (or of `kind`), None when there is none.

        Its state and owner come from its edit form where the form shows them, else from
        its row in the account list (read once per action, again with `fresh` or after a
        write): where neither shows the state it is None (unknown, never "active"); where
        neither shows the owner it is None. The owner is looked up only on an edition with
        resellers: on lite and pro every account is the configured login's."""
        kind = kind or self.kind
        try:
            doc = self.call(f"{kind}.edit", {"elid": name}, write=False)
        except PanelMissing:
            return None
        if (text(doc.get("name")) or text(doc.get("elid"))) != name:
            return None  # an empty form: no such account
        active = flag(doc.get("active"))
        owner = text(doc.get("owner")) or None
        if active is None or (owner is None and self.server.has_resellers):
            row = self._row(kind, name, fresh)
            if row is not None:
                active = flag(row.get("active")) if active is None else active
                owner = owner or row.get("owner") or None
        return Account(
            name=name,
            comment=text(doc.get("comment")),
            preset=text(doc.get("preset")),
            active=active,
            limits={k: text(v) for k, v in doc.items() if k.startswith("limit_")},
            owner=owner,
        )

    def _row(self, kind: str, name: str, fresh: bool) -> Row | None:
        if fresh or kind not in self._rows:
            self.list_accounts(kind)
        return self._rows[kind].get(name)

    def list_accounts(self, kind: str) -> list[Row]:
        """Every account of a kind, as list rows (one read per page). `active` is "on" or
        "off" where the row shows a readable state, absent where it does not."""
        rows = [Row(kind, _columns(elem)) for elem in self.list_rows(kind)]
        self._rows[kind] = {row.get("name"): row for row in rows}
        return rows

    def shown_where(self, row: Row) -> tuple[str | None, str | None]:
        """Where this panel shows an account's state and its owner: "form", "list" or None
        (nowhere), judged on the account of `row` (one form read)."""
        try:
            doc = self.call(f"{row.kind}.edit", {"elid": row.get("name")}, write=False)
        except PanelMissing:  # gone since the list was read
            return None, None
        state = "form" if "active" in doc else "list" if "active" in row.columns else None
        owner = "form" if text(doc.get("owner")) else "list" if row.get("owner") else None
        return state, owner

    def template_limits(self, template: str) -> dict[str, str]:
        try:
            doc = self.call("preset.edit", {"elid": template}, write=False)
        except PanelMissing:
            raise PanelRejected(f"plan.template: the panel has no template {template!r}") from None
        return {k: text(v) for k, v in doc.items() if k.startswith("limit_")}

    def create_account(self, params: dict[str, str]) -> None:
        func = "reseller.edit" if self.kind == "reseller" else "user.add.finish"
        self.call(func, {"sok": "ok", **params}, write=True)

    def edit_account(self, name: str, params: dict[str, str]) -> None:
        self.call(f"{self.kind}.edit", {"sok": "ok", "elid": name, **params}, write=True)

    def suspend(self, name: str) -> None:
        self.call(f"{self.kind}.suspend", {"elid": name}, write=True)

    def resume(self, name: str) -> None:
        self.call(f"{self.kind}.resume", {"elid": name}, write=True)

    def delete(self, name: str) -> None:
        self.call(f"{self.kind}.delete", {"elid": name}, write=True)

    def set_password(self, name: str, password: str) -> None:
        self.call(
            "usrparam",
            {"su": name, "sok": "ok", "passwd": password, "confirm": password},
            write=True,
        )

    def new_login_key(self, login: str) -> str:
        key = secrets.token_urlsafe(24)
        self.call("session.newkey", {"username": login, "key": key}, write=True)
        return key

    # -- dedicated IP addresses (business) --

    def list_ips(self) -> list[IpAddress]:
        return [
            IpAddress(text(e.get("name")), text(e.get("family")), text(e.get("owner")))
            for e in self.list_rows("ipaddr")
            if text(e.get("iprole")) == "assigned"
        ]

    def assign_ip(self, owner: str, family: str) -> str:
        doc = self.call(
            "ipaddr.edit",
            {"sok": "ok", "name": "", "iprole": "assigned", "iptype": family, "owner": owner},
            write=True,
        )
        return text(doc.get("id")) or "(dry run)"

    def release_ip(self, address: str) -> None:
        try:
            self.call("ipaddr.delete", {"elid": address}, write=True)
        except PanelMissing:
            pass  # released already (by the panel or a concurrent delivery)

    # -- server checks --

    def whoami(self) -> Whoami:
        return read_whoami(self.call("whoami", {}, write=False))
