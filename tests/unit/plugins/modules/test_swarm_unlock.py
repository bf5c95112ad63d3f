"""swarm_unlock's main() against a fake engine: a locked manager unlocked once, check mode, a wrong key refused
naming the option and never shown."""

import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_unlock

KEY = "SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8"


class LockedManager:
    def __init__(self):
        self.state, self.tried = "locked", []

    def info(self):
        return {"Swarm": {"LocalNodeState": self.state, "ControlAvailable": self.state == "active"}}

    def nodes(self):
        return [{"ID": "m1"}]

    def unlock_swarm(self, key):
        import docker.errors

        self.tried.append(key)
        if key != KEY:
            raise docker.errors.APIError("400", explanation="invalid key")
        self.state = "active"


@pytest.fixture
def engine(monkeypatch):
    return on_engine(monkeypatch, swarm_unlock, LockedManager())


def test_a_locked_manager_is_unlocked_once_and_check_mode_only_says_so(engine):
    planned = run_main(swarm_unlock.main, {"unlock_key": KEY, "_ansible_check_mode": True})
    assert isinstance(planned, ModuleExit) and planned.args[0] == {"changed": True, "state": "locked"}
    assert engine.tried == []
    unlocked = run_main(swarm_unlock.main, {"unlock_key": f" {KEY}\n"})
    assert unlocked.args[0] == {"changed": True, "state": "active"} and engine.tried == [KEY]
    assert run_main(swarm_unlock.main, {"unlock_key": KEY}).args[0] == {"changed": False, "state": "active"}


@pytest.mark.parametrize("key, message", [
    ("SWMKEY-1-" + "x" * 43, "unlock_key: the engine refused the key (invalid key)"),
    ("not-a-key", "unlock_key: not an unlock key"),
])
def test_a_wrong_key_is_refused_naming_the_option_and_never_shown(engine, key, message):
    outcome = run_main(swarm_unlock.main, {"unlock_key": key})
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
    assert key not in outcome.args[0]["msg"] and key in outcome.args[1]
    assert engine.state == "locked"
