"""User and reseller records: the checks on their fields and how lists and forms show them.
Both kinds share one record shape; only `level` (16 or 24) tells them apart."""

from __future__ import annotations

import re
from typing import Any

from .wire import ApiError, Dialect, Doc, Params, account_fields

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
# What a reseller may hand out on top of the user limits.
RESELLER_LIMITS: tuple[str, ...] = ("limit_users", "limit_ipv4addrs", "limit_ipv6addrs")
# The vendor's access levels (developer guide, "Access levels"): admin rights are 29 and
# above ("admin+"); the server's root login answers 30.
SUPER_LEVEL = 30
ADMIN_LEVEL = 29
RESELLER_LEVEL = 24
USER_LEVEL = 16

NAME_RE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
# System accounts a panel will not hand out as logins (the panel's own list is undocumented).
RESERVED_NAMES = frozenset({"root", "admin", "mysql", "nobody", "www-data", "ftp", "mail"})
_LIMIT_VALUE_RE = re.compile(r"[0-9]*")


def base_limits(level: int) -> dict[str, str]:
    """Every limit of an account or template of this level, unlimited ("")."""
    names = LIMITS + RESELLER_LIMITS if level == RESELLER_LEVEL else LIMITS
    return dict.fromkeys(names, "")


def parse_limits(params: Params) -> dict[str, str]:
    limits = {k: v for k, v in params.items() if k.startswith("limit_")}
    for name, value in limits.items():
        if not _LIMIT_VALUE_RE.fullmatch(value):
            raise ApiError("value", name, f"{name} must be empty or a non-negative integer")
    return limits


def new_password(params: Params, required: bool) -> str | None:
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


def check_name(name: str) -> None:
    if not NAME_RE.fullmatch(name) or name in RESERVED_NAMES:
        raise ApiError("value", "name", "Invalid user name")


def list_row(record: dict[str, Any], with_traffic: bool, dialect: Dialect) -> Doc:
    """One `user` / `reseller` list row; traffic columns only where the edition shows them,
    `comment`, `preset`, `owner` and `active` only where (and as) the panel's list shows
    them."""
    row: dict[str, object] = {
        "name": record["name"],
        "fullname": record["fullname"],
        "active": "on" if record["active"] else "off",
        "owner": record["owner"],
        "level": record["level"],
        "comment": record["comment"],
        "preset": record["preset"],
        "quota_used": record["quota_used"],
        "quota_total": record["limits"].get("limit_quota", ""),
    }
    if not dialect.list_comment:
        del row["comment"]
    if not dialect.list_preset:
        del row["preset"]
    if with_traffic:
        row["traffic_used"] = record["traffic_used"]
        row["traffic_total"] = record["limits"].get("limit_traff", "")
    return account_fields(row, dialect, in_form=False)


def edit_form(record: dict[str, Any], dialect: Dialect) -> Doc:
    fields: dict[str, object] = {"elid": record["name"]}
    for key in ("name", "fullname", "email", "comment", "preset", "owner"):
        fields[key] = record[key]
    fields["active"] = "on" if record["active"] else "off"
    fields.update(record["limits"])
    return account_fields(fields, dialect, in_form=True)
