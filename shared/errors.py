"""One error tree: each class knows its HTTP status, code and `retry_after_s`.

Three families (docs/interface.md §5): `ClientError` (4xx: the same request fails again, do
not retry it), `ServerError` (5xx: retry later), and under it `RetryLater` (503 with
`Retry-After`). `retryable` is derived from the status and never set by hand. `CODES` lists
the one class of each error code; OpenAPI's error table is built from it and the
interface's §5 is checked against it (tests/unit/test_errors.py).
"""

from __future__ import annotations

from typing import Any


class IsphooksError(Exception):
    """Every answer of isphooks that is not a success."""

    status: int = 500
    code: str = "internal"
    retry_after_s: int | None = None  # seconds for a Retry-After header

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    @property
    def retryable(self) -> bool:
        return self.status >= 500

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.fields is not None:
            error["fields"] = self.fields
        return {"error": error}


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error messages as `{"a.b.c": [reasons]}`. Schema-level errors
    belong to their parent (`_body` at the top); a Dict field's `value` errors to its entry
    and `key` errors to `<entry> (name)`. Only field paths and reasons, never values."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, sub in messages.items():
            if key == "_schema" or (key == "value" and prefix):
                path = prefix
            elif key == "key" and prefix:
                path = f"{prefix} (name)"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for name, reasons in flatten_errors(sub, path).items():
                out.setdefault(name, []).extend(reasons)
        return out
    if isinstance(messages, list) and not all(isinstance(m, str) for m in messages):
        out = {}
        for item in messages:
            for name, reasons in flatten_errors(item, prefix).items():
                out.setdefault(name, []).extend(reasons)
        return out
    reasons = messages if isinstance(messages, list) else [messages]
    return {prefix or "_body": [str(m) for m in reasons]}


class ClientError(IsphooksError):
    """4xx: the request itself is wrong or refused; the same request fails again."""

    status = 400


class ServerError(IsphooksError):
    """5xx: isphooks, the panel or a store failed; a retry of the same request converges."""

    status = 500


class RetryLater(ServerError):
    """503: something isphooks depends on is unavailable for now; `Retry-After` says when."""

    status = 503
    retry_after_s = 30


class Internal(ServerError):
    """A bug (never for bad input)."""

    status, code = 500, "internal"


class InvalidRequest(ClientError):
    status, code = 400, "invalid_request"


class Unauthenticated(ClientError):
    status, code = 401, "unauthenticated"


class UnknownServer(ClientError):
    status, code = 404, "unknown_server"


class AccountNotFound(ClientError):
    status, code = 404, "account_not_found"


class NotFound(ClientError):
    status, code = 404, "not_found"


class MethodNotAllowed(ClientError):
    status, code = 405, "method_not_allowed"


class Conflict(ClientError):
    status, code = 409, "conflict"


class UnownedAccount(ClientError):
    status, code = 409, "unowned_account"


class PayloadTooLarge(ClientError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ClientError):
    status, code = 415, "unsupported_media_type"


class HeadersTooLarge(ClientError):
    """`isphooks serve`: a request head over 16 KiB (answered by serve, before the handler)."""

    status, code = 431, "headers_too_large"


class PanelRejected(ClientError):
    status, code = 422, "panel_rejected"


class Unsupported(ClientError):
    status, code = 422, "unsupported"


class NoCapacity(ClientError):
    status, code = 422, "no_capacity"


class TooManyChanges(ClientError):
    """A `reconcile` that would repair more than `max_repairs`: nothing was changed, and the
    full report rides in the error body (`error.report`) for the operator to judge."""

    status, code = 422, "too_many_changes"

    def __init__(self, message: str, *, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["report"] = self.report
        return body


class PanelError(ServerError):
    status, code = 502, "panel_error"


class PanelAuthRefused(PanelError):
    """The panel refused our credentials: worth one config re-read (rotation)."""


class PanelUnavailable(RetryLater):
    code = "panel_unavailable"


class CallbackUndelivered(RetryLater):
    """`usage` ran, but its signed callback did not reach the billing system: 503 so that
    the scheduler runs it again."""

    status, code = 503, "callback_failed"
    retry_after_s = 300


class ConfigUnavailable(RetryLater):
    code = "config_unavailable"


class ConfigInvalid(Internal):
    """An invalid configuration document: 500, naming the bad key, never a value."""


class PanelObjectError(PanelRejected):
    """A `doc.error` from the panel; actions catch the `exists`/`missed` cases they expect."""

    def __init__(self, message: str, *, err_type: str, err_object: str) -> None:
        super().__init__(message)
        self.err_type = err_type
        self.err_object = err_object


class PanelExists(PanelObjectError):
    """The panel says the object exists: answered as a `conflict` when not converged."""

    status, code = 409, "conflict"


class PanelMissing(PanelObjectError):
    pass


class ServerBusy(RetryLater):
    """`isphooks serve`: every connection slot, or the client address's share, is taken."""

    code = "server_busy"
    retry_after_s = 1


# The one class of each code, in the order of docs/interface.md §5.
CODES: tuple[type[IsphooksError], ...] = (
    InvalidRequest,
    Unauthenticated,
    UnknownServer,
    AccountNotFound,
    NotFound,
    MethodNotAllowed,
    Conflict,
    UnownedAccount,
    PayloadTooLarge,
    UnsupportedMediaType,
    HeadersTooLarge,
    PanelRejected,
    Unsupported,
    NoCapacity,
    TooManyChanges,
    Internal,
    PanelError,
    PanelUnavailable,
    ConfigUnavailable,
    CallbackUndelivered,
    ServerBusy,
)


def codes_by_status() -> dict[int, list[str]]:
    """{status: [codes]}, from CODES: OpenAPI's error table."""
    table: dict[int, list[str]] = {}
    for cls in CODES:
        table.setdefault(cls.status, []).append(cls.code)
    return dict(sorted(table.items()))
