"""The panel parameters isphooks sends for a plan: the allow-list of docs/interface.md §3."""

from __future__ import annotations

# Request field (under plan.limits) → panel parameter: the allow-list of docs/interface.md §3.
LIMIT_FIELDS = {
    "disk_mib": "limit_quota",
    "traffic_mib": "limit_traff",
    "databases": "limit_db",
    "database_users": "limit_db_users",
    "ftp_users": "limit_ftp_users",
    "web_domains": "limit_webdomains",
    "mail_domains": "limit_emaildomains",
    "mailboxes": "limit_emails",
    "mailbox_quota_mib": "limit_email_quota",
    "memory_mib": "limit_memory",
    "cpu_time": "limit_cpu",
    "processes": "limit_process",
}
RESELLER_LIMIT_FIELDS = {
    "users": "limit_users",
    "ipv4_addresses": "limit_ipv4addrs",
    "ipv6_addresses": "limit_ipv6addrs",
}


def limit_fields(kind: str) -> dict[str, str]:
    """The limits an account of this kind takes: request field → panel parameter."""
    return LIMIT_FIELDS | (RESELLER_LIMIT_FIELDS if kind == "reseller" else {})
