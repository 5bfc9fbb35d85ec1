"""Structured JSON logs, one object per line on stdout (Cloud Logging's format).

Records are built from an allow-list of fields: a password, key or secret has no field to
travel in. Free text (messages, tracebacks) goes through `redact` as a second line of
defence.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

ALLOWED_FIELDS = frozenset(
    {
        "action",
        "webhook_id",
        "offered_webhook_id",
        "server",
        "username",
        "service_id",
        "duration_ms",
        "outcome",
        "status",
        "http_status",
        "code",
        "reason",
        "panel_func",
        "error",
        "tls_warning",
        "traceback",
        "auth",
        # the order rule (docs/interface.md §4): a delivery's repairs
        "aspect",
        "event_time",
        "recorded_event_time",
        "repaired",
    }
)
SEVERITIES = frozenset({"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"})

_WHSEC_RE = re.compile(r"whsec_[A-Za-z0-9+/=]*")
_ASSIGNMENT_RE = re.compile(
    r"\b(authinfo|passwd|password|confirm|key)([\"']?\s*[=:]\s*[\"']?)[^&\s'\",}]+",
    re.IGNORECASE,
)
_known_secrets: tuple[str, ...] = ()  # longest first
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret value (from the config) so that `redact` can scrub it anywhere."""
    global _known_secrets
    if len(value) >= 4:
        with _lock:
            _known_secrets = tuple(sorted({*_known_secrets, value}, key=len, reverse=True))


def redact(text: str) -> str:
    for value in _known_secrets:
        if value in text:
            text = text.replace(value, "***")
    if "whsec_" in text:
        text = _WHSEC_RE.sub("whsec_***", text)
    if "=" in text or ":" in text:  # what an assignment needs
        text = _ASSIGNMENT_RE.sub(r"\1\2***", text)
    return text.replace("authinfo", "auth***")


def log(severity: str, message: str, **fields: Any) -> None:
    if severity not in SEVERITIES:
        severity = "INFO"
    record: dict[str, Any] = {"severity": severity, "message": redact(message)}
    for name, value in fields.items():
        if name not in ALLOWED_FIELDS or value is None:
            continue
        if isinstance(value, str):
            value = redact(value)
        elif not isinstance(value, bool | int | float):
            value = redact(str(value))
        record[name] = value
    line = json.dumps(record, separators=(",", ":"), sort_keys=False)
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
