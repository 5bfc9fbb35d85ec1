"""The business edition's IP addresses: one shared IPv4 plus pools handed out to accounts."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .wire import ApiError

FAMILIES: tuple[str, ...] = ("ipv4", "ipv6")
SHARED_IPV4 = "198.51.100.1"
# Documentation ranges (RFC 5737 / RFC 3849): never routable, safe in any test log.
DEFAULT_POOL: dict[str, tuple[str, ...]] = {
    "ipv4": tuple(f"203.0.113.{i}" for i in range(10, 30)),
    "ipv6": tuple(f"2001:db8::{i}" for i in range(10, 30)),
}


def canonical(address: str) -> str | None:
    """The address in the panel's spelling, or None when it is not an IP address."""
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def family_of(address: str) -> str:
    return "ipv4" if ipaddress.ip_address(address).version == 4 else "ipv6"


def _sort_key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return ip.version, int(ip)


class IpPool:
    """Free and assigned addresses. Not locked: the panel calls it under its own lock."""

    def __init__(self) -> None:
        self.free: dict[str, list[str]] = {f: list(DEFAULT_POOL[f]) for f in FAMILIES}
        self.assigned: dict[str, str] = {}  # address -> owner login (kept after a delete)

    def set_free(self, family: str, addresses: Iterable[str]) -> None:
        """Replace one family's free pool; addresses assigned already stay assigned."""
        pool: set[str] = set()
        for address in addresses:
            ip = canonical(address)
            if ip is None or family_of(ip) != family:
                raise ValueError(f"{address!r} is not an {family} address")
            if ip not in self.assigned and ip != SHARED_IPV4:
                pool.add(ip)
        self.free[family] = sorted(pool, key=_sort_key)

    def pick(self, family: str, name: str = "") -> str:
        """The free address an assignment would take (lowest first); changes nothing, so
        callers can validate everything else before they assign."""
        free = self.free[family]
        if not name:
            if not free:
                raise ApiError("limit", "ipaddr", f"No free {family} address left")
            return free[0]
        ip = canonical(name)
        if ip is None or ip not in free:
            raise ApiError("value", "name", f"'{name}' is not a free {family} address")
        return ip

    def assign(self, address: str, owner: str) -> None:
        self.free[family_of(address)].remove(address)
        self.assigned[address] = owner

    def release(self, addresses: Iterable[str]) -> None:
        """Return assigned addresses to the pool; all or nothing."""
        found: list[str] = []
        for address in addresses:
            ip = canonical(address)
            if ip is None or ip not in self.assigned:
                raise ApiError("missed", "ipaddr", f"IP address '{address}' is not assigned")
            found.append(ip)
        for ip in dict.fromkeys(found):
            del self.assigned[ip]
            free = self.free[family_of(ip)]
            free.append(ip)
            free.sort(key=_sort_key)

    def reassign(self, address: str, owner: str) -> str:
        ip = canonical(address)
        if ip is None or ip not in self.assigned:
            raise ApiError("missed", "ipaddr", f"IP address '{address}' is not assigned")
        self.assigned[ip] = owner
        return ip

    def owned_by(self, login: str) -> list[str]:
        return [ip for ip, owner in self.assigned.items() if owner == login]

    def record(self, address: str) -> dict[str, str] | None:
        ip = canonical(address)
        if ip == SHARED_IPV4:
            return {"family": "ipv4", "iprole": "shared", "owner": ""}
        owner = self.assigned.get(ip) if ip is not None else None
        if ip is None or owner is None:
            return None
        return {"family": family_of(ip), "iprole": "assigned", "owner": owner}

    def listing(self, owner: str | None = None) -> list[dict[str, object]]:
        """List rows: the shared address and every assigned one, or only `owner`'s."""
        addresses = sorted(self.assigned, key=_sort_key)
        if owner is None:
            addresses.insert(0, SHARED_IPV4)
        else:
            addresses = [ip for ip in addresses if self.assigned[ip] == owner]
        return [{"name": ip, **(self.record(ip) or {})} for ip in addresses]

    def snapshot(self) -> dict[str, dict[str, str]]:
        return {ip: self.record(ip) or {} for ip in sorted(self.assigned, key=_sort_key)}
