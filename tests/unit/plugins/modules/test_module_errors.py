"""Every module turns errors into fail_json in one place, module_utils' module_errors (issue 19): no module picks
which error classes to catch, and errors that once escaped as tracebacks now reach the user as messages."""

import ast
import pathlib

import pytest
from module_harness import ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import gluster_volume, machine, storage_driver

MODULES = sorted((pathlib.Path(__file__).parents[4] / "plugins" / "modules").glob("*.py"))


def calls(node: ast.AST) -> set[str]:
    return {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
            for n in ast.walk(node) if isinstance(n, ast.Call)}


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_no_module_catches_an_error_to_fail_with_it(path):
    tree = ast.parse(path.read_text())
    handlers = [h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and "fail_json" in calls(h)]
    assert handlers == [], f"{path.name}:{handlers[0].lineno} catches an error and calls fail_json itself"


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_every_module_runs_its_work_inside_module_errors(path):
    tree = ast.parse(path.read_text())
    main = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "main")
    assert "module_errors" in calls(main), f"{path.name}: main() does not use module_errors"


def test_a_gluster_error_keeps_its_message_word_for_word(monkeypatch):
    patch_exits(monkeypatch, gluster_volume.AnsibleModule)
    outcome = run_main(gluster_volume.main, {"name": "data", "bricks": ["192.0.2.11:relative/path"]})
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"] == ("bricks: '192.0.2.11:relative/path' is not host:/absolute/path "
                                      "(example: 192.0.2.11:/srv/gluster/vol)")


def test_a_storage_error_keeps_its_message_word_for_word(monkeypatch):
    class SilentEngine:
        def __init__(self, module):
            pass

        def info(self):
            return None

    patch_exits(monkeypatch, storage_driver.AnsibleModule)
    monkeypatch.setattr(storage_driver, "Node", SilentEngine)
    outcome = run_main(storage_driver.main, {"driver": "btrfs"})
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"] == "the engine on this node does not answer `docker info`; start it first"


def test_a_broken_store_record_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    record = tmp_path / "machines" / "node1" / "config.json"
    record.parent.mkdir(parents=True)
    record.write_text("{not json")
    patch_exits(monkeypatch, machine.AnsibleModule)
    outcome = run_main(machine.main, {"name": "node1", "driver": "virtualbox", "storage_path": str(tmp_path)})
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"].startswith(f"machine node1: {record}: cannot read machine record: ")
