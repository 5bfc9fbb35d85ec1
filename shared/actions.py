"""The one table of isphooks' actions: every other list of them is read from here or checked
against it by a test (tests/unit/test_actions.py): functions/main.py's entry points and
functions/<action>.py, the handler's account actions, the schemas, OpenAPI, the CLI's `send`,
the scheduler's defaults, Terraform's `local.actions`, `local.doors` and `billing_actions`,
and docs/interface.md.

Imports nothing: the CLI reads it without paying for the config or marshmallow.
"""

from __future__ import annotations

from typing import NamedTuple


class Action(NamedTuple):
    name: str
    # "account": one service's account, a billing decision (`event_time`, recorded and
    # ordered: docs/interface.md §4); "read": reads only (sso mints a key, nothing else);
    # "server": one server's accounts against the billing system's list (may repair);
    # "door": not an action a billing system names but an endpoint of its own that runs
    # the account actions from another system's events, signed its way (§12: /stripe).
    kind: str
    schema: str  # the class in shared/web/schemas.py that validates its body ("": a door)
    summary: str  # OpenAPI's summary (docs/interface.md §1)
    created: bool = False  # answers 201 when it made something
    scheduler_default: bool = False  # a scheduler's token may call it unless configured


TABLE: tuple[Action, ...] = (
    Action(
        "create",
        "account",
        "CreateSchema",
        "Ensure the account exists with the plan, password and ownership marker",
        created=True,
    ),
    Action("suspend", "account", "SuspendSchema", "Disable the account"),
    Action("unsuspend", "account", "AccountSchema", "Enable the account again"),
    Action("terminate", "account", "TerminateSchema", "Delete the account"),
    Action("upgrade", "account", "UpgradeSchema", "Apply a new template and limits"),
    Action("password", "account", "PasswordSchema", "Set a new password"),
    Action(
        "sso",
        "read",
        "SsoSchema",
        "Mint a one-time login URL for the account (optionally landing on one panel "
        "page), or for the server admin",
    ),
    Action(
        "usage",
        "read",
        "UsageSchema",
        "Disk and traffic usage and the template of every account on one or all "
        "servers, or of one account; with `counts`, its domains, mailboxes, databases "
        "and FTP users",
        scheduler_default=True,
    ),
    Action(
        "check",
        "read",
        "FleetSchema",
        "Test each server's credentials and the functions the integration needs",
        scheduler_default=True,
    ),
    Action(
        "reconcile",
        "server",
        "ReconcileSchema",
        "Compare the billing system's list of services with one server's accounts; "
        "optionally repair",
    ),
    Action(
        "status",
        "read",
        "StatusSchema",
        "One service's account as the panel holds it, and the decisions it records (read-only)",
    ),
    Action(
        "stripe",
        "door",
        "",
        "Stripe Billing's webhook endpoint: a signed subscription event creates, resumes, "
        "re-plans, suspends or terminates the subscription's account",
    ),
)

BY_NAME: dict[str, Action] = {action.name: action for action in TABLE}
# The actions: what `isphooks send` sends, a schema validates, `scheduler.actions` may list.
NAMES: tuple[str, ...] = tuple(a.name for a in TABLE if a.kind != "door")
# The doors: each a function and a path of its own, with its own signature (§12).
DOORS: tuple[str, ...] = tuple(a.name for a in TABLE if a.kind == "door")
# The actions that carry a billing decision about one account (`event_time`, §4).
ACCOUNT_ACTIONS: frozenset[str] = frozenset(a.name for a in TABLE if a.kind == "account")
# What a scheduler's bearer token may call without being listed in `scheduler.actions`.
SCHEDULER_DEFAULT_ACTIONS: frozenset[str] = frozenset(a.name for a in TABLE if a.scheduler_default)
