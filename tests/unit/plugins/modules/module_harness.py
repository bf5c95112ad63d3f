"""Run a module's main() in-process: exit_json and fail_json raise, so a test reads the result or the message."""

import pytest
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    pass


class ModuleFail(Exception):
    pass


def patch_exits(monkeypatch, module_class):
    """exit_json/fail_json raise with (result, the module's no_log_values, the warnings it gave)."""
    warnings = []

    def warn(self, warning):
        warnings.append(warning)

    def exit_json(self, **result):
        raise ModuleExit(result, set(self.no_log_values), list(warnings))

    def fail_json(self, **result):
        raise ModuleFail(result, set(self.no_log_values), list(warnings))

    monkeypatch.setattr(module_class, "warn", warn)
    monkeypatch.setattr(module_class, "exit_json", exit_json)
    monkeypatch.setattr(module_class, "fail_json", fail_json)


def run_main(main, args):
    with patch_module_args(args), pytest.raises((ModuleExit, ModuleFail)) as raised:
        main()
    return raised.value


class FakeClient:
    """What connect() returns, around a fake of the Engine API calls a test needs."""

    def __init__(self, api):
        self.api = api


def on_engine(monkeypatch, module, engine):
    """Make `module` raise on exit and find `engine` (a fake Engine API) where it connects; returns the engine."""
    patch_exits(monkeypatch, module.AnsibleModule)
    monkeypatch.setattr(module, "connect", lambda params: FakeClient(engine))
    return engine


def exit_result(main, args):
    """The result of a run that must succeed (the failure message otherwise)."""
    outcome = run_main(main, args)
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    return outcome.args[0]
