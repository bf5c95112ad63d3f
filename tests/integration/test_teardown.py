"""Runs last: the teardown playbook leaves nothing of the lab behind."""

import os

import docker
import pytest
from labtools import NETWORK

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store


def test_teardown_leaves_nothing_behind(lab, host_engine):
    lab.playbook("teardown.yml")
    label = {"label": f"{lab_lib.LABEL_STORE}={lab.store}"}
    assert host_engine.containers.list(all=True, filters=label) == []
    assert host_engine.volumes.list(filters=label) == []
    with pytest.raises(docker.errors.NotFound):
        host_engine.networks.get(NETWORK)
    assert machine_store.list_machine_names(lab.store) == []
    assert not (os.path.exists(os.path.join(lab.store, "certs")))
