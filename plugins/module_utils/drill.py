# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failover drill watches and concludes: swarm snapshots, conditions, changes, alerts, health and quorum.

Everything here is pure (Engine API dicts in, plain data out) except SwarmWatcher, which polls one manager
through an injected client and a clock, so the whole module is tested without Docker. The report made from
the runs (Markdown, SVG, JSON) is in report.py.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time

from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerException
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, describe
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import natural_key

NODE_WORDS = ("ready", "down", "unknown", "disconnected")
# The label that says what an alert is about, in order of preference, for its name in a timeline.
ALERT_SUBJECT_LABELS = ("node", "service", "proxy", "instance")
MANAGER_WORDS = ("reachable", "unreachable", "leader")
# The `alerts` option of swarm_wait and failover_drill (documented by the swarmops.ha.alerts fragment).
ALERTS_SPEC = dict(type="dict", options=dict(
    urls=dict(type="list", elements="str", required=True),
    host=dict(type="str"),
    user=dict(type="str"),
    password=dict(type="str", no_log=True),
    request_timeout=dict(type="float", default=2),
    hold=dict(type="float", default=5),
))


def snapshot(nodes: list[dict], services: list[dict], tasks: list[dict]) -> dict:
    """One look at the swarm from the raw node, service and task lists of a manager.

    A task counts as running when the swarm wants it running, it runs, and its node is Ready: the tasks of a
    node that went Down still say `running` until the node comes back. A global service wants a task on every
    Ready node the orchestrator placed one on.
    """
    node_view, ready = {}, set()
    leader = None
    for node in nodes:
        name = node.get("Description", {}).get("Hostname") or node["ID"]
        status = node.get("Status", {}).get("State", "unknown")
        manager = node.get("ManagerStatus") or {}
        node_view[name] = {
            "role": node.get("Spec", {}).get("Role", "worker"),
            "status": status,
            "reachability": manager.get("Reachability"),
            "leader": bool(manager.get("Leader")),
        }
        if manager.get("Leader"):
            leader = name
        if status == "ready":
            ready.add(node["ID"])
    wanted = [t for t in tasks if t.get("DesiredState") == "running"]
    service_view = {}
    for service in services:
        sid, mode = service["ID"], service["Spec"].get("Mode", {})
        mine = [t for t in wanted if t.get("ServiceID") == sid]
        running = sum(t.get("Status", {}).get("State") == "running" and t.get("NodeID") in ready for t in mine)
        if "Replicated" in mode:
            desired = (mode["Replicated"] or {}).get("Replicas", 1)
        else:
            desired = sum(t.get("NodeID") in ready for t in mine)
        service_view[service["Spec"]["Name"]] = {"desired": desired, "running": running}
    return {"leader": leader, "nodes": node_view, "services": service_view, "error": None}


def unavailable(error: str) -> dict:
    """The snapshot of a manager that answered with an error: no leader seen, nothing else known."""
    return {"leader": None, "nodes": {}, "services": {}, "error": error}


def converged(snap: dict, services: list[str] | None = None) -> bool:
    view = snap["services"]
    names = view if services is None else services
    return snap["error"] is None and all(n in view and view[n]["running"] >= view[n]["desired"] for n in names)


def conditions_from(until: dict) -> list[dict]:
    """The `until` option of swarm_wait as a list of named conditions; SwarmopsError names a bad entry."""
    conditions = []
    if until.get("leader") is not None:
        conditions.append({"name": "leader elected", "kind": "leader"} if until["leader"] else
                          {"name": "no leader", "kind": "no_leader"})
    if until.get("leader_other_than"):
        old = until["leader_other_than"]
        conditions.append({"name": f"new leader (not {old})", "kind": "leader_other_than", "node": old})
    for node, words in (until.get("nodes") or {}).items():
        for word in [words] if isinstance(words, str) else words:
            if word not in NODE_WORDS + MANAGER_WORDS:
                raise SwarmopsError(f"until.nodes.{node}: {word!r} is not a node state (accepted: "
                                    f"{', '.join(NODE_WORDS + MANAGER_WORDS)})")
            conditions.append({"name": f"{node} {word}", "kind": "node", "node": node, "word": word})
    if until.get("healthy"):
        conditions.append({"name": "healthy", "kind": "healthy"})
    if until.get("services_converged"):
        names = until.get("services")
        conditions.append({"name": "services converged", "kind": "converged", "services": names})
    resolved = until.get("alerts_resolved")
    if resolved is True:
        conditions.append({"name": "alerts resolved", "kind": "alerts_resolved", "labels": None})
    for key, kind, word in (("alerts_firing", "alert", "firing"), ("alerts_resolved", "alerts_resolved", "resolved")):
        label_sets = until.get(key)
        for i, labels in enumerate([] if label_sets is None or isinstance(label_sets, bool) else label_sets):
            if not isinstance(labels, dict) or not labels.get("alertname"):
                raise SwarmopsError(f"until.{key}[{i}]: {labels!r} is not a dict of labels with an alertname")
            conditions.append({"name": f"alert {alert_key(labels)} {word}", "kind": kind, "labels": labels})
    accepted = ("leader", "leader_other_than", "nodes", "healthy", "services_converged", "services",
                "alerts_firing", "alerts_resolved")
    unknown = set(until) - set(accepted)
    if unknown:
        raise SwarmopsError(f"until: {', '.join(sorted(unknown))} not understood (accepted: {', '.join(accepted)})")
    if not conditions:
        raise SwarmopsError("until: nothing to wait for (give leader, leader_other_than, nodes, healthy, "
                            "services_converged, alerts_firing or alerts_resolved)")
    return conditions


def met(condition: dict, snap: dict, since: float = 0.0) -> bool:
    """Whether the snapshot meets the condition; `alerts_resolved` counts only alerts active since `since` (those with
    the condition's labels, or all of them)."""
    kind = condition["kind"]
    if kind == "leader":
        return snap["leader"] is not None
    if kind == "no_leader":
        return snap["leader"] is None
    if kind == "leader_other_than":
        return snap["leader"] not in (None, condition["node"])
    if kind == "converged":
        return converged(snap, condition["services"])
    if kind == "healthy":
        return not problems(snap)
    if kind == "alert":
        return any(matches(alert, condition["labels"]) for alert in snap.get("alerts", {}).values())
    if kind == "alerts_resolved":
        wanted = condition["labels"] or {}
        return "alerts" in snap and not any(alert["since"] >= since and matches(alert, wanted)
                                            for alert in snap["alerts"].values())
    node = snap["nodes"].get(condition["node"])
    if node is None:
        return False
    word = condition["word"]
    if word == "leader":
        return node["leader"]
    if word in MANAGER_WORDS:
        return node["reachability"] == word
    return node["status"] == word


def changes(before: dict | None, after: dict) -> list[tuple[str, str]]:
    """(subject, what) for everything that differs between two snapshots; all of `after` when there is no before."""
    before = before or {"leader": False, "nodes": {}, "services": {}, "error": None}
    found = []
    if after["error"] != before["error"]:
        found.append(("swarm", f"manager says: {after['error']}" if after["error"] else "manager answers"))
    if not after["error"]:
        if after["leader"] != before["leader"]:
            found.append(("swarm", f"leader {after['leader']}" if after["leader"] else "no leader"))
        for name in sorted(after["nodes"], key=natural_key):
            now, then = after["nodes"][name], before["nodes"].get(name, {})
            if now["status"] != then.get("status"):
                found.append((name, now["status"]))
            if now["reachability"] and now["reachability"] != then.get("reachability"):
                found.append((name, now["reachability"]))
        for name in sorted(after["services"]):
            now, then = after["services"][name], before["services"].get(name)
            if now != then:
                found.append((f"service {name}", f"{now['running']}/{now['desired']} running"))
    if "alerts" in after:
        fired, gone = set(after["alerts"]), set(before.get("alerts", {}))
        found += [(f"alert {key}", "firing") for key in sorted(fired - gone)]
        found += [(f"alert {key}", "resolved") for key in sorted(gone - fired)]
    return found


def alert_key(labels: dict) -> str:
    """An alert's name in a timeline: `SwarmNodeDown node=node4`."""
    about = next((f"{name}={labels[name]}" for name in ALERT_SUBJECT_LABELS if labels.get(name)), "")
    return f"{labels.get('alertname', 'unnamed')} {about}".strip()


def epoch(stamp: str) -> float:
    """Seconds since the epoch of an RFC 3339 time as Alertmanager writes it (Python 3.9 reads no `Z` nor ns)."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", stamp)
    if not match:
        raise ValueError(f"{stamp!r} is not an RFC 3339 time")
    whole, fraction, zone = match.groups()
    offset = datetime.timezone.utc if zone == "Z" else datetime.datetime.strptime(zone.replace(":", ""), "%z").tzinfo
    moment = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=offset)
    return moment.timestamp() + float(fraction or 0)


def matches(alert: dict, labels: dict) -> bool:
    return all(alert["labels"].get(name) == value for name, value in labels.items())


def firing_alerts(answer: list[dict]) -> dict:
    """{alert key: {labels, since}} of the active alerts in Alertmanager's /api/v2/alerts answer."""
    return {alert_key(a["labels"]): {"labels": a["labels"], "since": epoch(a["startsAt"])}
            for a in answer if a.get("status", {}).get("state", "active") == "active"}


# Conditions on the whole swarm count only once the others hold: they tell when the swarm recovered from what the
# others describe (a lost node's tasks still look running until the node is marked Down).
AFTER_THE_REST = ("converged", "healthy", "alerts_resolved")


class SwarmWatcher:
    """Polls one manager until every condition was met once, recording when each was and every change seen."""

    def __init__(self, read, clock=time.time, sleep=time.sleep, read_alerts=None, alerts_hold=5.0):
        self.read, self.clock, self.sleep, self.read_alerts = read, clock, sleep, read_alerts
        self.alerts_hold, self.alerts_seen, self.alerts_answered = alerts_hold, {}, False
        self.cancelled = threading.Event()  # set from another thread: the next look is the last

    def look(self) -> dict:
        try:
            snap = self.read()
        except (DockerException, OSError) as exc:  # no leader, no quorum, no answer: observations, not failures
            snap = unavailable(describe(exc))
        if self.read_alerts:
            now = self.clock()
            try:
                for key, alert in firing_alerts(self.read_alerts()).items():
                    self.alerts_seen[key] = {**alert, "seen": now}
                self.alerts_answered = True
            except (OSError, ValueError, KeyError, TypeError):
                pass  # Alertmanager's route may be on the node the drill took away: keep what was last seen
            # The proxy asks the Alertmanagers in turn, and one that restarted lists nothing until Prometheus sends
            # again: an alert is gone once no answer listed it for alerts_hold seconds.
            self.alerts_seen = {k: a for k, a in self.alerts_seen.items() if now - a["seen"] <= self.alerts_hold}
            if self.alerts_answered:
                snap["alerts"] = dict(self.alerts_seen)
        return snap

    def watch(self, conditions: list[dict], since: float, timeout: float, interval: float) -> dict:
        events, timeline, previous = {}, [], None
        leaderless = short = 0.0
        last = None
        deadline = self.clock() + timeout
        while True:
            snap = self.look()
            now = self.clock()
            at = round(now - since, 2)
            if last is not None:
                if previous["leader"] is None:
                    leaderless += now - last
                if not converged(previous):
                    short += now - last
            for subject, what in changes(previous, snap):
                when = at
                if subject.startswith("alert ") and what == "resolved":  # when it was last listed
                    when = round(previous["alerts"][subject[len("alert "):]]["seen"] - since, 2)
                timeline.append({"t": when, "subject": subject, "event": what})
            for condition in conditions:
                rest_met = all(c["name"] in events for c in conditions if c["kind"] not in AFTER_THE_REST)
                if condition["kind"] in AFTER_THE_REST and not rest_met:
                    continue
                if condition["name"] not in events and met(condition, snap, since):
                    events[condition["name"]] = at
            previous, last = snap, now
            done = len(events) == len(conditions)
            if done or now >= deadline or self.cancelled.is_set():
                return {"met": done, "events": events, "timeline": timeline, "final": snap,
                        "missing": [c["name"] for c in conditions if c["name"] not in events],
                        "problems": problems(snap),
                        "leaderless_seconds": round(leaderless, 2), "short_seconds": round(short, 2),
                        "elapsed": round(now - since, 2), "alerts_answered": self.alerts_answered}
            self.sleep(interval)


def watcher_of(api, alerts: dict | None = None) -> SwarmWatcher:
    """A SwarmWatcher on one manager (a SwarmAPI), also reading Alertmanager when `alerts` (the option) is given."""

    def read() -> dict:
        return snapshot(api.raw_nodes(), api.services(), api.tasks(filters={"desired-state": "running"}))
    return SwarmWatcher(read, read_alerts=alerts_reader(alerts) if alerts else None,
                        alerts_hold=alerts["hold"] if alerts else 0)


def alerts_reader(alerts: dict):
    """A function returning Alertmanager's active alerts from the first URL of the `alerts` option that answers."""
    # Here, not at the top: swarm_info imports this file, and ansible's urls (with cryptography) costs every call.
    from ansible.module_utils.urls import open_url

    headers = {"Host": alerts["host"]} if alerts["host"] else {}

    def read() -> list:
        failure = None
        for url in alerts["urls"]:
            try:
                response = open_url(f"{url.rstrip('/')}/api/v2/alerts?active=true&silenced=false&inhibited=false",
                                    headers=headers, url_username=alerts["user"], url_password=alerts["password"],
                                    force_basic_auth=bool(alerts["user"]), timeout=alerts["request_timeout"])
                return json.loads(response.read())
            except (OSError, ValueError) as exc:
                failure = exc
        raise OSError(f"no Alertmanager answered: {failure}")
    return read


def problems(snap: dict) -> list[str]:
    """Why a swarm is not healthy enough to drill on; empty when it is."""
    if snap["error"]:
        return [f"the manager answers: {snap['error']}"]
    found = []
    if snap["leader"] is None:
        found.append("the swarm has no leader")
    for name in sorted(snap["nodes"], key=natural_key):
        node = snap["nodes"][name]
        if node["status"] != "ready":
            found.append(f"{name} is {node['status']}")
        elif node["role"] == "manager" and node["reachability"] != "reachable":
            found.append(f"manager {name} is {node['reachability']}")
    for name, service in sorted(snap["services"].items()):
        if service["running"] < service["desired"]:
            found.append(f"service {name} runs {service['running']} of {service['desired']} tasks")
    return found
