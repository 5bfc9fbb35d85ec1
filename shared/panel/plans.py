"""Plans: the panel parameters of a template plus limit overrides, usernames and passwords."""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Mapping
from typing import Any

from shared.panel import Account, Panel, limit_fields

PASSWORD_LENGTH = 24  # a generated password: 24 characters (docs/interface.md §3)
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
USERNAME_MAX = 16
USERNAME_TRIES = 10


def plan_params(panel: Panel, plan: Mapping[str, Any], *, kind: str = "user") -> dict[str, str]:
    """`preset` and a value for every limit: the request's, else the template's.

    The panel keeps an account's old value for any limit left out of an edit, so every limit
    is sent; the template is read only when the request leaves one to it.
    """
    fields = limit_fields(kind)
    limits = plan.get("limits") or {}
    params = {"preset": plan["template"]}
    missing = [param for name, param in fields.items() if name not in limits]
    template = panel.template_limits(plan["template"]) if missing else {}
    for name, param in fields.items():
        params[param] = str(limits[name]) if name in limits else template.get(param, "")
    return params


def differing(account: Account, desired: Mapping[str, str]) -> list[str]:
    """The panel parameters of `desired` (preset and limits) the account does not hold."""
    current = {"preset": account.preset, **account.limits}
    return sorted(k for k, v in desired.items() if current.get(k, "") != v)


def delivery_password(key: bytes, service_id: str, webhook_id: str) -> str:
    """The generated password of one delivery: HMAC-SHA256 of the `service_id` and the
    `webhook-id` under a key from the config's secret, as 24 characters with a lower, an
    upper and a digit. A duplicate or replay of the same signed message (same id) sets the
    same password, so it can never rotate the credential the first delivery set and
    returned; another message gets another password. Unpredictable without the secret."""
    counter = 0
    while True:
        stream = b""
        block = 0
        while len(stream) < 4 * PASSWORD_LENGTH:  # rejection sampling: no modulo bias
            msg = f"{counter}\x00{block}\x00{service_id}\x00{webhook_id}".encode()
            stream += hmac.new(key, msg, hashlib.sha256).digest()
            block += 1
        limit = 256 - 256 % len(_PASSWORD_ALPHABET)
        chars = [_PASSWORD_ALPHABET[b % len(_PASSWORD_ALPHABET)] for b in stream if b < limit]
        password = "".join(chars[:PASSWORD_LENGTH])
        if len(password) == PASSWORD_LENGTH and _strong(password):
            return password
        counter += 1


def _strong(password: str) -> bool:
    return (
        any(c.islower() for c in password)
        and any(c.isupper() for c in password)
        and any(c.isdigit() for c in password)
    )


def normalize_username(raw: str) -> str:
    """A safe login: `^[a-z][a-z0-9]{0,15}$`.

    The panel allows 32 printable characters, but the login is also a Linux user, a
    database prefix and a path: lowercase letters and digits only, at most 16, starting
    with a letter, is the rule every billing module in the field stays within.
    """
    name = re.sub(r"[^a-z0-9]", "", raw.lower())
    if not name or not name[0].isalpha():
        name = "u" + name
    return name[:USERNAME_MAX]


def username_candidates(template: str, service_id: str, domain: str | None) -> list[str]:
    """`name`, `name1`, … `name9`, each within the length limit."""
    base = normalize_username(
        template.replace("{service_id}", service_id).replace("{domain}", domain or "")
    )
    out = [base]
    for n in range(1, USERNAME_TRIES):
        suffix = str(n)
        out.append(base[: USERNAME_MAX - len(suffix)] + suffix)
    return out
