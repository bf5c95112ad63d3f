"""swarm_promote's main() against a fake manager engine: the guide's three managers, check mode, no change again,
and a demotion that would break the quorum refused before any write."""

import pytest
from module_harness import ModuleFail, exit_result, on_engine, run_main
from test_swarm_node import FakeManager, node

from ansible_collections.swarmops.ha.plugins.modules import swarm_promote


@pytest.fixture
def manager(monkeypatch):
    nodes = [node("m1", "node1", role="manager", leader=True), *(node(f"w{n}", f"node{n}") for n in range(2, 6))]
    return on_engine(monkeypatch, swarm_promote, FakeManager(nodes))


def result(args):
    return exit_result(swarm_promote.main, args)


def test_three_managers_by_count_checked_then_made_then_kept(manager):
    planned = result({"manager_count": 3, "_ansible_check_mode": True})
    assert planned["promoted"] == ["node2", "node3"] and manager.writes == []
    assert planned["diff"] == {"before": {"managers": ["node1"]}, "after": {"managers": ["node1", "node2", "node3"]}}
    made = result({"manager_count": 3, "wait_timeout": 5})
    assert made["changed"] is True and manager.writes == [("update", "w2"), ("update", "w3")]
    assert made["quorum"]["managers"] == 3 and made["quorum"]["tolerated_failures"] == 1
    again = result({"managers": ["node1", "node2", "node3"]})
    assert again["changed"] is False and len(manager.writes) == 2


@pytest.mark.parametrize("args, message", [
    ({"manager_count": 2}, "manager_count: 2 managers tolerate no more failures than 1"),
    ({"managers": ["node1", "node2"]}, "managers: 2 managers"),
    ({"managers": ["node1", "node9"]}, "managers: node9 not in this swarm (nodes: node1, node2, node3, node4, node5)"),
    ({"manager_count": 0}, "manager_count: 0"),
])
def test_a_plan_the_swarm_cannot_take_is_refused_before_any_write(manager, args, message):
    outcome = run_main(swarm_promote.main, args)
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
    assert manager.writes == []
