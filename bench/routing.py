"""Routing through the lab's HA proxy: cost against reaching a task directly, and requests through failover.

Needs a lab that site.yml made (`make run`; its store in MACHINE_STORAGE_PATH), so the routing proxy runs on the
managers. The bench runs two services of its own and removes them at the end:
  bench-direct  1 task of busybox httpd, published in host mode on port 18080 of its node, and routed by host
                bench-direct.swarmops.test: the same task is reached straight and through the proxy;
  bench-web     3 tasks of the same server, routed by host bench-web.swarmops.test, health-checked by the proxy.

throughput  rounds alternate straight and proxied, each with new connections (a new connection per request) and
            with keep-alive clients (one connection per client, kept while the server keeps it: busybox httpd
            closes every connection, so straight keep-alive clients reconnect each time, and so does the proxy to
            the task); each is --seconds of --clients clients; medians of requests/s, p50 and p99; ratios
            proxied/straight and the p99 the proxy adds, per kind of client, in the same run; the proxy's own CPU
            per request (its HAProxy processes' CPU time on the proxy node over the proxied runs, read from /proc).
failover    one client sends --requests requests (and goes on 20 s after the event), 10 ms apart, a new connection
            each (timeout 10 s), to one proxy node while (a) bench-web is updated start-first, one task at a time,
            (b) a machine that runs a bench-web task (not the client's proxy node) is killed, (c) another proxy
            node's machine is killed (with --vip: the client sends to the VIP and (c) kills the VIP's holder).
            Killed machines (`docker kill` of the lab container, no graceful stop) are started again and the swarm
            is waited healthy before the next scenario.

Writes reports/bench/routing.md and reports/bench/routing-failover.svg (every request's latency over time).
It measures, it does not judge: no assertions. Traffic goes only to the lab machines' addresses.

    .venv/bin/python bench/routing.py [--only throughput|failover] [--rounds 3] [--seconds 5] [--clients 8]
                                      [--requests 2000] [--vip 172.30.99.250]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import http.client
import itertools
import json
import math
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

import docker

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(REPO, ".collections"))

from host_processes import TICKS_PER_SECOND, descendants, machine_root, processes  # noqa: E402

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib  # noqa: E402
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store  # noqa: E402
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect  # noqa: E402

IMAGE = "swarmops/lab-app:1"
SERVE = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
DIRECT_PORT = 18080
AFTER_THE_EVENT = 20.0
DOMAIN = "swarmops.test"
COMMON = {"image": IMAGE, "command": SERVE, "networks": ["swarmops-routing"], "stop_signal": "SIGKILL",
          "wait_timeout": 180}
BENCH_DIRECT = {**COMMON, "name": "bench-direct", "replicas": 1,
                "publish": [{"published_port": DIRECT_PORT, "target_port": 8080, "mode": "host"}],
                "labels": {"swarmops.route.host": f"bench-direct.{DOMAIN}", "swarmops.route.port": "8080"}}
BENCH_WEB = {**COMMON, "name": "bench-web", "replicas": 3,
             "update_config": {"order": "start-first", "parallelism": 1, "delay": "1s"},
             "labels": {"swarmops.route.host": f"bench-web.{DOMAIN}", "swarmops.route.port": "8080",
                        "swarmops.route.health": "/"}}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class Lab:
    def __init__(self, store: str, extra_vars: str | None = None):
        self.store = store
        self.extra = ["-e", extra_vars] if extra_vars else []
        self.env = {**os.environ, "MACHINE_STORAGE_PATH": store, "ANSIBLE_FORCE_COLOR": "0"}
        self.records = {n: machine_store.read_config(store, n) for n in machine_store.list_machine_names(store)}
        if not self.records:
            sys.exit(f"no machines in the store {store}: make the lab first (make run)")
        self.manager = None

    def address(self, name: str) -> str:
        return self.records[name]["Driver"]["IPAddress"]

    def engine(self, name: str):
        return connect(lab_lib.engine_params(self.records[name]))

    def pick_manager(self, avoid: tuple[str, ...] = ()) -> str:
        for name in self.records:
            if name in avoid:
                continue
            try:
                if self.engine(name).info()["Swarm"].get("ControlAvailable"):
                    self.manager = name
                    return name
            except Exception:  # noqa: BLE001 - a stopped machine is not a manager to talk to
                continue
        sys.exit("no reachable manager in the lab")

    def module(self, name: str, args: dict, *, manager: bool = True) -> dict:
        if manager:
            args = {**lab_lib.engine_params(self.records[self.manager]), **args}
        done = subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-m", f"swarmops.ha.{name}", "-a",
                               json.dumps(args), "--connection", "local",
                               "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"],
                              cwd=REPO, env={**self.env, "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        if done.returncode:
            sys.exit(f"{name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        return json.JSONDecoder().raw_decode(done.stdout.split(" => ", 1)[1].lstrip())[0]

    def route(self, *extra: str) -> None:
        done = subprocess.run([os.path.join(BIN, "ansible-playbook"), "playbooks/site.yml", "--tags", "routing",
                               *self.extra, *extra],
                              cwd=REPO, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False)
        if done.returncode:
            sys.exit(f"site.yml --tags routing failed:\n{done.stdout[-3000:]}")

    def task_nodes(self, service: str) -> list[str]:
        client = self.engine(self.manager)
        names = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
        running = client.api.tasks(filters={"service": service, "desired-state": "running"})
        return sorted(names[t["NodeID"]] for t in running)

    def proxy_nodes(self) -> list[str]:
        nodes = self.engine(self.manager).nodes.list(filters={"node.label": "swarmops.routing=true"})
        return sorted(n.attrs["Description"]["Hostname"] for n in nodes)


def request(address: str, port: int, host: str, timeout: float = 10.0,
            headers: dict | None = None, connection: http.client.HTTPConnection | None = None) -> tuple[float, bool]:
    """One GET; on a new connection, or on `connection` kept open between requests (keep-alive clients)."""
    start = time.perf_counter()
    keep = connection is not None
    connection = connection or http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        response.read()
        ok = response.status == 200
    except (OSError, http.client.HTTPException):
        ok = False
        connection.close()
    finally:
        if not keep:
            close_without_time_wait(connection)
    return time.perf_counter() - start, ok


def close_without_time_wait(connection: http.client.HTTPConnection) -> None:
    """Close with a reset: a client that closes first keeps the connection in TIME_WAIT for a minute, and at
    thousands of new connections a second the bench's own ports to one address run out within a round (the proxy
    lets the client close first, the straight server closes first, so only the proxied runs would pay for it)."""
    if connection.sock is not None:
        connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def wait_routed(address: str, host: str, timeout: float = 60.0, headers: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not request(address, 80, host, timeout=2, headers=headers)[1]:
        if time.monotonic() > deadline:
            sys.exit(f"{host} is not routed by {address} after {timeout:.0f}s")
        time.sleep(0.5)


def load(address: str, port: int, host: str, seconds: float, clients: int, headers: dict | None = None,
         keepalive: bool = False) -> dict:
    """Closed-loop load: each client sends its next request as soon as the last is answered; keep-alive clients
    keep one connection (http.client opens it again when the server closed it)."""
    stop_at = time.perf_counter() + seconds

    def client(dummy):
        latencies, failed = [], 0
        connection = http.client.HTTPConnection(address, port, timeout=10) if keepalive else None
        while time.perf_counter() < stop_at:
            latency, ok = request(address, port, host, headers=headers, connection=connection)
            latencies.append(latency)
            failed += not ok
        if connection is not None:
            connection.close()
        return latencies, failed

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    latencies = sorted(x for lat, dummy in results for x in lat)
    return {"rps": len(latencies) / seconds, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000, "failed": sum(f for dummy, f in results),
            "requests": len(latencies)}


HOWS = ("straight", "proxied", "straight-keepalive", "proxied-keepalive")


def proxy_cpu_ns(host, proxy: str) -> int:
    """CPU time (ns) the HAProxy processes on the `proxy` machine have used, from /proc (see host_processes)."""
    table = processes()
    ticks = sum(table[pid]["ticks"] for pid in descendants(table, machine_root(host, proxy))
                if table[pid]["name"] == "haproxy")
    return ticks * 10**9 // TICKS_PER_SECOND


def throughput(lab: Lab, rounds: int, seconds: float, clients: int) -> list[dict]:
    node = lab.task_nodes("bench-direct")[0]
    proxy = next(p for p in lab.proxy_nodes() if p != node)
    host = docker.from_env()
    say(f"throughput: straight to bench-direct on {node}:{DIRECT_PORT}, proxied through {proxy}:80, with new "
        "connections and with keep-alive clients")
    rows = []
    for round_ in range(1, rounds + 1):
        order = HOWS if round_ % 2 else tuple(reversed(HOWS))
        row = {"round": round_}
        for how in order:
            target = (lab.address(node), DIRECT_PORT) if how.startswith("straight") else (lab.address(proxy), 80)
            before = proxy_cpu_ns(host, proxy) if how.startswith("proxied") else 0
            row[how] = load(*target, f"bench-direct.{DOMAIN}", seconds, clients, keepalive=how.endswith("keepalive"))
            if how.startswith("proxied"):
                row[how]["cpu_us"] = (proxy_cpu_ns(host, proxy) - before) / 1000 / max(row[how]["requests"], 1)
        say(f"round {round_}/{rounds}: " + ", ".join(
            f"{how} {row[how]['rps']:.0f} req/s p50 {row[how]['p50']:.1f} ms p99 {row[how]['p99']:.1f} ms"
            + (f" proxy CPU {row[how]['cpu_us']:.0f} us/req" if "cpu_us" in row[how] else "")
            for how in HOWS))
        rows.append(row)
    return rows


def traffic(address: str, host: str, requests: int, event, event_name: str) -> dict:
    """Paced requests while `event` runs in a thread, started after one second; goes on until `requests` are sent
    and AFTER_THE_EVENT seconds have passed since the event finished (a stopped node's tasks leave the swarm's DNS
    only once the node is seen down)."""
    samples, marks = [], {}
    start = time.perf_counter()

    def run_event():
        marks["begin"] = time.perf_counter() - start
        marks["detail"] = "the event failed"
        try:
            marks["detail"] = event()
        finally:
            marks["end"] = time.perf_counter() - start

    worker = threading.Thread(target=run_event)
    while (len(samples) < requests or "end" not in marks
           or time.perf_counter() - start < marks["end"] + AFTER_THE_EVENT):
        if not worker.is_alive() and "begin" not in marks and time.perf_counter() - start > 1:
            worker.start()
        sent = time.perf_counter() - start
        latency, ok = request(address, 80, host)
        samples.append((sent, latency, ok))
        if len(samples) % 500 == 0:
            say(f"  {event_name}: {len(samples)} requests, {sum(not ok for *dummy, ok in samples)} failed")
        time.sleep(max(0.0, 0.01 - latency))
    done = [s + lat for s, lat, ok in samples if ok]
    gaps = [b - a for a, b in itertools.pairwise(done)]
    return {"event": event_name, "samples": samples, "marks": marks, "sent": len(samples),
            "failed": sum(not ok for *dummy, ok in samples), "gap": max(gaps, default=0.0),
            "p99": sorted(lat for dummy, lat, dummy in samples)[int(len(samples) * 0.99)] * 1000}


def holder_of(host_engine, lab: Lab, vip: str, names: list[str]) -> str | None:
    """The lab machine whose interfaces hold `vip` (read inside its container through the lab host's engine)."""
    for name in names:
        exec_id = host_engine.api.exec_create(lab_lib.container_name(name), ["ip", "-4", "-o", "addr", "show"])["Id"]
        if f" {vip}/" in host_engine.api.exec_start(exec_id).decode():
            return name
    return None


def failover(lab: Lab, requests: int, vip: str | None = None) -> list[dict]:
    """Machines are killed (`docker kill` of the lab container: no graceful stop), then started again."""
    host_engine = connect({"docker_host": os.environ.get("DOCKER_HOST")})
    proxies = lab.proxy_nodes()
    web_nodes = lab.task_nodes("bench-web")
    if vip:
        client_proxy = holder_of(host_engine, lab, vip, proxies)
        if client_proxy is None:
            sys.exit(f"no proxy node holds --vip {vip}")
        target = vip
    else:
        client_proxy = next((p for p in proxies if p not in web_nodes), proxies[0])
        target = lab.address(client_proxy)
    host = f"bench-web.{DOMAIN}"
    say(f"failover: the client sends to {target} ({'the VIP, held by ' if vip else 'the proxy on '}{client_proxy}); "
        f"bench-web runs on {', '.join(web_nodes)}")
    results = []

    def update():
        lab.module("swarm_service", {**BENCH_WEB, "env": {"ROUND": str(time.time())}})
        return "bench-web updated start-first"
    results.append(traffic(target, host, requests, update, "(a) start-first update"))

    victims = [("(b) backend machine killed", next(n for n in lab.task_nodes("bench-web") if n != client_proxy)),
               ("(c) VIP holder's machine killed" if vip else "(c) proxy machine killed",
                client_proxy if vip else next(p for p in proxies if p != client_proxy))]
    for name, victim in victims:
        def kill(victim=victim):
            host_engine.api.kill(lab_lib.container_name(victim))
            return f"{victim} killed"
        try:
            results.append(traffic(target, host, requests, kill, name))
        finally:
            say(f"  starting {victim} again, waiting for a healthy swarm")
            lab.module("machine", {"name": victim, "state": "started"}, manager=False)
            if vip:  # the lab's init starts sshd and the engine, not keepalived
                subprocess.run([os.path.join(BIN, "ansible"), victim, "-b", "-m", "ansible.builtin.service", "-a",
                                "name=keepalived state=started"], cwd=REPO, env=lab.env, capture_output=True,
                               stdin=subprocess.DEVNULL, check=False)
            lab.pick_manager()
            lab.module("swarm_wait", {"until": {"healthy": True}, "wait_timeout": 300})
    for result in results:
        say(f"{result['event']}: {result['sent']} sent, {result['failed']} failed, "
            f"longest gap {result['gap'] * 1000:.0f} ms, p99 {result['p99']:.1f} ms")
    return results


def deploy(lab: Lab) -> None:
    lab.module("swarm_service", BENCH_DIRECT)
    lab.module("swarm_service", BENCH_WEB)
    lab.route()
    for proxy in lab.proxy_nodes():
        for name in ("bench-direct", "bench-web"):
            wait_routed(lab.address(proxy), f"{name}.{DOMAIN}")


def remove(lab: Lab) -> None:
    for name in ("bench-direct", "bench-web"):
        lab.module("swarm_service", {"name": name, "state": "absent"})
    lab.route()


def svg(results: list[dict]) -> str:
    width, panel, left, top = 900, 150, 60, 30
    end = max(s + lat for r in results for s, lat, dummy in r["samples"])
    top_ms = max(max(lat for dummy, lat, dummy in r["samples"]) for r in results) * 1000
    height = top + len(results) * (panel + 40)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 10}" '
             'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18">Latency of each request through the proxy (log scale, up to '
             f'{top_ms:.0f} ms); red: failed; dashed: the event began and ended</text>']

    def x(seconds):
        return left + seconds / end * (width - left - 20)
    for i, result in enumerate(results):
        y0 = top + i * (panel + 40) + 20

        def y(ms, y0=y0):
            return y0 + panel - math.log10(max(ms, 0.1) / 0.1) / math.log10(top_ms / 0.1) * panel
        parts.append(f'<text x="{left}" y="{y0 - 6}">{result["event"]}: {result["sent"]} sent, '
                     f'{result["failed"]} failed, longest gap {result["gap"] * 1000:.0f} ms</text>')
        parts.append(f'<rect x="{left}" y="{y0}" width="{width - left - 20}" height="{panel}" fill="none" '
                     'stroke="#999"/>')
        for ms in (1, 10, 100, 1000, 10000):
            if ms <= top_ms:
                parts.append(f'<text x="{left - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms} ms</text>')
        for second in range(0, int(end) + 1, 5):
            parts.append(f'<text x="{x(second):.1f}" y="{y0 + panel + 14}" text-anchor="middle">{second}s</text>')
        for mark in ("begin", "end"):
            parts.append(f'<line x1="{x(result["marks"][mark]):.1f}" x2="{x(result["marks"][mark]):.1f}" '
                         f'y1="{y0}" y2="{y0 + panel}" stroke="#333" stroke-dasharray="4 3"/>')
        for sent, latency, ok in result["samples"]:
            parts.append(f'<circle cx="{x(sent):.1f}" cy="{y(latency * 1000):.1f}" r="1.5" '
                         f'fill="{"#2b6cb0" if ok else "#e53e3e"}"/>')
    parts.append(f'<text x="{width - 20}" y="{height + 6}" text-anchor="end">'
                 'seconds since the client started</text></svg>')
    return "\n".join(parts) + "\n"


def report(rows: list[dict], results: list[dict], clients: int, seconds: float) -> None:
    lines = [f"# Routing through the HA proxy, {datetime.datetime.now():%Y-%m-%d %H:%M}", ""]
    if rows:
        med = {how: {k: statistics.median(r[how][k] for r in rows) for k in ("rps", "p50", "p99")}
               for how in HOWS}
        cpu = {how: statistics.median(r[how]["cpu_us"] for r in rows) for how in ("proxied", "proxied-keepalive")}
        lines += [f"Throughput: {clients} clients for {seconds:.0f}s per run, to one busybox httpd task, straight "
                  "(host-mode port) and through the proxy, with a new connection per request and with keep-alive "
                  "clients (busybox closes every connection: straight keep-alive clients reconnect, and so does "
                  "the proxy to the task); new connections are closed with a reset, so the client's ports do not fill "
                  "with TIME_WAIT. Runs alternate in each round; proxy CPU is the CPU time of the HAProxy processes "
                  "on the proxy node over the run, per request.", "",
                  "| round | clients | straight req/s | proxied req/s | straight p50 ms | proxied p50 ms "
                  "| straight p99 ms | proxied p99 ms | proxy CPU us/req | failed |",
                  "|---|---|---|---|---|---|---|---|---|---|",
                  *(f"| {r['round']} | {kind} | {r[s_]['rps']:.0f} | {r[p_]['rps']:.0f} | {r[s_]['p50']:.1f} | "
                    f"{r[p_]['p50']:.1f} | {r[s_]['p99']:.1f} | {r[p_]['p99']:.1f} | {r[p_]['cpu_us']:.0f} | "
                    f"{r[s_]['failed'] + r[p_]['failed']} |"
                    for r in rows for kind, s_, p_ in (("new connections", "straight", "proxied"),
                                                       ("keep-alive", "straight-keepalive", "proxied-keepalive"))),
                  ""]
        for kind, s_, p_ in (("new connections", "straight", "proxied"),
                             ("keep-alive clients", "straight-keepalive", "proxied-keepalive")):
            lines.append(f"Medians, {kind}: proxied/straight requests/s **{med[p_]['rps'] / med[s_]['rps']:.2f}x**, "
                         f"p50 {med[p_]['p50'] / med[s_]['p50']:.2f}x, p99 {med[p_]['p99'] / med[s_]['p99']:.2f}x "
                         f"(**{med[p_]['p99'] - med[s_]['p99']:+.1f} ms** added), proxy CPU {cpu[p_]:.0f} us per "
                         "request.")
        lines.append("")
    if results:
        lines += ["Failover with traffic: one client, requests 10 ms apart, a new connection each, timeout 10 s.",
                  "", "| scenario | what happened | sent | failed | longest gap ms | p99 ms | event s |",
                  "|---|---|---|---|---|---|---|",
                  *(f"| {r['event']} | {r['marks']['detail']} | {r['sent']} | {r['failed']} | {r['gap'] * 1000:.0f} "
                    f"| {r['p99']:.1f} | {r['marks']['end'] - r['marks']['begin']:.1f} |" for r in results),
                  "", "![latency of each request](routing-failover.svg)", ""]
    text = "\n".join(lines)
    print("\n" + text)
    folder = os.path.join(REPO, "reports", "bench")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "routing.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    if results:
        with open(os.path.join(folder, "routing-failover.svg"), "w", encoding="utf-8") as handle:
            handle.write(svg(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["throughput", "failover"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--extra-vars", help="JSON variables the lab was made with (machines_prefix, "
                                             "machines_driver_options), given to site.yml --tags routing")
    parser.add_argument("--vip", help="send the failover client to this address (the lab's routing_vip, .250 of its "
                                      "subnet) and kill the machine that holds it in (c)")
    args = parser.parse_args()
    lab = Lab(machine_store.resolve_storage_path(), args.extra_vars)
    lab.pick_manager()
    say(f"deploying bench-direct and bench-web on the lab (manager {lab.manager})")
    deploy(lab)
    rows, results = [], []
    try:
        if args.only != "failover":
            rows = throughput(lab, args.rounds, args.seconds, args.clients)
        if args.only != "throughput":
            results = failover(lab, args.requests, args.vip)
    finally:
        report(rows, results, args.clients, args.seconds)
        say("removing the bench services")
        lab.pick_manager()
        remove(lab)


if __name__ == "__main__":
    main()
