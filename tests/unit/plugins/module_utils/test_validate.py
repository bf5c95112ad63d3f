import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import lab, services, swarm, validate
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError


@pytest.mark.parametrize("call, message", [
    (lambda: validate.port("publish[0].published_port", 70000, allow_zero=True),
     "publish[0].published_port: 70000 is not a port number (0: chosen by the swarm) (accepted: 0 to 65535)"),
    (lambda: validate.port("target_port", 0), "target_port: 0 is not a port number (accepted: 1 to 65535)"),
    (lambda: validate.integer("wait_timeout", -1, 0, what="a number of seconds"),
     "wait_timeout: -1 is not a number of seconds (accepted: 0 or more)"),
    (lambda: validate.number("update_config.max_failure_ratio", 1.5, 0, 1, "a share of tasks"),
     "update_config.max_failure_ratio: 1.5 is not a share of tasks (accepted: 0 to 1)"),
    (lambda: validate.object_name("name", "web app", "a service name"), "name: 'web app' is not a service name"),
    (lambda: validate.machine_name("name", "node_1!"), "name: 'node_1!' is not a machine name"),
    (lambda: validate.machine_name("name", "node_1"), "name: 'node_1' is not a machine name"),
    (lambda: validate.address("advertise_addr", "999.1.1.1"),
     "advertise_addr: '999.1.1.1' is not an IP address or a network interface"),
    (lambda: validate.address("listen_addr", "0.0.0.0:70000"), "listen_addr: '0.0.0.0:70000' has no port number"),
    (lambda: validate.address("data_path_addr", "192.0.2.1:4789", with_port=False),
     "data_path_addr: '192.0.2.1:4789' takes no port"),
    (lambda: validate.remote_address("remote_addrs[0]", "node 1:2377"), "remote_addrs[0]: 'node 1:2377' is not"),
    (lambda: validate.network("default_addr_pool[0]", "10.20.0.0/33"), "is not a network in CIDR form"),
    (lambda: validate.size("driver_options.btrfs_disk", "3 GB"), "driver_options.btrfs_disk: '3 GB' is not a size"),
])
def test_bad_values_are_refused_naming_option_value_and_what_is_accepted(call, message):
    with pytest.raises(SwarmopsError) as raised:
        call()
    assert message in str(raised.value)


@pytest.mark.parametrize("value", ["192.0.2.10", "192.0.2.10:2377", "eth0", "eth0:2377", "0.0.0.0:2377", "2001:db8::1",
                                   "[2001:db8::1]:2377", None])
def test_good_addresses_pass(value):
    assert validate.address("advertise_addr", value) == value


@pytest.mark.parametrize("value", ["192.0.2.10", "node1:2377", "manager.example.org:2377", "[2001:db8::1]:2377"])
def test_good_remote_addresses_pass(value):
    assert validate.remote_address("remote_addrs[0]", value) == value


def test_good_values_pass():
    assert validate.port("p", 65535) == 65535 and validate.port("p", 0, allow_zero=True) == 0
    assert validate.machine_name("name", "it-node1.lab") == "it-node1.lab"
    assert validate.object_name("name", "registry-store") == "registry-store"
    assert validate.size("s", "3G") == "3G" and validate.integer("i", None, 0) is None


def service_params(**given):
    return {option: None for option in services.SERVICE_OPTIONS} | {"name": "web", "wait_timeout": 120} | given


@pytest.mark.parametrize("given, message", [
    ({"publish": [{"published_port": 70000, "target_port": 80, "protocol": "tcp", "mode": "ingress"}]},
     "publish[0].published_port: 70000 is not a port number"),
    ({"publish": [{"published_port": 8080, "target_port": 0, "protocol": "tcp", "mode": "ingress"}]},
     "publish[0].target_port: 0 is not a port number"),
    ({"publish": [{"published_port": 80, "target_port": 80, "protocol": "tcp", "mode": "ingress"},
                  {"published_port": 80, "target_port": 81, "protocol": "tcp", "mode": "ingress"}]},
     "publish: port 80/tcp is published twice"),
    ({"name": "web/1"}, "name: 'web/1' is not a service name"),
    ({"constraints": ["node.role=manager"]}, "constraints[0]: 'node.role=manager' is not a constraint"),
    ({"networks": ["bad net"]}, "networks[0]: 'bad net' is not a network name"),
    ({"secrets": [{"name": "db", "uid": "root", "gid": "0", "mode": "0400"}]}, "secrets[0].uid: 'root' is not"),
    ({"restart_policy": {"max_attempts": -1}}, "restart_policy.max_attempts: -1 is not a number of restarts"),
    ({"update_config": {"parallelism": -2}}, "update_config.parallelism: -2 is not a number of tasks"),
    ({"rollback_config": {"max_failure_ratio": 2.0}}, "rollback_config.max_failure_ratio: 2.0 is not a share"),
    ({"healthcheck": {"retries": -1}}, "healthcheck.retries: -1 is not a number of failures"),
    ({"wait_timeout": -5}, "wait_timeout: -5 is not a number of seconds"),
])
def test_service_options_are_checked_before_any_write(given, message):
    with pytest.raises(SwarmopsError) as raised:
        services.wanted_values(service_params(**given))
    assert message in str(raised.value)


def init_params(**given):
    return {"advertise_addr": None, "listen_addr": "0.0.0.0:2377", "data_path_addr": None, "default_addr_pool": None,
            "subnet_size": None, "task_history_limit": None, "snapshot_interval": None, "ca_rotation_timeout": 180,
            "dispatcher_heartbeat": None, "cert_expiry": None, **given}


@pytest.mark.parametrize("given, message", [
    ({"advertise_addr": "999.1.1.1"}, "advertise_addr: '999.1.1.1' is not an IP address or a network interface"),
    ({"default_addr_pool": ["10.20.0.0/16", "10.300.0.0/16"]}, "default_addr_pool[1]: '10.300.0.0/16' is not"),
    ({"subnet_size": 40}, "subnet_size: 40 is not a prefix length for overlay networks (accepted: 1 to 29)"),
    ({"default_addr_pool": ["10.20.0.0/24"], "subnet_size": 16}, "subnet_size: 16 is larger than the pool"),
    ({"task_history_limit": -1}, "task_history_limit: -1 is not a number of tasks"),
    ({"snapshot_interval": 0}, "snapshot_interval: 0 is not a number of raft entries"),
    ({"dispatcher_heartbeat": "0s"}, "dispatcher_heartbeat: '0s' is not accepted: a duration above 0"),
    ({"cert_expiry": "30m"}, "cert_expiry: '30m' is below the swarm's minimum of 1h"),
])
def test_swarm_init_options_are_checked(given, message):
    with pytest.raises(SwarmopsError) as raised:
        swarm.check_init_options(init_params(**given))
    assert message in str(raised.value)


def test_options_an_existing_swarm_ignores_are_named_when_they_differ():
    notes = swarm.creation_only_notes(
        init_params(advertise_addr="192.0.2.99", default_addr_pool=["10.30.0.0/16"], subnet_size=26),
        {"NodeAddr": "192.0.2.10"}, {"DefaultAddrPool": ["10.0.0.0/8"], "SubnetSize": 24})
    assert [note.split(":")[0] for note in notes] == ["advertise_addr", "default_addr_pool", "subnet_size"]
    assert "the swarm keeps 192.0.2.10" in notes[0]
    same = swarm.creation_only_notes(init_params(advertise_addr="192.0.2.10:2377", subnet_size=24),
                                     {"NodeAddr": "192.0.2.10"}, {"SubnetSize": 24})
    assert same == [] and swarm.creation_only_notes(init_params(advertise_addr="eth0"), {"NodeAddr": "x"}, {}) == []


@pytest.mark.parametrize("given, message", [
    ({"remote_addrs": ["192.0.2.10:99999"]}, "remote_addrs[0]: '192.0.2.10:99999' has no port number"),
    ({"remote_addrs": []}, "remote_addrs: empty"),
    ({"join_token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}, "join_token: not a join token"),
    ({"advertise_addr": "10.0.0.300"}, "advertise_addr: '10.0.0.300' is not"),
    ({"wait_timeout": -1}, "wait_timeout: -1 is not a number of seconds"),
])
def test_swarm_join_options_are_checked(given, message):
    params = {"state": "present", "remote_addrs": ["192.0.2.10"], "join_token": "SWMTKN-1-abc123-def456",
              "advertise_addr": None, "listen_addr": "0.0.0.0:2377", "data_path_addr": None, "wait_timeout": 60,
              **given}
    with pytest.raises(SwarmopsError) as raised:
        swarm.check_join_options(params)
    assert message in str(raised.value)
    assert "VALUE_SPECIFIED" not in str(raised.value)


def test_a_check_run_may_join_without_a_token_yet():
    swarm.check_join_options({"state": "present", "remote_addrs": ["192.0.2.10"], "join_token": "none-in-check-mode",
                              "listen_addr": "0.0.0.0:2377"}, check_mode=True)


@pytest.mark.parametrize("given, message", [
    ({"name": "node_1!"}, "name: 'node_1!' is not a machine name"),
    ({"driver_options": {"ip": "10.0.0.999"}}, "driver_options.ip: '10.0.0.999' is not an IPv4 address"),
    ({"driver_options": {"ip": "192.0.2.5"}}, "driver_options.ip: 192.0.2.5 is not a usable host address"),
    ({"driver_options": {"btrfs_disk": "lots"}}, "driver_options.btrfs_disk: 'lots' is not a size"),
    ({"driver_options": {"network": "my net"}}, "driver_options.network: 'my net' is not a network name"),
    ({"driver_options": {"storage_driver": "Overlay 2"}}, "driver_options.storage_driver: 'Overlay 2' is not"),
    ({"wait_timeout": -1}, "wait_timeout: -1 is not a number of seconds"),
])
def test_lab_machine_options_are_checked(given, message):
    params = {"name": "node1", "driver": "lab", "engine_labels": [], "driver_options": {}, "wait_timeout": 90,
              **given}
    with pytest.raises(SwarmopsError) as raised:
        lab.check_machine_params(params)
    assert message in str(raised.value)
