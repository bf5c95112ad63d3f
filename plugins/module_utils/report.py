# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failover drill's report: the runs the failover_drill role collected (its marks and swarm_wait's results),
rendered as summary rows, Markdown, an SVG timeline per run and JSON.

Pure: plain run dicts in, text out; what a drill watches and concludes is in drill.py.
"""

from __future__ import annotations

import html
import json

from ansible_collections.swarmops.ha.plugins.module_utils.drill import MANAGER_WORDS
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import natural_key

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
