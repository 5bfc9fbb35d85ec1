"""marshmallow is imported with its e-mail validator's patterns compiled on first use
(shared/lazyre.py). Checked in a fresh interpreter, where the import order is the real one."""

from __future__ import annotations

import json
import subprocess
import sys

from shared.lazyre import LazyPattern

PROBE = """
import json, re, sys
real = re.compile
import shared.config  # the first isphooks import of a function
import marshmallow.validate as v
from marshmallow import ValidationError
lazy_before = [type(p).__name__ for p in (v.Email.USER_REGEX, v.Email.DOMAIN_REGEX)]
ok = v.Email()("ops@xn--80ak6aa92e.example")
try:
    v.Email()("not an address")
    refused = False
except ValidationError:
    refused = True
print(json.dumps({"lazy": lazy_before, "ok": ok, "refused": refused,
                  "compile_restored": re.compile is real,
                  "regexp_is_real": isinstance(v.Regexp("a+").regex, re.Pattern)}))
"""


def test_email_patterns_are_lazy_and_still_validate():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {
        "lazy": ["LazyPattern", "LazyPattern"],
        "ok": "ops@xn--80ak6aa92e.example",
        "refused": True,
        "compile_restored": True,
        "regexp_is_real": True,
    }


def test_lazy_pattern_compiles_once_and_hides_dunders():
    pattern = LazyPattern("^a+$", 0)
    assert not hasattr(pattern, "__isabstractmethod__")  # class creation must not compile
    assert pattern._compiled is None
    assert pattern.match("aaa") and not pattern.match("b")
    compiled = pattern._compiled
    assert pattern.fullmatch("a") and pattern._compiled is compiled


LAZY_TEXT = """
import json, sys
import functions.main  # what every function imports
from shared.web import schemas
body = {"service_id": "1", "server": "isp1", "username": "bob", "plan": {"template": "b"}}
schemas.load("create", body)
schemas.load("suspend", {"service_id": "1", "server": "isp1", "username": "bob",
                         "reason": "Неоплата"})
before = "email_validator" in sys.modules
schemas.load("create", {**body, "email": "ivan@почта.рф"})
print(json.dumps({"before": before, "after": "email_validator" in sys.modules}))
"""


def test_the_email_validator_is_imported_only_by_a_request_with_an_email():
    """Cold start does not grow: email-validator (~60 ms to import) loads with the first
    request that carries an e-mail address, not before."""
    out = subprocess.run(
        [sys.executable, "-c", LAZY_TEXT], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {"before": False, "after": True}
