"""What monitoring costs and how fast it tells: a lost machine's SwarmNodeDown alert, from the machine stopped to
Alertmanager listing it, with the engine's default heartbeat (5 s) against the tuned one (1 s); and the CPU and
memory of Prometheus, Alertmanager and node-exporter against the whole of each lab machine.

Needs a lab that site.yml made (`make run`; its store in MACHINE_STORAGE_PATH), monitoring included. The alert
times come from playbooks/drill.yml's worker_loss drill, which reads Alertmanager through the routing proxy: each
round runs it once per profile (the worker's machine stopped, its tasks elsewhere, the alert fired; started, the
alert resolved). The resources are sampled --samples times, --seconds each, from /proc: each lab machine is a
container of this host, so its processes and the monitoring tasks' are this host's (engines that cannot read their
cgroups answer `docker stats` with zeros, as this project's CI machine does). Prints and writes
reports/bench/monitoring.md.

    .venv/bin/python bench/monitoring.py [--rounds 3] [--samples 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import docker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from host_processes import TICKS_PER_SECOND, descendants, machine_root, processes  # noqa: E402
from routing import BIN, REPO, Lab, say  # noqa: E402

from ansible_collections.swarmops.ha.plugins.module_utils import machine_store  # noqa: E402

PROFILES = [{"name": "default", "dispatcher_heartbeat": "5s"}, {"name": "tuned", "dispatcher_heartbeat": "1s"}]
STACK = ("prometheus", "alertmanager", "node-exporter")


def drill_round(lab: Lab, folder: str) -> list[dict]:
    """One worker_loss drill per profile: for each, when the node was marked Down and when its alert fired."""
    extra = json.dumps({"failover_drill_drills": ["worker_loss"], "failover_drill_profiles": PROFILES,
                        "failover_drill_report_dir": folder})
    done = subprocess.run([os.path.join(BIN, "ansible-playbook"), "playbooks/drill.yml", "-e", extra], cwd=REPO,
                          env=lab.env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if done.returncode:
        sys.exit(f"drill.yml failed:\n{done.stdout[-3000:]}")
    with open(os.path.join(folder, "drill.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    rows = []
    for run, summary in zip(data["runs"], data["summary"], strict=True):
        name = f"SwarmNodeDown node={run['target']}"
        spans = [span for span in summary["alerts"] if span["alert"] == name]
        if not spans:
            sys.exit(f"{run['profile']}: no {name} in the drill's report (is monitoring in the lab?)")
        rows.append({"profile": run["profile"], "down": summary["events"][f"{run['target']} down"],
                     "fired": spans[0]["fired"], "resolved": spans[-1]["resolved"]})
    return rows


def part_of(name: str) -> str | None:
    """The stack part a process is (Debian names node-exporter prometheus-node-exporter, 15 characters kept)."""
    if name in ("prometheus", "alertmanager"):
        return name
    return "node-exporter" if name.startswith("prometheus-node") or name == "node_exporter" else None


def resources(lab: Lab, samples: int, seconds: float) -> dict:
    """Median CPU cores and MiB of each part of the stack over all machines, and of the whole machines.

    Read from /proc, as each lab machine is a container of this host and its processes are this host's: a machine
    is its container's process tree, a part of the stack the processes of that name in it. CPU is the ticks used
    over `seconds`; memory the resident set (pages shared between processes counted in each)."""
    host = docker.from_env()
    roots = {name: machine_root(host, name) for name in lab.records}
    totals = {part: {"cpu": [], "mem": []} for part in (*STACK, "machines")}
    for sample in range(1, samples + 1):
        before, started = processes(), time.monotonic()
        time.sleep(seconds)
        after, elapsed = processes(), time.monotonic() - started
        parts = {part: {"cpu": 0.0, "mem": 0.0} for part in totals}
        for root in roots.values():
            for pid in descendants(after, root):
                proc = after[pid]
                used_ticks = proc["ticks"] - before.get(pid, proc)["ticks"]
                cores = used_ticks / TICKS_PER_SECOND / elapsed
                for part in ("machines", part_of(proc["name"])):
                    if part:
                        parts[part]["cpu"] += cores
                        parts[part]["mem"] += proc["rss"] / 2**20
        for part, used in parts.items():
            totals[part]["cpu"].append(used["cpu"])
            totals[part]["mem"].append(used["mem"])
        say(f"  sample {sample}/{samples}: stack {sum(parts[p]['cpu'] for p in STACK):.3f} cores, "
            f"{sum(parts[p]['mem'] for p in STACK):.0f} MiB; machines {parts['machines']['cpu']:.3f} cores, "
            f"{parts['machines']['mem']:.0f} MiB")
    return {part: {k: statistics.median(v) for k, v in used.items()} for part, used in totals.items()}


def median_of(values: list) -> float | None:
    seen = [value for value in values if value is not None]
    return statistics.median(seen) if seen else None


def report(rounds: list[dict], used: dict, machines: int) -> str:
    med = {p["name"]: {k: median_of([r[k] for r in rounds if r["profile"] == p["name"]])
                       for k in ("down", "fired", "resolved")} for p in PROFILES}
    lines = [f"# Monitoring: alert latency and cost, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             f"A worker's machine stopped by the worker_loss drill, {len(rounds) // len(PROFILES)} round(s) per "
             "heartbeat; seconds after the machine stopped, medians. `fired` is when Alertmanager first listed "
             "SwarmNodeDown for the node, `resolved` when it no longer did after the machine was started (the drill "
             "does not wait for it, so it is the median of the rounds that saw it, and `-` when none did).", "",
             "| heartbeat | node Down | alert fired | alert resolved |", "|---|---:|---:|---:|"]
    for profile in PROFILES:
        row = med[profile["name"]]
        resolved = "-" if row["resolved"] is None else f"{row['resolved']:.1f}"
        lines.append(f"| {profile['name']} ({profile['dispatcher_heartbeat']}) | {row['down']:.1f} | "
                     f"{row['fired']:.1f} | {resolved} |")
    lines += ["", f"Tuned against default: node Down **{med['tuned']['down'] / med['default']['down']:.2f}x**, "
                  f"alert fired **{med['tuned']['fired'] / med['default']['fired']:.2f}x** "
                  f"(goal: tuned under 30 s, measured {med['tuned']['fired']:.1f} s).", "",
              f"Resources, medians of the samples, summed over the {machines} machines (from /proc: CPU over each "
              "sample, resident memory with shared pages counted in each process):", "",
              "| part | CPU cores | memory MiB | share of the machines' CPU | share of their memory |",
              "|---|---:|---:|---:|---:|"]
    whole = used["machines"]
    for part in (*STACK, "machines"):
        cpu, mem = used[part]["cpu"], used[part]["mem"]
        lines.append(f"| {part} | {cpu:.3f} | {mem:.0f} | {cpu / whole['cpu']:.2f}x | {mem / whole['mem']:.2f}x |"
                     if whole["cpu"] and whole["mem"] else f"| {part} | {cpu:.3f} | {mem:.0f} | | |")
    stack = {k: sum(used[p][k] for p in STACK) for k in ("cpu", "mem")}
    lines.append(f"| **stack** | {stack['cpu']:.3f} | {stack['mem']:.0f} | "
                 f"**{stack['cpu'] / whole['cpu']:.2f}x** | **{stack['mem'] / whole['mem']:.2f}x** |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each CPU sample")
    args = parser.parse_args()
    lab = Lab(machine_store.resolve_storage_path())
    say(f"sampling the monitoring stack's CPU and memory on {len(lab.records)} machines")
    used = resources(lab, args.samples, args.seconds)
    rounds = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(1, args.rounds + 1):
            say(f"round {round_}/{args.rounds}: worker_loss with the default and the tuned heartbeat")
            rows = drill_round(lab, os.path.join(folder, str(round_)))
            for row in rows:
                resolved = f"resolved {row['resolved']}s" if row["resolved"] is not None else "listed at the end"
                say(f"  {row['profile']}: down {row['down']}s, SwarmNodeDown fired {row['fired']}s, {resolved}")
            rounds += rows
    text = report(rounds, used, len(lab.records))
    os.makedirs(os.path.join(REPO, "reports", "bench"), exist_ok=True)
    with open(os.path.join(REPO, "reports", "bench", "monitoring.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
