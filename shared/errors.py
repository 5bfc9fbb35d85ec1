"""One error hierarchy: each class knows its HTTP status, code and retryability.

4xx means "do not retry the same request", 5xx means "retry later" (docs/interface.md §5), so
`retryable` is derived from the status and never set by hand.
"""

from __future__ import annotations

from typing import Any


class IsphooksError(Exception):
    status: int = 500
    code: str = "internal"

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


class InvalidRequest(IsphooksError):
    status, code = 400, "invalid_request"


class Unauthenticated(IsphooksError):
    status, code = 401, "unauthenticated"


class UnknownServer(IsphooksError):
    status, code = 404, "unknown_server"


class AccountNotFound(IsphooksError):
    status, code = 404, "account_not_found"


class NotFound(IsphooksError):
    status, code = 404, "not_found"


class MethodNotAllowed(IsphooksError):
    status, code = 405, "method_not_allowed"


class Conflict(IsphooksError):
    status, code = 409, "conflict"


class UnownedAccount(IsphooksError):
    status, code = 409, "unowned_account"


class PayloadTooLarge(IsphooksError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(IsphooksError):
    status, code = 415, "unsupported_media_type"


class PanelRejected(IsphooksError):
    status, code = 422, "panel_rejected"


class Unsupported(IsphooksError):
    status, code = 422, "unsupported"


class NoCapacity(IsphooksError):
    status, code = 422, "no_capacity"


class TooManyChanges(IsphooksError):
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


class PanelError(IsphooksError):
    status, code = 502, "panel_error"


class PanelAuthRefused(PanelError):
    """The panel refused our credentials: worth one config re-read (rotation)."""


class PanelUnavailable(IsphooksError):
    status, code = 503, "panel_unavailable"
    retry_after_s = 30


class CallbackUndelivered(IsphooksError):
    """`usage` ran, but its signed callback did not reach the billing system: 503 so that
    the scheduler runs it again."""

    status, code = 503, "callback_failed"
    retry_after_s = 300


class ConfigUnavailable(IsphooksError):
    status, code = 503, "config_unavailable"
    retry_after_s = 30


class ConfigInvalid(IsphooksError):
    status, code = 500, "internal"


class PanelObjectError(IsphooksError):
    """A `doc.error` from the panel; actions catch the `exists`/`missed` cases they expect."""

    status, code = 422, "panel_rejected"

    def __init__(self, message: str, *, err_type: str, err_object: str) -> None:
        super().__init__(message)
        self.err_type = err_type
        self.err_object = err_object


class PanelExists(PanelObjectError):
    status, code = 409, "conflict"


class PanelMissing(PanelObjectError):
    pass
