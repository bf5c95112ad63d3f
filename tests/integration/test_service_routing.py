"""Service routing on the lab: the HAProxy service that site.yml runs on the managers, routes from labels."""

import http.client
import threading
import time

import pytest
from labtools import SUBNET, recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib

MANAGERS = 3
NETWORK = "swarmops-routing"
# busybox httpd answering with the task's host name, on / and under /api
SERVE_HOSTNAME = ["sh", "-c", "mkdir -p /www/api && hostname | tee /www/index.html > /www/api/index.html "
                              "&& exec httpd -f -p 8080 -h /www"]


def address(lab, name):
    return lab.record(name)["Driver"]["IPAddress"]


def get(lab, node, path="/", host="swarmops.test"):
    """(status, body) of one request through the proxy on node."""
    return get_from(address(lab, node), path, host)


def get_from(ip, path, host):
    """(status, body) of one request to port 80 of an address: a proxy node's, or the VIP."""
    connection = http.client.HTTPConnection(ip, 80, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def eventually(check, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            result = None
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s (last: {result!r})")
        time.sleep(1)


def manager(lab):
    return lab_lib.engine_params(lab.record(lab.names[0]))


def routed_service(lab, name, replicas, **labels):
    failed, result = lab.module("swarm_service", {
        **manager(lab), "name": name, "image": "swarmops/lab-app:1", "command": SERVE_HOSTNAME,
        "replicas": replicas, "networks": [NETWORK], "stop_signal": "SIGKILL",
        "labels": {f"swarmops.route.{key}": value for key, value in labels.items()}})
    assert not failed, result


def config_sums(lab):
    out = lab.run("ansible", "swarm_managers", "-b", "-m", "ansible.builtin.command",
                  "-a", "md5sum /etc/swarmops/routing/haproxy.cfg")
    return sorted(line for line in out.splitlines() if "haproxy.cfg" in line or "CHANGED" in line)


def route(lab):
    return lab.playbook("site.yml", "--tags", "routing", check=False)


@pytest.fixture(scope="module")
def web_and_api(lab):
    routed_service(lab, "web", 3, host="web.swarmops.test", port="8080", health="/")
    routed_service(lab, "api", 2, path="/api", port="8080")
    out = route(lab)
    assert recap(out)[lab.names[0]]["failed"] == 0, out[-3000:]
    yield
    for name in ("web", "api", "by-hand", "broken", "download", "late"):
        lab.module("swarm_service", {**manager(lab), "name": name, "state": "absent"})
    route(lab)


def test_the_ha_example_answers_through_every_proxy_node(lab):
    for node in lab.names[:MANAGERS]:
        status, body = eventually(lambda node=node: get(lab, node, "/journal.log", "journal.swarmops.test"))
        assert status == 200 and body.count("\n") >= 1


def test_routes_by_host_and_by_path_answer_from_every_replica_in_turn(lab, web_and_api):
    web_tasks = {t["Status"]["ContainerStatus"]["ContainerID"][:12]
                 for t in lab.engine(lab.names[0]).api.tasks(filters={"service": "web", "desired-state": "running"})}
    seen = eventually(lambda: {body.strip() for _, body in (get(lab, lab.names[0], "/", "web.swarmops.test")
                                                           for _ in range(9))} == web_tasks and web_tasks)
    assert len(seen) == 3
    for node in lab.names[1:MANAGERS]:
        assert {get(lab, node, "/", "web.swarmops.test")[1].strip() for _ in range(6)} == web_tasks
    api_bodies = eventually(lambda: {get(lab, lab.names[1], "/api/", "anything.example")[1].strip()
                                     for _ in range(6)} or None)
    assert len(api_bodies) == 2
    assert get(lab, lab.names[0], "/", "nothing.example")[0] == 404


def test_a_service_created_by_hand_with_labels_is_routed_after_the_next_run(lab, web_and_api):
    lab.engine(lab.names[0]).services.create(
        "swarmops/lab-app:1", SERVE_HOSTNAME, name="by-hand", networks=[NETWORK],
        labels={"swarmops.route.host": "hand.swarmops.test", "swarmops.route.port": "8080"})
    started = time.monotonic()
    assert recap(route(lab))[lab.names[0]]["failed"] == 0
    status, _ = eventually(lambda: get(lab, lab.names[2], "/", "hand.swarmops.test")[0] == 200 and (200, ""))
    print(f"by-hand service routed {time.monotonic() - started:.1f}s after the routing run began")
    assert status == 200


def test_a_bad_route_fails_naming_service_and_label_and_the_old_routes_keep_serving(lab, web_and_api):
    try:
        refused_routes_keep_serving(lab)
    finally:
        lab.module("swarm_service", {**manager(lab), "name": "broken", "state": "absent"})


def refused_routes_keep_serving(lab):
    before = config_sums(lab)
    routed_service(lab, "broken", 1, host="web.swarmops.test", port="8080")
    out = route(lab)
    assert "service broken: swarmops.route.host/path web.swarmops.test/ is already the route of service web" in out \
        or "service web: swarmops.route.host/path web.swarmops.test/ is already the route of service broken" in out
    assert recap(out)[lab.names[0]]["failed"] == 1
    assert config_sums(lab) == before
    assert get(lab, lab.names[0], "/", "web.swarmops.test")[0] == 200

    failed, result = lab.module("swarm_service", {**manager(lab), "name": "broken", "labels": {
        "swarmops.route.host": "broken.swarmops.test", "swarmops.route.port": "9999"}})
    assert not failed, result
    assert ("service broken: label swarmops.route.port=9999 is not a port the service exposes (exposed: 8080)"
            in route(lab))


def test_a_reload_lets_a_download_in_flight_finish(lab, web_and_api):
    size = 64 * 1024 * 1024
    serve_big_file = f"mkdir -p /www && head -c {size} /dev/zero > /www/big && echo ok > /www/index.html && " \
                     "exec httpd -f -p 8080 -h /www"
    failed, result = lab.module("swarm_service", {
        **manager(lab), "name": "download", "image": "swarmops/lab-app:1", "networks": [NETWORK],
        "command": ["sh", "-c", serve_big_file], "stop_signal": "SIGKILL",
        "labels": {"swarmops.route.host": "download.swarmops.test", "swarmops.route.port": "8080"}})
    assert not failed, result
    out = route(lab)
    assert recap(out)[lab.names[0]]["failed"] == 0, out[-3000:]
    eventually(lambda: get(lab, lab.names[1], "/", "download.swarmops.test")[0] == 200)

    connection = http.client.HTTPConnection(address(lab, lab.names[1]), 80, timeout=30)
    connection.request("GET", "/big", headers={"Host": "download.swarmops.test"})
    response = connection.getresponse()
    assert response.status == 200
    received, slow = [0], threading.Event()

    def read():
        while chunk := response.read(64 * 1024):
            received[0] += len(chunk)
            if not slow.is_set():
                time.sleep(0.5)  # 128 KiB/s, so 64 MiB take 8 min: the routing run ends first even on a busy host

    reader = threading.Thread(target=read)
    reader.start()
    routed_service(lab, "late", 1, host="late.swarmops.test", port="8080")
    out = route(lab)
    reloaded = received[0]
    slow.set()
    reader.join(60)
    connection.close()

    assert "Reload the proxies whose configuration changed" in out and recap(out)[lab.names[1]]["changed"] >= 2
    assert 0 < reloaded < size, "the reload did not happen while the download was in flight"
    assert received[0] == size
    assert eventually(lambda: get(lab, lab.names[1], "/", "late.swarmops.test")[0] == 200)


def task_health(lab, service):
    hosts = {n.id: n.attrs["Description"]["Hostname"] for n in lab.engine(lab.names[0]).nodes.list()}
    tasks = lab.engine(lab.names[0]).api.tasks(filters={"service": service, "desired-state": "running"})
    return [lab.engine(hosts[t["NodeID"]]).api.inspect_container(t["Status"]["ContainerStatus"]["ContainerID"])
            ["State"]["Health"]["Status"] for t in tasks]


def test_swarm_service_is_done_only_when_every_task_is_healthy(lab):
    """Routing sends traffic to healthy tasks: swarm_service returns when the tasks pass their healthcheck."""
    healthy_later = {**manager(lab), "image": "swarmops/lab-app:1", "replicas": 2, "stop_signal": "SIGKILL",
                     "command": ["sh", "-c", "sleep 6; touch /ready; exec sleep 1d"],
                     "healthcheck": {"test": "test -f /ready", "interval": "1s", "retries": 30}}
    try:
        failed, result = lab.module("swarm_service", {**healthy_later, "name": "healthy-later"})
        assert not failed, result
        assert task_health(lab, "healthy-later") == ["healthy", "healthy"]

        failed, result = lab.module("swarm_service", {
            **healthy_later, "name": "never-healthy", "wait_timeout": 20,
            "healthcheck": {"test": "test -f /never", "interval": "1s", "retries": 2}})
        assert failed
        assert "timed out after 20s waiting for every task of never-healthy to run" in result["msg"]
        assert "unhealthy container" in result["msg"] or "starting" in result["msg"]
    finally:
        for name in ("healthy-later", "never-healthy"):
            lab.module("swarm_service", {**manager(lab), "name": name, "state": "absent"})


# --- One address for clients (keepalived VRRP on the proxy nodes) and no failed request on a backend's loss ------

# A client loop: one request every 20 ms, a new connection each, 1 s timeout; bounded by count and time.
LOOP_INTERVAL, LOOP_TIMEOUT, LOOP_MAX_REQUESTS = 0.02, 1.0, 3000


def vip(lab):
    return SUBNET.split("/")[0].rsplit(".", 1)[0] + ".250"


def container(name):
    return lab_lib.container_name(name)


def run_in_machine(host_engine, name, *cmd):
    exec_id = host_engine.api.exec_create(container(name), list(cmd))["Id"]
    out = host_engine.api.exec_start(exec_id).decode()
    return host_engine.api.exec_inspect(exec_id)["ExitCode"], out


def vip_holder(lab, host_engine):
    """The one proxy node that holds the VIP (None while none or several do); killed machines hold nothing."""
    held = []
    for name in lab.names[:MANAGERS]:
        if host_engine.api.inspect_container(container(name))["State"]["Running"] and \
                run_in_machine(host_engine, name, "ip", "-4", "-o", "addr", "show")[1].count(f" {vip(lab)}/") == 1:
            held.append(name)
    return held[0] if len(held) == 1 else None


def client_loop(lab, host, event, after=12.0):
    """Requests to the VIP while `event` runs (in a thread, after one second) and `after` seconds past its end.
    Returns sent, failed and the longest failure: from the first failed request of a run to the next success."""
    samples, marks = [], {}
    start = time.monotonic()

    def run_event():
        marks["begin"] = time.monotonic() - start
        try:
            marks["detail"] = event()
        finally:
            marks["end"] = time.monotonic() - start

    worker = threading.Thread(target=run_event)
    while len(samples) < LOOP_MAX_REQUESTS and time.monotonic() - start < 180:
        now = time.monotonic() - start
        if "end" in marks and now > marks["end"] + after:
            break
        if now > 1 and "begin" not in marks and not worker.is_alive():
            worker.start()
        connection = http.client.HTTPConnection(vip(lab), 80, timeout=LOOP_TIMEOUT)
        try:
            connection.request("GET", "/", headers={"Host": host})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):  # refused, reset, or cut mid-answer (IncompleteRead)
            ok = False
        finally:
            connection.close()
        samples.append((now, ok))
        time.sleep(max(0.0, LOOP_INTERVAL - (time.monotonic() - start - now)))
    worker.join(300)
    longest, first_failed = 0.0, None
    for sent, ok in samples:
        if not ok and first_failed is None:
            first_failed = sent
        elif ok and first_failed is not None:
            longest, first_failed = max(longest, sent - first_failed), None
    if first_failed is not None:
        longest = max(longest, samples[-1][0] - first_failed)
    result = {"sent": len(samples), "failed": sum(not ok for dummy, ok in samples),
              "longest_failure_s": round(longest, 2), "event": marks.get("detail")}
    print(f"\nclient loop through the VIP {vip(lab)}: {result}")
    return result


def bring_back(lab, host_engine, name):
    """Start a killed machine again, start its keepalived (the lab's init starts only sshd and the engine) and wait
    for a healthy swarm, so later tests are undisturbed."""
    host_engine.api.start(container(name))
    deadline = time.monotonic() + 120
    while True:
        try:
            lab.engine(name).ping()
            break
        except Exception:  # noqa: BLE001 - the engine of a machine starting again refuses until it is up
            assert time.monotonic() < deadline, f"the engine of {name} did not come back within 120s"
            time.sleep(1)
    if name in lab.names[:MANAGERS]:  # keepalived runs on the proxy nodes only
        eventually(lambda: " | FAILED" not in lab.run("ansible", name, "-b", "-m", "ansible.builtin.service", "-a",
                                                      "name=keepalived state=started", check=False), timeout=120)
    alive = next(n for n in lab.names[:MANAGERS] if n != name)
    failed, result = lab.module("swarm_wait", {**lab_lib.engine_params(lab.record(alive)),
                                               "until": {"healthy": True}, "wait_timeout": 300})
    assert not failed, result


def test_the_vip_is_held_by_one_proxy_node_and_routes(lab, host_engine):
    # The preferred node (the first of routing_group) holds it, once its proxy answers and the preempt delay passed.
    eventually(lambda: vip_holder(lab, host_engine) == lab.names[0], timeout=60)
    again = route(lab)
    assert all(recap(again)[name]["changed"] == 0 for name in lab.names[:MANAGERS]), again[-3000:]
    status, body = eventually(lambda: get_from(vip(lab), "/journal.log", "journal.swarmops.test"))
    assert status == 200 and body


def test_killing_the_vip_holders_proxy_task_moves_the_vip_within_the_switch_over(lab, web_and_api, host_engine):
    holder = eventually(lambda: vip_holder(lab, host_engine))

    def kill_proxy():
        proxy = lab.engine(holder).containers.list(filters={"label": "com.docker.swarm.service.name=routing"})[0]
        proxy.kill()
        return f"proxy task on {holder} killed"

    result = client_loop(lab, "web.swarmops.test", kill_proxy, after=20)
    assert result["longest_failure_s"] < 3.5, result
    eventually(lambda: vip_holder(lab, host_engine) == holder, timeout=60)  # taken back once its proxy answers


def test_a_start_first_update_loses_no_request_through_the_vip(lab, web_and_api, host_engine):
    # The VIP settled on its preferred node first, so a move of the VIP cannot be counted against the update.
    eventually(lambda: vip_holder(lab, host_engine) == lab.names[0], timeout=90)

    def update():
        failed, result = lab.module("swarm_service", {
            **manager(lab), "name": "web", "image": "swarmops/lab-app:1", "command": SERVE_HOSTNAME, "replicas": 3,
            "networks": [NETWORK], "stop_signal": "SIGKILL", "env": {"ROUND": str(time.time())},
            "update_config": {"order": "start-first", "parallelism": 1, "delay": "1s"},
            "labels": {"swarmops.route.host": "web.swarmops.test", "swarmops.route.port": "8080",
                       "swarmops.route.health": "/"}})
        assert not failed, result
        return "web updated start-first"

    result = client_loop(lab, "web.swarmops.test", update, after=5)
    assert result["failed"] == 0, result


def test_killing_a_backends_machine_loses_no_request_through_the_vip(lab, web_and_api, host_engine):
    holder = eventually(lambda: vip_holder(lab, host_engine))
    hosts = {n.id: n.attrs["Description"]["Hostname"] for n in lab.engine(lab.names[0]).nodes.list()}
    web_nodes = {hosts[t["NodeID"]] for t in lab.engine(lab.names[0]).api.tasks(
        filters={"service": "web", "desired-state": "running"})}
    victim = next(n for n in reversed(lab.names) if n in web_nodes and n != holder and n != lab.names[0])

    def kill():
        host_engine.api.kill(container(victim))
        return f"{victim} killed"

    try:
        result = client_loop(lab, "web.swarmops.test", kill, after=20)
    finally:
        bring_back(lab, host_engine, victim)
    assert result["failed"] == 0, result


@pytest.mark.parametrize("extra_vars, refusal", [
    ("routing_vip=10.199.0.5", "routing_vip: 10.199.0.5 is not in the subnet of any address of proxy node"),
    ('{"routing_vrrp_advert_interval": 0.5}', "routing_vrrp_advert_interval: 0.5 is not a whole number of seconds "
                                              "from 1 to 255 (VRRPv2; version 3 allows less than a second)"),
])
def test_a_vip_outside_the_subnet_or_vrrp_settings_keepalived_refuses_are_refused_before_any_change(lab, extra_vars,
                                                                                                    refusal):
    before = config_sums(lab)
    out = lab.playbook("site.yml", "--tags", "routing", "-e", extra_vars, check=False)
    assert refusal in out
    assert all(counts["changed"] == 0 for counts in recap(out).values()), recap(out)
    assert config_sums(lab) == before


def test_a_vip_in_use_or_a_router_id_clash_is_refused_naming_the_variable(lab, host_engine):
    worker = lab.names[-1]
    peers = [address(lab, n) for n in lab.names[1:MANAGERS]]
    failed, result = lab.module("routing_vip_check", {"routing_vip": address(lab, worker), "routing_vrrp_router_id": 51,
                                                      "peers": peers, "listen_seconds": 0},
                                host=lab.names[0], on_node=True)
    assert failed and f"routing_vip: {address(lab, worker)} is already in use on the network" in result["msg"]

    # Another VRRP router (a worker, not a proxy node) advertising router id 51 every 0.5 s, from before the check
    # starts until it has answered (its marker file removed; 60 s at most), however long the check takes to start.
    marker = "/tmp/swarmops-stranger-adverts"
    advertise = ("import os,socket,time\n"
                 "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,112)\n"
                 "s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,255)\n"
                 "p=bytes([0x21,51,100,1,0,1,0,0])+socket.inet_aton('10.1.2.3')+bytes(8)\n"
                 f"open('{marker}','w').close()\n"
                 "for i in range(120):\n"
                 "    s.sendto(p,('224.0.0.18',0)); time.sleep(0.5)\n"
                 f"    if not os.path.exists('{marker}'): break\n")
    stranger = threading.Thread(target=run_in_machine, args=(host_engine, worker, "python3", "-c", advertise))
    stranger.start()
    deadline = time.monotonic() + 30
    while run_in_machine(host_engine, worker, "test", "-e", marker)[0] != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    new_vip = vip(lab).rsplit(".", 1)[0] + ".249"  # a VIP the proxies do not hold yet: the check listens
    failed, result = lab.module("routing_vip_check", {"routing_vip": new_vip, "routing_vrrp_router_id": 51,
                                                      "peers": peers}, host=lab.names[0], on_node=True)
    run_in_machine(host_engine, worker, "rm", "-f", marker)
    stranger.join(30)
    assert failed and (f"routing_vrrp_router_id: 51 is already used by another VRRP router on the network "
                       f"({address(lab, worker)})") in result["msg"]

    # The lab's VIP, held by the proxies' running instance: the check does not listen (a no-change run's cost).
    failed, result = lab.module("routing_vip_check", {"routing_vip": vip(lab), "routing_vrrp_router_id": 51,
                                                      "peers": peers}, host=lab.names[0], on_node=True)
    assert not failed and result["listened"] is False, result
