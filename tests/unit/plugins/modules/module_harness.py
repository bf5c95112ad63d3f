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
