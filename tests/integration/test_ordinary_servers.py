"""Ordinary servers: bare machines (Debian 11, 12 and 13, no Docker) in a static inventory whose names are not the
servers' hostnames and that sets no docker_host. site.yml installs the engines (20.10 and 26) and the Docker SDK,
runs every module on the servers themselves over SSH, and gives the guide's swarm, the registry, the journal and
its route."""

import concurrent.futures
import ipaddress
import json
import os
import re
import subprocess
import time

import browser
import pytest
import yaml
from labtools import LAB_IMAGES, OTHER_LABS, PREFIX, ROOT, Lab, leaked, recap, remove_stale_machines
from labtools import SUBNET as SHARED_SUBNET

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerError, connect

# Two checkouts side by side (SWARMOPS_IT_PREFIX, SWARMOPS_IT_SUBNET, see labtools): this lab's machines are named
# after the prefix, on the /24 after the shared lab's; CI uses the defaults.
if "SWARMOPS_IT_PREFIX" in os.environ or "SWARMOPS_IT_SUBNET" in os.environ:
    MACHINE_PREFIX, NETWORK = f"{PREFIX}-srv", f"swarmops-{PREFIX}-srv"
    SUBNET = str(ipaddress.ip_network(SHARED_SUBNET).network_address + 256) + "/24"
else:
    MACHINE_PREFIX, NETWORK, SUBNET = "srv-node", "swarmops-srv", "172.30.96.0/24"
# (inventory name, machine and hostname, Debian release): managers first, engines 20.10 (11, 12) and 26 (13).
SERVERS = [
    ("mgr-a.servers.test", f"{MACHINE_PREFIX}1", "bullseye"),
    ("mgr-b.servers.test", f"{MACHINE_PREFIX}2", "bookworm"),
    ("mgr-c.servers.test", f"{MACHINE_PREFIX}3", "trixie"),
    ("wrk-a.servers.test", f"{MACHINE_PREFIX}4", "bookworm"),
    ("wrk-b.servers.test", f"{MACHINE_PREFIX}5", "trixie"),
]
# One more server, outside the swarm, has its engine served over TLS (node_bootstrap_engine_tls) and is then driven
# from the controller like a docker-machine machine.
TLS_SERVER = ("tls-a.servers.test", f"{MACHINE_PREFIX}6", "bookworm")
# Served by the routing proxy on every manager (the lab's host names), and Cockpit's port on the managers.
PROMETHEUS_HOST, ALERTMANAGER_HOST = "prometheus.swarmops.test", "alertmanager.swarmops.test"
COCKPIT_PORT = 9090
# The lab's Prometheus is Debian's, which serves its server-rendered pages under /classic (its React pages are not
# packaged); they need no script to show targets and alerts.
PROMETHEUS_PAGES = "/classic"
NAMES = [server[0] for server in SERVERS]
MACHINES = [server[1] for server in SERVERS]

pytestmark = pytest.mark.xdist_group(OTHER_LABS)


def make_machine(client, store, machine, release, state="started"):
    return lab_lib.converge_machine(client, store, machine, state,
                                    {"kind": "bare", "release": release, "network": NETWORK, "subnet": SUBNET}, [])


def inventory(store, archive):
    """A static inventory as a user writes one: FQDN names, addresses, the SSH user and key, no engine variables."""
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all.yml"), encoding="utf-8") as handle:
        lab_vars = yaml.safe_load(handle)
    hosts = {}
    for name, machine in zip(NAMES, MACHINES, strict=True):
        record = lab_lib.store_lib.read_config(store, machine)
        hosts[name] = {"ansible_host": record["Driver"]["IPAddress"],
                       "ansible_ssh_private_key_file": os.path.join(store, "machines", machine, "id_rsa")}
    tls_name, tls_machine = TLS_SERVER[:2]
    pki = os.path.join(store, "swarmops-pki")
    tls_ip = lab_lib.store_lib.read_config(store, tls_machine)["Driver"]["IPAddress"]
    tls_host = {"ansible_host": tls_ip,
                "ansible_ssh_private_key_file": os.path.join(store, "machines", tls_machine, "id_rsa"),
                "node_bootstrap_engine_tls": True, "node_bootstrap_pki_dir": pki,
                **engine_tls_params(pki, tls_ip)}
    return {"all": {
        "vars": {**lab_vars, "ansible_user": "docker", "swarm_advertise_addr": "{{ ansible_host }}",
                 # These servers cannot pull: the lab's images come as an archive, as on an air-gapped site.
                 "node_bootstrap_image_archives": [{"archive": archive, "images": sorted(LAB_IMAGES)}],
                 # Cockpit on the managers, from the distribution's packages, on TLS from the collection's CA.
                 "monitoring_cockpit": True, "monitoring_cockpit_port": COCKPIT_PORT,
                 # The routing VIP (keepalived) is the shared lab's test; its address is of that lab's subnet.
                 "routing_vip": None},
        "children": {
            "swarm_managers": {"hosts": {name: hosts[name] for name in NAMES[:3]}},
            "swarm_workers": {"hosts": {name: hosts[name] for name in NAMES[3:]}},
            "tls_nodes": {"hosts": {tls_name: tls_host}},
        }}}


def engine_tls_params(pki, address):
    """What an inventory gives a host whose engine node_bootstrap serves over TLS (also the module options)."""
    return {"docker_host": f"tcp://{address}:2376", "docker_tls_verify": True,
            "ca_path": os.path.join(pki, "ca.crt"), "client_cert": os.path.join(pki, "engine-client.crt"),
            "client_key": os.path.join(pki, "engine-client.key")}


class Servers(Lab):
    def __init__(self, store, config, inventory_path, client):
        super().__init__(store, config)
        self.inventory_path = inventory_path
        self.client = client

    def playbook(self, name, *extra, live=False, check=True):
        return self.run("ansible-playbook", "-i", self.inventory_path, f"playbooks/{name}", *extra,
                        live=live, check=check)

    def sh(self, machine, command):
        """A command on the server, through the engine that hosts the lab machine (not through the swarm)."""
        cname = lab_lib.container_name(machine)
        exec_id = self.client.api.exec_create(cname, ["sh", "-c", command])
        out = self.client.api.exec_start(exec_id).decode()
        return self.client.api.exec_inspect(exec_id)["ExitCode"], out


@pytest.fixture(scope="module")
def servers(tmp_path_factory, request, host_engine):
    store = str(tmp_path_factory.mktemp("servers-store"))
    work = tmp_path_factory.mktemp("servers")
    remove_stale_machines(host_engine, [*MACHINES, TLS_SERVER[1]], store)
    archive = str(work / "lab-images.tar")
    try:
        # The machines, and the images the lab's inventory runs, side by side.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(SERVERS) + len(LAB_IMAGES) + 1) as pool:
            jobs = [pool.submit(make_machine, host_engine, store, *server[1:]) for server in [*SERVERS, TLS_SERVER]]
            jobs += [pool.submit(lab_lib.ensure_image, host_engine, *image) for image in LAB_IMAGES.items()]
            for job in jobs:
                job.result()
        subprocess.run(["docker", "save", "-o", archive, *LAB_IMAGES], check=True)
        inventory_path = str(work / "servers.yml")
        with open(inventory_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(inventory(store, archive), handle)
        yield Servers(store, request.config, inventory_path, host_engine)
    finally:
        for machine in [*MACHINES, TLS_SERVER[1]]:
            lab_lib.remove_machine(host_engine, store, machine)
        lab_lib.remove_network_if_unused(host_engine, NETWORK)


@pytest.fixture(scope="module")
def formed(servers):
    """Refusals first, on the fresh servers; then --check, then the real run and a second one."""
    servers.no_engine = servers.playbook("site.yml", "--tags", "bootstrap", "--limit", SERVERS[4][0],
                                         "-e", json.dumps({"node_bootstrap_install_engine": False}), check=False)
    servers.no_package = servers.playbook(
        "site.yml", "--tags", "bootstrap", "--limit", SERVERS[4][0],
        "-e", json.dumps({"node_bootstrap_engine_packages": {"distribution": ["swarmops-no-such-engine"]}}),
        check=False)
    servers.check_run = servers.playbook("site.yml", "--check", live=True)
    servers.packages_after_check = {machine: servers.sh(machine, "dpkg-query -W docker.io python3-docker")[0]
                                    for machine in MACHINES}
    timings = {}
    for run, verbosity in (("first_run", ()), ("second_run", ("-vvv",))):
        started = time.monotonic()
        setattr(servers, run, servers.playbook("site.yml", *verbosity, live=True))
        timings[run] = round(time.monotonic() - started, 1)
    # For the reader of a CI log: bare servers to the whole site, and the run that changes nothing.
    print(f"\nordinary servers: site.yml from bare servers {timings['first_run']} s, "
          f"second run {timings['second_run']} s", flush=True)
    return servers


def test_a_server_without_an_engine_is_refused_by_name_when_installing_is_off(formed):
    assert f"{SERVERS[4][0]} has no Docker engine (no dockerd) and node_bootstrap_install_engine is false" \
        in formed.no_engine
    assert recap(formed.no_engine)[SERVERS[4][0]]["failed"] == 1


def test_a_server_that_cannot_install_its_engine_fails_naming_the_host_and_package(formed):
    failed = [line for line in formed.no_package.splitlines() if line.startswith(f"fatal: [{SERVERS[4][0]}]")]
    assert failed and "swarmops-no-such-engine" in formed.no_package
    assert recap(formed.no_package)[SERVERS[4][0]]["changed"] == 0


def test_check_mode_on_bare_servers_installs_nothing(formed):
    totals = recap(formed.check_run)
    assert all(totals[name]["failed"] == 0 and totals[name]["unreachable"] == 0 for name in NAMES)
    assert all(totals[name]["changed"] > 0 for name in NAMES)  # it says the engine would be installed
    assert formed.packages_after_check == {machine: 1 for machine in MACHINES}


def test_site_forms_the_guides_swarm_on_the_servers_hostnames(formed):
    assert all(counters["failed"] == 0 for counters in recap(formed.first_run).values())
    rc, out = formed.sh(MACHINES[0], "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")
    assert rc == 0
    nodes = dict(line.split(" ", 1) for line in out.split("\n")[:-1])
    # The guide's shape: the managers are the first three servers, one of them Leader (engines restart when their
    # settings change, and leadership may move), the workers the other two.
    assert sorted(nodes[machine] for machine in MACHINES[:3]) == ["Ready Leader", "Ready Reachable", "Ready Reachable"]
    assert [nodes[machine] for machine in MACHINES[3:]] == ["Ready ", "Ready "]


def test_servers_run_the_engines_of_their_release_with_the_sdk_on_python_3_9_and_later(formed):
    versions = {}
    for machine, release in zip(MACHINES, (server[2] for server in SERVERS), strict=True):
        rc, version = formed.sh(machine, "docker version --format '{{.Server.Version}}'")
        assert rc == 0, version
        rc, python = formed.sh(machine, "python3 -c 'import sys, docker; print(sys.version_info[1])'")
        assert rc == 0, python
        versions[release] = (version.split(".")[0], int(python))
    assert versions["bullseye"] == ("20", 9)
    assert versions["bookworm"][0] == "20" and versions["trixie"][0] == "26"


def test_no_engine_port_is_open_on_the_servers(formed):
    for machine in MACHINES:
        rc, listening = formed.sh(machine, "ss -Htln")
        assert rc == 0 and ":2375 " not in listening and ":2376 " not in listening


def test_registry_journal_and_route_answer_on_every_server(formed):
    fetch = ("python3 -c \"import sys, urllib.request; r = urllib.request.Request(sys.argv[1], headers={'Host': "
             "sys.argv[2]}); print(urllib.request.urlopen(r, timeout=5).read().decode())\" ")
    for machine in MACHINES:
        rc, catalog = formed.sh(machine, fetch + "http://localhost:5000/v2/_catalog localhost")
        assert rc == 0 and json.loads(catalog)["repositories"] == ["app"]
    # The proxy drops a backend its 1 s DNS and health checks miss (what makes failover take a second), so on a
    # machine as loaded as CI's a route can answer 503 for a moment: it must answer within seconds.
    for machine in MACHINES[:3]:
        def journal(machine=machine):
            rc, text = formed.sh(machine, fetch + "http://localhost/journal.log journal.swarmops.test")
            if rc != 0 or text.count("\n") < 1:
                raise ConnectionError(text[-600:])
            return text
        wait_for(f"the journal through {machine}'s proxy", journal, timeout=30, interval=1)


def test_second_run_changes_nothing(formed):
    assert {name: counters["changed"] for name, counters in recap(formed.second_run).items()} == \
        {name: 0 for name in [*NAMES, "localhost"] if name in recap(formed.second_run)}


def address(servers, machine):
    return lab_lib.store_lib.read_config(servers.store, machine)["Driver"]["IPAddress"]


@pytest.fixture(scope="module")
def chromium(servers):
    """Debian's Chromium, resolving the routes' host names to the first manager (its routing proxy)."""
    manager = address(servers, MACHINES[0])
    with browser.chromium({PROMETHEUS_HOST: manager, ALERTMANAGER_HOST: manager}) as the_browser:
        yield the_browser


def wait_for(what, probe, timeout, interval=3):
    """probe() until it returns something true; fails naming what was awaited and the last answer."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except OSError as error:  # a route or an engine not answering yet
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not seen within {timeout} s; last: {last!r}"[:2000])


def test_prometheus_targets_page_lists_every_engine_and_node_exporter_up(formed, chromium):
    page = chromium.new_page()
    counts = {}

    def all_up():
        page.goto(f"http://{PROMETHEUS_HOST}{PROMETHEUS_PAGES}/targets", wait_until="load")
        text = page.inner_text("body")
        counts.update({job: re.search(rf"\b{job} \((\d+)/(\d+) up\)", text) for job in ("engine", "node")})
        return all(found and found.group(1) == found.group(2) == str(len(SERVERS)) for found in counts.values())

    try:
        wait_for("every engine and node-exporter UP on Prometheus's targets page", all_up, 90)
        assert page.locator("text=UP").count() >= 2 * len(SERVERS)
    finally:
        browser.screenshot(page, "prometheus-targets")
        page.close()


def test_cockpit_serves_its_login_page_on_tls_from_the_collections_ca(formed, chromium):
    ca_file = os.path.join(formed.store, "swarmops-pki", "ca.crt")
    context = chromium.new_context(ignore_https_errors=True)  # the chain is checked below, with the CA alone
    try:
        for machine in MACHINES[:3]:
            manager = address(formed, machine)
            certificate = browser.served_certificate(manager, COCKPIT_PORT, ca_file)
            assert ("IP Address", manager) in certificate["subjectAltName"]
            page = context.new_page()
            page.goto(f"https://{manager}:{COCKPIT_PORT}/", wait_until="load")
            page.wait_for_selector("#login-user-input", state="visible", timeout=30000)
            browser.screenshot(page, f"cockpit-login-{machine}")
            assert page.locator("#login-password-input").count() == 1
            assert page.locator("#login-button").count() == 1
        for machine in MACHINES[3:]:  # Cockpit runs on the managers only
            rc, listening = formed.sh(machine, "ss -Htln")
            assert rc == 0 and f":{COCKPIT_PORT} " not in listening
    finally:
        context.close()


def test_a_stopped_worker_is_a_firing_alert_in_prometheus_and_alertmanager_then_the_swarm_heals(formed, chromium):
    worker, release = SERVERS[4][1:]
    manager = address(formed, MACHINES[0])
    make_machine(formed.client, formed.store, worker, release, state="stopped")
    try:
        def firing():
            alerts = json.loads(browser.fetch(manager, "/api/v2/alerts?active=true", ALERTMANAGER_HOST))
            return [alert for alert in alerts if alert["labels"].get("alertname") == "SwarmNodeDown"
                    and alert["labels"].get("node") == worker]
        wait_for(f"SwarmNodeDown for {worker} in Alertmanager", firing, 120)
        page = chromium.new_page()
        try:
            # Debian's Alertmanager ships no web application (its landing page says so): its alert list is the
            # API's, which the browser shows as it comes.
            page.goto(f"http://{ALERTMANAGER_HOST}/api/v2/alerts?filter=alertname%3D%22SwarmNodeDown%22",
                      wait_until="load")
            browser.screenshot(page, "alertmanager-alerts")
            listed = json.loads(page.inner_text("body"))
            assert [alert["labels"]["node"] for alert in listed] == [worker]
            assert listed[0]["status"]["state"] == "active"
            page.goto(f"http://{PROMETHEUS_HOST}{PROMETHEUS_PAGES}/alerts", wait_until="load")
            browser.screenshot(page, "prometheus-alerts")
            text = page.inner_text("body")
            assert re.search(r"SwarmNodeDown \(1 active\)", text), text[:2000]
            assert "firing" in page.content().lower() and worker in page.content()
        finally:
            page.close()
    finally:
        make_machine(formed.client, formed.store, worker, release)

    def healthy():
        rc, out = formed.sh(MACHINES[0], "docker node ls --format '{{.Hostname}} {{.Status}}'")
        nodes = dict(line.split(" ", 1) for line in out.split("\n")[:-1]) if rc == 0 else {}
        if any(nodes.get(machine) != "Ready" for machine in MACHINES):
            return False
        rc, services = formed.sh(MACHINES[0], "docker service ls --format '{{.Name}} {{.Replicas}}'")
        replicas = [line.split()[1].split("/") for line in services.split("\n")[:-1]]
        return rc == 0 and all(running == wanted for running, wanted in replicas)

    def resolved():
        return not firing()
    wait_for(f"{worker} Ready again and every service at full strength", healthy, 300)
    wait_for(f"SwarmNodeDown for {worker} resolved in Alertmanager", resolved, 120)


def test_no_join_token_in_the_output_even_at_vvv(formed):
    tokens = [formed.sh(MACHINES[0], f"docker swarm join-token -q {role}")[1].strip() for role in ("worker", "manager")]
    assert all(token.startswith("SWMTKN-") for token in tokens)
    assert leaked(formed.first_run + formed.second_run, tokens) == []


def test_an_inventory_name_that_is_no_node_is_refused_by_name(formed):
    out = formed.run("ansible", "-i", formed.inventory_path, SERVERS[0][0], "-b", "-m", "swarmops.ha.swarm_node",
                     "-a", json.dumps({"name": SERVERS[3][0], "availability": "drain"}), check=False)
    assert f"{SERVERS[3][0]}" in out and "FAILED" in out and MACHINES[3] in out


def test_an_unreachable_socket_fails_naming_it(formed):
    out = formed.run("ansible", "-i", formed.inventory_path, SERVERS[3][0], "-b", "-m", "swarmops.ha.swarm_info",
                     "-a", json.dumps({"docker_host": "unix:///run/no-engine.sock"}), check=False)
    assert f"{SERVERS[3][0]} | FAILED" in out and "cannot reach the Docker engine at unix:///run/no-engine.sock" in out


def test_engine_settings_the_engine_refuses_are_rolled_back_and_it_runs_on(formed):
    """Engine 20.10 (Debian 12) has no dockerd --validate: the restart fails and the old file comes back;
    engine 26 (Debian 13) refuses the file before anything is written."""
    workers = dict(zip(NAMES[3:], MACHINES[3:], strict=True))
    before = {machine: formed.sh(machine, "cat /etc/docker/daemon.json") for machine in workers.values()}
    out = formed.playbook("site.yml", "--tags", "bootstrap", "--limit", ",".join(workers),
                          "-e", json.dumps({"node_bootstrap_engine_settings": {"swarmops-no-such-setting": True}}),
                          check=False)
    for name, machine in workers.items():
        assert re.search(rf"^fatal: \[{re.escape(name)}\].*the previous configuration is back and the engine runs",
                         out, re.MULTILINE), name
        assert recap(out)[name]["failed"] == 1
        assert formed.sh(machine, "cat /etc/docker/daemon.json") == before[machine]
        for attempt in range(30):
            rc, state = formed.sh(machine, "docker info --format '{{.Swarm.LocalNodeState}}'")
            if (rc, state) == (0, "active\n") or attempt == 29:
                break
            time.sleep(1)
        assert (rc, state) == (0, "active\n")


def test_a_server_given_engine_tls_is_driven_from_the_controller_over_tls_only(servers):
    name, machine = TLS_SERVER[:2]
    first = servers.playbook("site.yml", "--tags", "bootstrap", "-e", "swarm_hosts=tls_nodes", live=True)
    again = servers.playbook("site.yml", "--tags", "bootstrap", "-e", "swarm_hosts=tls_nodes")
    assert recap(first)[name]["failed"] == 0 and recap(again)[name]["changed"] == 0
    address = lab_lib.store_lib.read_config(servers.store, machine)["Driver"]["IPAddress"]
    params = engine_tls_params(os.path.join(servers.store, "swarmops-pki"), address)
    params["validate_certs"] = params.pop("docker_tls_verify")
    assert connect(params).info()["Name"] == machine
    with pytest.raises(DockerError, match="cannot reach the Docker engine"):
        connect({**params, "client_cert": None, "client_key": None})
    # The node has no Docker SDK: its modules run on the controller, over TLS.
    rc, out = servers.sh(machine, "python3 -c 'import docker'")
    assert rc != 0 and "ModuleNotFoundError" in out
