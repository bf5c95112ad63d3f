"""The volume module's main() with a fake VolumeAPI: create, no change, check mode, refusal, recreate, removal."""

import pytest
from module_harness import ModuleExit, ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import volume


class FakeVolumes:
    """One engine's volumes, by name, as inspect returns them; records the writes."""

    def __init__(self):
        self.store, self.writes = {}, []

    def get(self, name):
        return self.store.get(name)

    def create(self, name, wanted):
        self.writes.append(("create", name))
        self.store[name] = {"Driver": wanted["driver"], "Options": wanted["driver_opts"], "Labels": wanted["labels"],
                            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data"}
        return self.store[name]

    def remove(self, name):
        self.writes.append(("remove", name))
        del self.store[name]


@pytest.fixture
def volumes(monkeypatch):
    fake = FakeVolumes()
    patch_exits(monkeypatch, volume.AnsibleModule)
    monkeypatch.setattr(volume, "connect", lambda params: object())
    monkeypatch.setattr(volume, "VolumeAPI", lambda client: fake)
    return fake


def result(args):
    outcome = run_main(volume.main, args)
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    return outcome.args[0]


def test_a_volume_is_created_once_and_check_mode_writes_nothing(volumes):
    args = {"name": "data", "driver_opts": {"size": 1}, "labels": {"team": "ops"}}
    planned = result({**args, "_ansible_check_mode": True})
    assert planned["changed"] is True and volumes.writes == []
    assert planned["diff"]["after"] == {"driver": "local", "driver_opts": {"size": "1"}, "labels": {"team": "ops"}}
    made = result(args)
    assert made["changed"] is True and volumes.writes == [("create", "data")]
    assert made["volume"]["mountpoint"] == "/var/lib/docker/volumes/data/_data"
    again = result(args)
    assert again["changed"] is False and volumes.writes == [("create", "data")]
    assert again["volume"]["mountpoint"] == "/var/lib/docker/volumes/data/_data"


def test_a_different_volume_is_refused_naming_the_option_unless_recreate(volumes):
    result({"name": "data", "driver_opts": {"size": "1"}})
    refused = run_main(volume.main, {"name": "data", "driver_opts": {"size": "2"}})
    assert isinstance(refused, ModuleFail)
    assert refused.args[0]["msg"].startswith("volume data: driver_opts: the volume exists with")
    assert "set recreate: true" in refused.args[0]["msg"]
    remade = result({"name": "data", "driver_opts": {"size": "2"}, "recreate": True})
    assert remade["changed"] is True and volumes.writes[1:] == [("remove", "data"), ("create", "data")]


def test_removal_and_a_bad_name_before_the_engine(volumes):
    result({"name": "data"})
    gone = result({"name": "data", "state": "absent"})
    assert gone["changed"] is True and "data" not in volumes.store and "volume" not in gone
    assert result({"name": "data", "state": "absent"})["changed"] is False
    bad = run_main(volume.main, {"name": "no/slash"})
    assert isinstance(bad, ModuleFail) and "name: 'no/slash'" in bad.args[0]["msg"]
