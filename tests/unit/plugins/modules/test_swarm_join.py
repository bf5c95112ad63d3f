"""swarm_join's main() against a fake engine: join once and wait for it, check mode, another swarm refused unless
leave_other_swarm, and leaving."""

import pytest
from module_harness import FakeClient, ModuleExit, ModuleFail, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_join

TOKEN = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx"
MANAGER = "192.0.2.11:2377"


class Engine:
    """A node's swarm state: joining makes it active in the swarm of the managers it was given."""

    def __init__(self, state="inactive", managers=()):
        self.state, self.managers, self.calls = state, list(managers), []

    def info(self):
        return {"Swarm": {"LocalNodeState": self.state, "NodeID": "w4" if self.state == "active" else "",
                          "RemoteManagers": [{"Addr": addr} for addr in self.managers]}}

    def join_swarm(self, remote_addrs, join_token, listen_addr, advertise_addr, data_path_addr):
        self.calls.append(("join", tuple(remote_addrs), advertise_addr))
        self.state, self.managers = "active", list(remote_addrs)

    def leave_swarm(self, force=False):
        self.calls.append(("leave", force))
        self.state, self.managers = "inactive", []


def run(monkeypatch, engine, args):
    on_engine(monkeypatch, swarm_join, engine)
    return run_main(swarm_join.main, args)


JOIN = {"remote_addrs": [MANAGER], "join_token": TOKEN, "advertise_addr": "192.0.2.14"}


def test_a_node_joins_once_and_check_mode_only_says_it_would(monkeypatch):
    engine = Engine()
    planned = run(monkeypatch, engine, {**JOIN, "_ansible_check_mode": True}).args[0]
    assert planned["changed"] is True and planned["actions"] == ["join"] and engine.calls == []
    joined = run(monkeypatch, engine, JOIN).args[0]
    assert joined["changed"] is True and joined["node_id"] == "w4" and joined["local_state"] == "active"
    assert engine.calls == [("join", (MANAGER,), "192.0.2.14")]
    again = run(monkeypatch, engine, JOIN)
    assert isinstance(again, ModuleExit) and again.args[0]["changed"] is False and len(engine.calls) == 1
    assert TOKEN not in repr(again.args[0]) and TOKEN in again.args[1]


def test_another_swarm_is_refused_unless_leave_other_swarm(monkeypatch):
    engine = Engine("active", ["198.51.100.7:2377"])
    refused = run(monkeypatch, engine, JOIN)
    assert isinstance(refused, ModuleFail)
    assert "remote_addrs: this node is in another swarm (managers 198.51.100.7:2377)" in refused.args[0]["msg"]
    assert engine.calls == []
    moved = run(monkeypatch, engine, {**JOIN, "leave_other_swarm": True}).args[0]
    assert moved["actions"] == ["leave", "join"] and engine.managers == [MANAGER]


def test_leaving(monkeypatch):
    engine = Engine("active", [MANAGER])
    assert run(monkeypatch, engine, {"state": "absent", "force": True}).args[0]["actions"] == ["leave"]
    assert engine.calls == [("leave", True)]
    assert run(monkeypatch, engine, {"state": "absent"}).args[0]["changed"] is False


@pytest.mark.parametrize("args, message", [
    ({**JOIN, "join_token": "SWMTKN-1-abc"}, "join_token: not a join token"),
    ({**JOIN, "remote_addrs": []}, "remote_addrs: empty"),
])
def test_bad_options_are_refused_before_the_engine(monkeypatch, args, message):
    engine = Engine()
    outcome = run(monkeypatch, engine, args)
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"] and engine.calls == []


def on_engines(monkeypatch, engines):
    """Each engine of `engines` (docker_host -> Engine) where the module connects with that docker_host."""
    on_engine(monkeypatch, swarm_join, None)
    monkeypatch.setattr(swarm_join, "connect", lambda params: FakeClient(engines[params["docker_host"]]))


ENGINES = [{"name": "node4", "docker_host": "tcp://192.0.2.14:2376", "advertise_addr": "192.0.2.14"},
           {"name": "node5", "docker_host": "tcp://192.0.2.15:2376"}]


def test_engines_join_in_one_run_each_with_its_own_connection_and_address(monkeypatch):
    node4, node5 = Engine(), Engine("active", [MANAGER])
    on_engines(monkeypatch, {"tcp://192.0.2.14:2376": node4, "tcp://192.0.2.15:2376": node5})
    args = {"remote_addrs": [MANAGER], "join_token": TOKEN, "advertise_addr": "192.0.2.99", "engines": ENGINES}
    planned = run_main(swarm_join.main, {**args, "_ansible_check_mode": True}).args[0]
    assert planned["changed"] is True and node4.calls == []
    assert planned["engines"]["node4"]["actions"] == ["join"] and planned["engines"]["node5"]["actions"] == []
    done = run_main(swarm_join.main, args).args[0]
    assert node4.calls == [("join", (MANAGER,), "192.0.2.14")] and node5.calls == []
    assert done["engines"]["node4"] == {"actions": ["join"], "node_id": "w4", "local_state": "active"}
    assert done["diff"] == {"before": {"node4": {"local_state": "inactive"}, "node5": {"local_state": "active"}},
                            "after": {"node4": {"local_state": "active"}, "node5": {"local_state": "active"}}}
    again = run_main(swarm_join.main, args).args[0]
    assert again["changed"] is False and len(node4.calls) == 1


def test_engines_are_all_checked_before_any_joins_and_one_that_fails_leaves_the_others_joined(monkeypatch):
    node4, node5 = Engine(), Engine("active", ["198.51.100.7:2377"])
    on_engines(monkeypatch, {"tcp://192.0.2.14:2376": node4, "tcp://192.0.2.15:2376": node5})
    args = {"remote_addrs": [MANAGER], "join_token": TOKEN}
    bad = [ENGINES[0], {**ENGINES[1], "advertise_addr": "192.0.2.15:notaport"}]
    refused = run_main(swarm_join.main, {**args, "engines": bad})
    assert isinstance(refused, ModuleFail) and "engines (node5): advertise_addr" in refused.args[0]["msg"]
    assert node4.calls == []
    other_swarm = run_main(swarm_join.main, {**args, "engines": ENGINES}).args[0]
    assert other_swarm["engines"]["node5"] == {
        "error": "node5: remote_addrs: this node is in another swarm (managers 198.51.100.7:2377); set "
                 "leave_other_swarm: true to leave it and join this one"}
    assert other_swarm["changed"] is True and other_swarm["engines"]["node4"]["local_state"] == "active"
    assert node4.calls == [("join", (MANAGER,), "192.0.2.14")] and node5.calls == []
    twice = run_main(swarm_join.main, {**args, "engines": [ENGINES[0], ENGINES[0]]})
    assert "engines: each name must be given once; node4 given more than once" in twice.args[0]["msg"]
