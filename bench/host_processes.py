"""The lab machines' processes as this host sees them.

Each lab machine is a container of this host, so its processes (its engine's and its tasks') are this host's, and
/proc tells their CPU and memory even where `docker stats` cannot: an engine that cannot read its cgroups answers
it with zeros, as this project's CI machine does.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections"))

from ansible_collections.swarmops.ha.plugins.module_utils.lab import container_name  # noqa: E402

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, dict]:
    """Every process of this host: parent, name, CPU ticks so far (user + system) and resident memory in bytes."""
    table = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/statm", encoding="utf-8") as handle:
                resident = int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = {"ppid": int(fields[1]), "name": name, "ticks": int(fields[11]) + int(fields[12]),
                             "rss": resident}
    return table


def descendants(table: dict[int, dict], root: int) -> set[int]:
    children = {}
    for pid, proc in table.items():
        children.setdefault(proc["ppid"], []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def machine_root(host, name: str) -> int:
    """The host's process id of a lab machine's container (its init), through the host engine."""
    return host.api.inspect_container(container_name(name))["State"]["Pid"]
