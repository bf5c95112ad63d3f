"""The three cases of issue 18 at the module's edge: refused, naming the option, before any engine call or write."""

import pytest
from module_harness import ModuleExit, ModuleFail, on_engine, patch_exits, run_main
from test_swarm_init import FakeAPI

from ansible_collections.swarmops.ha.plugins.modules import lab_image, machine, swarm_init, swarm_join, swarm_service


@pytest.fixture
def no_engine(monkeypatch):
    """connect() that fails the test: the options must be refused before any engine is reached."""
    calls = []

    def connect(params):
        calls.append(params)
        raise AssertionError("the engine was reached before the options were checked")

    for module in (swarm_service, swarm_init, swarm_join):
        patch_exits(monkeypatch, module.AnsibleModule)
        monkeypatch.setattr(module, "connect", connect)
    return calls


def test_a_published_port_of_70000_never_reaches_the_swarm(no_engine):
    outcome = run_main(swarm_service.main, {"name": "web", "image": "nginx",
                                            "publish": [{"published_port": 70000, "target_port": 80}]})
    assert isinstance(outcome, ModuleFail)
    assert "publish[0].published_port: 70000 is not a port number" in outcome.args[0]["msg"]
    assert no_engine == []


def test_an_invalid_advertise_addr_is_refused(no_engine):
    outcome = run_main(swarm_init.main, {"advertise_addr": "999.1.1.1"})
    assert isinstance(outcome, ModuleFail)
    assert "advertise_addr: '999.1.1.1' is not an IP address or a network interface" in outcome.args[0]["msg"]


def test_a_masked_join_token_is_refused_without_showing_it(no_engine):
    outcome = run_main(swarm_join.main, {"remote_addrs": ["192.0.2.10"],
                                         "join_token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"})
    assert isinstance(outcome, ModuleFail) and "join_token: not a join token" in outcome.args[0]["msg"]


def test_advertise_addr_on_an_existing_swarm_is_named_when_it_differs(monkeypatch):
    api = on_engine(monkeypatch, swarm_init, FakeAPI())
    outcome = run_main(swarm_init.main, {"advertise_addr": "192.0.2.99"})
    result, dummy, warnings = outcome.args
    assert isinstance(outcome, ModuleExit) and result["changed"] is False and api.writes == []
    assert any(w.startswith("advertise_addr: '192.0.2.99' is not this manager's address (192.0.2.10)")
               for w in warnings)


def test_an_invalid_machine_name_leaves_no_store_record(tmp_path, monkeypatch):
    patch_exits(monkeypatch, machine.AnsibleModule)
    outcome = run_main(machine.main, {"name": "node_1!", "storage_path": str(tmp_path),
                                      "driver_options": {"docker_host": "unix:///nonexistent.sock"}})
    assert isinstance(outcome, ModuleFail)
    assert "name: 'node_1!' is not a machine name" in outcome.args[0]["msg"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    ({"images": [{"name": "a:1", "recipe": "app"}, {"name": "b:1"}]}, "images[1].recipe: required to build b:1"),
    ({"name": "b:1"}, "recipe: required to build b:1 (source: build); accepted: alertmanager, app,"),
])
def test_lab_image_without_a_recipe_to_build_is_refused_before_the_engine(monkeypatch, args, message):
    patch_exits(monkeypatch, lab_image.AnsibleModule)
    monkeypatch.setattr(lab_image, "connect", lambda params: pytest.fail("the engine was reached"))
    outcome = run_main(lab_image.main, args)
    assert isinstance(outcome, ModuleFail)
    assert message in outcome.args[0]["msg"]
