"""swarm_node's main() against a fake manager engine: labels and availability with diff and check mode, removal
refused for managers and live nodes."""

import copy

import pytest
from module_harness import ModuleFail, exit_result, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_node


def node(ident, hostname, role="worker", state="ready", labels=None, leader=False):
    return {"ID": ident, "Version": {"Index": 7}, "Description": {"Hostname": hostname},
            "Spec": {"Role": role, "Availability": "active", "Labels": labels or {}},
            "Status": {"State": state, "Addr": "192.0.2.20"},
            **({"ManagerStatus": {"Reachability": "reachable", "Leader": leader}} if role == "manager" else {})}


class FakeManager:
    """The Engine API calls of swarm_node and swarm_promote on a manager: nodes, update (over a version; a promoted
    node is a reachable manager at once) and remove."""

    def __init__(self, nodes):
        self.stored, self.writes = {n["ID"]: n for n in nodes}, []

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}

    def nodes(self):
        return copy.deepcopy(list(self.stored.values()))

    def update_node(self, ident, version, spec):
        assert version == self.stored[ident]["Version"]["Index"]
        self.writes.append(("update", ident))
        updated = {key: value for key, value in self.stored[ident].items() if key != "ManagerStatus"}
        if spec["Role"] == "manager":
            updated["ManagerStatus"] = {"Reachability": "reachable",
                                        **(self.stored[ident].get("ManagerStatus") or {})}
        self.stored[ident] = {**updated, "Spec": spec, "Version": {"Index": version + 1}}

    def remove_node(self, ident, force=False):
        self.writes.append(("remove", ident, force))
        del self.stored[ident]


@pytest.fixture
def manager(monkeypatch):
    nodes = [node("m1", "node1", role="manager", leader=True), node("w1", "node4", labels={"zone": "a"}),
             node("w2", "node5", state="down")]
    return on_engine(monkeypatch, swarm_node, FakeManager(nodes))


def result(args):
    return exit_result(swarm_node.main, args)


def test_labels_and_availability_are_merged_with_a_diff_checked_first_then_written_once(manager):
    args = {"name": "node4", "labels": {"registry": "true"}, "availability": "drain"}
    planned = result({**args, "_ansible_check_mode": True})
    assert planned["changed"] is True and manager.writes == []
    assert planned["diff"] == {"before": {"labels": {"zone": "a"}, "availability": "active"},
                               "after": {"labels": {"zone": "a", "registry": "true"}, "availability": "drain"}}
    written = result(args)
    assert written["changed"] is True and manager.writes == [("update", "w1")]
    assert written["node"]["labels"] == {"zone": "a", "registry": "true"} and written["node"]["availability"] == "drain"
    assert result(args)["changed"] is False and len(manager.writes) == 1
    replaced = result({"name": "w1", "labels": {"zone": "b"}, "labels_state": "replace"})
    assert replaced["node"]["labels"] == {"zone": "b"}


@pytest.mark.parametrize("args, message", [
    ({"name": "node1", "state": "absent"}, "name: node1 is a manager; demote it with swarm_promote first"),
    ({"name": "node4", "state": "absent"}, "name: node4 is ready, not down"),
    ({"name": "node9", "labels": {"a": "b"}}, "name: 'node9' is not a node of this swarm (nodes: node1, node4, node5)"),
])
def test_what_cannot_be_done_is_refused_naming_the_node_and_nothing_is_written(manager, args, message):
    outcome = run_main(swarm_node.main, args)
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
    assert manager.writes == []


def test_a_down_worker_is_removed_once(manager):
    assert result({"name": "node5", "state": "absent"})["changed"] is True
    assert manager.writes == [("remove", "w2", False)]
    assert result({"name": "node5", "state": "absent"})["changed"] is False
