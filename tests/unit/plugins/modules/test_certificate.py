"""certificate's main() on a real directory: a CA and a server certificate made once (check mode first), kept on a
second run, made again when the names change, a client certificate without names, and bad options refused."""

import pytest
from module_harness import ModuleExit, ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import certificate


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch, certificate.AnsibleModule)


def exit_result(args):
    outcome = run_main(certificate.main, args)
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    return outcome.args[0]


def test_a_server_certificate_is_made_once_and_again_only_when_it_does_not_cover_the_names(tmp_path):
    args = {"path": str(tmp_path / "pki"), "name": "proxy", "subject_alt_names": ["proxy.example", "192.0.2.30"]}
    planned = exit_result({**args, "_ansible_check_mode": True})
    assert planned["changed"] is True and not (tmp_path / "pki").exists()
    made = exit_result(args)
    assert made["changed"] is True and made["certificate"]["subject_alt_names"] == ["192.0.2.30", "proxy.example"]
    key = tmp_path / "pki" / "proxy.key"
    assert made["private_key_path"] == str(key) and oct(key.stat().st_mode & 0o777) == "0o600"
    assert made["ca_certificate_path"] == str(tmp_path / "pki" / "ca.crt")
    kept = exit_result(args)
    assert kept["changed"] is False and kept["certificate"] == made["certificate"]
    assert exit_result({**args, "subject_alt_names": ["proxy.example"]})["changed"] is False
    renamed = exit_result({**args, "subject_alt_names": ["proxy.example", "198.51.100.30"]})
    assert renamed["changed"] is True and renamed["reason"].startswith("the certificate does not cover 198.51.100.30")
    assert renamed["diff"]["before"]["subject_alt_names"] == ["192.0.2.30", "proxy.example"]
    assert renamed["certificate"]["subject_alt_names"] == ["198.51.100.30", "proxy.example"]


def test_a_client_certificate_carries_no_names(tmp_path):
    made = exit_result({"path": str(tmp_path), "name": "engine-client", "purpose": "client"})
    assert made["changed"] is True and made["certificate"]["subject_alt_names"] == []


@pytest.mark.parametrize("args, message", [
    ({"name": "ca", "subject_alt_names": ["a.example"]}, "name: 'ca' is not accepted"),
    ({"name": "p", "subject_alt_names": ["a.example"], "renew_days": 400}, "renew_days: 400 is not accepted"),
    ({"name": "p", "subject_alt_names": ["a.example"], "valid_days": 0}, "valid_days: 0 is not accepted"),
])
def test_bad_options_are_refused_and_nothing_is_written(tmp_path, args, message):
    outcome = run_main(certificate.main, {"path": str(tmp_path / "pki"), **args})
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
    assert not (tmp_path / "pki").exists()
