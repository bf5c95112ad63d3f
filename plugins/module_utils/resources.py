# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU and memory amounts as users write them -> the integers the Engine API wants, and back for messages.

resources_spec() gives TaskTemplate.Resources holding only the values that are set; services.py reads the running
service's values back through the same RESOURCE_OPTIONS, so wanted and actual compare with ==.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import NANO

CPU_TEXT = re.compile(r"\d+(?:\.\d+)?|\.\d+")
SIZE_TEXT = re.compile(r"(\d+(?:\.\d+)?|\.\d+) ?(?:([kmgtp])i?)?b?", re.IGNORECASE)
SIZE_UNITS = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}


class ResourceError(SwarmopsError, ValueError):
    """A value the user must fix; also a SwarmopsError, so module_errors() reports it like any other."""


def _plain_number(value) -> bool:
    """A finite, non-negative int or float; not a bool, which Python counts as an int and a user never means."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def parse_cpu(value, option: str) -> int:
    """CPUs (2, 0.5, "1.25") -> nano-CPUs, Docker's NanoCPUs.

    0 is accepted and means no limit or reservation, as it does for Docker; resources_spec() leaves it out.
    Like the docker CLI, a value finer than a billionth of a CPU is refused rather than rounded.
    """
    if isinstance(value, str) and CPU_TEXT.fullmatch(value.strip()):
        number = Decimal(value.strip())
    elif _plain_number(value):
        number = Decimal(repr(value))
    else:
        raise ResourceError(f"{option}: {value!r} is not a number of CPUs (examples: 0.5, 2)")
    nano = number * NANO
    if nano != nano.to_integral_value():
        raise ResourceError(f"{option}: {value!r} has more than 9 decimals (examples: 0.5, 2)")
    return int(nano)


def parse_size(value, option: str) -> int:
    """Bytes (int) or a size as Docker's RAMInBytes reads it ("512M", "1.5g", "64KiB", "100") -> bytes.

    Units are binary (k = 1024) and case-insensitive, with an optional "i" and "b". A fraction of a byte is
    rounded down, as Docker does: "0.3k" is 307 bytes, 1.5 is 1.
    """
    match = SIZE_TEXT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        number, factor = Decimal(match[1]), SIZE_UNITS.get((match[2] or "").lower(), 1)
    elif _plain_number(value):
        number, factor = Decimal(repr(value)), 1
    else:
        raise ResourceError(f"{option}: {value!r} is not a size (examples: 512M, 1g, 1073741824)")
    return int(number * factor)


# option -> (TaskTemplate.Resources section, key, parser): one table for parsing, errors and comparison.
RESOURCE_OPTIONS = {
    "limit_cpu": ("Limits", "NanoCPUs", parse_cpu),
    "limit_memory": ("Limits", "MemoryBytes", parse_size),
    "reserve_cpu": ("Reservations", "NanoCPUs", parse_cpu),
    "reserve_memory": ("Reservations", "MemoryBytes", parse_size),
}


def _shape(values: dict) -> dict:
    """option -> integer as TaskTemplate.Resources, without zeros and the sections they leave empty: Docker reads
    both as unset."""
    sections: dict = {}
    for option, value in values.items():
        section, key, dummy = RESOURCE_OPTIONS[option]
        if value:
            sections.setdefault(section, {})[key] = value
    return sections


def resources_spec(limit_cpu=None, limit_memory=None, reserve_cpu=None, reserve_memory=None) -> dict:
    """The options as TaskTemplate.Resources, only what is set; a reservation above its limit is refused."""
    given = {"limit_cpu": limit_cpu, "limit_memory": limit_memory,
             "reserve_cpu": reserve_cpu, "reserve_memory": reserve_memory}
    parsed = {option: RESOURCE_OPTIONS[option][2](value, option) for option, value in given.items()
              if value is not None}
    for reserve, limit in (("reserve_cpu", "limit_cpu"), ("reserve_memory", "limit_memory")):
        if parsed.get(limit) and parsed.get(reserve, 0) > parsed[limit]:
            raise ResourceError(f"{reserve}: {given[reserve]!r} is above {limit} {given[limit]!r}")
    return _shape(parsed)
