"""swarm_secret and swarm_config on the lab: versions, rotation under a running service, nothing leaked."""

import json

import pytest
from labtools import recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib

PLAY = """
- hosts: {first}
  gather_facts: false
  module_defaults:
    group/swarmops.ha.docker:
      docker_host: "{{{{ docker_host }}}}"
      validate_certs: true
      ca_path: "{{{{ ca_path }}}}"
      client_cert: "{{{{ client_cert }}}}"
      client_key: "{{{{ client_key }}}}"
  tasks:
    - swarmops.ha.swarm_secret:
        name: it_password
        data: "{{{{ password }}}}"
      delegate_to: localhost
    - swarmops.ha.swarm_config:
        name: it_settings
        data: "level={{{{ level }}}}"
      delegate_to: localhost
    - swarmops.ha.swarm_service:
        name: secret-reader
        image: swarmops/lab-app:1
        command: [sleep, "86400"]
        stop_signal: SIGKILL
        replicas: 2
        update_config: {{order: start-first, parallelism: 1}}
        secrets: [{{name: it_password}}]
        configs: [{{name: it_settings, target: /settings.ini}}]
      delegate_to: localhost
"""


@pytest.fixture(scope="module")
def play(lab, tmp_path_factory):
    path = tmp_path_factory.mktemp("secrets") / "secrets.yml"
    path.write_text(PLAY.format(first=lab.names[0]))

    def run(password, level):
        values = json.dumps({"password": password, "level": level})
        return lab.run("ansible-playbook", str(path), "-e", values, "-vvv", "--diff")
    yield run
    for name, module in (("secret-reader", "swarm_service"), ("it_password", "swarm_secret"),
                         ("it_settings", "swarm_config")):
        lab.module(module, {**manager(lab), "name": name, "state": "absent"})


def manager(lab):
    return lab_lib.engine_params(lab.record(lab.names[0]))


def files_in_tasks(lab):
    """What each running task of secret-reader reads in its secret and config files."""
    client = lab.engine(lab.names[0])
    hosts = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
    seen = set()
    for task in client.api.tasks(filters={"service": "secret-reader", "desired-state": "running"}):
        api = lab.engine(hosts[task["NodeID"]]).api
        exec_id = api.exec_create(task["Status"]["ContainerStatus"]["ContainerID"],
                                  ["cat", "/run/secrets/it_password", "/settings.ini"])["Id"]
        seen.add(api.exec_start(exec_id).decode())
    return seen


def names(lab, kind):
    return sorted(x["Spec"]["Name"] for x in getattr(lab.engine(lab.names[0]).api, kind)()
                  if x["Spec"]["Name"].startswith("it_"))


def test_a_secret_is_made_kept_and_rotated_under_its_service_without_leaking(lab, play):
    first = play("first-Pa55word", "debug")
    assert recap(first)[lab.names[0]]["changed"] == 3
    assert files_in_tasks(lab) == {"first-Pa55wordlevel=debug"}
    assert (names(lab, "secrets"), names(lab, "configs")) == (["it_password.v1"], ["it_settings.v1"])

    assert recap(play("first-Pa55word", "debug"))[lab.names[0]]["changed"] == 0

    rotated = play("second-Pa55word", "info")
    assert recap(rotated)[lab.names[0]]["changed"] == 2  # the secret and the config; the service moved with them
    assert files_in_tasks(lab) == {"second-Pa55wordlevel=info"}
    assert (names(lab, "secrets"), names(lab, "configs")) == (["it_password.v2"], ["it_settings.v2"])
    assert recap(play("second-Pa55word", "info"))[lab.names[0]]["changed"] == 0
    for output in (first, rotated):
        assert "Pa55word" not in output


def test_bad_input_is_refused_naming_the_option_and_changes_nothing(lab, play):
    play("third-Pa55word", "warn")
    before = names(lab, "secrets")
    failed, result = lab.module("swarm_secret", {**manager(lab), "name": "it_password.v9", "data": "x"})
    assert failed and "name: 'it_password.v9' is not accepted" in result["msg"]
    failed, result = lab.module("swarm_secret", {**manager(lab), "name": "it_password", "state": "absent"})
    assert failed and result["msg"].endswith("state: absent, but secret it_password is used by secret-reader")
    assert names(lab, "secrets") == before and len(before) == 1
