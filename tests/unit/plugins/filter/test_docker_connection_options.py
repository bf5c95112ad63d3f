"""The docker_connection_options filter: a host's connection options from the variables its inventory sets."""

import pytest

from ansible_collections.swarmops.ha.plugins.filter.docker_connection_options import FilterModule

options = FilterModule().filters()["docker_connection_options"]

MACHINE = {"docker_host": "tcp://192.0.2.12:2376", "docker_tls_verify": "1", "ca_path": "/store/node2/ca.pem",
           "client_cert": "/store/node2/cert.pem", "client_key": "/store/node2/key.pem", "swarm_advertise_addr": "x"}


def test_a_docker_machine_host_gets_its_engine_and_tls_paths_and_nothing_else():
    assert options(MACHINE) == {"docker_host": "tcp://192.0.2.12:2376", "validate_certs": True,
                                "ca_path": "/store/node2/ca.pem", "client_cert": "/store/node2/cert.pem",
                                "client_key": "/store/node2/key.pem"}


@pytest.mark.parametrize("host_vars", [{}, {"docker_host": ""}, {"ansible_host": "192.0.2.20"}])
def test_a_server_without_docker_host_gets_the_local_socket_and_no_tls(host_vars):
    assert options(host_vars) == {"docker_host": "unix:///var/run/docker.sock", "validate_certs": False}


@pytest.mark.parametrize("verify, expected", [(True, True), ("yes", True), ("0", False), (False, False)])
def test_docker_tls_verify_is_read_as_ansible_reads_a_boolean(verify, expected):
    assert options({"docker_tls_verify": verify})["validate_certs"] is expected
