"""storage_driver and the storage role on the lab: refusals before any restart, a switch to btrfs with the node
drained and back, per-container disk limits that hold, and a rollback when the engine will not start."""

import json

import pytest
from docker.errors import ContainerError
from labtools import BTRFS_NODE, PREFIX, recap

from ansible_collections.swarmops.ha.plugins.module_utils.swarm import wait_for


def engine_pid(lab, node):
    return lab.run("ansible", node, "-b", "-m", "ansible.builtin.command", "-a", "cat /var/run/docker.pid"
                   ).split(">>")[-1].strip()


def qgroups(lab, node):
    """`btrfs qgroup show` of the node's data root, its warnings and errors included."""
    return lab.run("ansible", node, "-b", "-m", "ansible.builtin.shell", "-a",
                   "btrfs qgroup show /var/lib/docker 2>&1", check=False)


@pytest.mark.parametrize("node, args, message", [
    (BTRFS_NODE, {"driver": "floppy"}, "driver: 'floppy' is not a storage driver this module knows"),
    (BTRFS_NODE, {"driver": "overlay2", "options": ["overlay2.size=1G"]},
     "options: overlay2.size needs the data root /var/lib/docker on xfs mounted with pquota; it is on btrfs"),
    (f"{PREFIX}4", {"driver": "btrfs"}, "driver: btrfs needs the data root /var/lib/docker on btrfs; it is on"),
])
def test_what_a_node_lacks_is_refused_before_the_engine_is_touched(lab, node, args, message):
    pid = engine_pid(lab, node)
    failed, result = lab.module("storage_driver", args, host=node, on_node=True)
    assert failed and message in result["msg"], result
    assert engine_pid(lab, node) == pid


def test_check_mode_shows_the_settings_diff_and_changes_nothing(lab):
    pid = engine_pid(lab, BTRFS_NODE)
    failed, result = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True,
                                check_mode=True)
    assert not failed and result["changed"] and result["previous_driver"] == "overlay2"
    assert json.loads(result["diff"]["after"])["storage-driver"] == "btrfs"
    assert json.loads(result["diff"]["before"])["storage-driver"] == "overlay2"
    assert engine_pid(lab, BTRFS_NODE) == pid and lab.engine(BTRFS_NODE).info()["Driver"] == "overlay2"


def test_the_storage_role_switches_a_drained_node_to_btrfs_and_it_runs_tasks_again(lab):
    args = ["--tags", "storage", "--limit", BTRFS_NODE, "-e", '{"storage_driver_name": "btrfs"}']
    first = recap(lab.playbook("site.yml", *args))
    assert first[BTRFS_NODE]["failed"] == 0 and first[BTRFS_NODE]["changed"] >= 3
    engine = lab.engine(BTRFS_NODE)
    assert engine.info()["Driver"] == "btrfs"
    assert {"swarmops/lab-app:1", "swarmops/lab-registry:2"} <= {t for i in engine.images.list() for t in i.tags}
    node = lab.swarm_node(BTRFS_NODE)
    assert (node["Spec"]["Availability"], node["Status"]["State"]) == ("active", "ready")
    # The registry is global: its task comes back to the node, on the new driver.
    wait_for(lambda: [t for t in lab.engine(lab.names[0]).api.tasks(filters={"service": "registry",
                                                                             "node": node["ID"]})
                      if t["Status"]["State"] == "running" and t["DesiredState"] == "running"],
             120, f"the registry task to run on {BTRFS_NODE} again", interval=2)
    # The quota groups were turned on, and their scan done, before any container asked for a size.
    shown = qgroups(lab, BTRFS_NODE)
    assert "<toplevel>" in shown and "inconsistent" not in shown and "not enabled" not in shown, shown
    again = recap(lab.playbook("site.yml", *args))
    assert again[BTRFS_NODE]["changed"] == 0
    checked = recap(lab.playbook("site.yml", *args, "--check"))
    assert checked[BTRFS_NODE]["changed"] == 0 and checked[BTRFS_NODE]["failed"] == 0


def test_quota_groups_turned_off_come_back_on_without_an_engine_restart(lab):
    lab.run("ansible", BTRFS_NODE, "-b", "-m", "ansible.builtin.command", "-a", "btrfs quota disable /var/lib/docker")
    pid = engine_pid(lab, BTRFS_NODE)
    failed, planned = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True,
                                 check_mode=True)
    assert not failed and planned["changed"] and planned["btrfs_quota"] == "turned_on", planned
    assert "quotas not enabled" in qgroups(lab, BTRFS_NODE)
    failed, result = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True)
    assert not failed and result["changed"] and result["btrfs_quota"] == "turned_on" and "backup" not in result
    shown = qgroups(lab, BTRFS_NODE)
    assert "<toplevel>" in shown and "inconsistent" not in shown, shown
    assert engine_pid(lab, BTRFS_NODE) == pid


def test_inconsistent_quota_groups_are_rescanned(lab):
    # A layer's group (shared data, so referenced differs from exclusive) put under a new parent group without a
    # rescan: the kernel cannot account that quickly and marks the groups inconsistent.
    mark = ("cd /var/lib/docker && child=$(btrfs qgroup show --raw . | awk 'index($1, \"0/\") == 1 && $2 != $3 "
            "{print $1; exit}') && btrfs qgroup create 1/100 . && btrfs qgroup assign --no-rescan $child 1/100 .")
    lab.run("ansible", BTRFS_NODE, "-b", "-m", "ansible.builtin.shell", "-a", mark)
    assert "inconsistent" in qgroups(lab, BTRFS_NODE)
    failed, result = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True)
    assert not failed and result["changed"] and result["btrfs_quota"] == "rescanned", result
    assert "inconsistent" not in qgroups(lab, BTRFS_NODE)
    failed, again = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True)
    assert not failed and again["changed"] is False and again["btrfs_quota"] == "kept", again


def test_a_per_container_disk_limit_holds_on_btrfs(lab):
    containers = lab.engine(BTRFS_NODE).containers
    small = containers.run("swarmops/lab-app:1", ["sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=10 && sync"],
                           storage_opt={"size": "20M"}, remove=True)
    assert small is not None
    try:
        containers.run("swarmops/lab-app:1", ["sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=50 && sync"],
                       storage_opt={"size": "20M"}, remove=True)
    except ContainerError as refused:
        assert b"quota exceeded" in refused.stderr.lower() or b"no space left" in refused.stderr.lower()
    else:
        # The evidence: the node's qgroups and whether the kernel marked them inconsistent.
        show = "btrfs qgroup show -re /var/lib/docker; cat /sys/fs/btrfs/*/qgroups/inconsistent"
        evidence = lab.run("ansible", BTRFS_NODE, "-b", "-m", "ansible.builtin.shell", "-a", show, check=False)
        pytest.fail(f"50 MiB were written in a container limited to 20M; {BTRFS_NODE}'s qgroups:\n{evidence}")


def test_an_engine_that_will_not_start_is_rolled_back_and_keeps_its_swarm(lab):
    failed, result = lab.module("storage_driver", {"driver": "btrfs", "options": ["btrfs.min_space=lots"],
                                                   "wait_timeout": 20}, host=BTRFS_NODE, on_node=True)
    assert failed and "restored" in result["msg"] and "runs btrfs again" in result["msg"], result
    assert "the engine said: failed to start daemon: error initializing graphdriver" in result["msg"]
    engine = lab.engine(BTRFS_NODE)
    assert engine.info()["Driver"] == "btrfs"
    assert engine.info()["Swarm"]["LocalNodeState"] == "active"
    wait_for(lambda: lab.swarm_node(BTRFS_NODE)["Status"]["State"] == "ready", 60,
             f"{BTRFS_NODE} to be ready in the swarm again")
    failed, result = lab.module("storage_driver", {"driver": "btrfs"}, host=BTRFS_NODE, on_node=True)
    assert not failed and result["changed"] is False, (result, qgroups(lab, BTRFS_NODE))
