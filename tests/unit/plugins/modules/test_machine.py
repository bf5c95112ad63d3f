import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.swarmops.ha.plugins.modules import machine


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

    monkeypatch.setattr(machine.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(machine.AnsibleModule, "fail_json", fail_json)


def run(args):
    with patch_module_args(args), pytest.raises((ModuleExit, ModuleFail)) as raised:
        machine.main()
    return raised.value


@pytest.mark.parametrize("args, message", [
    ({"name": "n1", "engine_labels": ["noequals"]}, "engine_labels: 'noequals' is not key=value"),
    ({"name": "n1", "driver_options": {"cpus": 2}}, "driver_options: cpus not known to the lab driver"),
    ({"name": "../n1"}, "name: '../n1' is not a machine name"),
    ({"name": "n1", "driver_options": {"subnet": "10.0.0.0/30"}}, "subnet: '10.0.0.0/30'"),
    ({"name": "n1", "driver_options": {"preload_images": "swarmops/lab-app:1"}},
     "driver_options.preload_images: 'swarmops/lab-app:1' is not a list of image names"),
    ({"name": "n1", "driver_options": {"preload_images": ["swarmops/lab-app:1", ""]}},
     "driver_options.preload_images: ['swarmops/lab-app:1', ''] is not a list of image names"),
])
def test_bad_input_fails_naming_option_and_value(tmp_path, args, message):
    driver_options = {"docker_host": "unix:///nonexistent.sock", **args.get("driver_options", {})}
    outcome = run({**args, "storage_path": str(tmp_path), "driver_options": driver_options})
    assert isinstance(outcome, ModuleFail)
    assert message in outcome.args[0]["msg"]
    assert list(tmp_path.iterdir()) == []


def test_other_driver_without_binary_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = run({"name": "n1", "driver": "virtualbox", "storage_path": str(tmp_path / "store")})
    assert isinstance(outcome, ModuleFail)
    assert "needs the docker-machine binary" in outcome.args[0]["msg"]


@pytest.fixture
def docker_machine(tmp_path, monkeypatch):
    """A stand-in docker-machine on PATH: records its calls in `calls`, writes a record in `store` on create."""
    calls, store, fake = tmp_path / "calls", tmp_path / "store", tmp_path / "bin" / "docker-machine"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
echo "$@" >> {calls}
name=$(eval echo \\${{$#}})
case "$3" in
  create) d={store}/machines/$name; mkdir -p $d && echo '{{"Driver": {{"SSHUser": "docker"}}}}' > $d/config.json ;;
  status) echo Running ;;
  ip) echo 198.51.100.20 ;;
  url) echo tcp://198.51.100.20:2376 ;;
esac
""")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    return calls, store


def test_other_driver_drives_docker_machine_binary(docker_machine):
    """The module must create through the binary, then be idempotent."""
    calls, store = docker_machine
    args = {"name": "vb1", "driver": "virtualbox", "storage_path": str(store),
            "engine_labels": ["swarm.role=manager"], "driver_options": {"virtualbox-memory": 2048}}
    first = run(args).args[0]
    assert first["changed"] is True and first["actions"] == ["create"]
    assert first["machine"]["url"] == "tcp://198.51.100.20:2376"
    create = calls.read_text().splitlines()[0]
    assert create == (f"--storage-path {store} create --driver virtualbox --engine-label=swarm.role=manager "
                      f"--virtualbox-memory=2048 vb1")
    second = run(args).args[0]
    assert second["changed"] is False and second["actions"] == []
    stop = run({**args, "state": "stopped", "_ansible_check_mode": True}).args[0]
    assert stop["changed"] is True and stop["diff"]["after"] == {"state": "Stopped"}
    assert not any(" stop " in f" {line} " for line in calls.read_text().splitlines())
    assert json.loads((store / "machines" / "vb1" / "config.json").read_text())["Driver"]["SSHUser"] == "docker"


def test_several_names_are_one_call_with_each_machines_actions_and_a_diff_by_name(docker_machine):
    """Other drivers go one machine at a time; the result lists each machine with its own actions."""
    calls, store = docker_machine
    args = {"name": ["vb1", "vb2"], "driver": "virtualbox", "storage_path": str(store),
            "driver_options": {"virtualbox-memory": 2048},
            "driver_options_by_name": {"vb2": {"virtualbox-cpu-count": 2}}}
    first = run(args).args[0]
    assert first["changed"] is True and first["actions"] == ["vb1: create", "vb2: create"]
    assert [machine["actions"] for machine in first["machines"]] == [["create"], ["create"]]
    assert "machine" not in first
    assert first["diff"] == {"before": {"vb1": "NotFound", "vb2": "NotFound"},
                             "after": {"vb1": "Running", "vb2": "Running"}}
    creates = [line for line in calls.read_text().splitlines() if " create " in line]
    assert creates[0].endswith("--virtualbox-memory=2048 vb1")
    assert creates[1].endswith("--virtualbox-memory=2048 --virtualbox-cpu-count=2 vb2")
    second = run(args).args[0]
    assert second["changed"] is False and second["actions"] == []


@pytest.mark.parametrize("args, message", [
    ({"name": ["n1", "n2"], "driver_options_by_name": {"n3": {"ip": "172.30.99.20"}}},
     "driver_options_by_name: n3 not among name (n1, n2)"),
    ({"name": ["n1", "n2"], "driver_options": {"ip": "172.30.99.20"}},
     "driver_options.ip: one address for 2 machines"),
    ({"name": ["n1", "n1"]}, "must name each machine once"),
    ({"name": ["n1", "n2"], "driver_options_by_name": {"n2": {"cpus": 2}}},
     "driver_options: cpus not known to the lab driver"),
])
def test_bad_names_or_options_by_name_fail_before_any_change(tmp_path, args, message):
    outcome = run({**args, "storage_path": str(tmp_path),
                   "driver_options": {"docker_host": "unix:///nonexistent.sock", **args.get("driver_options", {})}})
    assert isinstance(outcome, ModuleFail)
    assert message in outcome.args[0]["msg"]
    assert list(tmp_path.iterdir()) == []
