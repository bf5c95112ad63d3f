import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import drill
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError


def node(name, state="ready", role="worker", reach=None, leader=False):
    manager = {"Reachability": reach, "Leader": leader} if role == "manager" else None
    return {"ID": f"id-{name}", "Description": {"Hostname": name}, "Status": {"State": state},
            "Spec": {"Role": role}, "ManagerStatus": manager}


def service(name, replicas=None):
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    return {"ID": f"svc-{name}", "Spec": {"Name": name, "Mode": mode}}


def task(svc, host, state="running", desired="running"):
    return {"ServiceID": f"svc-{svc}", "NodeID": f"id-{host}", "Status": {"State": state}, "DesiredState": desired}


SWARM = [node("n1", role="manager", reach="reachable", leader=True), node("n2", role="manager", reach="reachable"),
         node("n3", role="manager", reach="reachable"), node("n4"), node("n5")]


def look(nodes=None, services=(), tasks=()):
    return drill.snapshot(list(SWARM if nodes is None else nodes), list(services), list(tasks))


def test_snapshot_counts_only_tasks_on_ready_nodes_as_running():
    nodes = SWARM[:3] + [node("n4", state="down"), node("n5")]
    snap = look(nodes, [service("web", 2), service("agent")],
                [task("web", "n4"), task("web", "n5"), task("agent", "n4"), task("agent", "n5"),
                 task("agent", "n1", state="starting"), task("web", "n1", state="shutdown", desired="shutdown")])
    assert snap["leader"] == "n1"
    assert snap["services"] == {"web": {"desired": 2, "running": 1},
                                "agent": {"desired": 2, "running": 1}}  # global: wanted on n1 and n5, ready nodes
    assert not drill.converged(snap)
    assert drill.converged(snap, services=[])


def test_problems_name_each_unhealthy_part_and_are_empty_for_a_healthy_swarm():
    assert drill.problems(look(services=[service("web", 1)], tasks=[task("web", "n4")])) == []
    sick = [node("n1", role="manager", reach="reachable"), node("n2", role="manager", reach="unreachable"),
            node("n3", state="down")]
    assert drill.problems(look(sick, [service("web", 2)], [task("web", "n1")])) == [
        "the swarm has no leader", "manager n2 is unreachable", "n3 is down", "service web runs 1 of 2 tasks"]
    assert drill.problems(drill.unavailable("no leader")) == ["the manager answers: no leader"]


@pytest.mark.parametrize("until, names", [
    ({"leader": True}, ["leader elected"]),
    ({"leader": False}, ["no leader"]),
    ({"leader_other_than": "n1", "nodes": {"n1": ["down", "unreachable"]}},
     ["new leader (not n1)", "n1 down", "n1 unreachable"]),
    ({"nodes": {"n4": "ready"}, "services_converged": True}, ["n4 ready", "services converged"]),
    ({"healthy": True, "nodes": {"n4": "ready"}}, ["n4 ready", "healthy"]),
])
def test_conditions_are_named_for_the_report(until, names):
    assert [c["name"] for c in drill.conditions_from(until)] == names


@pytest.mark.parametrize("until, message", [
    ({"nodes": {"n1": "gone"}}, "until.nodes.n1: 'gone' is not a node state (accepted: ready, down"),
    ({"leadr": True}, "until: leadr not understood"),
    ({}, "until: nothing to wait for"),
])
def test_bad_conditions_say_what_is_accepted(until, message):
    with pytest.raises(SwarmopsError, match=message.replace("(", r"\(")):
        drill.conditions_from(until)


def test_met_reads_leader_status_and_reachability():
    after = look([node("n1", state="down", role="manager", reach="unreachable"),
                  node("n2", role="manager", reach="reachable", leader=True)])
    conditions = {c["name"]: c for c in drill.conditions_from(
        {"leader_other_than": "n1", "nodes": {"n1": ["down", "unreachable"], "n2": "leader", "n9": "ready"}})}
    assert {name: drill.met(c, after) for name, c in conditions.items()} == {
        "new leader (not n1)": True, "n1 down": True, "n1 unreachable": True, "n2 leader": True, "n9 ready": False}
    healthy = drill.conditions_from({"healthy": True})[0]
    assert not drill.met(healthy, after) and drill.met(healthy, look())
    no_answer = drill.unavailable("The swarm does not have a leader")
    assert not drill.met(conditions["new leader (not n1)"], no_answer)
    assert drill.met(drill.conditions_from({"leader": False})[0], no_answer)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_watcher_times_each_condition_and_records_changes_and_leaderless_time():
    clock = FakeClock()
    looks = iter([
        look(),
        ConnectionError("The swarm does not have a leader"),
        look([node("n1", state="ready", role="manager", reach="unreachable"),
              node("n2", role="manager", reach="reachable", leader=True)]),
        look([node("n1", state="down", role="manager", reach="unreachable"),
              node("n2", role="manager", reach="reachable", leader=True)]),
    ])

    def read():
        item = next(looks)
        if isinstance(item, Exception):
            raise item
        return item

    watcher = drill.SwarmWatcher(read, clock=clock.time, sleep=clock.sleep)
    result = watcher.watch(drill.conditions_from({"leader_other_than": "n1", "nodes": {"n1": "down"}}),
                           since=990.0, timeout=60, interval=1.0)
    assert result["met"] and result["missing"] == []
    assert result["events"] == {"new leader (not n1)": 12.0, "n1 down": 13.0}
    assert result["leaderless_seconds"] == 1.0
    changes = [(e["t"], e["subject"], e["event"]) for e in result["timeline"]]
    assert (11.0, "swarm", "manager says: The swarm does not have a leader") in changes
    assert (12.0, "swarm", "leader n2") in changes
    assert (13.0, "n1", "down") in changes


def test_watcher_gives_up_at_the_timeout_and_says_what_is_missing():
    clock = FakeClock()
    watcher = drill.SwarmWatcher(look, clock=clock.time, sleep=clock.sleep)
    result = watcher.watch(drill.conditions_from({"nodes": {"n4": "down"}}), since=clock.now, timeout=5,
                           interval=1.0)
    assert not result["met"]
    assert result["missing"] == ["n4 down"]
    assert result["elapsed"] == 5.0


def test_convergence_counts_only_once_the_lost_node_is_marked_down():
    clock = FakeClock()
    running = [service("web", 2)], [task("web", "n4"), task("web", "n5")]
    looks = iter([
        look(SWARM, *running),  # n4 is gone but not yet marked: its task still looks running
        look(SWARM[:3] + [node("n4", state="down"), node("n5")], *running),
        look(SWARM[:3] + [node("n4", state="down"), node("n5")], [service("web", 2)],
             [task("web", "n4"), task("web", "n5"), task("web", "n1")]),
    ])
    watcher = drill.SwarmWatcher(lambda: next(looks), clock=clock.time, sleep=clock.sleep)
    result = watcher.watch(drill.conditions_from({"nodes": {"n4": "down"}, "services_converged": True}),
                           since=clock.now, timeout=60, interval=1.0)
    assert result["events"] == {"n4 down": 1.0, "services converged": 2.0}
    assert result["short_seconds"] == 1.0


def am_alert(name, starts="2026-12-04T10:00:30.123456789Z", **labels):
    """One alert as Alertmanager's /api/v2/alerts lists it."""
    return {"labels": {"alertname": name, "severity": "critical", **labels}, "startsAt": starts,
            "status": {"state": "active"}}


@pytest.mark.parametrize("stamp, seconds", [
    ("2026-12-04T10:00:30Z", 1796378430.0),
    ("2026-12-04T10:00:30.5Z", 1796378430.5),
    ("2026-12-04T11:00:30.5+01:00", 1796378430.5),
])
def test_alertmanager_times_are_read_on_any_python(stamp, seconds):
    assert drill.epoch(stamp) == seconds


def test_an_alert_is_named_by_what_it_is_about_and_suppressed_ones_are_left_out():
    answer = [am_alert("SwarmNodeDown", node="n4", instance="198.51.100.4:9323"),
              am_alert("SwarmQuorumAtRisk"),
              {**am_alert("DiskNearlyFull", node="n1"), "status": {"state": "suppressed"}}]
    assert sorted(drill.firing_alerts(answer)) == ["SwarmNodeDown node=n4", "SwarmQuorumAtRisk"]
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        drill.firing_alerts([am_alert("X", starts="yesterday")])


def test_alert_conditions_match_labels_and_resolved_counts_only_alerts_of_the_run():
    since = drill.epoch("2026-12-04T10:00:00Z")
    firing = drill.conditions_from({"alerts_firing": [{"alertname": "SwarmNodeDown", "node": "n4"}]})[0]
    resolved = drill.conditions_from({"alerts_resolved": True})[0]
    assert firing["name"] == "alert SwarmNodeDown node=n4 firing"
    old = am_alert("CertificateExpiresSoon", starts="2026-12-01T00:00:00Z", node="n1")
    snap = {**look(), "alerts": drill.firing_alerts([am_alert("SwarmNodeDown", node="n4"), old])}
    assert drill.met(firing, snap, since) and not drill.met(resolved, snap, since)
    snap = {**look(), "alerts": drill.firing_alerts([am_alert("SwarmNodeDown", node="n5"), old])}
    assert not drill.met(firing, snap, since)
    assert drill.met(resolved, {**look(), "alerts": drill.firing_alerts([old])}, since)
    assert not drill.met(resolved, look(), since)  # no answer from Alertmanager is no proof
    this_one = drill.conditions_from({"alerts_resolved": [{"alertname": "SwarmNodeDown", "node": "n4"}]})[0]
    others = {**look(), "alerts": drill.firing_alerts([am_alert("ScrapeTargetDown", node="n2")])}
    assert this_one["name"] == "alert SwarmNodeDown node=n4 resolved"
    assert drill.met(this_one, others, since) and not drill.met(resolved, others, since)
    with pytest.raises(SwarmopsError, match=r"until.alerts_firing\[0\]: .* with an alertname"):
        drill.conditions_from({"alerts_firing": [{"node": "n4"}]})


def test_watcher_records_alerts_firing_and_resolving_and_holds_them_through_an_answer_that_lacks_them():
    clock = FakeClock()
    since = clock.now
    node_down = am_alert("SwarmNodeDown", starts="1970-01-01T00:16:41Z", node="n4")
    # One Alertmanager behind the proxy lacks it (restarted), then no answer at all, then gone from every answer.
    answers = iter([[], [node_down], [], [node_down], OSError("refused"), [], []])

    def alerts():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    watcher = drill.SwarmWatcher(look, clock=clock.time, sleep=clock.sleep, read_alerts=alerts, alerts_hold=1.5)
    until = {"alerts_firing": [{"alertname": "SwarmNodeDown"}],
             "alerts_resolved": [{"alertname": "SwarmNodeDown", "node": "n4"}]}
    result = watcher.watch(drill.conditions_from(until), since=since, timeout=60, interval=1.0)
    assert result["met"] and result["alerts_answered"]
    assert result["events"] == {"alert SwarmNodeDown firing": 1.0, "alert SwarmNodeDown node=n4 resolved": 5.0}
    alert_changes = [(e["t"], e["event"]) for e in result["timeline"] if e["subject"] == "alert SwarmNodeDown node=n4"]
    assert alert_changes == [(1.0, "firing"), (3.0, "resolved")]  # resolved when it was last listed
