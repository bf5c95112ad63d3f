"""The lab is indistinguishable from docker-machine machines: TLS engines, SSH, stop/start, teardown."""

import ipaddress
import json
import socket
import subprocess

import pytest
import requests
from labtools import LAB_IMAGES, NODES, PREFIX, PROMOTE_TASK, SUBNET, changed_tasks, recap, tasks_with

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerError, connect
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import wait_for


def test_site_creates_every_machine_without_failure(lab):
    totals = recap(lab.first_run)
    assert totals["localhost"]["failed"] == 0
    assert set(lab.names) <= set(totals)
    assert all(totals[name]["unreachable"] == 0 and totals[name]["failed"] == 0 for name in lab.names)


def test_every_engine_answers_over_tls_with_the_stored_client_certificate(lab):
    for name in lab.names:
        info = lab.engine(name).info()
        assert info["Name"] == name
        assert info["Driver"] == "overlay2"


def test_engine_refuses_a_client_without_certificate(lab):
    params = lab_lib.engine_params(lab.record(lab.names[0]))
    no_cert = {k: v for k, v in params.items() if k not in ("client_cert", "client_key")}
    with pytest.raises(DockerError, match="cannot reach the Docker engine"):
        connect(no_cert)
    plain_url = params["docker_host"].replace("tcp://", "http://")
    answer = requests.get(f"{plain_url}/version", timeout=5)
    assert answer.status_code == 400 and "HTTPS" in answer.text


def test_engine_certificate_names_the_machine_address(lab):
    for name in lab.names:
        record = lab.record(name)
        ips = lab_lib.store_lib.server_cert_ips(record["HostOptions"]["AuthOptions"]["ServerCertPath"])
        assert record["Driver"]["IPAddress"] in ips


def test_ssh_with_the_stored_key_reaches_every_machine(lab):
    for name in lab.names:
        driver = lab.record(name)["Driver"]
        out = subprocess.run(
            ["ssh", "-i", driver["SSHKeyPath"], "-p", str(driver["SSHPort"]), "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
             f"{driver['SSHUser']}@{driver['IPAddress']}", "hostname; sudo -n docker info --format '{{.Name}}'"],
            capture_output=True, text=True, timeout=30, check=True, stdin=subprocess.DEVNULL).stdout.split()
        assert out == [name, name]


def test_ssh_without_the_key_is_refused(lab, tmp_path):
    driver = lab.record(lab.names[0])["Driver"]
    proc = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "IdentitiesOnly=yes", "-o", f"IdentityFile={tmp_path}/none", "-o", "LogLevel=ERROR",
         f"{driver['SSHUser']}@{driver['IPAddress']}", "true"],
        capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 255 and "Permission denied" in proc.stderr


def test_inventory_lists_every_machine_with_engine_and_ssh_variables(lab):
    # ansible-core 2.19 writes a plugin's strings as {"__ansible_unsafe": "..."}.
    inventory = json.loads(lab.run("ansible-inventory", "--list"),
                           object_hook=lambda o: o.get("__ansible_unsafe", o) if len(o) == 1 else o)
    hostvars = inventory["_meta"]["hostvars"]
    assert sorted(inventory["docker_machine"]["hosts"]) == lab.names
    for name in lab.names:
        vars_ = hostvars[name]
        assert vars_["machine_driver"] == "lab" and vars_["machine_state"] == "Running"
        assert vars_["ansible_ssh_private_key_file"].endswith(f"machines/{name}/id_rsa")
        engine = connect({"docker_host": vars_["docker_host"], "validate_certs": vars_["docker_tls_verify"],
                          "ca_path": vars_["ca_path"], "client_cert": vars_["client_cert"],
                          "client_key": vars_["client_key"]})
        assert engine.info()["Name"] == name


def test_ansible_ping_reaches_every_machine_over_ssh(lab):
    out = lab.run("ansible", "docker_machine", "-m", "ansible.builtin.ping", "-o")
    assert sorted(line.split()[0] for line in out.splitlines() if "SUCCESS" in line) == lab.names


def test_new_machines_start_with_the_lab_images_copied_from_one_seed(lab, host_engine, tmp_path):
    """The lab images are loaded once, into a seed volume of the machine image, and a new machine's disk starts as a
    copy of its image store: the shared lab's machines hold the host's image ids, and a machine made now (in a store
    and network of its own) has them before any load and runs an image whose layers hold whiteouts and opaque
    folders (compose: Debian's apt lists removed over its base)."""
    images = sorted(LAB_IMAGES)
    host_ids = {image: host_engine.images.get(image).id for image in images}

    def held(engine):
        ids = {tag: image.id for image in engine.images.list() for tag in image.tags}
        return {image: ids.get(image) for image in images}

    assert all(held(lab.engine(name)) == host_ids for name in lab.names)
    seed_label = {"label": f"{lab_lib.LABEL_SEED}=swarmops/lab-node:bookworm"}
    seeds = host_engine.volumes.list(filters=seed_label)
    assert len(seeds) == 1
    store, name = str(tmp_path / "store"), f"{PREFIX}-seeded"
    subnet = f"{ipaddress.ip_network(SUBNET).network_address - 1024}/24"  # 172.30.93.0/24 beside the default lab's
    args = {"name": [name], "storage_path": store,
            "driver_options": {"network": f"swarmops-{name}", "subnet": subnet, "preload_images": images}}
    try:
        failed, made = lab.module("machine", args)
        assert not failed, made
        assert made["actions"] == ["create", "create network", "preload images", "write store", "start"]
        engine = connect(lab_lib.engine_params(machine_store.read_config(store, name)))
        assert held(engine) == host_ids
        assert b"docker-compose version 1." in engine.containers.run("swarmops/lab-compose:1.29", "--version",
                                                                     remove=True)
    finally:
        failed, removed = lab.module("machine", {**args, "state": "absent"})
    assert not failed, removed
    assert [volume.name for volume in host_engine.volumes.list(filters=seed_label)] == [seeds[0].name]
    assert host_engine.volumes.list(filters={"label": f"{lab_lib.LABEL_STORE}={store}"}) == []


def test_the_compose_check_runs_again_only_when_the_alias_or_its_image_changed(lab, host_engine):
    """A no-change run reads the stamp of the last check that passed; a node that lost the compose image fails the
    check although its alias line did not change, and passes again once the image is back."""
    node = lab.names[-1]
    engine = lab.engine(node)

    def compose(check=True):
        return lab.playbook("swarm.yml", "--tags", "compose", "--limit", node, check=check)

    def stamp():
        machine = host_engine.containers.get(lab_lib.container_name(node))
        return machine.exec_run(["cat", "/home/docker/.cache/swarmops-compose-alias"]).output.decode().splitlines()

    image = engine.images.get("swarmops/lab-compose:1.29")
    key, version = stamp()
    assert key.startswith("alias docker-compose=") and key.endswith(image.id)
    assert version.startswith("docker-compose version 1.")
    image.tag("swarmops/lab-compose", "kept-by-test")
    engine.images.remove("swarmops/lab-compose:1.29")
    try:
        failed = compose(check=False)
        assert recap(failed)[node]["failed"] == 1
    finally:
        image.tag("swarmops/lab-compose", "1.29")
        engine.images.remove("swarmops/lab-compose:kept-by-test")
    assert recap(compose())[node]["failed"] == 0
    assert stamp() == [key, version]


def test_second_run_of_site_reports_no_change(lab):
    out = lab.playbook("site.yml")
    totals = recap(out)
    assert {host: counters["changed"] for host, counters in totals.items()} == dict.fromkeys(totals, 0)
    # The managers node_bootstrap read are the inventory's: the swarm role needs no swarm_promote run to say so.
    assert PROMOTE_TASK in tasks_with(out, "skipping")[lab.names[0]]


def test_check_mode_reports_a_new_machine_and_creates_nothing(lab, host_engine):
    """On the swarm the run above left converged, --check reports the new machine and no change on any node."""
    out = lab.playbook("site.yml", "--check", "-e", f"lab_nodes={NODES + 1}")
    totals = recap(out)
    assert totals["localhost"]["changed"] >= 1
    assert {name: totals[name]["changed"] for name in lab.names} == dict.fromkeys(lab.names, 0), changed_tasks(out)
    assert lab.record(f"{PREFIX}{NODES + 1}") is None
    assert host_engine.containers.list(all=True, filters={"name": f"swarmops-lab-{PREFIX}{NODES + 1}"}) == []


def machine(lab, name, state):
    failed, result = lab.module("machine", {"name": name, "state": state})
    assert not failed, result
    return result


def port_open(ip, port):
    try:
        with socket.create_connection((ip, port), timeout=2):
            return True
    except OSError:
        return False


def test_stop_and_start_keep_the_address_and_the_disk(lab):
    name = lab.names[-1]
    ip = lab.record(name)["Driver"]["IPAddress"]
    lab.engine(name).volumes.create("kept-across-stop", labels={"proof": "disk"})

    stopped = machine(lab, name, "stopped")
    assert stopped["changed"] is True and stopped["machine"]["state"] == "Stopped"
    assert not port_open(ip, 2376)
    assert machine(lab, name, "stopped")["changed"] is False
    wait_for(lambda: lab.swarm_node(name)["Status"]["State"] == "down", 60, f"the managers to see {name} down")

    started = machine(lab, name, "started")
    assert started["changed"] is True and started["machine"]["ip"] == ip
    lab.wait_back_in_swarm(name)
    engine = lab.engine(name)
    assert engine.volumes.get("kept-across-stop").attrs["Labels"] == {"proof": "disk"}
    assert "swarmops/lab-app:1" in {t for image in engine.images.list() for t in image.tags}
