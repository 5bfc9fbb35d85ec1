"""Every action as a functions-framework entry point named after it.

Deployed, this file is `main.py` at the source root and each Cloud Function picks its
entry point; locally `isphooks serve` routes `POST /<action>` to the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable

import flask

from functions import check as _check
from functions import create as _create
from functions import password as _password
from functions import sso as _sso
from functions import suspend as _suspend
from functions import terminate as _terminate
from functions import unsuspend as _unsuspend
from functions import upgrade as _upgrade
from functions import usage as _usage
from shared.context import ActionRequest, Result
from shared.http import handle

ACTIONS: dict[str, Callable[[ActionRequest], Result]] = {
    "create": _create.run,
    "suspend": _suspend.run,
    "unsuspend": _unsuspend.run,
    "terminate": _terminate.run,
    "upgrade": _upgrade.run,
    "password": _password.run,
    "sso": _sso.run,
    "usage": _usage.run,
    "check": _check.run,
}


def create(request: flask.Request) -> flask.Response:
    return handle("create", _create.run, request)


def suspend(request: flask.Request) -> flask.Response:
    return handle("suspend", _suspend.run, request)


def unsuspend(request: flask.Request) -> flask.Response:
    return handle("unsuspend", _unsuspend.run, request)


def terminate(request: flask.Request) -> flask.Response:
    return handle("terminate", _terminate.run, request)


def upgrade(request: flask.Request) -> flask.Response:
    return handle("upgrade", _upgrade.run, request)


def password(request: flask.Request) -> flask.Response:
    return handle("password", _password.run, request)


def sso(request: flask.Request) -> flask.Response:
    return handle("sso", _sso.run, request)


def usage(request: flask.Request) -> flask.Response:
    return handle("usage", _usage.run, request)


def check(request: flask.Request) -> flask.Response:
    return handle("check", _check.run, request)
