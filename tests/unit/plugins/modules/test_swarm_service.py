"""swarm_service's main() against a fake manager: a service created once (check mode first), a second run with no
change, one option changed with a diff of that option only, the fields it does not manage kept, and removal."""

import copy

import docker.errors
import pytest
from module_harness import exit_result, on_engine

from ansible_collections.swarmops.ha.plugins.modules import swarm_service


class Manager:
    """A manager that stores what it is given as the service's spec (as the engine does) and runs no task."""

    def __init__(self):
        self.service, self.writes = None, []

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}

    def inspect_service(self, name):
        if self.service is None or name not in (self.service["ID"], self.service["Spec"]["Name"]):
            raise docker.errors.NotFound(name)
        return copy.deepcopy(self.service)

    def networks(self, names=None):
        return []

    def secrets(self, filters=None):
        return []

    def configs(self, filters=None):
        return []

    def nodes(self):
        return []

    def tasks(self, filters=None):
        return []

    def create_service(self, task_template, name, **parts):
        self.writes.append("create")
        given = {k.title().replace("_", ""): v for k, v in parts.items() if v is not None}
        spec = {"Name": name, "TaskTemplate": task_template, **given}
        self.service = {"ID": "s1", "Version": {"Index": 1}, "Spec": spec}

    def update_service(self, ident, version, task_template, name, **parts):
        assert version == self.service["Version"]["Index"]
        self.writes.append("update")
        self.service["Spec"].update({"TaskTemplate": task_template, **{
            k.title().replace("_", ""): v for k, v in parts.items() if v is not None}})
        self.service["Version"]["Index"] += 1

    def remove_service(self, ident):
        self.writes.append("remove")
        self.service = None


@pytest.fixture
def manager(monkeypatch):
    return on_engine(monkeypatch, swarm_service, Manager())


def result(args):
    return exit_result(swarm_service.main, {"wait": False, **args})


WEB = {"name": "web", "image": "app:1", "replicas": 2, "limit_memory": "64M", "env": {"MODE": "ha"}}


def test_created_once_then_no_change_then_only_the_changed_option_in_the_diff(manager):
    planned = result({**WEB, "_ansible_check_mode": True})
    assert planned["changed"] is True and manager.writes == []
    assert planned["service"] == {"id": "", "name": "web", "mode": "replicated", "replicas": 2, "running": 0}
    created = result(WEB)
    assert created["changed"] is True and manager.writes == ["create"]
    spec = manager.service["Spec"]
    assert spec["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"] == 64 * 1024 * 1024
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["MODE=ha"]
    assert result(WEB)["changed"] is False and manager.writes == ["create"]
    manager.service["Spec"]["TaskTemplate"]["ContainerSpec"]["Hostname"] = "set-by-hand"
    scaled = result({**WEB, "replicas": 3})
    assert scaled["diff"] == {"before": {"mode": {"Replicated": {"Replicas": 2}}},
                              "after": {"mode": {"Replicated": {"Replicas": 3}}}}
    assert manager.writes == ["create", "update"]
    assert manager.service["Spec"]["TaskTemplate"]["ContainerSpec"]["Hostname"] == "set-by-hand"


def test_removed_once(manager):
    result(WEB)
    assert result({"name": "web", "state": "absent"})["changed"] is True and manager.service is None
    assert result({"name": "web", "state": "absent"})["changed"] is False
