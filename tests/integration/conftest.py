"""A real lab for the integration tests, built once per session and torn down at the end."""

import os

import pytest
from labtools import Lab

from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect


@pytest.fixture(scope="session")
def host_engine():
    return connect({"docker_host": os.environ.get("DOCKER_HOST")})


@pytest.fixture(scope="session")
def lab(tmp_path_factory, request):
    store = str(tmp_path_factory.mktemp("machine-store"))
    the_lab = Lab(store, request.config)
    the_lab.first_run = the_lab.playbook("site.yml", live=True)
    yield the_lab
    the_lab.playbook("teardown.yml", check=False)
