"""Failover drills on the second lab: playbooks/drill.yml takes real machines and engines away and measures the
recovery. The second lab (pytest-xdist group OTHER_LABS) lets them run beside the shared lab's tests."""

import json
import xml.etree.ElementTree as ET

import pytest
from labtools import OTHER_LABS, leaked, recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib

pytestmark = pytest.mark.xdist_group(OTHER_LABS)


@pytest.fixture(scope="module")
def lab(second_lab):
    return second_lab


def drill(lab, report, *extra, check=True):
    return lab.playbook("drill.yml", "-e", f"failover_drill_report_dir={report}", *extra, live=True, check=check)


def drills(names, **more):
    return ["-e", json.dumps({"failover_drill_drills": names, **more})]


def observer(lab):
    return lab_lib.engine_params(lab.record(lab.names[0]))


def healthy_again(lab, timeout=120):
    failed, result = lab.module("swarm_wait", {**observer(lab), "until": {"healthy": True}, "wait_timeout": timeout})
    assert not failed, result
    return result


def machine_states(lab, host_engine):
    return {name: lab_lib.container_state(lab_lib.find_container(host_engine, name)) for name in lab.names}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return tmp_path_factory.mktemp("drill-report")


@pytest.fixture(scope="module")
def loss_drills(lab, report):
    """leader_loss with the tuned heartbeat, worker_loss with the engine's and the tuned one, in one run."""
    profiles = [{"name": "default", "dispatcher_heartbeat": "5s", "drills": ["worker_loss"]},
                {"name": "tuned", "dispatcher_heartbeat": "1s"}]
    out = drill(lab, report / "loss", *drills(["leader_loss", "worker_loss"], failover_drill_profiles=profiles),
                "-vvv")
    return out, json.loads((report / "loss" / "drill.json").read_text())


def events(run):
    merged = {}
    for wait in run["waits"]:
        merged.update(wait["events"])
    return merged


def test_leader_loss_elects_a_new_leader_and_the_old_one_rejoins(loss_drills):
    data = loss_drills[1]
    runs = [r for r in data["runs"] if r["drill"] == "leader_loss"]
    assert [r["profile"] for r in runs] == ["tuned"]
    for run in runs:
        assert run["passed"], run["notes"]
        found = events(run)
        old = run["target"]
        assert found[f"new leader (not {old})"] <= found[f"{old} down"] <= found["services converged"]
        assert run["waits"][0]["final"]["leader"] not in (None, old)
        assert run["waits"][-1]["final"]["nodes"][old] == {
            "role": "manager", "status": "ready", "reachability": "reachable", "leader": False}


def test_worker_loss_moves_its_tasks_and_keeps_the_distributed_volume(lab, loss_drills):
    data = loss_drills[1]
    runs = [r for r in data["runs"] if r["drill"] == "worker_loss"]
    assert [r["profile"] for r in runs] == ["default", "tuned"]
    for run in runs:
        assert run["passed"], run["notes"]
        assert run["target"].startswith(lab.prefix)
        found = events(run)
        assert found[f"{run['target']} down"] <= found["services converged"]
        assert any(note.startswith("the distributed volume kept a file") for note in run["notes"])
        probe = run["waits"][0]["final"]["services"]["drill-probe"]
        assert probe == {"desired": 5, "running": 5}  # five tasks on four nodes while the target was down


def test_each_lost_node_fires_its_node_down_alert_before_it_is_brought_back(loss_drills, report):
    """The monitoring role's Alertmanager, read by the drill through the routing proxy: the alerts in the report."""
    data = loss_drills[1]
    readme = (report / "loss" / "README.md").read_text()
    for run, row in zip(data["runs"], data["summary"], strict=True):
        name = f"SwarmNodeDown node={run['target']}"
        spans = [span for span in row["alerts"] if span["alert"] == name]
        assert spans, (run["drill"], run["profile"], row["alerts"])
        found = events(run)
        assert 0 < spans[0]["fired"] == found[f"alert {name} firing"]
        print(f"{run['drill']} ({run['profile']}): {name} fired {spans[0]['fired']}s, "
              f"resolved {spans[-1]['resolved']}s after the machine stopped")
        svg = ET.parse(report / "loss" / f"{run['drill'].replace('_', '-')}-{run['profile']}.svg").getroot()
        assert name in [text.text for text in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert readme.count("SwarmNodeDown node=") >= 3


def test_the_drill_at_vvv_shows_no_join_token_or_unlock_key(lab, loss_drills):
    out = loss_drills[0]
    values = lab.swarm_secrets()
    assert not leaked(out, values), "swarm secrets in drill.yml -vvv output"


def test_the_tuned_heartbeat_marks_a_lost_node_down_sooner(loss_drills):
    data = loss_drills[1]
    down = {(r["drill"], r["profile"]): events(r)[f"{r['target']} down"] for r in data["runs"]}
    assert down[("worker_loss", "tuned")] < down[("worker_loss", "default")]


def test_the_report_has_a_table_a_picture_per_run_and_the_play_a_summary(loss_drills, report):
    out, data = loss_drills
    readme = (report / "loss" / "README.md").read_text()
    assert readme.count("| passed |") == 3
    for run in data["runs"]:
        svg = ET.parse(report / "loss" / f"{run['drill'].replace('_', '-')}-{run['profile']}.svg").getroot()
        assert svg.tag.endswith("svg") and len(list(svg.iter("{http://www.w3.org/2000/svg}rect"))) >= 5
    assert "leader_loss (tuned" in out and "worker_loss (default" in out


def test_the_drills_leave_every_machine_running_and_the_swarm_as_it_was(lab, host_engine, loss_drills):
    assert set(machine_states(lab, host_engine).values()) == {"Running"}
    healthy_again(lab)
    swarm = lab.engine(lab.names[0]).api.inspect_swarm()
    assert swarm["Spec"]["Dispatcher"]["HeartbeatPeriod"] == 5 * 10**9
    assert not [s for s in lab.engine(lab.names[0]).api.services() if s["Spec"]["Name"] == "drill-probe"]


def test_engine_restarts_one_manager_at_a_time_keep_the_quorum(lab, report):
    drill(lab, report / "restart", *drills(["engine_restart", "rolling_restart"],
                                           failover_drill_profiles=[{"name": "tuned", "dispatcher_heartbeat": "1s"}]))
    data = json.loads((report / "restart" / "drill.json").read_text())
    assert [r["passed"] for r in data["runs"]] == [True, True], [r["notes"] for r in data["runs"]]
    rolling = data["runs"][1]
    restarted = [m["event"].split()[0] for m in rolling["marks"]]
    assert sorted(restarted) == lab.names[:3]
    assert restarted[-1] == rolling["target"].split(", ")[-1]  # the leader last
    assert all(w["met"] for w in rolling["waits"])


def test_quorum_loss_is_refused_unless_asked_and_recovers_when_asked(lab, host_engine, report):
    refused = drill(lab, report / "refused", *drills(["quorum_loss"]), check=False)
    # A profile's own drills are held to the same rule.
    in_profile = drill(lab, report / "refused-profile", *drills(
        ["leader_loss"], failover_drill_profiles=[{"name": "default", "drills": ["quorum_loss"]}]), check=False)
    for out in (refused, in_profile):
        assert "set failover_drill_quorum_loss: true to allow it" in out
        assert recap(out)["localhost"]["failed"] == 1
    assert set(machine_states(lab, host_engine).values()) == {"Running"}

    drill(lab, report / "quorum", *drills(["quorum_loss"], failover_drill_quorum_loss=True,
                                          failover_drill_profiles=[{"name": "default"}]))
    run = json.loads((report / "quorum" / "drill.json").read_text())["runs"][0]
    assert run["passed"], run["notes"]
    assert "no leader" in events(run)
    refusal = next(note for note in run["notes"] if note.startswith("the change was refused"))
    assert "leader" in refusal or "quorum" in refusal, refusal
    healthy_again(lab)


def test_a_drill_that_fails_midway_still_starts_every_machine_it_stopped(lab, host_engine, report):
    out = drill(lab, report / "failed", *drills(["leader_loss"], failover_drill_wait_timeout=2,
                                                failover_drill_profiles=[{"name": "default"}]), check=False)
    assert recap(out)["localhost"]["failed"] == 1
    run = json.loads((report / "failed" / "drill.json").read_text())["runs"][0]
    assert not run["passed"] and any("still waiting for" in note for note in run["notes"])
    assert any(m["event"].endswith("machine stopped") for m in run["marks"])
    assert "| FAILED |" in (report / "failed" / "README.md").read_text()
    assert set(machine_states(lab, host_engine).values()) == {"Running"}
    healthy_again(lab)


def test_the_drills_refuse_a_swarm_that_is_not_healthy(lab, report):
    stuck = {**observer(lab), "name": "drill-stuck", "image": "swarmops/lab-app:1", "command": ["sleep", "600"],
             "constraints": ["node.labels.nowhere==true"], "wait": False}
    failed, result = lab.module("swarm_service", stuck)
    assert not failed, result
    try:
        before = lab.engine(lab.names[0]).api.nodes()
        out = drill(lab, report / "unhealthy", *drills(["leader_loss"], failover_drill_settle_timeout=2), check=False)
        assert "the swarm is not healthy, no drill started: service drill-stuck runs 0 of 1 tasks" in out
        assert [n["Status"]["State"] for n in lab.engine(lab.names[0]).api.nodes()] == \
            [n["Status"]["State"] for n in before]
        assert "Stop the machine" not in out
    finally:
        lab.module("swarm_service", {**observer(lab), "name": "drill-stuck", "state": "absent"})
