import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from module_harness import ModuleFail, exit_result, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import node_files


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch, node_files.AnsibleModule)


def files_of(folder):
    return {path: open(path).read() for path in sorted(str(p) for p in folder.rglob("*") if p.is_file())}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_what_differs_makes_folders_and_a_second_call_changes_nothing(tmp_path):
    rules, config = str(tmp_path / "prometheus/rules/swarmops.yml"), str(tmp_path / "prometheus/prometheus.yml")
    args = {"files": [{"path": rules, "content": "groups: []\n"},
                      {"path": config, "content": "global: {}\n", "mode": "0600"}]}
    first = exit_result(node_files.main, {**args, "_ansible_diff": True})
    assert first["changed"] and first["written"] == [rules, config] and first["removed"] == []
    assert [(entry["before_header"], entry["before"]) for entry in first["diff"]] == [(rules, ""), (config, "")]
    assert files_of(tmp_path) == {config: "global: {}\n", rules: "groups: []\n"}
    assert (mode_of(rules), mode_of(config), mode_of(tmp_path / "prometheus/rules")) == (0o644, 0o600, 0o755)

    again = exit_result(node_files.main, args)
    assert not again["changed"] and again["written"] == []

    os.chmod(config, 0o644)
    mode_only = exit_result(node_files.main, {**args, "_ansible_diff": True})
    assert mode_only["written"] == [config] and mode_of(config) == 0o600
    assert mode_only["diff"] == [{"before": {"path": config, "mode": "0644"},
                                  "after": {"path": config, "mode": "0600"}}]


def test_check_mode_reports_the_diff_and_prunes_nothing_and_writes_nothing(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "swarmops.yml").write_text("old\n")
    (rules / "retired.yml").write_text("retired\n")
    (rules / "README").write_text("not a rule\n")
    args = {"files": [{"path": str(rules / "swarmops.yml"), "content": "new\n"}],
            "prune": [{"path": str(rules), "patterns": ["*.yml"]}, {"path": str(tmp_path / "none")}]}

    planned = exit_result(node_files.main, {**args, "_ansible_check_mode": True, "_ansible_diff": True})
    assert planned["changed"] and planned["written"] == [str(rules / "swarmops.yml")]
    assert planned["removed"] == [str(rules / "retired.yml")]
    assert planned["diff"] == [
        {"before_header": str(rules / "swarmops.yml"), "after_header": str(rules / "swarmops.yml"),
         "before": "old\n", "after": "new\n"},
        {"before": {"path": str(rules / "retired.yml"), "state": "file"},
         "after": {"path": str(rules / "retired.yml"), "state": "absent"}}]
    assert len(files_of(tmp_path)) == 3 and (rules / "swarmops.yml").read_text() == "old\n"

    done = exit_result(node_files.main, args)
    assert done["removed"] == [str(rules / "retired.yml")] and "diff" not in done
    assert sorted(os.listdir(rules)) == ["README", "swarmops.yml"] and (rules / "swarmops.yml").read_text() == "new\n"


def test_a_file_its_check_refuses_is_not_written_stops_the_call_and_prunes_nothing(tmp_path):
    good, bad, after, retired = (str(tmp_path / name) for name in ("good.cfg", "bad.cfg", "after.cfg", "old.cfg"))
    for path in (bad, retired):
        with open(path, "w") as handle:
            handle.write("in place\n")
    check = "grep -q valid %s"
    outcome = run_main(node_files.main, {"files": [
        {"path": good, "content": "valid\n", "validate": check},
        {"path": bad, "content": "broken\n", "validate": check},
        {"path": after, "content": "valid\n"}], "prune": [{"path": str(tmp_path)}]})
    assert isinstance(outcome, ModuleFail)
    assert outcome.args[0]["msg"].startswith(f"{bad}: its check refused the new content (grep -q valid %s, rc 1)")
    assert files_of(tmp_path) == {bad: "in place\n", good: "valid\n", retired: "in place\n"}


@pytest.mark.parametrize("item, message", [
    ({"path": "relative/file", "content": ""}, "files[1].path: 'relative/file' is not an absolute path"),
    ({"path": "/etc/a", "content": ""}, "files[1].path: '/etc/a' is listed twice (each file once)"),
    ({"path": "/etc/b", "content": "", "mode": "rw-r--r--"},
     "files[1].mode: 'rw-r--r--' is not a mode (an octal string such as '0644')"),
    ({"path": "/etc/b", "content": "", "mode": "17777"}, "files[1].mode: '17777' is not a mode"),
    ({"path": "/etc/b", "content": "", "validate": "promtool check rules"},
     "files[1].validate: 'promtool check rules' has no %s (where the new file's path goes)"),
])
def test_bad_files_are_refused_before_anything_is_written(tmp_path, item, message):
    first = str(tmp_path / "first")
    outcome = run_main(node_files.main, {"files": [{"path": "/etc/a" if "twice" in message else first,
                                                    "content": "x"}, item]})
    assert isinstance(outcome, ModuleFail) and outcome.args[0]["msg"].startswith(message)
    assert not os.path.exists(first)


def test_a_relative_prune_folder_is_refused(tmp_path):
    outcome = run_main(node_files.main, {"files": [], "prune": [{"path": "rules"}]})
    assert outcome.args[0]["msg"] == "prune[0].path: 'rules' is not an absolute path"


def test_the_arguments_a_result_shows_hold_no_content_and_the_diff_does(tmp_path, monkeypatch):
    shown = []

    def exit_json(module, **result):  # what the real one prints: the arguments (as the invocation) and the result
        shown.append((module.params, result))

    monkeypatch.setattr(node_files.AnsibleModule, "exit_json", exit_json)
    path = str(tmp_path / "alertmanager.yml")
    with patch_module_args({"files": [{"path": path, "content": "token: s3cret\n"}], "_ansible_diff": True}):
        node_files.main()
    params, result = shown[0]
    assert params["files"][0]["content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["diff"][0]["after"] == "token: s3cret\n" and open(path).read() == "token: s3cret\n"
