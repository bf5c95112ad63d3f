"""failover_drill and its drills (module_utils/failover.py) against a swarm simulated in memory: the fake hands
change it, a real SwarmWatcher watches it."""

import re
import threading

import pytest
from module_harness import ModuleExit, ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.module_utils import drill, failover
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import sorted_node_facts
from ansible_collections.swarmops.ha.plugins.modules import failover_drill

SETTINGS = {"wait_timeout": 5, "settle_timeout": 1, "interval": 0.01, "alerts_wait": True, "target": None,
            "data_path": "/mnt/swarmops", "data_hosts": ["n1", "n2", "n3"]}
MANAGERS = ["n1", "n2", "n3"]


class FakeSwarm:
    """Three managers, two workers and a probe of five replicas spread over the Ready nodes in order; the leader is
    the first Ready manager while a majority of managers is Ready."""

    def __init__(self, managers=tuple(MANAGERS), workers=("n4", "n5"), replicas=5):
        self.managers, self.names = list(managers), list(managers) + list(workers)
        self.ready = set(self.names)
        self.leader = self.managers[0]
        self.replicas = replicas
        self.lock = threading.Lock()

    def set_ready(self, node, ready):
        with self.lock:
            (self.ready.add if ready else self.ready.discard)(node)
            up = [m for m in self.managers if m in self.ready]
            if len(up) <= len(self.managers) // 2:
                self.leader = None
            elif self.leader not in up:
                self.leader = up[0]

    def raw_nodes(self):
        return [{"ID": f"id-{n}", "Description": {"Hostname": n},
                 "Status": {"State": "ready" if n in self.ready else "down"},
                 "Spec": {"Role": "manager" if n in self.managers else "worker"},
                 "ManagerStatus": {"Reachability": "reachable" if n in self.ready else "unreachable",
                                   "Leader": n == self.leader} if n in self.managers else None}
                for n in self.names]

    def services(self):
        return [{"ID": "svc-probe", "Spec": {"Name": "probe", "Mode": {"Replicated": {"Replicas": self.replicas}}}}]

    def tasks(self, filters=None):
        # The busiest node is n4: workers first, then managers but the leader.
        ready = [n for n in ["n4", "n5", "n2", "n3", "n1"] if n in self.ready]
        return [{"ServiceID": "svc-probe", "NodeID": f"id-{ready[i % len(ready)]}", "DesiredState": "running",
                 "Status": {"State": "running"}} for i in range(self.replicas)]

    def nodes(self):
        return sorted_node_facts(self.raw_nodes())

    def look(self):
        with self.lock:
            if self.leader is None:
                raise OSError("The swarm does not have a leader.")
            return drill.snapshot(self.raw_nodes(), self.services(), self.tasks())


class FakeEyes:
    alerts = None

    def __init__(self, swarm):
        self.swarm, self.watched_from = swarm, []

    def watcher(self, node, alerts=True):
        self.watched_from.append(node)
        return drill.SwarmWatcher(self.swarm.look)

    def facts(self, node):
        return failover.swarm_facts(self.swarm)

    def refusal(self, node):
        return "The swarm does not have a leader." if self.swarm.leader is None else None


class FakeHands:
    def __init__(self, swarm, fail_on=None):
        self.swarm, self.calls, self.files, self.fail_on = swarm, [], {}, fail_on

    def stop(self, node):
        self.calls.append(("stop", node))
        if node == self.fail_on:
            raise SwarmopsError(f"machine {node}: the stop failed")
        self.swarm.set_ready(node, False)

    def start(self, nodes):
        self.calls.append(("start", tuple(nodes)))
        for node in nodes:
            self.swarm.set_ready(node, True)

    def restart_engine(self, node):
        self.calls.append(("restart", node))

    def write(self, node, path, content):
        self.calls.append(("write", node))
        self.files[path] = content
        return True

    def take(self, node, path):
        self.calls.append(("read", node))
        return self.files.pop(path) + "\n"


def drill_on(swarm, name, hands=None, check_mode=False, **settings):
    hands = hands or FakeHands(swarm)
    eyes = FakeEyes(swarm)
    run = failover.run_drill(name, "tuned", MANAGERS, eyes, hands, {**SETTINGS, **settings}, check_mode)
    return run, hands, eyes


def events(run):
    return {name: t for wait in run["waits"] for name, t in wait["events"].items()}


def test_plan_takes_the_leader_the_busiest_worker_or_the_managers_leader_last():
    facts = failover.swarm_facts(FakeSwarm())
    assert failover.plan("leader_loss", facts, MANAGERS) == ["n1"]
    assert failover.plan("worker_loss", facts, MANAGERS) == ["n4"]
    assert failover.plan("engine_restart", facts, MANAGERS) == ["n1"]
    assert failover.plan("engine_restart", facts, MANAGERS, target="n5") == ["n5"]
    assert failover.plan("rolling_restart", facts, MANAGERS) == ["n2", "n3", "n1"]
    assert failover.plan("quorum_loss", facts, MANAGERS) == ["n2", "n3"]


def test_plan_refuses_to_lose_the_quorum_or_a_node_that_runs_nothing():
    lone = failover.swarm_facts(FakeSwarm(managers=["n1"], workers=["n2"], replicas=0))
    with pytest.raises(failover.DrillFailed, match="tolerates no failure; taking away n1 would lose the quorum"):
        failover.plan("leader_loss", lone, ["n1"])
    with pytest.raises(failover.DrillFailed, match="no node but the leader runs a task"):
        failover.plan("worker_loss", lone, ["n1"])
    with pytest.raises(failover.DrillFailed, match="quorum_loss: 1 manager"):
        failover.plan("quorum_loss", lone, ["n1"])


def test_leader_loss_stops_the_leader_while_watching_from_another_manager_and_starts_it_again():
    swarm = FakeSwarm()
    run, hands, eyes = drill_on(swarm, "leader_loss")
    assert run["passed"], run["notes"]
    assert (run["drill"], run["profile"], run["target"]) == ("leader_loss", "tuned", "n1")
    assert hands.calls == [("stop", "n1"), ("start", ("n1",))]
    assert [m["event"] for m in run["marks"]] == ["n1 machine stopped", "n1 machine start"]
    assert eyes.watched_from[-2:] == ["n2", "n2"]
    found = events(run)
    assert found["new leader (not n1)"] <= found["services converged"]
    assert run["waits"][0]["final"]["leader"] == "n2"
    assert run["notes"][1].startswith("new leader n2 after ")
    assert swarm.ready == set(swarm.names)


def test_worker_loss_moves_the_tasks_and_reads_back_the_file_on_another_data_node():
    swarm = FakeSwarm()
    run, hands = drill_on(swarm, "worker_loss")[:2]
    assert run["passed"], run["notes"]
    assert run["target"] == "n4"
    assert hands.calls == [("write", "n1"), ("stop", "n4"), ("read", "n3"), ("start", ("n4",))]
    assert "the distributed volume kept a file written on n1, read back on n3" in run["notes"]
    assert run["waits"][0]["final"]["services"]["probe"] == {"desired": 5, "running": 5}


def test_worker_loss_fails_when_the_file_read_back_differs():
    swarm = FakeSwarm()
    hands = FakeHands(swarm)
    hands.take = lambda node, path: "something else\n"
    run = drill_on(swarm, "worker_loss", hands=hands)[0]
    assert not run["passed"]
    assert re.fullmatch(r"failed: /mnt/swarmops/\.failover-drill-[0-9a-f]{24} read on n3 differs from what was written "
                        r"on n1 \('something else', not '[0-9a-f]{24}'\)", run["notes"][-1])
    assert swarm.ready == set(swarm.names)


def test_rolling_restart_restarts_each_manager_the_leader_last_and_watches_it_rejoin():
    run, hands = drill_on(FakeSwarm(), "rolling_restart")[:2]
    assert run["passed"], run["notes"]
    assert hands.calls == [("restart", "n2"), ("restart", "n3"), ("restart", "n1")]
    assert [m["event"] for m in run["marks"]] == ["n2 engine restart", "n3 engine restart", "n1 engine restart"]
    assert len(run["waits"]) == 6 and all(w["met"] for w in run["waits"])


def test_quorum_loss_stops_a_majority_sees_the_change_refused_and_brings_them_back():
    swarm = FakeSwarm()
    run, hands = drill_on(swarm, "quorum_loss")[:2]
    assert run["passed"], run["notes"]
    assert hands.calls == [("stop", "n2"), ("stop", "n3"), ("start", ("n2",)), ("start", ("n3",))]
    assert "no leader" in events(run)
    assert "the change was refused: The swarm does not have a leader." in run["notes"]
    assert swarm.leader == "n1"


def test_a_drill_that_times_out_midway_fails_and_starts_what_it_stopped():
    swarm = FakeSwarm()
    swarm.set_ready = lambda node, ready, real=swarm.set_ready: real(node, ready) if ready else None  # never noticed
    run, hands = drill_on(swarm, "leader_loss", wait_timeout=0)[:2]
    assert not run["passed"]
    assert "still waiting for new leader (not n1), n1 down, n1 unreachable, services converged" in run["notes"][-1]
    assert hands.calls == [("stop", "n1"), ("start", ("n1",))]


def test_an_action_that_fails_ends_the_watch_at_once_and_the_run_with_its_reason():
    swarm = FakeSwarm()
    run, hands = drill_on(swarm, "leader_loss", hands=FakeHands(swarm, fail_on="n1"), wait_timeout=60)[:2]
    assert not run["passed"]
    assert run["notes"] == ["failed: machine n1: the stop failed"]
    assert run["waits"] == []
    assert hands.calls == [("stop", "n1"), ("start", ("n1",))]  # a stop that failed may still have stopped it


def test_an_unhealthy_swarm_starts_no_drill():
    swarm = FakeSwarm()
    swarm.ready.discard("n5")
    run, hands = drill_on(swarm, "leader_loss")[:2]
    assert not run["passed"] and hands.calls == []
    assert run["notes"] == ["failed: the swarm is not healthy, drill not started: n5 is down"]


def test_check_mode_names_the_target_and_takes_nothing_away():
    run, hands = drill_on(FakeSwarm(), "worker_loss", check_mode=True)[:2]
    assert run["passed"] and run["target"] == "n4" and hands.calls == []
    assert run["notes"] == ["check mode: n4 would be taken away"]


# The module's main(): the run in its result, a failed drill fails the task with it, bad options before anything.

def run_module(monkeypatch, args, swarm=None):
    swarm = swarm or FakeSwarm()
    patch_exits(monkeypatch, failover_drill.AnsibleModule)
    monkeypatch.setattr(failover, "StoreEyes", lambda store, timeout, alerts: FakeEyes(swarm))
    monkeypatch.setattr(failover, "StoreHands", lambda store, service: FakeHands(swarm))
    return run_main(failover_drill.main, {"managers": MANAGERS, "interval": 0.05, "settle_timeout": 1, **args})


def test_the_module_returns_the_run_and_fails_with_it_when_the_drill_failed(monkeypatch):
    done = run_module(monkeypatch, {"drill": "leader_loss", "profile": "default"})
    assert isinstance(done, ModuleExit), done.args[0]
    result = done.args[0]
    assert result["changed"] is True
    assert result["run"]["passed"] and result["run"]["target"] == "n1"

    sick = FakeSwarm()
    sick.ready.discard("n4")
    outcome = run_module(monkeypatch, {"drill": "worker_loss"}, sick)
    assert isinstance(outcome, ModuleFail)
    failed = outcome.args[0]
    assert failed["msg"] == "worker_loss (default): failed: the swarm is not healthy, drill not started: n4 is down"
    assert failed["run"]["passed"] is False


@pytest.mark.parametrize("args, message", [
    ({"drill": "leader_loss", "managers": ["n1", "n1"]},
     "managers: ['n1', 'n1'] must name each manager once, and at least one"),
    ({"drill": "leader_loss", "interval": 0}, "interval: 0.0 is not a number of seconds (accepted: 0.05 or more)"),
    ({"drill": "leader_loss", "wait_timeout": -1}, "wait_timeout: -1 is not a number of seconds (accepted: 0 or more)"),
])
def test_the_module_refuses_bad_options_before_any_machine_is_touched(monkeypatch, args, message):
    swarm = FakeSwarm()
    outcome = run_module(monkeypatch, args, swarm)
    assert isinstance(outcome, ModuleFail) and outcome.args[0]["msg"] == f"failover_drill: {message}"
    assert "run" not in outcome.args[0]


# The store's hands: commands over SSH as `docker-machine ssh` runs them (a stand-in ssh on PATH, never connected).

@pytest.fixture
def fake_ssh(tmp_path, monkeypatch):
    """An ssh that records its arguments and stdin, answers `written` to the drill's write, and fails on `cat`."""
    calls, fake = tmp_path / "ssh-calls", tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
printf '%s\\n' "$@" >> {calls}
cat >> {calls}
case "$*" in
  *trap*) echo "cat: no such file" >&2; exit 1 ;;
  *"sh -c"*) echo written ;;
esac
""")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    return calls


def test_store_hands_run_each_command_over_ssh_with_the_machines_key_user_and_address(fixture_store, fake_ssh):
    hands = failover.StoreHands(str(fixture_store), "docker")
    hands.restart_engine("lab1")
    assert hands.write("lab1", "/mnt/swarmops/.failover-drill-1", "token") is True
    argv = fake_ssh.read_text().splitlines()
    assert argv[argv.index("-i") + 1] == f"{fixture_store}/machines/lab1/id_rsa"
    assert argv[argv.index("-p") + 1] == "22"
    assert argv.count("docker@198.51.100.11") == 2
    assert "sudo -n service docker restart" in argv
    assert "token" in argv  # the content went to stdin, not the command line
    assert not any("token" in arg and arg != "token" for arg in argv)
    with pytest.raises(SwarmopsError, match=r"machine lab1: sudo -n sh -c .* /mnt/swarmops/.failover-drill-1 failed "
                                            r"\(exit 1\): cat: no such file"):
        hands.take("lab1", "/mnt/swarmops/.failover-drill-1")
    with pytest.raises(SwarmopsError, match="machine ghost is not in the store"):
        hands.restart_engine("ghost")
