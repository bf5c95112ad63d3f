"""The routing VIP's holder's machine killed: the VIP moves to another proxy node and comes back once.

The lab's other routing tests run VRRPv2 (authenticated, whole-second adverts); this one runs VRRPv3 with adverts
every 0.3 s, the setting that switches within TCP's first SYN retransmission (1 s) and so meets the 3 s goal: with
VRRPv2 the switch takes about 3 s and a client's connection waits for the retransmission at 3 s.

The preferred holder is the first manager, the lab's leader, so killing its machine moves the swarm's leadership
too; while it is down, site.yml runs as an operator would and only the lost node may fail. This module's name sorts
it after the tests that expect the guide's node1 to lead (test_swarm_formation), after the drills, which leave any
manager leading, and before test_teardown."""

import pytest
from labtools import changed_tasks, recap
from test_service_routing import (
    bring_back,
    client_loop,
    container,
    eventually,
    manager,
    route,
    routed_service,
    vip_holder,
)

SUB_SECOND_VRRP = '{"routing_vrrp_version": 3, "routing_vrrp_advert_interval": 0.3}'


@pytest.fixture
def web(lab):
    """The routed service the client loop asks. Routing it runs the role, which also starts keepalived again on
    machines the drills stopped and started (the lab's init starts only sshd and the engine)."""
    routed_service(lab, "web", 3, host="web.swarmops.test", port="8080", health="/")
    lab.playbook("site.yml", "--tags", "routing", "-e", SUB_SECOND_VRRP)
    yield
    lab.module("swarm_service", {**manager(lab), "name": "web", "state": "absent"})
    route(lab)


@pytest.mark.usefixtures("web")
def test_killing_the_vip_holders_machine_moves_the_vip_within_the_switch_over(lab, host_engine):
    holder = eventually(lambda: vip_holder(lab, host_engine) == lab.names[0] and lab.names[0], timeout=90)

    def kill():
        host_engine.api.kill(container(holder))
        return f"{holder} killed"

    try:
        result = client_loop(lab, "web.swarmops.test", kill, after=12)
        moved_to = vip_holder(lab, host_engine)
        # What an operator runs while the first manager is down (site.yml, the lab's machines play left out, as it
        # would start the machine again): once another manager leads, the run goes through the first manager still
        # up, and only the lost node fails.
        failed, result_wait = lab.module("swarm_wait", {**lab.connection(lab.names[1]),
                                                        "until": {"leader_other_than": holder}, "wait_timeout": 120})
        assert not failed, result_wait
        down = lab.playbook("site.yml", "--skip-tags", "machines", "-e", SUB_SECOND_VRRP,
                            "-e", "node_bootstrap_connect_timeout=5", check=False)
    finally:
        bring_back(lab, host_engine, holder)
    assert moved_to not in (None, holder)
    assert result["longest_failure_s"] < 3, result
    totals = recap(down)
    assert totals[holder]["failed"] == 1, down[-3000:]
    assert {name: totals[name]["failed"] + totals[name]["unreachable"] for name in lab.names if name != holder} == \
        dict.fromkeys(lab.names[1:], 0), (changed_tasks(down), down[-4000:])
    eventually(lambda: vip_holder(lab, host_engine) == holder, timeout=90)  # taken back, once
