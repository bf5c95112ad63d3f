"""service_mount's main() against a fake manager: a mount added once with a diff, check mode, removed by target,
the service's other mounts kept, and an unknown service refused by name."""

import copy

import pytest
from module_harness import ModuleFail, exit_result, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import service_mount

DATA = {"Type": "volume", "Source": "web-data", "Target": "/data"}


class Manager:
    """One service, `web`, with a named volume at /data; updates are written over the version read."""

    def __init__(self):
        self.service = {"ID": "s1", "Version": {"Index": 4}, "Spec": {
            "Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "app:1", "Mounts": [dict(DATA)]}}}}
        self.updates = []

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}

    def inspect_service(self, name):
        import docker.errors

        if name != "web":
            raise docker.errors.NotFound(name)
        return copy.deepcopy(self.service)

    def update_service(self, ident, version, task_template, **parts):
        assert version == self.service["Version"]["Index"]
        self.updates.append([m["Target"] for m in task_template["ContainerSpec"]["Mounts"]])
        self.service["Spec"]["TaskTemplate"] = task_template
        self.service["Version"]["Index"] += 1


@pytest.fixture
def manager(monkeypatch):
    return on_engine(monkeypatch, service_mount, Manager())


def result(args):
    return exit_result(service_mount.main, {"wait": False, **args})


SCRATCH = {"service": "web", "mounts": [{"target": "/scratch", "type": "tmpfs", "tmpfs_size": "64M"}]}


def test_a_tmpfs_is_added_once_and_the_volume_kept(manager):
    planned = result({**SCRATCH, "_ansible_check_mode": True})
    assert planned["changed"] is True and manager.updates == []
    assert [m["target"] for m in planned["diff"]["after"]["mounts"]] == ["/data", "/scratch"]
    added = result(SCRATCH)
    assert added["changed"] is True and manager.updates == [["/data", "/scratch"]]
    scratch = manager.service["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"][1]
    assert scratch["Type"] == "tmpfs" and scratch["TmpfsOptions"]["SizeBytes"] == 64 * 1024 * 1024
    assert result(SCRATCH)["changed"] is False and len(manager.updates) == 1


def test_a_mount_is_removed_by_its_target_alone(manager):
    removed = result({"service": "web", "state": "absent", "mounts": [{"target": "/data"}]})
    assert removed["changed"] is True and manager.updates == [[]]
    assert result({"service": "web", "state": "absent", "mounts": [{"target": "/data"}]})["changed"] is False


def test_an_unknown_service_is_refused_by_name(manager):
    outcome = run_main(service_mount.main, {"service": "db", "mounts": [{"target": "/x"}], "wait": False})
    assert isinstance(outcome, ModuleFail)
    assert "service: 'db' is not a service of this swarm" in outcome.args[0]["msg"] and manager.updates == []
