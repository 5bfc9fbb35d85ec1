"""The ownership marker: the correlation id that ISPmanager lacks (docs/interface.md §4).

An account made by isphooks carries `isphooks:service=<service_id>` in its panel comment;
other comment text is kept intact. A suspension reason travels the same way.
"""

from __future__ import annotations

import re

from shared.errors import Conflict, UnownedAccount
from shared.panel import Account

MARKER_PREFIX = "isphooks:service="
REASON_PREFIX = "isphooks:suspended="
_MARKER_RE = re.compile(r"(?m)^isphooks:service=([A-Za-z0-9_.:-]{1,64})\s*$")


def owner_of(comment: str) -> str | None:
    match = _MARKER_RE.search(comment)
    return match.group(1) if match else None


def _without(comment: str, prefix: str) -> list[str]:
    return [line for line in comment.splitlines() if not line.startswith(prefix)]


def with_marker(comment: str, service_id: str) -> str:
    return "\n".join([*_without(comment, MARKER_PREFIX), MARKER_PREFIX + service_id])


def with_reason(comment: str, reason: str | None) -> str:
    lines = _without(comment, REASON_PREFIX)
    if reason:
        lines.append(REASON_PREFIX + reason)
    return "\n".join(lines)


def owned_by(panel_owner: str, login: str) -> bool:
    """Is an account with this panel `owner` under the configured login? A reseller's
    customer never is, whatever its comment says. Editions without resellers (lite, pro)
    show no owner: every account there is the admin's."""
    return panel_owner in ("", login)


def service_of(comment: str, panel_owner: str, login: str) -> str | None:
    """The service an account belongs to: our marker AND the configured login's account."""
    return owner_of(comment) if owned_by(panel_owner, login) else None


def check_owner(account: Account, service_id: str, login: str, *, terminating: bool = False,
                force: bool = False) -> None:
    """Raise unless this service may act on the account: 409 when another login (a
    reseller) owns it or another service's marker is on it; unmarked and terminating
    without `force`: 409 `unowned_account`."""
    if not owned_by(account.owner, login):
        raise Conflict(f"account {account.name} belongs to {account.owner}, not to the "
                       "configured login")
    owner = owner_of(account.comment)
    if owner is not None and owner != service_id:
        raise Conflict(f"account {account.name} belongs to another service")
    if owner is None and terminating and not force:
        raise UnownedAccount(
            f"account {account.name} carries no isphooks marker; send force: true to delete it")
