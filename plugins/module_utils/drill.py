# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failover drill watches and concludes: swarm snapshots, conditions, timelines, health and reports.

Everything here is pure (Engine API dicts in, plain data or text out) except SwarmWatcher, which polls one
manager through an injected client and a clock, so the whole module is tested without Docker.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import time

from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import DockerError, DockerException, describe
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import natural_key, quorum

NODE_WORDS = ("ready", "down", "unknown", "disconnected")
# The label that says what an alert is about, in order of preference, for its name in a timeline.
ALERT_SUBJECT_LABELS = ("node", "service", "proxy", "instance")
MANAGER_WORDS = ("reachable", "unreachable", "leader")


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
    """The `until` option of swarm_wait as a list of named conditions; DockerError names a bad entry."""
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
                raise DockerError(f"until.nodes.{node}: {word!r} is not a node state (accepted: "
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
                raise DockerError(f"until.{key}[{i}]: {labels!r} is not a dict of labels with an alertname")
            conditions.append({"name": f"alert {alert_key(labels)} {word}", "kind": kind, "labels": labels})
    accepted = ("leader", "leader_other_than", "nodes", "healthy", "services_converged", "services",
                "alerts_firing", "alerts_resolved")
    unknown = set(until) - set(accepted)
    if unknown:
        raise DockerError(f"until: {', '.join(sorted(unknown))} not understood (accepted: {', '.join(accepted)})")
    if not conditions:
        raise DockerError("until: nothing to wait for (give leader, leader_other_than, nodes, healthy, "
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
            if done or now >= deadline:
                return {"met": done, "events": events, "timeline": timeline, "final": snap,
                        "missing": [c["name"] for c in conditions if c["name"] not in events],
                        "problems": problems(snap),
                        "leaderless_seconds": round(leaderless, 2), "short_seconds": round(short, 2),
                        "elapsed": round(now - since, 2), "alerts_answered": self.alerts_answered}
            self.sleep(interval)


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


def quorum_after(snap: dict, leaving: list[str]) -> str | None:
    """Why taking these nodes away at once would lose the swarm's quorum; None when the quorum survives."""
    managers = [n for n, v in snap["nodes"].items() if v["role"] == "manager"]
    lost = [n for n in managers if n in leaving]
    left = len(managers) - len(lost)
    if lost and left < quorum(len(managers)):
        return (f"stopping {', '.join(sorted(lost, key=natural_key))} leaves {left} of {len(managers)} managers, "
                f"below the quorum of {quorum(len(managers))}")
    return None


# Reports ----------------------------------------------------------------------------------------------------------

LEADER_COLOUR = "#2b6cb0"
ALERT_COLOUR = "#e07020"
STATUS_COLOURS = {"ready": "#3a9d5d", "reachable": "#3a9d5d", "down": "#c94c4c", "unreachable": "#c94c4c",
                  "unknown": "#9a9a9a", "disconnected": "#e0a030", "stopped": "#c94c4c"}


def summary_rows(runs: list[dict]) -> list[dict]:
    """One row per drill run: the measured seconds that a person compares."""
    rows = []
    for run in runs:
        events = {}
        for wait in run.get("waits", []):
            events.update(wait.get("events", {}))
        rows.append({
            "drill": run["drill"], "profile": run.get("profile", "default"), "target": run.get("target", ""),
            "passed": run.get("passed", False), "events": events,
            "leaderless_seconds": round(sum(w.get("leaderless_seconds", 0) for w in run.get("waits", [])), 2),
            "short_seconds": round(sum(w.get("short_seconds", 0) for w in run.get("waits", [])), 2),
            "alerts": alert_spans(run), "notes": run.get("notes", []),
        })
    return rows


def alert_spans(run: dict) -> list[dict]:
    """Each alert seen firing during the run: first seen firing, and resolved (None while it still fires)."""
    spans = []
    for entry in run_timeline(run):
        if entry["subject"].startswith("alert "):
            name = entry["subject"][len("alert "):]
            if entry["event"] == "firing":
                spans.append({"alert": name, "fired": entry["t"], "resolved": None})
            else:
                for span in spans:
                    if span["alert"] == name and span["resolved"] is None:
                        span["resolved"] = entry["t"]
    return spans


def span_words(span: dict) -> str:
    resolved = f"resolved {span['resolved']:g}s" if span["resolved"] is not None else "still firing"
    return f"{span['alert']} fired {span['fired']:g}s, {resolved}"


def markdown(runs: list[dict], title: str = "Failover drill") -> str:
    rows = summary_rows(runs)
    lines = [f"# {title}", "",
             "Times are seconds after the drill took the node away (t=0). `leaderless` is how long the observing "
             "manager saw no leader; `short` how long some service ran fewer tasks than wanted; `alerts` when "
             "Alertmanager first listed each alert and when it no longer did.", "",
             "| drill | profile | target | result | leaderless | short | events | alerts |",
             "|---|---|---|---|---:|---:|---|---|"]
    for row in rows:
        events = "; ".join(f"{name} {t:g}s" for name, t in sorted(row["events"].items(), key=lambda e: e[1]))
        lines.append(f"| {row['drill']} | {row['profile']} | {row['target']} | "
                     f"{'passed' if row['passed'] else 'FAILED'} | {row['leaderless_seconds']:g} | "
                     f"{row['short_seconds']:g} | {events} | {'; '.join(map(span_words, row['alerts']))} |")
    for run in runs:
        lines += ["", f"## {run['drill']} ({run.get('profile', 'default')}): {run.get('target', '')}", ""]
        lines += [f"- {note}" for note in run.get("notes", [])]
        if run.get("svg"):
            lines += ["", f"![timeline]({run['svg']})"]
        lines += ["", "| t (s) | subject | event |", "|---:|---|---|"]
        lines += [f"| {e['t']:g} | {e['subject']} | {e['event']} |" for e in run_timeline(run)]
    return "\n".join(lines) + "\n"


def run_timeline(run: dict) -> list[dict]:
    """The marks the role set (machine stopped, started ...) and every wait's changes, in time order.

    Each wait starts by reporting everything it sees; what only repeats the state already reported is left out.
    """
    entries = [{"t": round(m["t"], 2), "subject": "drill", "event": m["event"]} for m in run.get("marks", [])]
    for wait in run.get("waits", []):
        entries += wait.get("timeline", [])
    entries.sort(key=lambda e: e["t"])
    latest, kept = {}, []
    for entry in entries:
        key = (entry["subject"], aspect(entry["event"]))
        if entry["subject"] != "drill" and latest.get(key) == entry["event"]:
            continue
        latest[key] = entry["event"]
        kept.append(entry)
    return kept


def aspect(event: str) -> str:
    """Which part of a subject an event describes, so that a node's status and reachability are told apart."""
    if event in MANAGER_WORDS:
        return "reachability"
    if event.startswith(("leader", "no leader")):
        return "leader"
    if event.startswith(("manager says", "manager answers")):
        return "answer"
    return "state"


def intervals(changes: list[tuple[float, str]], end: float) -> list[tuple[float, float, str]]:
    """(start, stop, value) spans from (time, value) changes; each lasts until the next change or `end`."""
    return [(t, changes[i + 1][0] if i + 1 < len(changes) else end, value) for i, (t, value) in enumerate(changes)]


def svg_timeline(run: dict, width: int = 900) -> str:
    """A row per node coloured by status, a blue bar over the leader, dashed lines where the drill acted."""
    timeline = run_timeline(run)
    nodes = sorted({e["subject"] for e in timeline
                    if not e["subject"].startswith(("swarm", "service ", "drill", "alert "))}, key=natural_key)
    alerts = alert_spans(run)
    marks = [e for e in timeline if e["subject"] == "drill"]
    end = max([e["t"] for e in timeline] + [1.0]) * 1.05
    labels = nodes + [span["alert"] for span in alerts]
    left, row_h, top = max([110] + [7 * len(label) + 20 for label in labels]), 26, 40 + 16 * len(marks)
    scale = (width - left - 20) / end
    height = top + row_h * len(labels) + 60

    def x(t: float) -> float:
        return round(left + max(t, 0) * scale, 1)

    def rect(start: float, stop: float, y: float, h: float, colour: str, tip: str) -> str:
        return (f'<g><title>{html.escape(tip)}</title><rect x="{x(start)}" y="{y}" '
                f'width="{max(x(stop) - x(start), 1)}" height="{h}" fill="{colour}"/></g>')

    title = f'{run["drill"]} ({run.get("profile", "default")}): {run.get("target", "")}'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
             f'<text x="10" y="20" font-size="14">{html.escape(title)}</text>']
    leaders = [(e["t"], e["event"][len("leader "):] if e["event"].startswith("leader ") else None)
               for e in timeline if e["subject"] == "swarm" and aspect(e["event"]) == "leader"]
    for row, node in enumerate(nodes):
        y = top + row * row_h
        parts.append(f'<text x="10" y="{y + 17}">{html.escape(node)}</text>')
        states = [(e["t"], e["event"]) for e in timeline if e["subject"] == node and aspect(e["event"]) == "state"]
        for start, stop, state in intervals(states, end):
            parts.append(rect(start, stop, y + 6, row_h - 8, STATUS_COLOURS.get(state, "#9a9a9a"),
                              f"{node} {state} from {start:g}s to {stop:g}s"))
        for start, stop, leader in intervals(leaders, end):
            if leader == node:
                parts.append(rect(start, stop, y + 1, 4, LEADER_COLOUR, f"{node} leader from {start:g}s"))
    for row, span in enumerate(alerts, start=len(nodes)):
        y = top + row * row_h
        stop = end if span["resolved"] is None else span["resolved"]
        parts.append(f'<text x="10" y="{y + 17}">{html.escape(span["alert"])}</text>')
        parts.append(rect(span["fired"], stop, y + 6, row_h - 8, ALERT_COLOUR, span_words(span)))
    bottom = top + len(labels) * row_h
    for i, mark in enumerate(marks):
        label_y = 40 + 16 * i
        parts.append(f'<line x1="{x(mark["t"])}" y1="{label_y + 4}" x2="{x(mark["t"])}" y2="{bottom}" '
                     f'stroke="#333" stroke-width="1" stroke-dasharray="4,3"/>'
                     f'<text x="{x(mark["t"]) + 4}" y="{label_y}">{html.escape(mark["event"])} '
                     f'({mark["t"]:g}s)</text>')
    axis_y = bottom + 8
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{x(end)}" y2="{axis_y}" stroke="#333" stroke-width="1"/>')
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if end / s <= 12)
    for tick in range(0, int(end) + 1, step):
        parts.append(f'<line x1="{x(tick)}" y1="{axis_y}" x2="{x(tick)}" y2="{axis_y + 4}" stroke="#333" '
                     f'stroke-width="1"/><text x="{x(tick)}" y="{axis_y + 16}" text-anchor="middle">{tick}s</text>')
    legend_y = axis_y + 36
    legend = [("ready", STATUS_COLOURS["ready"]), ("down", STATUS_COLOURS["down"]),
              ("unknown", STATUS_COLOURS["unknown"]), ("leader", LEADER_COLOUR), ("alert firing", ALERT_COLOUR)]
    for i, (word, colour) in enumerate(legend):
        parts.append(f'<rect x="{left + i * 90}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + i * 90 + 16}" y="{legend_y}">{word}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def report_json(runs: list[dict]) -> str:
    return json.dumps({"runs": runs, "summary": summary_rows(runs)}, indent=2, sort_keys=True) + "\n"
