"""swarm_info's main() against a fake engine: a worker says only what it is; a manager gives nodes, quorum,
services with their running tasks, and the problems a drill would refuse to start on."""

from module_harness import FakeClient, ModuleFail, exit_result, on_engine, run_main
from test_swarm_node import node

from ansible_collections.swarmops.ha.plugins.modules import swarm_info


def task(service, node_id, state="running"):
    return {"ServiceID": service, "NodeID": node_id, "DesiredState": "running", "Status": {"State": state}}


class Engine:
    def __init__(self, manager=True, node5="ready"):
        self.manager, self.node5 = manager, node5

    def info(self):
        return {"Name": "node1", "ServerVersion": "26.1.5", "Labels": ["swarm.role=manager"],
                "Swarm": {"LocalNodeState": "active", "NodeID": "m1", "ControlAvailable": self.manager}}

    def nodes(self):
        return [node("m1", "node1", role="manager", leader=True), node("m2", "node2", role="manager"),
                node("m3", "node3", role="manager"), node("w4", "node4"), node("w5", "node5", state=self.node5)]

    def inspect_swarm(self):
        return {"Spec": {"Dispatcher": {"HeartbeatPeriod": 5_000_000_000}, "Raft": {}, "Orchestration": {},
                         "CAConfig": {}, "EncryptionConfig": {}}}

    def services(self):
        return [{"ID": "s1", "Spec": {"Name": "web", "Mode": {"Replicated": {"Replicas": 2}},
                                      "TaskTemplate": {"ContainerSpec": {"Image": "app:1@sha256:abc"}}}}]

    def tasks(self, filters=None):
        return [task("s1", "w4"), task("s1", "w5"), task("s1", "w4", "shutdown")]


def info(monkeypatch, engine, **args):
    on_engine(monkeypatch, swarm_info, engine)
    return exit_result(swarm_info.main, args)


def test_a_manager_reports_nodes_quorum_services_and_no_problem_when_healthy(monkeypatch):
    result = info(monkeypatch, Engine())
    assert result["changed"] is False and result["local"]["is_manager"] is True
    assert [n["hostname"] for n in result["nodes"]] == ["node1", "node2", "node3", "node4", "node5"]
    assert result["quorum"]["managers"] == 3 and result["quorum"]["tolerated_failures"] == 1
    assert result["services"] == [{"name": "web", "image": "app:1", "mode": "replicated", "desired": 2,
                                   "running": 2}]
    assert result["tasks"] == {"running": 2, "shutdown": 1} and result["problems"] == []
    assert {n["hostname"]: n["running_tasks"] for n in result["nodes"]}["node4"] == 1


def test_a_down_node_is_a_problem_and_its_task_does_not_count(monkeypatch):
    result = info(monkeypatch, Engine(node5="down"), services=False, tasks=False)
    assert result["problems"] == ["node5 is down", "service web runs 1 of 2 tasks"]
    assert "services" not in result and "tasks" not in result


def test_a_worker_says_only_what_it_is(monkeypatch):
    result = info(monkeypatch, Engine(manager=False))
    assert set(result) == {"changed", "local"} and result["local"]["engine_version"] == "26.1.5"


class Unreachable(Engine):
    def info(self):
        raise OSError("connection refused")


def test_engines_are_read_in_one_run_and_one_that_fails_has_its_error_beside_the_others(monkeypatch):
    engines = {"tcp://192.0.2.11:2376": Engine(), "tcp://192.0.2.14:2376": Engine(manager=False),
               "tcp://192.0.2.15:2376": Unreachable()}
    on_engine(monkeypatch, swarm_info, None)
    monkeypatch.setattr(swarm_info, "connect", lambda params: FakeClient(engines[params["docker_host"]]))
    items = [{"name": "node1", "docker_host": "tcp://192.0.2.11:2376"},
             {"name": "node4", "docker_host": "tcp://192.0.2.14:2376"},
             {"name": "node5", "docker_host": "tcp://192.0.2.15:2376"}]
    result = exit_result(swarm_info.main, {"services": False, "tasks": False, "engines": items})
    assert result["changed"] is False and set(result["engines"]) == {"node1", "node4", "node5"}
    assert result["engines"]["node1"]["quorum"]["managers"] == 3
    assert result["engines"]["node4"] == {"local": {**result["engines"]["node1"]["local"], "is_manager": False}}
    assert result["engines"]["node5"] == {"error": "node5: connection refused"}
    twice = run_main(swarm_info.main, {"engines": [items[0], items[0]]})
    assert isinstance(twice, ModuleFail) and "engines: each name must be given once; node1" in twice.args[0]["msg"]
