# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of option values that the Engine API would store as given, or refuse only after other changes.

Pure functions: each raises SwarmopsError whose message names the option, the value and what is accepted, so a
module calls them all before its first write.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

# Docker's names for services, networks, secrets and configs: a letter or digit first, then these.
OBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# docker-machine's rule for machine names, which become host names.
MACHINE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62})$")
INTERFACE = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,14}$")


def integer(option: str, value, minimum: int | None = None, maximum: int | None = None,
            what: str = "a number") -> int | None:
    """value (None passes) within [minimum, maximum]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SwarmopsError(f"{option}: {value!r} is not {what} (a whole number)")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        accepted = (f"{minimum} to {maximum}" if maximum is not None else f"{minimum} or more") \
            if minimum is not None else f"at most {maximum}"
        raise SwarmopsError(f"{option}: {value} is not {what} (accepted: {accepted})")
    return value


def number(option: str, value, minimum: float | None = None, maximum: float | None = None,
           what: str = "a number") -> float | None:
    if value is None:
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        accepted = f"{minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise SwarmopsError(f"{option}: {value} is not {what} (accepted: {accepted})")
    return value


def port(option: str, value, allow_zero: bool = False) -> int | None:
    """A TCP/UDP port; 0 (with allow_zero) lets the swarm choose one."""
    return integer(option, value, 0 if allow_zero else 1, 65535,
                   "a port number" + (" (0: chosen by the swarm)" if allow_zero else ""))


def object_name(option: str, value: str | None, what: str = "a name", max_length: int = 63) -> str | None:
    if value is None:
        return None
    if not OBJECT_NAME.match(value) or len(value) > max_length:
        raise SwarmopsError(f"{option}: {value!r} is not {what} (letters, digits, '_', '.', '-', starting with a "
                            f"letter or digit, at most {max_length} characters)")
    return value


def machine_name(option: str, value: str) -> str:
    if not value or not MACHINE_NAME.match(value):
        raise SwarmopsError(f"{option}: {value!r} is not a machine name (letters, digits, '-', '.', starting with a "
                            f"letter or digit, at most 63 characters; example: node1)")
    return value


def split_host_port(value: str) -> tuple[str, str | None]:
    """'host:port', '[v6]:port', 'host', 'v6' -> (host, port or None)."""
    if value.startswith("["):
        host, dummy, rest = value[1:].partition("]")
        return host, (rest[1:] if rest.startswith(":") else (rest or None))
    if value.count(":") == 1:
        host, dummy, found = value.partition(":")
        return host, found
    return value, None


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def address(option: str, value: str | None, with_port: bool = True, interface: bool = True) -> str | None:
    """An IP address or a network interface name (as docker swarm init/join take them), with an optional port."""
    if value is None:
        return None
    examples = "192.0.2.10:2377, eth0" if with_port else "192.0.2.10, eth0"
    host, given_port = split_host_port(str(value).strip())
    if given_port is not None:
        if not with_port:
            raise SwarmopsError(f"{option}: {value!r} takes no port (examples: {examples})")
        if not given_port.isdigit() or not 1 <= int(given_port) <= 65535:
            raise SwarmopsError(f"{option}: {value!r} has no port number 1-65535 after ':' (examples: {examples})")
    looks_numeric = bool(re.fullmatch(r"[\d.]+", host)) or ":" in host
    if is_ip(host) or (interface and not looks_numeric and INTERFACE.match(host)):
        return value
    accepted = "an IP address or a network interface" if interface else "an IP address"
    raise SwarmopsError(f"{option}: {value!r} is not {accepted}{' with an optional :port' if with_port else ''} "
                        f"(examples: {examples})")


def remote_address(option: str, value: str) -> str:
    """A manager to join: a host name or IP address, with an optional port."""
    host, given_port = split_host_port(str(value).strip())
    if given_port is not None and (not given_port.isdigit() or not 1 <= int(given_port) <= 65535):
        raise SwarmopsError(f"{option}: {value!r} has no port number 1-65535 after ':' (example: 192.0.2.10:2377)")
    looks_numeric = bool(re.fullmatch(r"[\d.]+", host))
    host_name = re.fullmatch(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*",
                             host)
    if is_ip(host) or (host_name and not looks_numeric):
        return value
    raise SwarmopsError(f"{option}: {value!r} is not a host name or IP address with an optional :port "
                        f"(example: 192.0.2.10:2377)")


def network(option: str, value: str, version: int | None = 4) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        net = ipaddress.ip_network(str(value).strip())
    except ValueError as exc:
        raise SwarmopsError(f"{option}: {value!r} is not a network in CIDR form (example: 10.20.0.0/16)") from exc
    if version and net.version != version:
        raise SwarmopsError(f"{option}: {value!r} is not an IPv{version} network (example: 10.20.0.0/16)")
    return net


def size(option: str, value: str | None) -> str | None:
    """A disk size as truncate and the engine take it: digits and an optional K, M, G or T."""
    if value is None or value == "":
        return value
    if not re.fullmatch(r"[1-9]\d*[KMGTkmgt]?", str(value)):
        raise SwarmopsError(f"{option}: {value!r} is not a size (examples: 3G, 500M)")
    return value
