"""The run users wait for most: site.yml when nothing is to change, this tree against a baseline revision, in turns.

Runs on the lab `make run` made (the default inventory and store, `--nodes` machines). The baseline revision
(`--baseline`, any git revision) is checked out in a temporary git worktree with its own collection link; then
`ansible-playbook playbooks/site.yml -e lab_nodes=N` runs from the baseline and from this tree in turn, `--rounds`
times, and each run must report changed=0 on every host (else the bench stops). It prints the medians of the time and
of the CPU the whole machine spent meanwhile (the lab machines' processes are this host's too), this tree's ratios to
the baseline, and, from ansible-core's junit callback, each tree's count of task results and the slowest tasks of its
last run (a task's time is its slowest host's), and writes reports/bench/no_change.md. It measures, it does not
judge: no assertions.

    make run && .venv/bin/python bench/no_change.py --baseline 9742f3d [--rounds 3] [--nodes 5]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from scale import cpu_seconds
from swarm_formation import BIN, REPO, changed, say, timed, write_report


def worktree(revision: str, folder: str) -> str:
    """The revision checked out in `folder`, with the link that makes it the collection, as the checkout has."""
    subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", folder, revision], check=True,
                   capture_output=True)
    link = os.path.join(folder, ".collections", "ansible_collections", "swarmops")
    os.makedirs(link)
    os.symlink("../../..", os.path.join(link, "ha"))
    return folder


def task_results(junit_dir: str):
    """A run's task results from its junit report: one element per task and host (per item in a loop)."""
    for name in os.listdir(junit_dir):
        yield from ET.parse(os.path.join(junit_dir, name)).getroot().iter("testcase")


def slowest_tasks(junit_dir: str, count: int = 10) -> list[tuple[str, float]]:
    """The tasks of a run's junit report (play, then task), by their slowest host's time (a task met again in a
    loop adds up), named without their play."""
    per_host = collections.defaultdict(float)
    for case in task_results(junit_dir):
        host, play_task = case.get("name", "").partition("] ")[::2]
        per_host[(play_task, host)] += float(case.get("time", 0))
    tasks = collections.defaultdict(float)
    for (task, _host), seconds in per_host.items():
        tasks[task] = max(tasks[task], seconds)
    slowest = sorted(tasks.items(), key=lambda item: -item[1])[:count]
    return [(play_task.partition(": ")[2] or play_task, seconds) for play_task, seconds in slowest]


def run(tree: str, nodes: int, junit_dir: str) -> tuple[float, float]:
    """site.yml from `tree` on the lab: seconds and the machine's CPU seconds; it must change nothing."""
    for name in os.listdir(junit_dir):
        os.unlink(os.path.join(junit_dir, name))
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
           "JUNIT_OUTPUT_DIR": junit_dir, "JUNIT_HIDE_TASK_ARGUMENTS": "true"}
    before = cpu_seconds()
    seconds, out = timed([os.path.join(BIN, "ansible-playbook"), "playbooks/site.yml", "-e", f"lab_nodes={nodes}"],
                         tree, env, f"site.yml from {tree}")
    cpu = cpu_seconds() - before
    if changed(out):
        sys.exit(f"site.yml from {tree} changed {changed(out)} thing(s): the lab is not the one it leaves; "
                 "run `make run` first")
    return seconds, cpu


def work_done(junit_dir: str) -> tuple[int, int]:
    """The task results of a run and how many of them were skipped: the work the run did, which, unlike its time,
    this machine's noise does not move."""
    cases = list(task_results(junit_dir))
    return len(cases), sum(case.find("skipped") is not None for case in cases)


def report(baseline: str, rows: dict, tasks: dict, work: dict, nodes: int) -> None:
    medians = {tree: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
               for tree, runs in rows.items()}
    (base_s, base_cpu), (this_s, this_cpu) = medians["baseline"], medians["this tree"]
    lines = [f"# site.yml with nothing to change, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             f"{nodes} lab machines, {len(rows['this tree'])} runs from each tree in turn, medians. CPU s: what the "
             f"whole machine ({os.cpu_count()} cores) spent meanwhile, the lab machines included. Baseline: "
             f"`{baseline}`.", "",
             "| tree | s | CPU s | runs (s) |", "|---|---|---|---|",
             *(f"| {tree} | {medians[tree][0]:.1f} | {medians[tree][1]:.1f} | "
               f"{', '.join(f'{seconds:.1f}' for seconds, _cpu in runs)} |" for tree, runs in rows.items()),
             "", f"This tree over the baseline: **{this_s / base_s:.2f}x** the time, **{this_cpu / base_cpu:.2f}x** "
             "the CPU.", "",
             "Task results of each tree's last run (one per task and host), a count this machine's noise does not "
             "move:", "", "| tree | task results | skipped |", "|---|---|---|",
             *(f"| {tree} | {results} | {skipped} |" for tree, (results, skipped) in work.items()), ""]
    for tree, slowest in tasks.items():
        lines += [f"Slowest tasks, {tree} (last run; a task's time is its slowest host's):", "",
                  "| task | s |", "|---|---|", *(f"| {task} | {seconds:.2f} |" for task, seconds in slowest), ""]
    write_report("no_change.md", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarmops-no-change-") as work:
        trees = {"baseline": worktree(args.baseline, os.path.join(work, "baseline")), "this tree": REPO}
        junit = {tree: os.path.join(work, f"junit-{index}") for index, tree in enumerate(trees)}
        for folder in junit.values():
            os.makedirs(folder)
        rows = {tree: [] for tree in trees}
        try:
            for round_ in range(1, args.rounds + 1):
                for tree, path in trees.items():
                    seconds, cpu = run(path, args.nodes, junit[tree])
                    rows[tree].append((seconds, cpu))
                    say(f"round {round_}/{args.rounds}, {tree}: {seconds:.1f} s, {cpu:.1f} CPU s, changed=0")
            report(args.baseline, rows, {tree: slowest_tasks(junit[tree]) for tree in trees},
                   {tree: work_done(junit[tree]) for tree in trees}, args.nodes)
        finally:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", trees["baseline"]], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
