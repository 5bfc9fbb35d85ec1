"""Text as customers write it (docs/interface.md §3, "Text"): domain names, e-mail
addresses and free text such as a suspension reason.

- A domain is normalised with IDNA 2008 and the UTS #46 mapping (lowercase, no transitional
  mapping) by the `idna` package, and the panel gets its A-label form.
- An e-mail address is checked by `email-validator` (no DNS): an ASCII dot-atom name, and a
  domain that may be internationalized, sent as its A-label form.
- Free text is any letter, mark, digit, punctuation, symbol or space of any script, on one
  line, judged by Unicode category (`unicodedata`), not by a hand-made list of ranges.

`idna` and `email_validator` are imported inside the functions: a request without a domain
or an e-mail address pays nothing for them (email-validator's import alone is ~60 ms).
Each function raises `ValueError` with a message fit for the caller (it may quote the
offending character or label: none of these values is a secret).
"""

from __future__ import annotations

import unicodedata

MAX_DOMAIN_OCTETS = 253
MAX_LABEL_OCTETS = 63
MAX_FREE_TEXT = 200  # code points
# Joiners that scripts need (Persian, Indic): format characters, yet allowed.
_JOINERS = frozenset("\u200c\u200d")
_ALLOWED_CLASSES = frozenset("LMNPS")  # letters, marks, digits, punctuation, symbols
_CATEGORY_NAMES = {
    "Cc": "a control character",
    "Cf": "a format or bidi control character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}
_DOMAIN_HINT = "a domain name such as example.com or сайт.рф"


def refused_character(value: str) -> str | None:
    """The first character free text may not hold, described ("U+2028 (a line
    separator)"); None when every character is allowed."""
    for char in value:
        category = unicodedata.category(char)
        if category[0] in _ALLOWED_CLASSES or category == "Zs" or char in _JOINERS:
            continue
        return f"U+{ord(char):04X} ({_CATEGORY_NAMES.get(category, 'not allowed')})"
    return None


def free_text(value: str, limit: int = MAX_FREE_TEXT) -> str:
    """`value` when it is one line of at most `limit` allowed characters."""
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    refused = refused_character(value)
    if refused is not None:
        raise ValueError(
            f"one line of letters, digits, punctuation, symbols and spaces; "
            f"{refused} is not allowed"
        )
    return value


def domain(value: str) -> str:
    """The A-label form of a domain name (`сайт.рф` → `xn--80aswg.xn--p1ai`), lowercased,
    without its one trailing dot."""
    if any(unicodedata.category(char)[0] in "CZ" and char not in _JOINERS for char in value):
        raise ValueError(f"{_DOMAIN_HINT}, without spaces, control or bidi characters")
    if "/" in value or ":" in value or "\\" in value:
        raise ValueError(f"{_DOMAIN_HINT}, without a scheme, port or path")
    if any(char in value for char in "<>\"'&@"):
        raise ValueError(f"{_DOMAIN_HINT}, without markup or an address")
    name = value[:-1] if value.endswith(".") else value
    import idna  # lazily: see the module's docstring

    try:
        a_label = idna.encode(name, uts46=True, transitional=False, std3_rules=True).decode()
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise ValueError(f"{_DOMAIN_HINT}: {_idna_reason(exc)}") from None
    labels = a_label.split(".")
    if len(labels) < 2:
        raise ValueError(f"{_DOMAIN_HINT}: a single label is not a domain a registrar sells")
    if len(a_label) > MAX_DOMAIN_OCTETS or any(len(x) > MAX_LABEL_OCTETS for x in labels):
        raise ValueError(f"{_DOMAIN_HINT}: at most 63 octets a label and 253 in all")
    top = labels[-1]
    if not (top.isalpha() or top.startswith("xn--")):
        raise ValueError(f"{_DOMAIN_HINT}: the top-level label must be letters")
    return a_label


def _idna_reason(exc: Exception) -> str:
    """IDNA's own reason, on one line and cut short."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return reason[:120]


def email(value: str) -> str:
    """The address with its domain as an A-label (`ivan@почта.рф` →
    `ivan@xn--80a1acny.xn--p1ai`)."""
    from email_validator import EmailNotValidError, validate_email  # lazily: see above

    try:
        checked = validate_email(
            value,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
            strict=True,
        )
    except EmailNotValidError as exc:
        raise ValueError(
            "an e-mail address such as name@example.com (an ASCII dot-atom name "
            f"and a domain): {exc}"
        ) from None
    address: str = checked.ascii_email or ""
    top = address.rpartition(".")[2]
    if not (top.isalpha() or top.startswith("xn--")):
        raise ValueError(
            "an e-mail address such as name@example.com: the top-level label "
            "of its domain must be letters"
        )
    return address
