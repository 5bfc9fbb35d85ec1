"""What an action receives (a validated request, the config, panels) and what it returns."""

from __future__ import annotations

import time
from typing import Any

from shared.config import RESELLER_EDITIONS, Config, Server
from shared.errors import (
    AccountNotFound,
    ConfigInvalid,
    UnknownServer,
    UnownedAccount,
    Unsupported,
)
from shared.order import ownership
from shared.panel import Account, Panel

IP_EDITIONS = frozenset({"business"})


def require_kind(server: Server, kind: str) -> None:
    if kind == "reseller" and server.edition not in RESELLER_EDITIONS:
        raise Unsupported(
            f"server {server.name} runs ISPmanager {server.edition}, which has "
            "no resellers (host and business do)"
        )


class Result:
    """What an action answers: the HTTP status and the JSON body."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.body = body


class ActionRequest:
    """One validated webhook on its way through an action, and the panels it has used."""

    def __init__(
        self,
        action: str,
        body: dict[str, Any],
        config: Config,
        webhook_id: str,
        deadline: float | None = None,
        signed: bool = True,
        sent_at_ms: int | None = None,
        signing_key: bytes | None = None,
    ) -> None:
        self.action = action
        self.body = body
        self.config = config
        self.webhook_id = webhook_id  # the signed message's id, or a generated one
        self.signed = signed  # False for a scheduler's bearer token
        # When the request was sent: its signed webhook-timestamp in ms (a token's
        # request: when it arrived).
        self.sent_at_ms = sent_at_ms if sent_at_ms is not None else int(time.time() * 1000)
        self.signing_key = signing_key  # the key of the secret that verified the signature
        self.deadline = deadline
        self.panels: list[Panel] = []

    @property
    def dry_run(self) -> bool:
        return bool(self.body.get("dry_run"))

    def server(self, name: str | None = None) -> Server:
        name = name if name is not None else self.body["server"]
        server = self.config.servers.get(name)
        if server is None:
            raise UnknownServer(f"no server named {name!r} in the config")
        if server.unusable:
            raise ConfigInvalid(server.unusable)
        return server

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "user"))

    def panel(self, server: Server) -> Panel:
        if server.unusable:  # reached through usage, check or placement
            raise ConfigInvalid(server.unusable)
        panel = Panel(server, kind=self.kind, dry_run=self.dry_run, deadline=self.deadline)
        self.panels.append(panel)
        return panel

    def account_panel(self, server: Server | None = None) -> tuple[Server, Panel]:
        """The server and panel of an account action, once the edition has the kind."""
        server = server or self.server()
        require_kind(server, self.kind)
        return server, self.panel(server)

    def owned_account(self, panel: Panel) -> Account:
        """Read the account: 404 when it is gone, 409 when another service or login owns it."""
        name = self.body["username"]
        account = panel.get_account(name)
        if account is None:
            raise AccountNotFound(self._not_found(panel, name))
        ownership.check_owner(account, self.body["service_id"], panel.server)
        return account

    def _not_found(self, panel: Panel, name: str) -> str:
        """Why there is no such account: a reseller addressed as a user (the default kind)
        is told so, at the cost of one read on this error path only."""
        server = panel.server.name
        if (
            self.kind == "user"
            and panel.server.has_resellers
            and panel.get_account(name, kind="reseller") is not None
        ):
            return f"{name} is a reseller account on {server}; send kind: reseller"
        return f"no account {name} on {server}"

    def marked_account(self, panel: Panel) -> Account:
        """`owned_account` for the actions that hand out a way in (sso, password): an
        account without any marker is refused (409 `unowned_account`) unless the body says
        `adopt: true`, which first writes this service's marker into its comment."""
        account = self.owned_account(panel)
        if ownership.owner_of(account.comment) is not None:
            return account
        if not self.body.get("adopt"):
            raise UnownedAccount(
                f"account {account.name} carries no isphooks marker (made by hand or by an "
                "older module); send adopt: true to take it over for this service"
            )
        comment = ownership.with_marker(account.comment, self.body["service_id"])
        panel.edit_account(account.name, {"comment": comment})
        return account._replace(comment=comment)

    def result(
        self, status: str, server: Server, *, status_code: int = 200, **extra: Any
    ) -> Result:
        body: dict[str, Any] = {"action": self.action, "status": status, "server": server.name}
        for key in ("service_id", "username"):
            if key in self.body:
                body[key] = self.body[key]
        body.update(extra)
        return Result(status_code, body)
