"""Services that keep their data: the registry, each mount type, limits, bad input, and a node lost under an HA
service. site.yml (run by the lab fixture) made the distributed volume, the registry and the journal service."""

import json
import time
import uuid

import pytest
from labtools import recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import wait_for

MIB = 1024 ** 2


def manager(lab):
    return lab_lib.engine_params(lab.record(lab.names[0]))


def service_module(lab, name, **options):
    return lab.module("swarm_service", {**manager(lab), "name": name, **options})


def running_task(lab, service, timeout=120):
    """(node name, container id) of the service's one running task."""
    api = lab.engine(lab.names[0]).api
    hostnames = {n["ID"]: n["Description"]["Hostname"] for n in api.nodes()}

    def find():
        for task in api.tasks(filters={"service": service, "desired-state": "running"}):
            status = task["Status"]
            if status["State"] == "running" and status.get("ContainerStatus", {}).get("ContainerID"):
                return hostnames[task["NodeID"]], status["ContainerStatus"]["ContainerID"]
        return None
    return wait_for(find, timeout, f"a running task of {service}")


def run_in(lab, node, container, *command):
    """Run a command in a task container through its node's engine; (exit code, output)."""
    api = lab.engine(node).api
    exec_id = api.exec_create(container, list(command))["Id"]
    output = api.exec_start(exec_id).decode()
    return api.exec_inspect(exec_id)["ExitCode"], output


def on_node(lab, node, module, args, become=True):
    return lab.run("ansible", node, *(["-b"] if become else []), "-m", module, "-a", args)


def catalog(lab, node):
    """The registry catalog read on the node at localhost:5000; None when it does not answer."""
    out = lab.run("ansible", node, "-m", "ansible.builtin.uri", "-a",
                  "url=http://localhost:5000/v2/_catalog return_content=true", check=False)
    status, dummy, result = out.partition("=>")
    return json.loads(result)["json"] if "SUCCESS" in status else None


@pytest.fixture(scope="module", autouse=True)
def remove_test_services(lab):
    """The services these tests make are gone after them: one pinned to a worker would fail the drills later."""
    yield
    for name in ("mounts", "pulled", "too-big"):
        service_module(lab, name, state="absent")


def test_site_made_the_services_without_failure(lab):
    totals = recap(lab.first_run)
    assert all(counters["failed"] == 0 and counters["unreachable"] == 0 for counters in totals.values())
    assert {s["Spec"]["Name"] for s in lab.engine(lab.names[0]).api.services()} == {
        "registry", "journal", "routing", "prometheus", "alertmanager", "node-exporter"}


def test_the_registry_catalog_shows_the_pushed_image_from_every_node(lab):
    # An earlier test stopped and started a machine: its registry task comes back once its engine and its
    # GlusterFS mount are up again, as on a rebooted node.
    for name in lab.names:
        assert wait_for(lambda node=name: catalog(lab, node), 120, f"the registry at localhost:5000 on {name}",
                        interval=3) == {"repositories": ["app"]}, name


def test_a_service_on_another_node_runs_an_image_pulled_from_the_registry(lab):
    # A node that has not pulled it yet (the journal service runs it on one node, wherever the swarm placed it).
    worker = next(name for name in reversed(lab.names) if not lab.engine(name).api.images(name="localhost:5000/app"))
    failed, result = service_module(lab, "pulled", image="localhost:5000/app:1", command=["sleep", "600"],
                                    constraints=[f"node.hostname=={worker}"])
    assert not failed and result["changed"] and result["service"]["running"] == 1, result
    assert running_task(lab, "pulled")[0] == worker
    assert lab.engine(worker).api.images(name="localhost:5000/app")
    failed, result = service_module(lab, "pulled", state="absent")
    assert not failed and result["changed"]


def test_each_mount_type_is_seen_by_the_task(lab):
    node = lab.names[3]
    on_node(lab, node, "ansible.builtin.shell", "mkdir -p /srv/it-bind && printf from-the-host > /srv/it-bind/hello")
    mounts = [{"type": "bind", "source": "/srv/it-bind", "target": "/bind", "read_only": True},
              {"type": "volume", "source": "it-volume", "target": "/volume"},
              {"type": "tmpfs", "target": "/scratch", "tmpfs_size": "8M"}]
    failed, created = service_module(lab, "mounts", image="swarmops/lab-app:1", command=["sleep", "600"],
                                     constraints=[f"node.hostname=={node}"], mounts=mounts)
    assert not failed and created["changed"], created
    host, container = running_task(lab, "mounts")
    assert run_in(lab, host, container, "cat", "/bind/hello") == (0, "from-the-host")
    assert run_in(lab, host, container, "touch", "/bind/denied")[0] != 0  # read_only
    assert run_in(lab, host, container, "sh", "-c", "echo kept > /volume/marker && echo lost > /scratch/marker")[0] == 0

    failed, again = service_module(lab, "mounts", image="swarmops/lab-app:1", command=["sleep", "600"],
                                   constraints=[f"node.hostname=={node}"], mounts=mounts)
    assert not failed and again["changed"] is False

    failed, updated = service_module(lab, "mounts", env={"GENERATION": "2"})
    assert not failed and updated["changed"]
    host, replaced = running_task(lab, "mounts")
    assert replaced != container
    assert run_in(lab, host, replaced, "cat", "/volume/marker") == (0, "kept\n")
    assert run_in(lab, host, replaced, "ls", "-A", "/scratch") == (0, "")
    assert run_in(lab, host, replaced, "sh", "-c", "grep ' /scratch ' /proc/mounts")[1].split()[2] == "tmpfs"


def test_service_mount_adds_replaces_and_removes_mounts_with_honest_check_mode(lab):
    conn = {**manager(lab), "service": "mounts"}
    extra = {"type": "tmpfs", "target": "/cache", "tmpfs_size": "4M"}
    api = lab.engine(lab.names[0]).api
    version = api.inspect_service("mounts")["Version"]["Index"]
    failed, checked = lab.module("service_mount", {**conn, "mounts": [extra]}, check_mode=True)
    assert not failed and checked["changed"] and checked["changes"]["added"] == ["/cache"], checked
    assert {m["target"] for m in checked["diff"]["after"]["mounts"]} == {"/bind", "/cache", "/scratch", "/volume"}
    assert api.inspect_service("mounts")["Version"]["Index"] == version

    failed, added = lab.module("service_mount", {**conn, "mounts": [extra]})
    assert not failed and added["changed"]
    assert sorted(m["target"] for m in added["mounts"]) == ["/bind", "/cache", "/scratch", "/volume"]
    assert lab.module("service_mount", {**conn, "mounts": [extra]})[1]["changed"] is False

    failed, resized = lab.module("service_mount", {**conn, "mounts": [{**extra, "tmpfs_size": "2M"}]})
    assert not failed and resized["changes"]["changed"] == ["/cache"]
    failed, removed = lab.module("service_mount", {**conn, "state": "absent", "mounts": [{"target": "/cache"}]})
    assert not failed and removed["changes"]["removed"] == ["/cache"]
    host, container = running_task(lab, "mounts")
    assert run_in(lab, host, container, "cat", "/bind/hello") == (0, "from-the-host")


def test_limits_reach_the_task_container_and_its_cgroups(lab):
    node, container = running_task(lab, "journal")
    host_config = lab.engine(node).api.inspect_container(container)["HostConfig"]
    assert (host_config["NanoCpus"], host_config["Memory"]) == (250_000_000, 64 * MIB)
    assert run_in(lab, node, container, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes") == (0, f"{64 * MIB}\n")
    assert run_in(lab, node, container, "sh", "-c",
                  "echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)") == (
        0, "25000 100000\n")


def test_reservations_are_kept_by_the_scheduler(lab):
    # Swarm does not write reservations into the container (HostConfig.MemoryReservation stays 0 on this engine):
    # the scheduler places a task only on a node with the reserved CPU and memory unreserved.
    spec = lab.engine(lab.names[0]).api.inspect_service("journal")["Spec"]["TaskTemplate"]["Resources"]
    assert spec["Reservations"] == {"NanoCPUs": 100_000_000, "MemoryBytes": 32 * MIB}
    failed, result = service_module(lab, "too-big", image="swarmops/lab-app:1", command=["sleep", "600"],
                                    reserve_memory="100000G", wait=False)
    assert not failed and result["changed"], result
    api = lab.engine(lab.names[0]).api
    try:
        pending = wait_for(lambda: [t for t in api.tasks(filters={"service": "too-big"})
                                    if "insufficient resources" in t["Status"].get("Err", "")], 60,
                           "the scheduler to refuse the reservation")
        assert pending[0]["Status"]["State"] == "pending"
    finally:
        service_module(lab, "too-big", state="absent")


@pytest.mark.parametrize("options, message", [
    ({"limit_cpu": "abc"}, "limit_cpu: 'abc'"),
    ({"limit_memory": "12XB"}, "limit_memory: '12XB'"),
    ({"mounts": [{"type": "bind", "source": "data", "target": "/data"}]}, "'data'"),
    ({"mounts": [{"type": "nfs", "source": "x", "target": "/data"}]}, "nfs"),
    ({"mounts": [{"type": "tmpfs", "source": "x", "target": "/data"}]}, "tmpfs"),
    ({"limit_memory": "64M", "reserve_memory": "128M"}, "reserve_memory"),
])
def test_bad_input_fails_with_its_message_and_the_service_is_unchanged(lab, options, message):
    api = lab.engine(lab.names[0]).api
    before = api.inspect_service("journal")
    failed, result = service_module(lab, "journal", **options)
    assert failed and message in result["msg"], result
    after = api.inspect_service("journal")
    assert (after["Version"], after["Spec"]) == (before["Version"], before["Spec"])


def test_an_ha_service_keeps_its_data_when_its_node_is_lost(lab):
    # Keep the journal off the managers so the swarm keeps all three of them (the swarm tests come after).
    failed, result = service_module(lab, "journal", constraints=["node.role==worker"])
    assert not failed, result
    node, container = running_task(lab, "journal")
    assert node in lab.names[3:]
    marker = uuid.uuid4().hex
    assert run_in(lab, node, container, "sh", "-c", f"echo {marker} > /data/marker")[0] == 0

    stopped = time.monotonic()
    lab.run("ansible", "localhost", "-m", "swarmops.ha.machine", "-a",
            json.dumps({"name": node, "state": "stopped", "storage_path": lab.store}))
    try:
        def moved_elsewhere():
            task = running_task(lab, "journal")
            return task if task[0] != node else None

        elsewhere, moved = wait_for(moved_elsewhere, 180, "the journal task to run on another node", interval=2)
        print(f"journal moved from {node} to {elsewhere} in {time.monotonic() - stopped:.0f}s")
        assert run_in(lab, elsewhere, moved, "cat", "/data/marker") == (0, f"{marker}\n")
        assert int(run_in(lab, elsewhere, moved, "sh", "-c", "grep -c . /data/journal.log")[1]) > 1
    finally:
        lab.run("ansible", "localhost", "-m", "swarmops.ha.machine", "-a",
                json.dumps({"name": node, "state": "started", "storage_path": lab.store}))
        lab.wait_back_in_swarm(node)
        service_module(lab, "journal", constraints=[])
    wait_for(lambda: catalog(lab, node) == {"repositories": ["app"]}, 120, f"the registry on {node} again",
             interval=3)
