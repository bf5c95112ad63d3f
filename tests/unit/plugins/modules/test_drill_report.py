import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.swarmops.ha.plugins.modules import drill_report


class ModuleExit(Exception):
    pass


class ModuleFail(Exception):
    pass


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, **result):
        raise ModuleFail(result)

    monkeypatch.setattr(drill_report.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(drill_report.AnsibleModule, "fail_json", fail_json)


RUN = {"drill": "worker_loss", "profile": "default", "target": "n4", "passed": True, "notes": [],
       "marks": [{"t": 0.5, "event": "n4 machine stopped"}],
       "waits": [{"events": {"n4 down": 15.5}, "timeline": [{"t": 15.5, "subject": "n4", "event": "down"}]}]}


def run(args):
    with patch_module_args(args), pytest.raises((ModuleExit, ModuleFail)) as raised:
        drill_report.main()
    return raised.value.args[0]


def test_writes_json_markdown_and_a_picture_per_run_then_changes_nothing(tmp_path):
    first = run({"path": str(tmp_path / "report"), "runs": [RUN]})
    assert first["changed"]
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["README.md", "drill.json",
                                                                       "worker-loss-default.svg"]
    assert "| worker_loss | default | n4 | passed |" in (tmp_path / "report" / "README.md").read_text()
    assert run({"path": str(tmp_path / "report"), "runs": [RUN]})["changed"] is False


def test_check_mode_writes_nothing(tmp_path):
    result = run({"path": str(tmp_path / "report"), "runs": [RUN], "_ansible_check_mode": True})
    assert result["changed"] and not (tmp_path / "report").exists()


def test_a_run_without_its_drill_name_is_refused(tmp_path):
    result = run({"path": str(tmp_path), "runs": [{"waits": []}]})
    assert "runs[0]: drill missing" in result["msg"]
