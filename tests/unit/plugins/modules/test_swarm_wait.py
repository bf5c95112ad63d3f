"""swarm_wait's main() against a fake manager: a condition already met ends the wait at once, one never met fails
at the timeout with what it still waited for, and a bad condition is refused naming it before the engine."""

import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, patch_exits, run_main
from test_swarm_info import Engine

from ansible_collections.swarmops.ha.plugins.modules import swarm_wait


def run(monkeypatch, engine, args):
    on_engine(monkeypatch, swarm_wait, engine)
    return run_main(swarm_wait.main, args)


def test_a_healthy_swarm_meets_the_wait_at_once(monkeypatch):
    outcome = run(monkeypatch, Engine(), {"until": {"healthy": True, "leader": True, "nodes": {"node5": "ready"}}})
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    assert outcome.args[0]["met"] is True and outcome.args[0]["changed"] is False
    assert {"healthy", "leader elected", "node5 ready"} <= set(outcome.args[0]["events"])


def test_a_condition_never_met_fails_at_the_timeout_naming_it(monkeypatch):
    args = {"until": {"healthy": True}, "wait_timeout": 1, "interval": 0.2}
    outcome = run(monkeypatch, Engine(node5="down"), args)
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"] == "swarm_wait: after 1s still waiting for healthy"
    assert outcome.args[0]["met"] is False


def test_it_can_report_instead_of_failing(monkeypatch):
    args = {"until": {"healthy": True}, "wait_timeout": 0, "fail_on_timeout": False}
    outcome = run(monkeypatch, Engine(node5="down"), args)
    assert isinstance(outcome, ModuleExit) and outcome.args[0]["met"] is False


@pytest.mark.parametrize("until, message", [
    ({"nodes": {"node5": "sleepy"}}, "until.nodes.node5: 'sleepy' is not a node state"),
    ({"alerts_firing": [{"alertname": "SwarmNodeDown"}]}, "alerts_firing and alerts_resolved need the alerts option"),
])
def test_a_bad_condition_is_refused_before_the_engine(monkeypatch, until, message):
    patch_exits(monkeypatch, swarm_wait.AnsibleModule)
    monkeypatch.setattr(swarm_wait, "connect", lambda params: pytest.fail("the engine was reached"))
    outcome = run_main(swarm_wait.main, {"until": until})
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
