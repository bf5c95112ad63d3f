import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.swarmops.ha.plugins.inventory import docker_machine
from ansible_collections.swarmops.ha.plugins.inventory.docker_machine import InventoryModule, choose_managers
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as ms

NAME = InventoryModule.NAME
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
GOOD = ["aws1", "generic1", "lab1", "lab2", "none1", "vbox1"]


class Warnings:
    def __init__(self):
        self.messages = []

    def warning(self, msg):
        self.messages.append(msg)


class FakeContainer:
    def __init__(self, machine, status):
        self.attrs, self.status = {"Labels": {"swarmops.lab.machine": machine}}, status


class FakeEngine:
    def __init__(self, *containers):
        self.calls, self.containers = [], self
        self._containers = containers

    def list(self, **kwargs):
        self.calls.append(kwargs)
        return list(self._containers)


@pytest.fixture(scope="module")
def option_definitions():
    """What the plugin loader does with DOCUMENTATION, so set_options works on a plugin made here."""
    doc = yaml.safe_load(docker_machine.DOCUMENTATION)
    add_fragments(doc, docker_machine.__file__, fragment_loader=fragment_loader)
    C.config.initialize_plugin_configuration_definitions("inventory", NAME, doc["options"])


@pytest.fixture
def make_plugin(option_definitions):
    def make(**options):
        plugin = InventoryModule()
        plugin._load_name = plugin.ansible_name = NAME
        plugin.inventory = InventoryData()
        plugin.display = Warnings()
        plugin.set_options(direct={"plugin": NAME, **options})
        return plugin
    return make


def records(store, names=None):
    return {name: ms.read_config(str(store), name) for name in (GOOD if names is None else names)}


def members(plugin, group):
    return sorted(h.name for h in plugin.inventory.groups[group].get_hosts())


def machine(name, labels=()):
    return {"Name": name, "DriverName": "generic", "Driver": {"IPAddress": "192.0.2.1", "MachineName": name},
            "HostOptions": {"EngineOptions": {"Labels": list(labels)}}}


# --- the manager rule -------------------------------------------------------------------------


def test_count_takes_unlabelled_machines_in_natural_name_order():
    labels = {f"node{i}": {} for i in (10, 2, 1, 3)}
    assert choose_managers(labels, 3) == {"node1", "node2", "node3"}


def test_labels_win_and_labelled_managers_count_towards_the_number():
    labels = {"node1": {"swarm.role": "worker"}, "node2": {}, "node3": {}, "node9": {"swarm.role": "manager"}}
    assert choose_managers(labels, 2) == {"node2", "node9"}
    assert choose_managers(labels, 0) == {"node9"}


def test_a_list_names_managers_among_unlabelled_machines():
    labels = {"a": {"swarm.role": "worker"}, "b": {}, "c": {}, "d": {"swarm.role": "manager"}}
    assert choose_managers(labels, ["a", "c", "x"]) == {"c", "d"}


@pytest.mark.parametrize("value", [-1, "three", True, {"node1": 1}, ["node1", 2]])
def test_bad_managers_option_is_refused_naming_it(make_plugin, value):
    with pytest.raises(AnsibleParserError, match="managers: .* is neither a number of managers nor a list"):
        make_plugin(managers=value).populate({}, {})


# --- populate: parsed records and states in, hosts and groups out -------------------------------


def test_populate_groups_every_machine_by_driver_state_and_swarm_role(make_plugin, fixture_store):
    plugin = make_plugin()
    plugin.populate(records(fixture_store), {"vbox1": "Running", "lab1": "Running", "lab2": "Stopped"})
    assert members(plugin, "docker_machine") == GOOD
    assert members(plugin, "swarm_managers") == ["aws1", "generic1", "vbox1"]
    assert members(plugin, "swarm_workers") == ["lab1", "lab2", "none1"]
    assert members(plugin, "driver_lab") == ["lab1", "lab2"]
    assert members(plugin, "driver_amazonec2") == ["aws1"]
    assert members(plugin, "state_running") == ["lab1", "vbox1"]
    assert members(plugin, "state_stopped") == ["lab2"]
    assert members(plugin, "state_unknown") == ["aws1", "generic1", "none1"]
    host = plugin.inventory.get_host("vbox1").get_vars()
    assert host["machine_state"] == "Running" and host["ansible_port"] == 41234


def test_populate_takes_a_list_of_managers(make_plugin):
    plugin = make_plugin(managers=["node10"])
    plugin.populate({n: machine(n) for n in ("node2", "node10")}, {})
    assert members(plugin, "swarm_managers") == ["node10"]
    assert members(plugin, "swarm_workers") == ["node2"]


# --- reading the store ----------------------------------------------------------------------------


def test_missing_store_is_a_parser_error_naming_it(make_plugin, tmp_path):
    with pytest.raises(AnsibleParserError, match=f"storage_path: .*{tmp_path}/nowhere does not exist"):
        make_plugin().read_store(str(tmp_path / "nowhere"))


def test_bad_records_are_left_out_with_a_warning_naming_the_file(make_plugin, fixture_store):
    plugin = make_plugin(live_state=False)
    data = plugin.read_store(str(fixture_store))
    assert sorted(data["records"]) == GOOD and data["states"] == {}
    for bad in ("broken", "nodriver", "unreadable"):
        assert [m for m in plugin.display.messages if f"{fixture_store}/machines/{bad}/config.json" in m]
    assert len(plugin.display.messages) == 3


def test_a_machine_folder_without_record_is_left_out_with_a_warning(make_plugin, tmp_path):
    (tmp_path / "machines" / "half").mkdir(parents=True)
    plugin = make_plugin(live_state=False)
    assert plugin.read_store(str(tmp_path))["records"] == {}
    assert plugin.display.messages == [
        f"{tmp_path}/machines/half/config.json: no machine record; machine half left out"]


# --- live state -----------------------------------------------------------------------------------


def fake_docker_machine(tmp_path, output, code=0):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker-machine"
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\nprintf "{output}"\nexit {code}\n')
    script.chmod(0o755)
    return bindir


def test_one_docker_machine_ls_gives_the_state_of_non_lab_machines(make_plugin, fixture_store, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("PATH", str(fake_docker_machine(tmp_path, r"vbox1\tRunning\naws1\tStopped\ngeneric1\t\n")))
    plugin = make_plugin()
    states = plugin.live_states(str(fixture_store), records(fixture_store, ["vbox1", "aws1", "generic1", "none1"]))
    assert states == {"vbox1": "Running", "aws1": "Stopped", "generic1": "Unknown"}
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [f"--storage-path {fixture_store} ls --format {{{{.Name}}}}\t{{{{.State}}}}"]
    assert plugin.display.messages == []


def test_failing_docker_machine_warns_once(make_plugin, fixture_store, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_docker_machine(tmp_path, "", code=3)))
    plugin = make_plugin()
    assert plugin.live_states(str(fixture_store), records(fixture_store, ["vbox1", "aws1"])) == {}
    assert len(plugin.display.messages) == 1 and "docker-machine ls failed" in plugin.display.messages[0]


def test_missing_docker_machine_warns_once_and_lab_only_stores_never_ask_it(
        make_plugin, fixture_store, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    plugin = make_plugin()
    plugin.engine_client = lambda docker_host: FakeEngine()
    plugin.live_states(str(fixture_store), records(fixture_store, ["lab1"]))
    assert plugin.display.messages == []
    plugin.live_states(str(fixture_store), records(fixture_store, ["vbox1", "aws1"]))
    assert len(plugin.display.messages) == 1 and "not on PATH" in plugin.display.messages[0]


def test_lab_states_come_from_one_listing_per_hosting_engine(make_plugin, fixture_store, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    lab = records(fixture_store, ["lab1", "lab2"])
    lab["lab3"] = {**lab["lab2"], "Driver": {**lab["lab2"]["Driver"], "DockerHost": "tcp://192.0.2.99:2375"}}
    engines = {None: FakeEngine(FakeContainer("lab1", "running"), FakeContainer("other", "exited")),
               "tcp://192.0.2.99:2375": FakeEngine(FakeContainer("lab3", "exited"))}
    plugin = make_plugin()
    plugin.engine_client = engines.__getitem__
    assert plugin.live_states(str(fixture_store), lab) == {"lab1": "Running", "lab2": "NotFound", "lab3": "Stopped"}
    for engine in engines.values():
        assert engine.calls == [{"all": True, "sparse": True, "filters": {"label": "swarmops.lab.machine"}}]


def test_unreachable_engine_warns_once_and_leaves_state_unknown(make_plugin, fixture_store, tmp_path):
    plugin = make_plugin()
    missing = f"unix://{tmp_path}/no.sock"
    lab = {name: {**r, "Driver": {**r["Driver"], "DockerHost": missing}}
           for name, r in records(fixture_store, ["lab1", "lab2"]).items()}
    assert plugin.live_states(str(fixture_store), lab) == {}
    assert len(plugin.display.messages) == 1 and missing in plugin.display.messages[0]
    plugin.populate(lab, {})
    assert members(plugin, "state_unknown") == ["lab1", "lab2"]


# --- through ansible-inventory ------------------------------------------------------------------------


def unwrap(value):
    """ansible-inventory --list writes strings from inventory plugins as {"__ansible_unsafe": ...} (2.19+)."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) and len(value) == 1 else value


def ansible_inventory_command():
    """The ansible-inventory of this interpreter's Ansible: beside it in a venv, else on PATH (ansible-test units
    runs its own interpreter and puts Ansible's commands on PATH)."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    found = beside if os.access(beside, os.X_OK) else shutil.which("ansible-inventory")
    if not found:
        pytest.fail("ansible-inventory is neither beside the Python running the tests nor on PATH")
    return found


def ansible_inventory(tmp_path, config, *args):
    source = tmp_path / "test.docker_machine.yml"
    source.write_text(yaml.safe_dump({"plugin": NAME, "live_state": False, **config}))
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
           "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true", "NO_COLOR": "1"}
    proc = subprocess.run([ansible_inventory_command(), "-i", str(source), *args], capture_output=True, text=True,
                          cwd=REPO, env=env, check=True, timeout=120)
    return proc.stdout, proc.stderr


def test_ansible_inventory_list_has_every_host_group_and_driver_variables(fixture_store, tmp_path):
    out, err = ansible_inventory(tmp_path, {"storage_path": str(fixture_store)}, "--list")
    inventory = json.loads(out, object_hook=lambda d: {k: unwrap(v) for k, v in d.items()})
    assert sorted(inventory["docker_machine"]["hosts"]) == GOOD
    assert sorted(inventory["swarm_managers"]["hosts"]) == ["aws1", "generic1", "vbox1"]
    assert sorted(inventory["state_unknown"]["hosts"]) == GOOD
    assert {g for g in inventory if g.startswith("driver_")} == {
        "driver_amazonec2", "driver_generic", "driver_lab", "driver_none", "driver_virtualbox"}
    hostvars = inventory["_meta"]["hostvars"]
    for name in GOOD:
        assert hostvars[name] == ms.machine_hostvars(ms.read_config(str(fixture_store), name))
    assert hostvars["vbox1"]["ansible_host"] == "127.0.0.1"
    assert "ansible_host" not in hostvars["none1"]
    for bad in ("broken", "nodriver", "unreadable"):
        assert f"{fixture_store}/machines/{bad}/config.json" in " ".join(err.split())


def test_ansible_inventory_graph_shows_the_swarm_groups(fixture_store, tmp_path):
    out, dummy = ansible_inventory(tmp_path, {"storage_path": str(fixture_store), "managers": 1}, "--graph",
                                   "swarm_managers")
    assert out.split() == ["@swarm_managers:", "|--vbox1"]


def test_compose_groups_and_keyed_groups_apply(fixture_store, tmp_path):
    out, dummy = ansible_inventory(tmp_path, {
        "storage_path": str(fixture_store),
        "compose": {"ansible_host": "ansible_host | default(swarm_advertise_addr)"},
        "groups": {"cloud": "machine_driver == 'amazonec2'"},
        "keyed_groups": [{"key": "machine_engine_labels.zone | default('none')", "prefix": "zone"}],
    }, "--list")
    inventory = json.loads(out, object_hook=lambda d: {k: unwrap(v) for k, v in d.items()})
    assert inventory["cloud"]["hosts"] == ["aws1"]
    assert inventory["zone_a"]["hosts"] == ["vbox1"]
    assert inventory["_meta"]["hostvars"]["none1"]["ansible_host"] == "198.51.100.7"


def test_cache_is_used_until_flushed(fixture_store, tmp_path):
    config = {"storage_path": str(fixture_store), "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(tmp_path / "cache")}
    ansible_inventory(tmp_path, config, "--graph", "driver_none")
    (fixture_store / "machines" / "none1" / "config.json").unlink()
    assert "none1" in ansible_inventory(tmp_path, config, "--graph", "driver_none")[0]
    assert "none1" not in ansible_inventory(tmp_path, config, "--graph", "--flush-cache")[0]
