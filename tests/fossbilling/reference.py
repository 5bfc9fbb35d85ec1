"""The identity the FOSSBilling manager derives, computed the way the spec states it, on
Python's `idna` (IDNA 2008 with UTS #46, as isphooks normalises domains): the reference the
PHP code (its own punycode encoder and lowercase table) is held to."""

from __future__ import annotations

import hashlib
import re

import idna


def a_label(domain: str) -> str:
    return idna.encode(domain.strip().rstrip("."), uts46=True).decode()


def service_id(email: str, domain: str) -> str:
    """fb- + the first 20 hex digits of SHA-256 of "<e-mail, lowercased>|<A-label>"."""
    digest = hashlib.sha256(f"{email.strip().lower()}|{a_label(domain)}".encode()).hexdigest()
    return "fb-" + digest[:20]


def username(domain: str) -> str:
    """generateUsername: the A-label stripped to a-z0-9, `u` in front unless it starts with a
    letter, cut to 12, and 4 hex digits of the A-label's SHA-256 (16 in all)."""
    label = a_label(domain)
    stem = re.sub(r"[^a-z0-9]", "", label)
    if not re.match(r"[a-z]", stem):
        stem = "u" + stem
    return stem[:12] + hashlib.sha256(label.encode()).hexdigest()[:4]
