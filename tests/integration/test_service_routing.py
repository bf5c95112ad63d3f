"""Service routing on the lab: the HAProxy service that site.yml runs on the managers, routes from labels."""

import http.client
import threading
import time

import pytest
from labtools import recap

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
    connection = http.client.HTTPConnection(address(lab, node), 80, timeout=5)
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
                time.sleep(0.04)  # about 1.6 MB/s: the routing run below ends long before the download

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
