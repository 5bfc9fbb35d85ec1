"""The ownership marker: the correlation id that ISPmanager lacks (docs/interface.md §4).

An account made by isphooks carries `isphooks:service=<service_id>` on a line of its panel
comment (read and written by shared/order/comment.py); other comment text is kept intact. The
line is exactly the marker: `isphooks:service=1001 (note)` is no marker. Markers of two
different services on one account are a conflict, never "the first one wins". A
suspension reason travels the same way.
"""

from __future__ import annotations

import re

from shared.config import Server
from shared.errors import Conflict, UnownedAccount
from shared.order import comment as lines
from shared.panel import Account

MARKER_PREFIX = "isphooks:service="
REASON_PREFIX = "isphooks:suspended="
_SERVICE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def markers(comment: str) -> set[str]:
    """The services whose marker the comment carries (trailing spaces aside, the line is
    the marker and nothing else)."""
    found = set()
    for value in lines.values(comment, MARKER_PREFIX):
        value = value.rstrip(" \t")
        if _SERVICE_ID.fullmatch(value):
            found.add(value)
    return found


def owner_of(comment: str) -> str | None:
    """The one service whose marker the comment carries; None for none, or for several."""
    found = markers(comment)
    return next(iter(found)) if len(found) == 1 else None


def with_marker(comment: str, service_id: str) -> str:
    return lines.replaced(comment, MARKER_PREFIX, [service_id])


def with_reason(comment: str, reason: str | None) -> str:
    return lines.replaced(comment, REASON_PREFIX, [reason] if reason else [])


def owned_by(panel_owner: str | None, server: Server) -> bool:
    """Is an account with this panel `owner` under the configured login? A reseller's
    customer never is, whatever its comment says. Where the panel shows no owner (neither
    in the account's form nor in its list row): on lite and pro, which have no resellers,
    every account is the configured login's; on host and business it cannot be told from a
    reseller's, so it is not ours (docs/interface.md §4)."""
    if not panel_owner:
        return not server.has_resellers
    return panel_owner == server.username


def service_of(comment: str, panel_owner: str | None, server: Server) -> str | None:
    """The service an account belongs to: our marker AND the configured login's account."""
    return owner_of(comment) if owned_by(panel_owner, server) else None


def check_owner(
    account: Account,
    service_id: str,
    server: Server,
    *,
    terminating: bool = False,
    force: bool = False,
) -> None:
    """Raise unless this service may act on the account: 409 when another login (a
    reseller) owns it or another service's marker is on it; no owner shown on an edition
    with resellers, or unmarked and terminating without `force`: 409 `unowned_account`."""
    if not account.owner and server.has_resellers:
        raise UnownedAccount(
            f"the panel shows no owner for account {account.name}, neither in its form nor "
            f"in the {server.edition} account list: on an edition with resellers isphooks "
            "cannot tell it from a reseller's account, so it does not act on it"
        )
    if not owned_by(account.owner, server):
        raise Conflict(
            f"account {account.name} belongs to {account.owner}, not to the configured login"
        )
    if len(markers(account.comment)) > 1:
        raise Conflict(
            f"account {account.name} carries the markers of several services: "
            "an operator must settle which one it is"
        )
    owner = owner_of(account.comment)
    if owner is not None and owner != service_id:
        raise Conflict(f"account {account.name} belongs to another service")
    if owner is None and terminating and not force:
        raise UnownedAccount(
            f"account {account.name} carries no isphooks marker; send force: true to delete it"
        )
