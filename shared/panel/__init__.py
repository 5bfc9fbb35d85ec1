"""The ISPmanager 6 client, split along its three jobs (as botocore splits endpoint,
parsers and client):

- `transport`: sessions, TLS pinning, the deadline watchdog, the byte cap: bytes in,
  bytes out, every failure a 503;
- `answers`: reading what the panel answers, in every shape it may take, and its errors;
- `accounts`: the account operations the functions call (`Panel`).

What the functions use is exposed here.
"""

from shared.panel.accounts import MASK, SECRET_PARAMS, Account, IpAddress, Panel, Row, masked
from shared.panel.answers import Whoami, elems, flag, map_error, read_whoami, text
from shared.panel.params import LIMIT_FIELDS, RESELLER_LIMIT_FIELDS, limit_fields
from shared.panel.transport import MIN_CALL_S

__all__ = [
    "LIMIT_FIELDS",
    "MASK",
    "MIN_CALL_S",
    "RESELLER_LIMIT_FIELDS",
    "SECRET_PARAMS",
    "Account",
    "IpAddress",
    "Panel",
    "Row",
    "Whoami",
    "elems",
    "flag",
    "limit_fields",
    "map_error",
    "masked",
    "read_whoami",
    "text",
]
