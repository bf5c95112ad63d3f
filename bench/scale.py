"""Scale: the swarm playbook from nothing and its no-change run on 5 and on 20 lab machines, in one run.

For each size a lab of its own (scale-node1..N, network swarmops-scale, a temp store) is made and formed by
`playbooks/swarm.yml` (machines, engines over TLS, the compose alias, init, joins, promotions to three managers)
from nothing, then the same playbook runs again and must change nothing; the lab is torn down before the next
size. It prints both times per size and their ratios to the smallest size (T20/T5), writes reports/bench/scale.md,
and measures, it does not judge: no assertions. A 20-machine lab needs about 4 GiB of memory.

    .venv/bin/python bench/scale.py [--sizes 5 20]
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile

from swarm_formation import REPO, changed, playbook, say, teardown


def lab_vars(size: int) -> dict:
    return {"lab_nodes": size, "machines_prefix": "scale-node",
            "machines_driver_options": {"network": "swarmops-scale", "subnet": "172.30.95.0/24"}}


def measure(size: int) -> dict:
    store = tempfile.mkdtemp(prefix="swarmops-scale-")
    env = {**os.environ, "MACHINE_STORAGE_PATH": store, "ANSIBLE_FORCE_COLOR": "0"}
    try:
        say(f"{size} machines: swarm.yml from nothing")
        new, out = playbook(env, book="swarm.yml", lab_vars=lab_vars(size))
        say(f"{size} machines: from nothing {new:.1f}s (changed={changed(out)}); the no-change run")
        again, out = playbook(env, book="swarm.yml", lab_vars=lab_vars(size))
        result = {"size": size, "new": new, "again": again, "again_changed": changed(out)}
        say(f"{size} machines: no-change run {again:.1f}s (changed={result['again_changed']})")
        return result
    finally:
        say(f"{size} machines: tearing the lab down")
        teardown(env)


def report(rows: list[dict]) -> None:
    base = rows[0]
    lines = [f"# swarm.yml at scale, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             "From nothing: machines made, engines served over TLS, the compose alias, the swarm formed with three "
             "managers. No-change: the same playbook again. Ratios are to the smallest size of the same run.", "",
             "| machines | from nothing s | ratio | no-change s | ratio | no-change changed |",
             "|---|---|---|---|---|---|",
             *(f"| {r['size']} | {r['new']:.1f} | {r['new'] / base['new']:.2f}x | {r['again']:.1f} | "
               f"{r['again'] / base['again']:.2f}x | {r['again_changed']} |" for r in rows)]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    os.makedirs(os.path.join(REPO, "reports", "bench"), exist_ok=True)
    with open(os.path.join(REPO, "reports", "bench", "scale.md"), "w", encoding="utf-8") as handle:
        handle.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 20])
    args = parser.parse_args()
    report([measure(size) for size in sorted(args.sizes)])


if __name__ == "__main__":
    main()
