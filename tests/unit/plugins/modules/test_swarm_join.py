"""swarm_join's main() against a fake engine: join once and wait for it, check mode, another swarm refused unless
leave_other_swarm, and leaving."""

import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, run_main

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
