"""Every action as a functions-framework entry point named after it.

Deployed, this file is `main.py` at the source root and each Cloud Function picks its
entry point; locally `isphooks serve` routes `POST /<action>` to the same handlers. An
action's module is imported on its first request, so a function deployed for `suspend`
never pays for what `usage` or `create` import (cold starts are billed).
"""

from __future__ import annotations

import gc

# What this module imports lives as long as the instance: no cyclic collection while it
# loads (~8 ms of every cold start), then frozen out of later collections. gunicorn forks
# its worker after loading this module, and frozen objects also stay shared with it
# (see the `gc.freeze` documentation).
gc.disable()

import importlib
from collections.abc import Callable

import flask

from shared import actions
from shared.context import ActionRequest, Result
from shared.web.http import handle

gc.freeze()
gc.enable()

# The actions, named once in shared/actions.py (tests/unit/test_actions.py holds this file to
# it): each has an entry point below and a module functions/<action>.py.
ACTIONS = actions.NAMES


def run_of(action: str) -> Callable[[ActionRequest], Result]:
    """The decision function of an action (`functions/<action>.py`)."""
    run: Callable[[ActionRequest], Result] = importlib.import_module(f"functions.{action}").run
    return run


def create(request: flask.Request) -> flask.Response:
    return handle("create", run_of("create"), request)


def suspend(request: flask.Request) -> flask.Response:
    return handle("suspend", run_of("suspend"), request)


def unsuspend(request: flask.Request) -> flask.Response:
    return handle("unsuspend", run_of("unsuspend"), request)


def terminate(request: flask.Request) -> flask.Response:
    return handle("terminate", run_of("terminate"), request)


def upgrade(request: flask.Request) -> flask.Response:
    return handle("upgrade", run_of("upgrade"), request)


def password(request: flask.Request) -> flask.Response:
    return handle("password", run_of("password"), request)


def sso(request: flask.Request) -> flask.Response:
    return handle("sso", run_of("sso"), request)


def usage(request: flask.Request) -> flask.Response:
    return handle("usage", run_of("usage"), request)


def check(request: flask.Request) -> flask.Response:
    return handle("check", run_of("check"), request)


def reconcile(request: flask.Request) -> flask.Response:
    return handle("reconcile", run_of("reconcile"), request)


def status(request: flask.Request) -> flask.Response:
    return handle("status", run_of("status"), request)


def stripe(request: flask.Request) -> flask.Response:
    """Stripe Billing's webhook endpoint (docs/stripe.md): not an action of the table but a
    door of its own, with Stripe's signature. Imported on its first request only."""
    from shared.stripe.handler import handle as handle_stripe

    return handle_stripe(request, run_of)
