"""The one exception root and the one place that turns errors into fail_json (issue 19)."""

import docker.errors
import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import (
    machine_store,
    mounts,
    resources,
    routing,
    storage,
    vrrp,
)
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerError
from ansible_collections.swarmops.ha.plugins.module_utils.errors import (
    SwarmopsError,
    describe,
    failure_message,
    module_errors,
)
from ansible_collections.swarmops.ha.plugins.modules import gluster_volume


class Failed(Exception):
    pass


class FakeModule:
    """fail_json raises, as AnsibleModule's exits the process; the message is kept for the test."""

    def __init__(self):
        self.failures = []

    def fail_json(self, **result):
        self.failures.append(result)
        raise Failed(result["msg"])


@pytest.mark.parametrize("error_class", [
    DockerError, machine_store.StoreError, storage.StorageError, gluster_volume.GlusterError, mounts.MountError,
    resources.ResourceError, routing.RouteError, vrrp.VipError,
])
def test_every_error_of_the_collection_has_the_one_root(error_class):
    assert issubclass(error_class, SwarmopsError)


def test_mount_and_resource_errors_stay_value_errors_for_the_parsers_that_catch_them():
    assert issubclass(mounts.MountError, ValueError) and issubclass(resources.ResourceError, ValueError)


def engine_error(explanation):
    response = type("Response", (), {"status_code": 409, "reason": "Conflict", "url": "http://engine/x"})()
    return docker.errors.APIError("409 Client Error", response=response, explanation=explanation)


@pytest.mark.parametrize("error, what, message", [
    (SwarmopsError("replicas: -1 is not accepted: 0 or more"), "swarm_service",
     "swarm_service: replicas: -1 is not accepted: 0 or more"),
    (storage.StorageError("driver: 'zfs2' is not a storage driver"), "", "driver: 'zfs2' is not a storage driver"),
    (machine_store.StoreError("/store/machines/n1/config.json: not a docker-machine record"), "machine n1",
     "machine n1: /store/machines/n1/config.json: not a docker-machine record"),
    (engine_error("name conflicts with an existing object"), "swarm_service",
     "swarm_service: Docker engine error: name conflicts with an existing object"),
    (engine_error(b"rpc error: node is not a manager"), "", "Docker engine error: rpc error: node is not a manager"),
    (engine_error("rpc error: code = DeadlineExceeded desc = context deadline exceeded"), "swarm_node",
     "swarm_node: Docker engine error: rpc error: code = DeadlineExceeded desc = context deadline exceeded "
     "(the managers did not commit it in time: the swarm has lost its quorum or is electing a leader)"),
    (engine_error("rpc error: code = Unknown desc = context deadline exceeded"), "",
     "Docker engine error: rpc error: code = Unknown desc = context deadline exceeded "
     "(the managers did not commit it in time: the swarm has lost its quorum or is electing a leader)"),
    (PermissionError(13, "Permission denied", "/etc/docker/daemon.json"), "",
     "[Errno 13] Permission denied: '/etc/docker/daemon.json'"),
])
def test_the_message_is_the_error_as_worded_with_the_module_or_object_in_front(error, what, message):
    assert failure_message(error, what) == message


def test_an_error_that_is_no_one_s_wording_is_not_turned_into_a_message():
    assert failure_message(KeyError("Spec"), "swarm_service") is None


def test_describe_prefers_the_engine_s_explanation_and_never_gives_an_empty_text():
    assert describe(engine_error("no such service")) == "no such service"
    assert describe(docker.errors.DockerException()) == "DockerException"


@pytest.mark.parametrize("error", [
    gluster_volume.GlusterError("bricks: 'x' is not host:/absolute/path"),
    docker.errors.NotFound("404 Client Error: Not Found"),
    FileNotFoundError(2, "No such file or directory", "/srv/x"),
])
def test_module_errors_turns_each_kind_into_one_fail_json(error):
    module = FakeModule()
    with pytest.raises(Failed), module_errors(module, "volume data"):
        raise error
    assert module.failures == [{"msg": failure_message(error, "volume data")}]


def test_module_errors_lets_a_bug_be_a_traceback_and_a_success_pass():
    module = FakeModule()
    with pytest.raises(KeyError), module_errors(module, "swarm_info"):
        raise KeyError("Spec")
    with module_errors(module, "swarm_info"):
        pass
    assert module.failures == []


def test_module_errors_does_not_swallow_the_module_s_own_exit():
    module = FakeModule()
    with pytest.raises(SystemExit), module_errors(module):
        raise SystemExit(0)
    assert module.failures == []
