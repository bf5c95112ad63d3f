"""swarm_secret's and swarm_config's main() against a fake swarm: versions made and kept, check mode, no data in
the result."""

import json

import pytest
from module_harness import ModuleExit, ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import swarm_config, swarm_secret


class FakeSwarm:
    """A manager's secrets or configs (the engine's label and name filters; both kinds are kept alike) and no
    services; its client and api are itself."""

    def __init__(self):
        self.client = self.api = self
        self.stored, self.made = [], 0

    def require_manager(self):
        pass

    def secrets(self, filters=None):
        filters = filters or {}
        key, dummy, value = filters.get("label", "=").partition("=")
        return [s for s in self.stored if (not key or s["Spec"]["Labels"].get(key) == value)
                and filters.get("name", "") in s["Spec"]["Name"]]

    def services(self):
        return []

    def create_secret(self, name, data, labels):
        self.made += 1
        self.stored.append({"ID": f"id{self.made}", "Spec": {"Name": name, "Labels": labels}, "data": data})
        return {"ID": f"id{self.made}"}

    def remove_secret(self, ident):
        self.stored = [s for s in self.stored if s["ID"] != ident]

    configs, create_config, remove_config = secrets, create_secret, remove_secret


@pytest.fixture
def swarm(monkeypatch):
    fake = FakeSwarm()
    for module in (swarm_secret, swarm_config):
        patch_exits(monkeypatch, module.AnsibleModule)
        monkeypatch.setattr(module, "connect", lambda params: pytest.fail("the engine was reached"))
        monkeypatch.setattr(module, "SwarmAPI", lambda client: fake)
    return fake


@pytest.mark.parametrize("module, word", [(swarm_secret, "secret"), (swarm_config, "config")])
def test_a_value_makes_one_version_and_the_same_value_again_changes_nothing(swarm, monkeypatch, module, word):
    monkeypatch.setattr(module, "connect", lambda params: object())

    def result(args):
        outcome = run_main(module.main, args)
        assert isinstance(outcome, ModuleExit), outcome.args[0]
        return outcome

    made = result({"name": "db", "data": "first-value"})
    assert made.args[0]["changed"] is True and made.args[0][word]["version_name"] == "db.v1"
    assert [s["data"] for s in swarm.stored] == [b"first-value"]
    assert "first-value" in made.args[1] and "first-value" not in json.dumps(made.args[0])
    again = result({"name": "db", "data": "first-value"})
    assert again.args[0]["changed"] is False and swarm.made == 1
    planned = result({"name": "db", "data": "second-value", "_ansible_check_mode": True})
    assert planned.args[0]["changed"] is True and planned.args[0]["diff"]["after"]["versions"] == ["db.v2"]
    assert swarm.made == 1
    rotated = result({"name": "db", "data": "second-value"})
    assert rotated.args[0]["removed"] == ["db.v1"] and [s["Spec"]["Name"] for s in swarm.stored] == ["db.v2"]


@pytest.mark.parametrize("args, message", [
    ({"name": "db.v2", "data": "x"}, "name: 'db.v2'"),
    ({"name": "db", "data": ""}, "data: empty"),
    ({"name": "db", "data": "not base64!", "data_is_base64": True}, "data: not valid base64"),
])
def test_bad_input_is_refused_before_the_swarm_is_reached(swarm, args, message):
    outcome = run_main(swarm_secret.main, args)
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"].startswith("swarm_secret: ") and message in outcome.args[0]["msg"]
