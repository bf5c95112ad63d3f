"""swarm_routes' main() against a fake manager: the routes the services' labels ask for, checked against the
image's EXPOSE, excluded services left out, and bad options refused before the engine."""

import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_routes


def service(name, labels, image="app:1"):
    return {"ID": name, "Spec": {"Name": name, "Labels": labels,
                                 "TaskTemplate": {"ContainerSpec": {"Image": f"{image}@sha256:abc"}}}}


EXPOSED = {"app:1": {"8080/tcp": {}, "53/udp": {}}, "web:2": {"80/tcp": {}}}


class Manager:
    def __init__(self, web_port="80", swarm=None):
        self.asked, self.web_port = [], web_port
        self.swarm = swarm or {"LocalNodeState": "active", "ControlAvailable": True}

    def info(self):
        return {"Swarm": self.swarm}

    def nodes(self):
        return [{"ID": "id2", "Spec": {"Role": "worker", "Labels": {}}, "Description": {"Hostname": "node2"}},
                {"ID": "id1", "Spec": {"Role": "manager", "Labels": {"swarmops.routing": "true"}},
                 "Description": {"Hostname": "node1"}, "ManagerStatus": {"Leader": True}}]

    def services(self):
        self.asked.append("services")
        return [service("journal", {"swarmops.route.host": "journal.example", "swarmops.route.port": "8080"}),
                service("web", {"swarmops.route.host": "web.example", "swarmops.route.port": self.web_port},
                        image="web:2"),
                service("registry", {"swarmops.route.host": "registry.example", "swarmops.route.port": "5000"}),
                service("worker", {})]

    def inspect_image(self, ref):
        self.asked.append(ref)
        return {"Config": {"ExposedPorts": EXPOSED[ref]}}


def run(monkeypatch, args, manager=None):
    manager = on_engine(monkeypatch, swarm_routes, manager or Manager())
    return run_main(swarm_routes.main, args), manager


def test_routes_come_from_the_labels_of_the_services_not_excluded(monkeypatch):
    outcome, manager = run(monkeypatch, {"exclude": ["registry"]})
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    routes = {r["service"]: r for r in outcome.args[0]["routes"]}
    assert set(routes) == {"journal", "web"} and outcome.args[0]["changed"] is False
    assert routes["journal"]["port"] == 8080 and routes["web"]["port"] == 80
    assert "journal.example" in outcome.args[0]["config"] and "registry.example" not in outcome.args[0]["config"]
    assert "tasks.worker" not in outcome.args[0]["config"] and sorted(manager.asked) == ["app:1", "services", "web:2"]


def test_the_nodes_and_their_labels_come_back_from_the_same_read(monkeypatch):
    outcome, dummy = run(monkeypatch, {"exclude": ["registry"]})
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    result = outcome.args[0]
    assert result["is_manager"] is True
    assert [(n["hostname"], n["role"], n["labels"]) for n in result["nodes"]] == [
        ("node1", "manager", {"swarmops.routing": "true"}), ("node2", "worker", {})]


@pytest.mark.parametrize("swarm", [{"LocalNodeState": "inactive"},
                                   {"LocalNodeState": "active", "ControlAvailable": False}])
def test_an_engine_that_is_no_manager_gives_no_routes_in_check_mode_and_is_refused_otherwise(monkeypatch, swarm):
    checked, manager = run(monkeypatch, {"_ansible_check_mode": True}, Manager(swarm=swarm))
    assert isinstance(checked, ModuleExit) and manager.asked == []
    assert {k: checked.args[0][k] for k in ("routes", "config", "is_manager", "nodes")} == {
        "routes": [], "config": "", "is_manager": False, "nodes": []}
    refused, manager = run(monkeypatch, {}, Manager(swarm=swarm))
    assert isinstance(refused, ModuleFail) and manager.asked == []
    assert "docker_host: this engine is not a swarm manager" in refused.args[0]["msg"]


def test_a_port_the_image_does_not_expose_is_refused_naming_the_service(monkeypatch):
    outcome, manager = run(monkeypatch, {}, Manager(web_port="8000"))
    assert isinstance(outcome, ModuleFail)
    assert "service web: label swarmops.route.port=8000 is not a port the service exposes (exposed: 80)" in \
        outcome.args[0]["msg"]


@pytest.mark.parametrize("args, message", [
    ({"slots": 0}, "slots: 0 is not a number of servers (accepted: 1 or more)"),
    ({"metrics_port": 70000}, "metrics_port: 70000 is not a port number"),
])
def test_bad_options_are_refused_before_the_engine(monkeypatch, args, message):
    outcome, manager = run(monkeypatch, args)
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"] and manager.asked == []
