import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_init

WORKER = "SWMTKN-1-worker-secret"
MANAGER = "SWMTKN-1-manager-secret"
KEY = "SWMKEY-1-unlock-secret"


class FakeAPI:
    """The few Engine API calls swarm_init makes, on a manager of an existing swarm; records writes."""

    def __init__(self, autolock=True, state="active"):
        self.writes = []
        self.state = state
        self.spec = {"Dispatcher": {"HeartbeatPeriod": 5_000_000_000},
                     "EncryptionConfig": {"AutoLockManagers": autolock}, "Orchestration": {}, "CAConfig": {},
                     "Raft": {}}
        self.unlock_key_reads = 0

    def info(self):
        return {"Swarm": {"LocalNodeState": self.state, "ControlAvailable": self.state == "active",
                          "NodeID": "node-1", "NodeAddr": "192.0.2.10"}}

    def inspect_swarm(self):
        return {"ID": "swarm-1", "Version": {"Index": 3}, "Spec": self.spec, "TLSInfo": {},
                "JoinTokens": {"Worker": WORKER, "Manager": MANAGER}}

    def get_unlock_key(self):
        self.unlock_key_reads += 1
        return {"UnlockKey": KEY}

    def update_swarm(self, *args, **kwargs):
        self.writes.append(("update_swarm", args, kwargs))

    def init_swarm(self, **kwargs):
        self.writes.append(("init_swarm", kwargs))


@pytest.fixture
def api(monkeypatch):
    return on_engine(monkeypatch, swarm_init, FakeAPI())


def run(args):
    return run_main(swarm_init.main, args)


def leaked(outcome):
    text = repr(outcome.args[0])
    return [secret for secret in (WORKER, MANAGER, KEY) if secret in text]


def test_no_secret_is_returned_or_read_unless_asked(api):
    outcome = run({})
    assert isinstance(outcome, ModuleExit)
    result = outcome.args[0]
    assert "join_tokens" not in result and "unlock_key" not in result and not leaked(outcome)
    assert api.unlock_key_reads == 0
    assert result["settings"]["dispatcher_heartbeat"] == 5_000_000_000 and result["changed"] is False


def test_asked_secrets_reach_a_no_log_task_whole(api):
    outcome = run({"return_join_tokens": True, "return_unlock_key": True, "_ansible_no_log": True})
    result, hidden = outcome.args[:2]
    assert result["join_tokens"] == {"worker": WORKER, "manager": MANAGER} and result["unlock_key"] == KEY
    # Ansible hides the whole result of a no_log task; masking the values would break the join that uses them.
    assert not hidden & {WORKER, MANAGER, KEY}


def test_asked_secrets_on_a_task_without_no_log_are_marked_for_ansible_to_hide(api):
    outcome = run({"return_join_tokens": True, "return_unlock_key": True})
    hidden, warnings = outcome.args[1:]
    assert {WORKER, MANAGER, KEY} <= hidden
    assert any("set no_log: true" in warning for warning in warnings)
    assert all(secret not in repr(warnings) for secret in (WORKER, MANAGER, KEY))


def test_unlock_key_is_not_read_without_autolock(api):
    api.spec["EncryptionConfig"]["AutoLockManagers"] = False
    result = run({"return_unlock_key": True, "_ansible_no_log": True}).args[0]
    assert "unlock_key" not in result and api.unlock_key_reads == 0


def test_a_worker_is_refused_before_anything_changes(api):
    api.state = "active"
    api.info = lambda: {"Swarm": {"LocalNodeState": "active", "ControlAvailable": False}}
    outcome = run({"dispatcher_heartbeat": "1s"})
    assert isinstance(outcome, ModuleFail) and "is a worker" in outcome.args[0]["msg"]
    assert api.writes == []
