"""Swarm formation: the project's swarm play against the guide's docker CLI calls in a script and community.docker.

One lab of five machines of its own (bench-node1..5, network swarmops-bench, a temp store) is made once with
site.yml's machines and bootstrap plays. Each round resets the swarm (every node leaves) and forms it three times,
in turning order: with the shell script (`swarm init`, `join-token`, four `swarm join`, `node promote`, then
polling `node ls` until both new managers are Reachable, as the swarm_promote module waits), with
`ansible-playbook playbooks/swarm.yml --tags swarm` (the swarm play; the plays include their roles, so only the
swarm role and its dependency check their arguments), and with community.docker (bench/community_docker_swarm.yml:
docker_swarm, docker_node, docker_node_info waiting for the same Reachable managers, over the same TLS). The peer
runs with the `ansible` package's ansible-playbook from its own virtual environment (--peer-venv), made once with
`python3 -m venv .venv-peer && .venv-peer/bin/pip install ansible 'docker<7'` (community.docker's TLS options need
an SDK before 7); without it the peer is left out. Each play is then run a second time, which must change nothing.
It prints the medians and the ratios, writes reports/bench/swarm_formation.md and tears the lab down. It measures,
it does not judge: no assertions.

    .venv/bin/python bench/swarm_formation.py [--rounds 3] [--keep] [--peer-venv .venv-peer]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(REPO, ".collections"))

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib  # noqa: E402
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store  # noqa: E402
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect  # noqa: E402

NODES = 5
PREFIX = "bench-node"
LAB_VARS = {"lab_nodes": NODES, "machines_prefix": PREFIX,
            "machines_driver_options": {"network": "swarmops-bench", "subnet": "172.30.96.0/24"}}

SHELL = r"""
set -eu
# d N args: the docker CLI against machine N's engine, as `eval $(docker-machine env nodeN)` would set it up.
d() { i=$1; shift; n=$(eval echo "\$N$i"); ip=$(eval echo "\$IP$i")
      docker -H "tcp://$ip:2376" --tlsverify --tlscacert "$STORE/machines/$n/ca.pem" \
        --tlscert "$STORE/machines/$n/cert.pem" --tlskey "$STORE/machines/$n/key.pem" "$@"; }
d 1 swarm init --advertise-addr "$IP1" >/dev/null
TOKEN=$(d 1 swarm join-token -q worker)
for i in 2 3 4 5; do
  d "$i" swarm join --token "$TOKEN" --advertise-addr "$(eval echo "\$IP$i")" "$IP1:2377" >/dev/null
done
d 1 node promote "$N2" "$N3" >/dev/null
until [ "$(d 1 node ls --format '{{.ManagerStatus}}' | grep -c -E '^(Reachable|Leader)$')" = 3 ]; do
  sleep 0.5
done
"""


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def write_report(name: str, text: str) -> None:
    """Print a bench's report and keep it as reports/bench/<name>."""
    print("\n" + text)
    os.makedirs(os.path.join(REPO, "reports", "bench"), exist_ok=True)
    with open(os.path.join(REPO, "reports", "bench", name), "w", encoding="utf-8") as handle:
        handle.write(text)


def timed(command: list[str], cwd: str, env: dict, what: str) -> tuple[float, str]:
    """Seconds and stdout of a command that must succeed (else the bench stops, showing the end of its output)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          check=False)
    if done.returncode:
        sys.exit(f"{what} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start, done.stdout


def playbook(env: dict, *args: str, book: str = "site.yml", lab_vars: dict | None = None) -> tuple[float, str]:
    return timed([os.path.join(BIN, "ansible-playbook"), f"playbooks/{book}", "-e", json.dumps(lab_vars or LAB_VARS),
                  *args], REPO, env, f"{book} {' '.join(args)}")


def teardown(env: dict) -> None:
    """Remove the lab of env's MACHINE_STORAGE_PATH (its machines, network and certificates) and the store."""
    subprocess.run([os.path.join(BIN, "ansible-playbook"), "playbooks/teardown.yml"], cwd=REPO, env=env,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=False)
    shutil.rmtree(env["MACHINE_STORAGE_PATH"], ignore_errors=True)


def peer_env() -> dict:
    """requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace the CA that the Docker SDK gives it, so the peer
    would check the engines' certificates against another CA; the collection's own client does not let it."""
    return {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")} | {
        "ANSIBLE_FORCE_COLOR": "0"}


def peer_playbook(peer_bin: str, store: str, names: list[str], addresses: dict) -> tuple[float, str]:
    return timed([os.path.join(peer_bin, "ansible-playbook"), "-i", ",".join(names) + ",",
                  os.path.join(REPO, "bench", "community_docker_swarm.yml"),
                  "-e", json.dumps({"store": store, "addresses": addresses})],
                 os.path.join(REPO, "bench"), peer_env(), "community_docker_swarm.yml")


def changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)", output, re.MULTILINE))


def shell_env(store: str, names: list[str]) -> dict:
    env = {**os.environ, "STORE": store}
    for i, name in enumerate(names, 1):
        env[f"N{i}"] = name
        env[f"IP{i}"] = machine_store.read_config(store, name)["Driver"]["IPAddress"]
    return env


def reset(clients: list) -> None:
    """Every node leaves the swarm, the workers first, so the next formation starts from nothing."""
    def leave(client):
        if client.info()["Swarm"]["LocalNodeState"] != "inactive":
            client.api.leave_swarm(force=True)
    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(leave, clients[3:]))
        list(pool.map(leave, clients[:3]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    parser.add_argument("--peer-venv", default=os.path.join(REPO, ".venv-peer"),
                        help="virtual environment with the ansible package (community.docker) and the docker SDK")
    args = parser.parse_args()
    peer_bin = os.path.join(args.peer_venv, "bin")
    hows = ["shell", "ansible"]
    if os.access(os.path.join(peer_bin, "ansible-playbook"), os.X_OK):
        hows.append("community.docker")
    else:
        say(f"no ansible-playbook in {args.peer_venv}: community.docker is left out (see the docstring)")
    if not shutil.which("docker"):
        sys.exit("the docker CLI is needed for the shell baseline")
    store = tempfile.mkdtemp(prefix="swarmops-bench-")
    env = {**os.environ, "MACHINE_STORAGE_PATH": store, "ANSIBLE_FORCE_COLOR": "0"}
    names = [f"{PREFIX}{i}" for i in range(1, NODES + 1)]
    try:
        say(f"making the bench lab ({NODES} machines, store {store})")
        seconds, dummy = playbook(env, "--tags", "machines,bootstrap")
        say(f"lab ready in {seconds:.1f}s")
        clients = [connect(lab_lib.engine_params(machine_store.read_config(store, n))) for n in names]
        sh_env = shell_env(store, names)
        addresses = {n: sh_env[f"IP{i}"] for i, n in enumerate(names, 1)}
        rows = []
        for round_ in range(1, args.rounds + 1):
            row = {"round": round_}
            turn = (round_ - 1) % len(hows)
            for how in hows[turn:] + hows[:turn]:
                reset(clients)
                say(f"round {round_}/{args.rounds}: forming with {how}")
                if how == "shell":
                    start = time.perf_counter()
                    subprocess.run(["bash", "-c", SHELL], env=sh_env, check=True, stdin=subprocess.DEVNULL)
                    row["shell"] = time.perf_counter() - start
                    continue
                run = ((lambda: playbook(env, "--tags", "swarm", book="swarm.yml")) if how == "ansible"
                       else (lambda: peer_playbook(peer_bin, store, names, addresses)))
                row[how], out = run()
                row[f"{how} changed"] = changed(out)
                row[f"{how} second"], out = run()
                row[f"{how} second changed"] = changed(out)
            measured = {key: value for key, value in row.items() if key != "round"}
            say(f"round {round_}: " + ", ".join(f"{key} {value:.1f}s" if isinstance(value, float) else f"{key} {value}"
                                                for key, value in measured.items()))
            rows.append(row)
        report(rows, hows)
    finally:
        if not args.keep:
            say("tearing the bench lab down")
            teardown(env)


def report(rows: list[dict], hows: list[str]) -> None:
    plays = hows[1:]
    columns = ["shell"] + [c for how in plays for c in (how, f"{how} changed", f"{how} second",
                                                        f"{how} second changed")]
    median = {c: statistics.median(r[c] for r in rows) for c in ["shell"] + plays + [f"{h} second" for h in plays]}
    lines = [
        f"# Swarm formation on {NODES} lab machines, {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        "`shell`: the guide's docker CLI calls in a bash script (init, join-token, 4 joins, promote, wait for "
        "Reachable). `ansible`: `playbooks/swarm.yml --tags swarm` from nothing. `community.docker`: "
        "bench/community_docker_swarm.yml from nothing (docker_swarm, docker_node, then docker_node_info until "
        "three managers are Reachable). `second`: the same play again (no change expected). Ratios are to the shell "
        "script of the same run.",
        "",
        "| round | " + " | ".join(f"{c} s" if "changed" not in c else c for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *("| " + " | ".join([str(r["round"])] + [f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c])
                                                 for c in columns]) + " |" for r in rows),
        "",
        f"Medians: shell {median['shell']:.1f}s; " + "; ".join(
            f"{how} {median[how]:.1f}s (**{median[how] / median['shell']:.2f}x shell**), second run "
            f"{median[how + ' second']:.1f}s ({median[how + ' second'] / median['shell']:.2f}x shell)"
            for how in plays) + ".",
    ]
    if "community.docker" in plays:
        lines += ["", f"The project's play against community.docker: from nothing "
                      f"**{median['ansible'] / median['community.docker']:.2f}x**, second run "
                      f"**{median['ansible second'] / median['community.docker second']:.2f}x** (below 1: faster)."]
    write_report("swarm_formation.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
