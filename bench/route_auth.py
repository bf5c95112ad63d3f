"""The cost of a protected route: requests through the proxy to a route with basic authentication against the same
server on an open route, for several bcrypt costs of the proxy's users.

Needs a lab that site.yml made (`make run`; its store in MACHINE_STORAGE_PATH). Runs two services of its own, one
busybox httpd task each, both on the same node: bench-open (routed by host) and bench-auth (the same, with
swarmops.route.users=bench). For each --costs value the routing play runs with one user of that bcrypt cost (the
proxy tasks restart one at a time), then --rounds rounds alternate open and protected, each --seconds of --clients
clients, a new connection per request, through one proxy node. Prints and writes reports/bench/route-auth.md:
medians per cost and the ratios protected/open. At the end the services go and the proxy runs without users again.

    .venv/bin/python bench/route_auth.py [--costs 4 6 10] [--rounds 3] [--seconds 5] [--clients 8]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import secrets
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from routing import COMMON, DOMAIN, REPO, Lab, load, machine_store, request, say  # noqa: E402

USER = "bench"


def service(name: str, node: str, users: bool) -> dict:
    labels = {"swarmops.route.host": f"{name}.{DOMAIN}", "swarmops.route.port": "8080"}
    return {**COMMON, "name": name, "replicas": 1, "constraints": [f"node.hostname=={node}"],
            "labels": {**labels, **({"swarmops.route.users": USER} if users else {})}}


def steady(address: str, auth: dict, streak: int = 50, timeout: float = 120.0) -> None:
    """Until both routes answer `streak` requests in a row: the proxies restart after the users change."""
    deadline, good = time.monotonic() + timeout, 0
    while good < streak:
        if time.monotonic() > deadline:
            sys.exit(f"the routes through {address} did not settle in {timeout:.0f}s")
        good = good + 1 if (request(address, 80, f"bench-open.{DOMAIN}")[1] and
                            request(address, 80, f"bench-auth.{DOMAIN}", headers=auth)[1]) else 0
        time.sleep(0.05)


def measure(lab: Lab, proxy: str, auth: dict, rounds: int, seconds: float, clients: int) -> list[dict]:
    rows = []
    for round_ in range(1, rounds + 1):
        order = ("open", "protected") if round_ % 2 else ("protected", "open")
        row = {}
        for how in order:
            name = "bench-open" if how == "open" else "bench-auth"
            row[how] = load(lab.address(proxy), 80, f"{name}.{DOMAIN}", seconds, clients,
                            auth if how == "protected" else None)
        say(f"  round {round_}/{rounds}: " + ", ".join(
            f"{how} {row[how]['rps']:.0f} req/s p50 {row[how]['p50']:.1f} ms ({row[how]['failed']} failed)"
            for how in ("open", "protected")))
        rows.append(row)
    return rows


def report(results: dict[int, list[dict]], clients: int, seconds: float) -> None:
    lines = [f"# Protected routes against open ones, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             f"{clients} clients for {seconds:.0f}s per round, a new connection per request, through one proxy node, "
             "to one busybox httpd task per route, both on the same node. Medians over the rounds.", "",
             "| bcrypt cost | open req/s | protected req/s | protected/open req/s | open p50 ms | protected p50 ms "
             "| protected/open p50 | failed |", "|---|---|---|---|---|---|---|---|"]
    for cost, rows in results.items():
        med = {how: {k: statistics.median(r[how][k] for r in rows) for k in ("rps", "p50")}
               for how in ("open", "protected")}
        failed = sum(r[how]["failed"] for r in rows for how in ("open", "protected"))
        lines.append(f"| {cost} | {med['open']['rps']:.0f} | {med['protected']['rps']:.0f} | "
                     f"**{med['protected']['rps'] / med['open']['rps']:.2f}x** | {med['open']['p50']:.1f} | "
                     f"{med['protected']['p50']:.1f} | {med['protected']['p50'] / med['open']['p50']:.2f}x | "
                     f"{failed} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    folder = os.path.join(REPO, "reports", "bench")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "route-auth.md"), "w", encoding="utf-8") as handle:
        handle.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--costs", type=int, nargs="+", default=[4, 6, 10])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    lab = Lab(machine_store.resolve_storage_path())
    lab.pick_manager()
    password = secrets.token_urlsafe(18)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()}
    node = sorted(set(lab.records) - set(lab.proxy_nodes()))[0]
    proxy = lab.proxy_nodes()[0]
    say(f"deploying bench-open and bench-auth on {node}, measuring through the proxy on {proxy}")
    for name, users in (("bench-open", False), ("bench-auth", True)):
        lab.module("swarm_service", service(name, node, users))
    results = {}
    try:
        for cost in args.costs:
            say(f"bcrypt cost {cost}: the routing play with one user (the proxies restart one at a time)")
            lab.route("-e", json.dumps({"routing_users": [{"name": USER, "password": password}],
                                        "routing_bcrypt_cost": cost}))
            steady(lab.address(proxy), auth)
            results[cost] = measure(lab, proxy, auth, args.rounds, args.seconds, args.clients)
    finally:
        if results:
            report(results, args.clients, args.seconds)
        say("removing the bench services; the proxy runs without users again")
        lab.pick_manager()
        for name in ("bench-open", "bench-auth"):
            lab.module("swarm_service", {"name": name, "state": "absent"})
        lab.route()


if __name__ == "__main__":
    main()
