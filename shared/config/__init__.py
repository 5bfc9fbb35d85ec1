"""The secret config document: its schema, the stores it is read from, and the TTL cache.

`ISPHOOKS_SECRETS` names the store (docs/interface.md §6). The document is read once per
instance and cached: a `file:` store until the file changes (its modification time, size
or inode), a network store for `ISPHOOKS_SECRETS_TTL` seconds; `reload_if_stale` re-reads
it once when a panel refuses the credentials, so a rotated password is picked up at once.
A store that cannot be read is `ConfigUnavailable` (503); an invalid document is
`ConfigInvalid` (500) naming the bad key, never quoting a value.
"""

from shared.actions import NAMES as ACTIONS
from shared.actions import SCHEDULER_DEFAULT_ACTIONS
from shared.config.cache import CACHE, ConfigCache, read_document
from shared.config.document import normalize_pin, parse_document, parse_server
from shared.config.model import (
    DEFAULT_TTL_S,
    EDITIONS,
    ENV_STORE,
    ENV_TTL,
    FAILED_READ_BACKOFF_S,
    GOOGLE_CERTS_URL,
    MAX_RESPONSE_MIB,
    RESELLER_EDITIONS,
    Config,
    Scheduler,
    Server,
    Tls,
    UsageCallback,
    names_action,
)

__all__ = [
    "ACTIONS",
    "CACHE",
    "DEFAULT_TTL_S",
    "EDITIONS",
    "ENV_STORE",
    "ENV_TTL",
    "FAILED_READ_BACKOFF_S",
    "GOOGLE_CERTS_URL",
    "MAX_RESPONSE_MIB",
    "RESELLER_EDITIONS",
    "SCHEDULER_DEFAULT_ACTIONS",
    "Config",
    "ConfigCache",
    "Scheduler",
    "Server",
    "Tls",
    "UsageCallback",
    "names_action",
    "normalize_pin",
    "parse_document",
    "parse_server",
    "read_document",
]
