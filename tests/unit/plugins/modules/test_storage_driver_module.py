"""storage_driver's main() on a fake node: switch once, check mode, the rollback when the engine does not come back,
quota groups mended without a restart, and a refusal before any change."""

import json

import pytest
from module_harness import ModuleFail, exit_result, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import storage_driver


class FakeNode:
    """An engine that reads its driver from the settings file when it restarts; `refuses` is a driver it fails on;
    `quota` is what its btrfs quota groups need."""

    def __init__(self, path, refuses=None, quota="kept"):
        self.path, self.refuses, self.driver, self.restarts, self.quota = path, refuses, "overlay2", 0, quota

    def info(self):
        return {"Driver": self.driver, "DockerRootDir": "/var/lib/docker"} if self.driver else None

    def facts(self, root):
        return {"filesystems": {"ext4", "btrfs", "overlay"}, "backing": "btrfs", "root": root, "mount_options": []}

    def restart(self, service):
        self.restarts += 1
        if self.driver == "btrfs":
            self.quota = "turned_on"  # Docker's btrfs driver turns the quota groups off when it stops
        wanted = json.loads(self.path.read_text()).get("storage-driver", "overlay2") if self.path.exists() \
            else "overlay2"
        self.driver = None if wanted == self.refuses else wanted

    def why_it_failed(self, service):
        return "failed to start daemon: error initializing graphdriver"

    def wait_driver(self, driver, timeout):
        return self.info() if self.driver == driver else None

    def btrfs_quota(self, root, act):
        needed = self.quota
        if act:
            self.quota = "kept"
        return needed


@pytest.fixture
def daemon_json(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "warn"}\n')
    return path


def on_node(monkeypatch, node):
    patch_exits(monkeypatch, storage_driver.AnsibleModule)
    monkeypatch.setattr(storage_driver, "Node", lambda module: node)
    return node


def test_main_switches_once_keeps_other_settings_and_check_mode_writes_nothing(monkeypatch, daemon_json):
    node = on_node(monkeypatch, FakeNode(daemon_json))
    args = {"driver": "btrfs", "path": str(daemon_json)}
    planned = exit_result(storage_driver.main, {**args, "_ansible_check_mode": True})
    assert planned["changed"] is True and planned["images_reload_needed"] is True
    assert daemon_json.read_text() == '{"log-level": "warn"}\n' and node.restarts == 0
    switched = exit_result(storage_driver.main, args)
    assert switched["changed"] is True and node.driver == "btrfs" and node.restarts == 1
    assert json.loads(daemon_json.read_text()) == {"log-level": "warn", "storage-driver": "btrfs"}
    assert switched["backup"] == f"{daemon_json}.swarmops-backup"
    again = exit_result(storage_driver.main, args)
    assert again["changed"] is False and again["images_reload_needed"] is False and node.restarts == 1


def test_main_restores_the_settings_when_the_engine_does_not_come_back(monkeypatch, daemon_json):
    node = on_node(monkeypatch, FakeNode(daemon_json, refuses="btrfs"))
    failed = run_main(storage_driver.main, {"driver": "btrfs", "path": str(daemon_json), "wait_timeout": 1})
    assert isinstance(failed, ModuleFail)
    assert "previous settings were restored" in failed.args[0]["msg"] and "graphdriver" in failed.args[0]["msg"]
    assert failed.args[0]["driver"] == "overlay2" and failed.args[0]["changed"] is True
    assert daemon_json.read_text() == '{"log-level": "warn"}\n' and node.driver == "overlay2"


def test_main_refuses_a_settings_file_that_is_not_json_before_any_change(monkeypatch, daemon_json):
    daemon_json.write_text("{not json")
    node = on_node(monkeypatch, FakeNode(daemon_json))
    refused = run_main(storage_driver.main, {"driver": "btrfs", "path": str(daemon_json)})
    assert isinstance(refused, ModuleFail) and refused.args[0]["msg"].startswith(f"path: {daemon_json} is not valid")
    assert daemon_json.read_text() == "{not json" and node.restarts == 0


def test_main_mends_the_quota_groups_without_restarting_an_engine_already_on_btrfs(monkeypatch, daemon_json):
    node = on_node(monkeypatch, FakeNode(daemon_json))
    args = {"driver": "btrfs", "path": str(daemon_json)}
    exit_result(storage_driver.main, args)
    node.quota = "rescanned"
    planned = exit_result(storage_driver.main, {**args, "_ansible_check_mode": True})
    assert planned["changed"] is True and planned["btrfs_quota"] == "rescanned" and node.quota == "rescanned"
    mended = exit_result(storage_driver.main, args)
    assert mended["changed"] is True and "backup" not in mended and node.quota == "kept" and node.restarts == 1
    again = exit_result(storage_driver.main, args)
    assert again["changed"] is False and again["btrfs_quota"] == "kept"
    assert "btrfs_quota" not in exit_result(storage_driver.main, {**args, "btrfs_quota": False})


def test_main_turns_the_quota_groups_on_again_after_restarting_an_engine_on_btrfs(monkeypatch, daemon_json):
    node = on_node(monkeypatch, FakeNode(daemon_json))
    exit_result(storage_driver.main, {"driver": "btrfs", "path": str(daemon_json)})
    args = {"driver": "btrfs", "options": ["btrfs.min_space=1G"], "path": str(daemon_json)}
    planned = exit_result(storage_driver.main, {**args, "_ansible_check_mode": True})
    assert planned["btrfs_quota"] == "turned_on" and node.quota == "kept" and node.restarts == 1
    switched = exit_result(storage_driver.main, args)
    assert switched["btrfs_quota"] == "turned_on" and node.quota == "kept" and node.restarts == 2
