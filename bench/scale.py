"""Scale: the swarm playbook from nothing and its no-change run on 5 and on 20 lab machines, in one run.

For each size a lab of its own (scale-node1..N, network swarmops-scale, a temp store) is made and formed by
`playbooks/swarm.yml` (machines, engines over TLS, the compose alias, init, joins, promotions to three managers)
from nothing, then the same playbook runs again and must change nothing; the lab is torn down before the next
size. It prints both times per size and their ratios to the smallest size (T20/T5), with the CPU the whole machine
spent meanwhile (the controller's and the lab machines' processes, all of them this host's) and how busy that kept
its cores: a ratio of CPU seconds as high as that of the times, at cores near 100% busy, says the machine's CPU, not
waiting, sets the time. Writes reports/bench/scale.md, and measures, it does not judge: no assertions. A
20-machine lab needs about 4 GiB of memory.

    .venv/bin/python bench/scale.py [--sizes 5 20]
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile

from host_processes import TICKS_PER_SECOND
from swarm_formation import changed, playbook, say, teardown, write_report


def lab_vars(size: int) -> dict:
    return {"lab_nodes": size, "machines_prefix": "scale-node",
            "machines_driver_options": {"network": "swarmops-scale", "subnet": "172.30.95.0/24"}}


def cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (every core, not idle or waiting on I/O), from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as handle:
        ticks = [int(field) for field in handle.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS_PER_SECOND


def run(env: dict, size: int) -> tuple[float, float, str]:
    """swarm.yml on the lab of `size` machines: seconds, the machine's CPU seconds meanwhile, and the output."""
    before = cpu_seconds()
    seconds, out = playbook(env, book="swarm.yml", lab_vars=lab_vars(size))
    return seconds, cpu_seconds() - before, out


def measure(size: int) -> dict:
    store = tempfile.mkdtemp(prefix="swarmops-scale-")
    env = {**os.environ, "MACHINE_STORAGE_PATH": store, "ANSIBLE_FORCE_COLOR": "0"}
    try:
        say(f"{size} machines: swarm.yml from nothing")
        new, new_cpu, out = run(env, size)
        say(f"{size} machines: from nothing {new:.1f}s, {new_cpu:.0f} CPU s (changed={changed(out)}); again")
        again, again_cpu, out = run(env, size)
        result = {"size": size, "new": new, "new_cpu": new_cpu, "again": again, "again_cpu": again_cpu,
                  "again_changed": changed(out)}
        say(f"{size} machines: no-change run {again:.1f}s, {again_cpu:.0f} CPU s (changed={result['again_changed']})")
        return result
    finally:
        say(f"{size} machines: tearing the lab down")
        teardown(env)


def report(rows: list[dict]) -> None:
    base, cores = rows[0], os.cpu_count()

    def cells(row: dict, kind: str) -> str:
        cpu = kind + "_cpu"
        return (f"{row[kind]:.1f} | {row[kind] / base[kind]:.2f}x | {row[cpu]:.0f} | "
                f"{row[cpu] / base[cpu]:.2f}x | {100 * row[cpu] / row[kind] / cores:.0f}%")

    lines = [f"# swarm.yml at scale, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             "From nothing: machines made, engines served over TLS, the compose alias, the swarm formed with three "
             "managers. No-change: the same playbook again. Ratios are to the smallest size of the same run. CPU s: "
             f"what the whole machine ({cores} cores) spent meanwhile, the lab machines included; busy: that CPU "
             "over the time its cores had.", "",
             "| machines | from nothing s | ratio | CPU s | ratio | busy | no-change s | ratio | CPU s | ratio | busy "
             "| no-change changed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|",
             *(f"| {r['size']} | {cells(r, 'new')} | {cells(r, 'again')} | {r['again_changed']} |" for r in rows)]
    write_report("scale.md", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 20])
    args = parser.parse_args()
    report([measure(size) for size in sorted(args.sizes)])


if __name__ == "__main__":
    main()
