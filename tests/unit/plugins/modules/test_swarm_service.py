"""swarm_service's main() against a fake manager: a service created once (check mode first), a second run with no
change, one option changed with a diff of that option only, the fields it does not manage kept, and removal; several
services in one run, each item taking the module's value for an option it leaves out, bad items refused first."""

import copy

import docker.errors
import pytest
from module_harness import ModuleFail, exit_result, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_service


class Manager:
    """A manager that stores what it is given as each service's spec (as the engine does) and runs no task."""

    def __init__(self):
        self.services, self.writes = {}, []

    @property
    def service(self):
        """The one service of a test that made one."""
        return next(iter(self.services.values()), None)

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}

    def inspect_service(self, name):
        for service in self.services.values():
            if name in (service["ID"], service["Spec"]["Name"]):
                return copy.deepcopy(service)
        raise docker.errors.NotFound(name)

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
        self.writes.append(f"create {name}")
        given = {k.title().replace("_", ""): v for k, v in parts.items() if v is not None}
        spec = {"Name": name, "TaskTemplate": task_template, **given}
        self.services[name] = {"ID": f"id-{name}", "Version": {"Index": 1}, "Spec": spec}

    def update_service(self, ident, version, task_template, name, **parts):
        service = self.services[name]
        assert (ident, version) == (service["ID"], service["Version"]["Index"])
        self.writes.append(f"update {name}")
        service["Spec"].update({"TaskTemplate": task_template, **{
            k.title().replace("_", ""): v for k, v in parts.items() if v is not None}})
        service["Version"]["Index"] += 1

    def remove_service(self, ident):
        name = next(name for name, service in self.services.items() if service["ID"] == ident)
        self.writes.append(f"remove {name}")
        del self.services[name]


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
    assert created["changed"] is True and manager.writes == ["create web"]
    spec = manager.service["Spec"]
    assert spec["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"] == 64 * 1024 * 1024
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["MODE=ha"]
    assert result(WEB)["changed"] is False and manager.writes == ["create web"]
    manager.service["Spec"]["TaskTemplate"]["ContainerSpec"]["Hostname"] = "set-by-hand"
    scaled = result({**WEB, "replicas": 3})
    assert scaled["diff"] == {"before": {"mode": {"Replicated": {"Replicas": 2}}},
                              "after": {"mode": {"Replicated": {"Replicas": 3}}}}
    assert manager.writes == ["create web", "update web"]
    assert manager.service["Spec"]["TaskTemplate"]["ContainerSpec"]["Hostname"] == "set-by-hand"


def test_removed_once(manager):
    result(WEB)
    assert result({"name": "web", "state": "absent"})["changed"] is True and manager.service is None
    assert result({"name": "web", "state": "absent"})["changed"] is False


def test_services_in_one_run_take_the_modules_value_for_what_they_leave_out(manager):
    shared = {"restart_policy": {"condition": "any", "delay": "2s"}, "limit_memory": "32M"}
    batch = {**shared, "services": [{**WEB, "limit_memory": "64M"}, {"name": "agent", "image": "agent:1",
                                                                     "mode": "global"}]}
    planned = result({**batch, "_ansible_check_mode": True})
    assert planned["changed"] is True and manager.writes == []
    assert [(s["name"], s["changed"], s["service"]["mode"]) for s in planned["services"]] == [
        ("web", True, "replicated"), ("agent", True, "global")]
    assert result(batch)["changed"] is True and manager.writes == ["create web", "create agent"]
    limits = {name: service["Spec"]["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"]
              for name, service in manager.services.items()}
    assert limits == {"web": 64 * 1024 * 1024, "agent": 32 * 1024 * 1024}
    assert all(service["Spec"]["TaskTemplate"]["RestartPolicy"]["Condition"] == "any"
               for service in manager.services.values())
    again = result(batch)
    assert again["changed"] is False and [s["changed"] for s in again["services"]] == [False, False]
    moved = result({**batch, "services": [WEB, {"name": "agent", "image": "agent:2", "mode": "global"}]})
    assert moved["diff"] == {"before": {"agent": {"image": "agent:1"}}, "after": {"agent": {"image": "agent:2"}}}
    assert manager.writes[2:] == ["update agent"]
    gone = result({"services": [{"name": "agent", "state": "absent"}, WEB]})
    assert [s["changed"] for s in gone["services"]] == [True, False] and list(manager.services) == ["web"]


@pytest.mark.parametrize("services, message", [
    ([WEB, {"name": "agent", "mode": "sometimes"}],
     "services[1] (agent): value of mode must be one of: replicated, global, got: sometimes"),
    ([WEB, {"name": "agent", "image": "agent:1", "colour": "red"}],
     "services[1] (agent): unsupported option colour. Supported parameters include: args,"),
    ([{"image": "agent:1"}], "services[0] (0): missing required arguments: name"),
    ([WEB, {**WEB, "replicas": 3}], "services: service 'web' is given twice"),
    ([WEB, {"name": "agent", "image": "agent:1", "publish": [{"target_port": 70000}]}],
     "publish[0].target_port: 70000"),
    ([WEB, {"name": "agent"}], "image: required to create service 'agent'"),
])
def test_a_bad_item_is_refused_before_any_service_changes(manager, services, message):
    failed = run_main(swarm_service.main, {"wait": False, "services": services})
    assert isinstance(failed, ModuleFail) and message in failed.args[0]["msg"], failed.args[0]
    assert manager.writes == []


def test_name_and_services_exclude_each_other(manager):
    failed = run_main(swarm_service.main, {"name": "web", "services": [WEB]})
    assert isinstance(failed, ModuleFail) and "mutually exclusive: name|services" in failed.args[0]["msg"]


def test_check_mode_before_the_swarm_exists_reports_every_service_as_new(manager, monkeypatch):
    monkeypatch.setattr(manager, "info", lambda: {"Swarm": {"LocalNodeState": "inactive"}})
    planned = result({"services": [WEB, {"name": "gone", "state": "absent"}], "_ansible_check_mode": True})
    assert [(s["name"], s["changed"]) for s in planned["services"]] == [("web", True), ("gone", False)]
    assert planned["changed"] is True and list(planned["diff"]["after"]) == ["web"] and manager.writes == []
