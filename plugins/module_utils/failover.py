# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover drills: each takes part of the swarm away, watches it recover from a manager that stays, brings the
part back, and returns the run (target, marks, waits, notes) that drill_report renders.

A drill looks through `Eyes` (a SwarmWatcher on any manager, the swarm's facts, a change to try) and acts through
`Hands` (machines stopped and started, engines restarted, a file written and read on a node), so the drills are
tested with fakes of both; the real ones reach the machines of a docker-machine store.
"""

from __future__ import annotations

import concurrent.futures
import secrets
import time

from ansible_collections.swarmops.ha.plugins.module_utils import drill as watch_lib
from ansible_collections.swarmops.ha.plugins.module_utils import lab, machines
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerException, connect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, failure_message

DRILLS = ("leader_loss", "worker_loss", "engine_restart", "rolling_restart", "quorum_loss")
DATA_FILE = ".failover-drill"
# The engine gets this long to say why it refuses a change without its quorum.
REFUSAL_TIMEOUT = 30


class DrillFailed(SwarmopsError):
    """A check of the drill that did not hold: the run ends, failed, with this as its last note."""


def swarm_facts(api) -> dict:
    """The nodes (with their running tasks) and the quorum, as swarm_info returns them."""
    nodes = api.nodes()
    swarm_lib.count_running_tasks(nodes, api.tasks(filters={"desired-state": "running"}))
    return {"nodes": nodes, "quorum": swarm_lib.quorum_facts(nodes)}


def plan(drill: str, facts: dict, managers: list[str], target: str | None = None) -> list[str]:
    """The nodes a drill takes away, in order, from the swarm's facts before it; DrillFailed when none can be."""
    quorum = facts["quorum"]
    leader = quorum["leader"]
    if leader is None:
        raise DrillFailed(f"{drill}: the swarm has no leader")
    if drill == "leader_loss":
        chosen = [leader]
    elif drill == "engine_restart":
        chosen = [target or leader]
    elif drill == "rolling_restart":
        chosen = [m for m in managers if m != leader] + [leader]
    elif drill == "quorum_loss":
        chosen = managers[1:][:quorum["tolerated_failures"] + 1]
        if len(chosen) <= quorum["tolerated_failures"]:
            raise DrillFailed(f"quorum_loss: {len(managers)} manager(s) in managers cannot lose the quorum of "
                              f"{quorum['managers']} while the first of them watches")
    else:
        busy = [n for n in facts["nodes"] if not n["leader"] and n["running_tasks"] > 0]
        busy.sort(key=lambda n: (n["role"] != "worker", -n["running_tasks"]))  # a worker when one runs tasks
        if not busy:
            raise DrillFailed("worker_loss: no node but the leader runs a task (deploy the probe service)")
        chosen = [busy[0]["hostname"]]
    spared = [node for node in chosen if node in managers]
    if drill != "quorum_loss" and spared and quorum["tolerated_failures"] < 1:
        raise DrillFailed(f"{drill}: the swarm has {quorum['managers']} manager(s) and tolerates no failure; taking "
                          f"away {spared[0]} would lose the quorum (promote to 3 managers first)")
    return chosen


class Run:
    """One drill with one profile: its clock, its record, the machines it stopped and the manager it watches from."""

    def __init__(self, drill: str, profile: str, managers: list[str], eyes, hands, settings: dict, clock=time.time):
        self.record = {"drill": drill, "profile": profile, "target": "", "passed": False, "notes": [], "marks": [],
                       "waits": []}
        self.managers, self.eyes, self.hands, self.settings, self.clock = managers, eyes, hands, settings, clock
        self.observer = managers[0]
        self.t0: float | None = None
        self.last_mark = 0.0
        self.stopped: list[str] = []

    def elapsed(self) -> float:
        """Seconds since the run's first action, which starts the clock."""
        if self.t0 is None:
            self.t0 = self.clock()
        return round(self.clock() - self.t0, 2)

    def mark(self, event: str) -> float:
        self.last_mark = self.elapsed()
        self.record["marks"].append({"t": self.last_mark, "event": event})
        return self.last_mark

    def note(self, text: str) -> None:
        self.record["notes"].append(text)

    def watch_from(self, node: str) -> None:
        """Watch from the first manager that is not `node` (from `node` when it is the only manager)."""
        self.observer = next((m for m in self.managers if m != node), node)

    def settle(self) -> dict:
        """Give the swarm settle_timeout seconds to be healthy (a node that came back may still start tasks)."""
        watcher = self.eyes.watcher(self.observer, alerts=False)
        return watcher.watch(watch_lib.conditions_from({"healthy": True}), self.clock(),
                             self.settings["settle_timeout"], self.settings["interval"])

    def watch(self, wait_for: str, until: dict, action=None, alert: str | None = None) -> dict:
        """Watch until `until` holds; with `action`, the watch starts first and runs while the action takes a node
        away, so the timeline starts before anything happened. With alerts watched, also wait for `alert`'s
        SwarmNodeDown to fire."""
        self.elapsed()
        if alert and self.settings["alerts_wait"] and self.eyes.alerts:
            until = {**until, "alerts_firing": [{"alertname": "SwarmNodeDown", "node": alert}]}
        watcher = self.eyes.watcher(self.observer)
        conditions = watch_lib.conditions_from(until)
        timeout = self.settings["wait_timeout"]
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            watching = pool.submit(watcher.watch, conditions, self.t0, timeout, self.settings["interval"])
            try:
                if action is not None:
                    action()
            except BaseException:
                watcher.cancelled.set()
                raise
            result = watching.result()
        self.record["waits"].append(result)
        if not result["met"]:
            raise DrillFailed(f"{wait_for}: after {timeout}s still waiting for {', '.join(result['missing'])} "
                              f"({'; '.join(result['problems']) or 'no problem seen'})")
        return result

    def back_after(self, result: dict) -> float:
        """Seconds from the last mark to the last condition the watch saw met."""
        return round(max(result["events"].values()) - self.last_mark, 1)

    def stop(self, node: str) -> None:
        self.stopped.append(node)
        self.hands.stop(node)
        self.note(f"{node} machine off {self.mark(f'{node} machine stopped')}s after the stop was asked")

    def start(self, node: str) -> None:
        self.mark(f"{node} machine start")
        self.hands.start([node])
        self.stopped.remove(node)

    def restore(self) -> None:
        if self.stopped:
            self.hands.start(self.stopped)
            self.stopped = []

    def restart_engine(self, node: str) -> None:
        settled = self.settle()
        if not settled["met"]:
            raise DrillFailed(f"not restarting {node}: {'; '.join(settled['problems'])}")
        manager = node in self.managers
        self.watch_from(node)
        self.mark(f"{node} engine restart")
        self.hands.restart_engine(node)
        result = self.watch(f"{node} back", {"healthy": True,
                                             "nodes": {node: ["ready", "reachable"] if manager else "ready"}})
        if manager:
            self.observer = node
            result = self.watch(f"{node} rejoined the managers",
                                {"leader": True, "nodes": {node: ["ready", "reachable"]}})
        self.note(f"{node} back, with a leader and all services at full strength, {self.back_after(result)}s "
                  f"after its engine restart began (leader now {result['final']['leader']})")


def leader_loss(run: Run, chosen: list[str]) -> None:
    """The guide's master failover test: stop the leader, another manager takes over, start it again."""
    old = chosen[0]
    run.watch_from(old)
    failover = run.watch(f"a new leader, {old} down, all services at full strength",
                         {"leader_other_than": old, "nodes": {old: ["down", "unreachable"]},
                          "services_converged": True}, action=lambda: run.stop(old), alert=old)
    run.start(old)
    back = run.watch(f"{old} back", {"healthy": True, "nodes": {old: ["ready", "reachable"]}})
    events = failover["events"]
    run.note(f"new leader {failover['final']['leader']} after {events[f'new leader (not {old})']}s")
    run.note(f"{old} marked down after {events[f'{old} down']}s")
    run.note(f"all services at full strength after {events['services converged']}s")
    run.note(f"{old} ready, reachable and the swarm healthy {run.back_after(back)}s after its machine was started")


def worker_loss(run: Run, chosen: list[str]) -> None:
    """Lose a node that runs tasks: they run elsewhere, and the distributed volume keeps a file written before."""
    lost = chosen[0]
    run.watch_from(lost)
    data_path, data_nodes = run.settings["data_path"], [h for h in run.settings["data_hosts"] if h != lost]
    written = None
    if data_path and data_nodes:
        token = secrets.token_hex(12)
        # A new file each run, so no client can answer from what it read of an earlier run's file.
        data_file = f"{data_path}/{DATA_FILE}-{token}"
        written = token if run.hands.write(data_nodes[0], data_file, token) else None
    failover = run.watch(f"{lost} down, its tasks running elsewhere",
                         {"nodes": {lost: "down"}, "services_converged": True}, action=lambda: run.stop(lost),
                         alert=lost)
    read = run.hands.take(data_nodes[-1], data_file).strip() if written is not None else None
    if read != written:
        raise DrillFailed(f"{data_file} read on {data_nodes[-1]} differs from what was written on {data_nodes[0]} "
                          f"({read[:40]!r}, not {written!r})")
    run.start(lost)
    back = run.watch(f"{lost} back", {"healthy": True, "nodes": {lost: "ready"}})
    run.note(f"{lost} marked down after {failover['events'][f'{lost} down']}s")
    run.note(f"its tasks running elsewhere, all services at full strength, after "
             f"{failover['events']['services converged']}s")
    run.note(f"the distributed volume kept a file written on {data_nodes[0]}, read back on {data_nodes[-1]}"
             if written is not None else "no distributed volume checked")
    run.note(f"{lost} ready and the swarm healthy {run.back_after(back)}s after its machine was started")


def engine_restarts(run: Run, chosen: list[str]) -> None:
    """Restart engines one at a time (a rolling restart puts the leader last), never below the quorum."""
    for node in chosen:
        run.restart_engine(node)


def quorum_loss(run: Run, chosen: list[str]) -> None:
    """Stop a majority of the managers: the swarm refuses changes, and comes back whole when they return."""
    run.observer = run.managers[0]
    lost = run.watch("the quorum lost", {"leader": False}, action=lambda: [run.stop(node) for node in chosen])
    refusal = run.eyes.refusal(run.observer)
    if refusal is None:
        raise DrillFailed(f"a swarm without its quorum accepted a change to node {run.observer}")
    for node in chosen:
        run.start(node)
    back = run.watch("the quorum back", {"healthy": True, "nodes": {node: ["ready", "reachable"] for node in chosen}})
    run.note(f"no leader after {lost['events']['no leader']}s")
    run.note(f"the change was refused: {refusal}")
    run.note(f"leader {back['final']['leader']} and every manager back {run.back_after(back)}s after the last "
             f"machine was started")


STEPS = {"leader_loss": leader_loss, "worker_loss": worker_loss, "engine_restart": engine_restarts,
         "rolling_restart": engine_restarts, "quorum_loss": quorum_loss}


def run_drill(drill: str, profile: str, managers: list[str], eyes, hands, settings: dict,
              check_mode: bool = False, clock=time.time) -> dict:
    """One drill run, start to end; the machines it stopped are started again whatever happens. A drill that does
    not start (an unhealthy swarm) or fails midway returns its run, not passed, the reason its last note."""
    run = Run(drill, profile, managers, eyes, hands, settings, clock)
    try:
        settled = run.settle()
        if not settled["met"]:
            raise DrillFailed(f"the swarm is not healthy, drill not started: {'; '.join(settled['problems'])}")
        chosen = plan(drill, eyes.facts(run.observer), managers, settings.get("target"))
        run.record["target"] = ", ".join(chosen)
        if check_mode:
            run.note(f"check mode: {run.record['target']} would be taken away")
        else:
            STEPS[drill](run, chosen)
        run.record["passed"] = True
    except (SwarmopsError, DockerException, OSError) as exc:
        run.note(f"failed: {failure_message(exc)}")
    finally:
        run.restore()
    return run.record


class StoreEyes:
    """Looks at the swarm from the managers of a docker-machine store, over TLS as `docker-machine env` does."""

    def __init__(self, store: str, request_timeout: float, alerts: dict | None = None):
        self.store, self.request_timeout, self.alerts = store, request_timeout, alerts

    def api(self, node: str, timeout: float | None = None):
        params = lab.engine_params(machines.record(self.store, node))
        return swarm_lib.SwarmAPI(connect({**params, "timeout": timeout or self.request_timeout}))

    def watcher(self, node: str, alerts: bool = True) -> watch_lib.SwarmWatcher:
        return watch_lib.watcher_of(self.api(node), self.alerts if alerts else None)

    def facts(self, node: str) -> dict:
        return swarm_facts(self.api(node))

    def refusal(self, node: str) -> str | None:
        """Why the swarm refuses to label `node` (None when it accepts): how a swarm without its quorum answers."""
        api = self.api(node, REFUSAL_TIMEOUT)
        try:
            found = api.node(node)
            api.update_node(found, swarm_lib.wanted_node_spec(found["Spec"], labels={"failover-drill": "quorum-loss"}))
        except (DockerException, OSError, SwarmopsError) as exc:
            return failure_message(exc)
        return None


class StoreHands:
    """Acts on the machines of a docker-machine store: stops and starts them with their driver, and runs commands
    on them over SSH with sudo, as `docker-machine ssh` does."""

    def __init__(self, store: str, engine_service: str):
        self.store, self.engine_service = store, engine_service

    def stop(self, node: str) -> None:
        machines.set_state(self.store, [node], "stopped")

    def start(self, nodes: list[str]) -> None:
        machines.set_state(self.store, nodes, "started")

    def restart_engine(self, node: str) -> None:
        machines.ssh(self.store, node, ["sudo", "-n", "service", self.engine_service, "restart"])

    def write(self, node: str, path: str, content: str) -> bool:
        """Write `content` to the file; False when the node has no folder for it."""
        script = '[ -d "${1%/*}" ] || exit 0; cat > "$1" && echo written'
        return machines.ssh(self.store, node, ["sudo", "-n", "sh", "-c", script, "sh", path], stdin=content + "\n"
                            ).strip() == "written"

    def take(self, node: str, path: str) -> str:
        """The file's content, read on the node; the file is removed."""
        script = 'trap \'rm -f "$1"\' EXIT; cat "$1"'
        return machines.ssh(self.store, node, ["sudo", "-n", "sh", "-c", script, "sh", path])
