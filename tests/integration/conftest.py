"""A real lab for the integration tests, built once per session and torn down at the end."""

import os

import pytest
from labtools import SECOND_LAB_VARS, new_lab

from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (--dist loadgroup), every test of the shared lab runs in one worker, in order; the modules
    on the other labs (the servers', the second lab) are group OTHER_LABS and run beside it."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group("lab"))


@pytest.fixture(scope="session")
def host_engine():
    return connect({"docker_host": os.environ.get("DOCKER_HOST")})


@pytest.fixture(scope="session")
def lab(tmp_path_factory, request, host_engine):
    with new_lab(str(tmp_path_factory.mktemp("machine-store")), request.config, host_engine) as the_lab:
        the_lab.playbook("site.yml", "--tags", "machines", live=True)
        # What --check does on fresh machines is recorded before the real run changes them.
        the_lab.check_run = the_lab.playbook("site.yml", "--check", live=True)
        the_lab.after_check = {name: the_lab.engine(name).info()["Swarm"]["LocalNodeState"]
                               for name in the_lab.names}
        the_lab.profiles_after_check = the_lab.run("ansible", "docker_machine", "-m", "ansible.builtin.command",
                                                   "-a", "grep -c docker-compose .profile", check=False)
        # At -vvv, so the tests can show it holds no secret (module arguments and results are all printed).
        the_lab.first_run = the_lab.playbook("site.yml", "-vvv", live=True)
        the_lab.secrets_after_first_run = the_lab.swarm_secrets()
        yield the_lab


@pytest.fixture(scope="session")
def second_lab(tmp_path_factory, request, host_engine):
    """The second lab's modules (in pytest-xdist group OTHER_LABS, after the servers' module) take it as their lab."""
    with new_lab(str(tmp_path_factory.mktemp("second-store")), request.config, host_engine, SECOND_LAB_VARS) as the_lab:
        the_lab.playbook("site.yml", live=True)
        yield the_lab
