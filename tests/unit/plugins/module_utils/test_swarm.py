import itertools

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import swarm
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError


def node(name, role="worker", reach=None, leader=False, state="ready"):
    raw = {"ID": f"id-{name}", "Version": {"Index": 7},
           "Spec": {"Role": role, "Availability": "active", "Labels": {}},
           "Description": {"Hostname": name, "Engine": {"EngineVersion": "20.10.24", "Labels": {}}},
           "Status": {"State": state, "Addr": "192.0.2.1"}}
    if role == "manager":
        raw["ManagerStatus"] = {"Leader": leader, "Reachability": reach or "reachable", "Addr": "192.0.2.1:2377"}
    return swarm.node_facts(raw)


def guide_swarm():
    """The guide after `docker node promote node2 node3`."""
    return [node("node1", "manager", leader=True), node("node2", "manager"), node("node3", "manager"),
            node("node4"), node("node5")]


@pytest.mark.parametrize("managers, need, tolerate", [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2)])
def test_quorum_arithmetic(managers, need, tolerate):
    assert swarm.quorum(managers) == need
    assert swarm.tolerated_failures(managers) == tolerate


def test_node_facts_speak_like_docker_node_ls():
    facts = guide_swarm()
    assert [n["manager_status"] for n in facts] == ["Leader", "Reachable", "Reachable", "", ""]
    assert facts[0]["leader"] is True and facts[3]["role"] == "worker"


def test_quorum_facts_after_leader_loss():
    nodes = guide_swarm()
    nodes[0] = node("node1", "manager", reach="unreachable", state="down")
    nodes[1] = node("node2", "manager", leader=True)
    facts = swarm.quorum_facts(nodes)
    assert facts == {"managers": 3, "reachable": 2, "quorum": 2, "tolerated_failures": 1, "has_quorum": True,
                     "at_risk": True, "leader": "node2"}


def test_quorum_is_not_at_risk_while_a_failure_can_be_tolerated():
    assert swarm.quorum_facts(guide_swarm())["at_risk"] is False
    five = [node(f"node{i}", "manager", leader=i == 1) for i in range(1, 6)]
    five[4] = node("node5", "manager", reach="unreachable", state="down")
    assert swarm.quorum_facts(five)["at_risk"] is False


def test_plan_by_count_promotes_workers_in_name_order():
    nodes = [node("node1", "manager", leader=True)] + [node(f"node{i}") for i in (10, 2, 3, 4)]
    plan = swarm.plan_managers(nodes, count=3)
    assert plan.promote == ["node2", "node3"] and plan.demote == []


def test_plan_is_empty_when_the_managers_are_already_right():
    plan = swarm.plan_managers(guide_swarm(), count=3)
    assert (plan.promote, plan.demote, plan.wanted) == ([], [], ["node1", "node2", "node3"])


def test_plan_five_then_three_demotes_non_leaders_and_keeps_the_leader():
    five = [node("node1", "manager", leader=True)] + [node(f"node{i}", "manager") for i in (2, 3, 4, 5)]
    plan = swarm.plan_managers(five, names=["node1", "node4", "node5"])
    assert plan.demote == ["node2", "node3"] and plan.promote == []


def test_plan_takes_node_ids_as_well_as_hostnames():
    """Roles name nodes by the ID each engine reports, since inventory names need not be hostnames."""
    plan = swarm.plan_managers(guide_swarm(), names=["id-node1", "node2", "id-node4"])
    assert plan.wanted == ["node1", "node2", "node4"]
    assert plan.promote == ["node4"] and plan.demote == ["node3"]


def test_plan_demotes_the_leader_last():
    plan = swarm.plan_managers(guide_swarm(), names=["node4"])
    assert plan.promote == ["node4"] and plan.demote == ["node2", "node3", "node1"]


def test_plan_refuses_even_counts_unless_allowed():
    with pytest.raises(SwarmopsError, match="2 managers .* allow_even"):
        swarm.plan_managers(guide_swarm(), count=2)
    assert swarm.plan_managers(guide_swarm(), count=2, allow_even=True).demote == ["node3"]


def test_plan_refuses_unknown_names_and_impossible_counts():
    with pytest.raises(SwarmopsError, match="managers: node9 not in this swarm"):
        swarm.plan_managers(guide_swarm(), names=["node1", "node9"])
    with pytest.raises(SwarmopsError, match="manager_count: 7 managers asked, but the swarm has 5 nodes"):
        swarm.plan_managers(guide_swarm(), count=7)
    with pytest.raises(SwarmopsError, match="manager_count: 0"):
        swarm.plan_managers(guide_swarm(), count=0)


def test_plan_refuses_demotion_below_quorum_of_reachable_managers():
    nodes = guide_swarm()
    nodes[1] = node("node2", "manager", reach="unreachable", state="down")
    nodes[2] = node("node3", "manager", reach="unreachable", state="down")
    with pytest.raises(SwarmopsError, match="demoting node2 would leave 1 reachable of 2 managers"):
        swarm.plan_managers(nodes, names=["node1"])


def test_plan_by_count_keeps_reachable_managers_over_unreachable_ones():
    nodes = guide_swarm()
    nodes[2] = node("node3", "manager", reach="unreachable", state="down")
    plan = swarm.plan_managers(nodes, count=3)
    assert plan.promote == ["node4"] and plan.demote == ["node3"]


def test_wait_for_returns_the_first_truthy_answer_and_times_out():
    answers = iter([None, 0, "ok"])
    assert swarm.wait_for(lambda: next(answers), 5, "x", interval=0) == "ok"
    with pytest.raises(SwarmopsError, match="timed out after 0s waiting for the leader"):
        swarm.wait_for(lambda: False, 0, "the leader", interval=0)


def test_poll_delays_start_short_and_double_up_to_the_interval():
    assert list(itertools.islice(swarm.poll_delays(0.5), 6)) == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    assert list(itertools.islice(swarm.poll_delays(1), 6)) == [0.1, 0.2, 0.4, 0.8, 1, 1]
    assert list(itertools.islice(swarm.poll_delays(0), 2)) == [0, 0]


@pytest.mark.parametrize("addr, expected", [("192.0.2.1", "192.0.2.1:2377"), ("192.0.2.1:4000", "192.0.2.1:4000")])
def test_normalise_addr(addr, expected):
    assert swarm.normalise_addr(addr) == expected


@pytest.mark.parametrize("value, seconds", [(30, 30), ("30", 30), ("5s", 5), ("1h30m", 5400), ("90d", 7776000)])
def test_parse_duration_to_nanoseconds(value, seconds):
    assert swarm.parse_duration("cert_expiry", value) == seconds * swarm.NANO


@pytest.mark.parametrize("value", ["soon", "5x", "1h 30m", -1, "h"])
def test_parse_duration_names_option_and_value(value):
    with pytest.raises(SwarmopsError, match=f"cert_expiry: {value!r} is not a duration"):
        swarm.parse_duration("cert_expiry", value)


def test_settings_only_manage_what_was_given_and_write_into_a_copy():
    wanted = swarm.wanted_settings({"dispatcher_heartbeat": "2s", "task_history_limit": None, "autolock": False})
    assert wanted == {"dispatcher_heartbeat": 2 * swarm.NANO, "autolock": False}
    spec = {"Dispatcher": {"HeartbeatPeriod": 5 * swarm.NANO}, "Raft": {"SnapshotInterval": 10000}}
    assert swarm.spec_settings(spec, wanted) == {"dispatcher_heartbeat": 5 * swarm.NANO, "autolock": None}
    updated = swarm.apply_settings(spec, wanted)
    assert updated["Dispatcher"]["HeartbeatPeriod"] == 2 * swarm.NANO
    assert updated["EncryptionConfig"] == {"AutoLockManagers": False}
    assert updated["Raft"] == {"SnapshotInterval": 10000}
    assert spec["Dispatcher"]["HeartbeatPeriod"] == 5 * swarm.NANO


SPEC = {"Role": "worker", "Availability": "active", "Labels": {"zone": "a", "disk": "ssd"}}


@pytest.mark.parametrize("kwargs, labels, availability", [
    ({}, {"zone": "a", "disk": "ssd"}, "active"),
    ({"labels": {"zone": "b", "rack": 7}}, {"zone": "b", "disk": "ssd", "rack": "7"}, "active"),
    ({"labels": {"rack": "7"}, "replace_labels": True}, {"rack": "7"}, "active"),
    ({"labels_to_remove": ["disk", "absent"], "availability": "drain"}, {"zone": "a"}, "drain"),
])
def test_wanted_node_spec_merges_replaces_and_removes_labels(kwargs, labels, availability):
    wanted = swarm.wanted_node_spec(SPEC, **kwargs)
    assert (wanted["Labels"], wanted["Availability"], wanted["Role"]) == (labels, availability, "worker")
    assert SPEC["Labels"] == {"zone": "a", "disk": "ssd"}


def test_wanted_node_spec_of_a_node_without_labels():
    assert swarm.wanted_node_spec({"Role": "manager"}) == {"Role": "manager", "Labels": {}, "Availability": "active"}


def inspect_data(autolock):
    return {"JoinTokens": {"Worker": "SWMTKN-w", "Manager": "SWMTKN-m"},
            "Spec": {"EncryptionConfig": {"AutoLockManagers": autolock}}}


def test_requested_secrets_holds_only_what_was_asked():
    reads = []

    def read_key():
        reads.append(1)
        return {"UnlockKey": "SWMKEY-1-k"}

    assert swarm.requested_secrets(inspect_data(True), read_key, False, False) == {}
    assert reads == []
    assert swarm.requested_secrets(inspect_data(True), read_key, True, False) == {
        "join_tokens": {"worker": "SWMTKN-w", "manager": "SWMTKN-m"}}
    assert swarm.requested_secrets(inspect_data(False), read_key, False, True) == {} and reads == []
    both = swarm.requested_secrets(inspect_data(True), read_key, True, True)
    assert both["unlock_key"] == "SWMKEY-1-k"
    assert swarm.secret_values(both) == {"SWMTKN-w", "SWMTKN-m", "SWMKEY-1-k"}


def test_a_refused_unlock_key_is_named_as_the_option_to_fix():
    import docker.errors

    class LockedEngine:
        def unlock_swarm(self, key):
            raise docker.errors.APIError("500 Server Error", explanation="invalid key")

    api = swarm.SwarmAPI(type("Client", (), {"api": LockedEngine()})())
    with pytest.raises(SwarmopsError, match=r"^unlock_key: the engine refused the key \(invalid key\); it is not "):
        api.unlock("SWMKEY-1-wrong")
