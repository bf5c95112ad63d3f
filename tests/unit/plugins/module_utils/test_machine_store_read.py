import json
import re

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as ms

DRIVERS = {"vbox1": "virtualbox", "generic1": "generic", "none1": "none", "aws1": "amazonec2", "lab1": "lab"}


def hostvars(store, name, state="Unknown"):
    return ms.machine_hostvars(ms.read_config(str(store), name), state)


def test_every_machine_folder_is_listed_in_name_order(fixture_store):
    assert ms.list_machine_names(str(fixture_store)) == [
        "aws1", "broken", "generic1", "lab1", "lab2", "nodriver", "none1", "unreadable", "vbox1"]


@pytest.mark.parametrize("name, message", [
    ("broken", "cannot read machine record"),
    ("nodriver", "not a docker-machine record"),
    ("unreadable", "cannot read machine record"),
])
def test_bad_records_raise_store_error_naming_the_file(fixture_store, name, message):
    with pytest.raises(ms.StoreError, match="^" + re.escape(f"{fixture_store}/machines/{name}/config.json: {message}")):
        ms.read_config(str(fixture_store), name)


@pytest.mark.parametrize("name, driver", DRIVERS.items())
def test_fixtures_are_docker_machine_records_of_their_driver(fixture_store, name, driver):
    record = ms.read_config(str(fixture_store), name)
    assert record["ConfigVersion"] == 3 and record["DriverName"] == driver and record["Name"] == name
    assert record["Driver"]["StorePath"] == str(fixture_store)


def test_virtualbox_ssh_goes_through_the_nat_forward_and_the_engine_to_the_host_only_address(fixture_store):
    store = str(fixture_store)
    assert hostvars(fixture_store, "vbox1", "Running") == {
        "ansible_host": "127.0.0.1",
        "ansible_port": 41234,
        "ansible_user": "docker",
        "ansible_ssh_private_key_file": f"{store}/machines/vbox1/id_rsa",
        "docker_host": "tcp://192.0.2.10:2376",
        "docker_tls_verify": True,
        "docker_cert_path": f"{store}/machines/vbox1",
        "ca_path": f"{store}/certs/ca.pem",
        "client_cert": f"{store}/certs/cert.pem",
        "client_key": f"{store}/certs/key.pem",
        "swarm_advertise_addr": "192.0.2.10",
        "machine_driver": "virtualbox",
        "machine_state": "Running",
        "machine_engine_labels": {"swarm.role": "manager", "zone": "a"},
    }


def test_generic_uses_its_address_ssh_port_user_and_engine_port(fixture_store):
    vars_ = hostvars(fixture_store, "generic1")
    assert (vars_["ansible_host"], vars_["ansible_port"], vars_["ansible_user"]) == ("198.51.100.5", 2222, "admin")
    assert vars_["docker_host"] == "tcp://198.51.100.5:2376"
    assert vars_["swarm_advertise_addr"] == "198.51.100.5"


def test_none_has_no_ssh_and_takes_engine_and_address_from_its_url(fixture_store):
    vars_ = hostvars(fixture_store, "none1")
    assert not {k for k in vars_ if k.startswith("ansible_")}
    assert vars_["docker_host"] == "tcp://198.51.100.7:2376"
    assert vars_["swarm_advertise_addr"] == "198.51.100.7"


def test_cloud_machine_is_reached_publicly_and_advertises_its_private_address(fixture_store):
    vars_ = hostvars(fixture_store, "aws1")
    assert (vars_["ansible_host"], vars_["ansible_user"]) == ("198.51.100.20", "ubuntu")
    assert vars_["docker_host"] == "tcp://198.51.100.20:2376"
    assert vars_["swarm_advertise_addr"] == "192.0.2.20"


def test_lab_and_virtualbox_machines_have_the_same_variable_names(fixture_store):
    lab = hostvars(fixture_store, "lab1")
    assert lab.keys() == hostvars(fixture_store, "vbox1").keys()
    assert (lab["ansible_host"], lab["ansible_port"], lab["docker_host"]) == (
        "198.51.100.11", 22, "tcp://198.51.100.11:2376")


def test_lab_config_record_gives_its_engine_port_cert_path_and_labels(tmp_path):
    store = str(tmp_path)
    record = ms.lab_config(store, "n1", {"IPAddress": "198.51.100.30", "EnginePort": 2377}, ["a=b=c", "flag"])
    vars_ = ms.machine_hostvars(json.loads(json.dumps(record)))
    assert vars_["docker_host"] == "tcp://198.51.100.30:2377"
    assert vars_["docker_cert_path"] == f"{store}/machines/n1"
    assert vars_["machine_engine_labels"] == {"a": "b=c", "flag": ""}


def test_a_bare_record_gets_docker_machine_defaults():
    vars_ = ms.machine_hostvars({"Driver": {"IPAddress": "2001:db8::5", "MachineName": "m", "StorePath": "/s"}})
    assert (vars_["ansible_port"], vars_["ansible_user"]) == (22, "root")
    assert vars_["ansible_ssh_private_key_file"] == "/s/machines/m/id_rsa"
    assert vars_["docker_host"] == "tcp://[2001:db8::5]:2376"
    assert (vars_["docker_tls_verify"], vars_["ca_path"]) == (True, "/s/machines/m/ca.pem")
    assert vars_["machine_state"] == "Unknown" and vars_["machine_engine_labels"] == {}


def test_a_machine_without_address_gets_no_address_variables_rather_than_wrong_ones():
    vars_ = ms.machine_hostvars({"DriverName": "generic", "Driver": {"IPAddress": "", "MachineName": "m"},
                                 "HostOptions": {"EngineOptions": {"TlsVerify": False}}})
    assert not {"ansible_host", "docker_host", "swarm_advertise_addr"} & vars_.keys()
    assert vars_["docker_tls_verify"] is False
