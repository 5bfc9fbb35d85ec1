"""What the integration and end-to-end tiers share: a config for a simulator, signed
deliveries made by the `standardwebhooks` package (the outside reference), and the
simulator's view of writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests import hygiene
from tests.ispsim import Simulator

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_0jX++fpYZ9ISbgoEPIUyV0nweagQT1MK"
LIMITS = {
    "limit_quota": "1000",
    "limit_traff": "10000",
    "limit_db": "5",
    "limit_db_users": "5",
    "limit_ftp_users": "3",
    "limit_webdomains": "2",
    "limit_emaildomains": "2",
    "limit_emails": "20",
    "limit_email_quota": "500",
    "limit_memory": "512",
    "limit_cpu": "100",
    "limit_process": "40",
}
FULL_LIMITS = {
    "disk_mib": 2048,
    "traffic_mib": 40960,
    "databases": 10,
    "database_users": 11,
    "ftp_users": 4,
    "web_domains": 6,
    "mail_domains": 7,
    "mailboxes": 50,
    "mailbox_quota_mib": 1024,
    "memory_mib": 768,
    "cpu_time": 150,
    "processes": 60,
}
FULL_LIMITS_PANEL = {
    "limit_quota": "2048",
    "limit_traff": "40960",
    "limit_db": "10",
    "limit_db_users": "11",
    "limit_ftp_users": "4",
    "limit_webdomains": "6",
    "limit_emaildomains": "7",
    "limit_emails": "50",
    "limit_email_quota": "1024",
    "limit_memory": "768",
    "limit_cpu": "150",
    "limit_process": "60",
}


class _TrackedSimulator(Simulator):
    """A simulator whose secrets (admin password, every password and key sent to it) join
    the suite-wide log hygiene scan when it stops."""

    def stop(self) -> None:
        hygiene.remember(self.admin_password, *self.seen_secrets)
        super().stop()


def start_sim(**kwargs: Any) -> Simulator:
    sim = _TrackedSimulator(**kwargs).start()
    sim.add_preset("basic", dict(LIMITS))
    sim.add_preset("pro", {**LIMITS, "limit_quota": "5000", "limit_db": "50"})
    return sim


def server_entry(sim: Simulator, **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "url": sim.url,
        "username": sim.admin_login,
        "password": sim.admin_password,
        "edition": sim.edition,
        "tls": {"ca_pem": sim.ca_pem},
        "timeout_s": 5,
    }
    entry.update(overrides)
    return entry


def write_config(path: Path, sim: Simulator, **overrides: Any) -> Path:
    doc = {
        "webhook_secrets": [OLD_SECRET, SECRET],
        "servers": {"isp1": server_entry(sim, **overrides)},
    }
    path.write_text(json.dumps(doc))
    return path


def signed(
    body: Any, secret: str = SECRET, msg_id: str | None = None, at: int | None = None
) -> tuple[bytes, dict]:
    """`body` signed now (or at the Unix second `at`) by the `standardwebhooks` package."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    now = datetime.now(tz=UTC) if at is None else datetime.fromtimestamp(at, tz=UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, raw.decode()),
        "Content-Type": "application/json",
    }
    return raw, headers


def list_reads(rows: int, dialect: Any) -> int:
    """How many reads a list of `rows` rows takes, from the interface's words (§9, Lists): a
    panel that pages answers at most `page_size` rows a read; with `p_elems` the client stops
    once it has read that many rows, without it at the first page holding fewer rows than
    `p_cnt` (an empty one included). A panel that does not page answers in one read."""
    size = getattr(dialect, "page_size", 0)
    if not size:
        return 1
    if getattr(dialect, "page_total", True):
        return max(1, -(-rows // size))
    return rows // size + 1


def writes(sim: Simulator) -> list[dict[str, Any]]:
    return [entry for entry in sim.journal if entry["write"]]


ORDER_PREFIX = "isphooks:order="  # the order record's line (docs/interface.md §4)


def without_record(comment: str) -> str:
    """The comment without its order record line: what the account's comment says beside
    the record every decision writes (v1.3: an untimed decision is recorded too)."""
    return "\n".join(line for line in comment.split("\n") if not line.startswith(ORDER_PREFIX))


def record_line(comment: str) -> str | None:
    """The order record line of a comment, without its prefix; None when there is none."""
    found = [
        line[len(ORDER_PREFIX) :] for line in comment.split("\n") if line.startswith(ORDER_PREFIX)
    ]
    return found[0] if found else None


def value_writes(sim: Simulator) -> list[str]:
    """The funcs of the writes that change a value: every write but an edit that carries
    only the comment (the order record, a reason)."""
    return [
        e["func"]
        for e in sim.journal
        if e["write"]
        and not (
            e["func"].endswith(".edit")
            and set(e["params"]) <= {"elid", "sok", "comment", "authinfo", "lang"}
        )
    ]


def create_body(service_id: str = "1001", username: str = "bob", **extra: Any) -> dict:
    body = {
        "service_id": service_id,
        "server": "isp1",
        "username": username,
        "password": "Initial-Pass-123",
        "plan": {"template": "basic"},
    }
    body.update(extra)
    return body
