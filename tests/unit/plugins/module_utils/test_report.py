import json
import xml.etree.ElementTree as ET

from ansible_collections.swarmops.ha.plugins.module_utils import report


def run_record():
    wait = {"events": {"new leader (not n1)": 8.5, "n1 down": 16.0}, "leaderless_seconds": 6.0, "short_seconds": 3.0,
            "timeline": [{"t": 2.0, "subject": "swarm", "event": "no leader"},
                         {"t": 8.5, "subject": "swarm", "event": "leader n2"},
                         {"t": 8.5, "subject": "n1", "event": "ready"},
                         {"t": 16.0, "subject": "n1", "event": "down"}]}
    again = {"events": {"n1 ready": 40.0}, "leaderless_seconds": 0, "short_seconds": 0,
             "timeline": [{"t": 30.0, "subject": "swarm", "event": "leader n2"},
                          {"t": 30.0, "subject": "n1", "event": "down"},
                          {"t": 40.0, "subject": "n1", "event": "ready"}]}
    return {"drill": "leader_loss", "profile": "tuned", "target": "n1", "passed": True,
            "notes": ["new leader n2 after 8.5s"], "marks": [{"t": 1.0, "event": "n1 machine stopped"}],
            "waits": [wait, again], "svg": "leader-loss-tuned.svg"}


def test_run_timeline_merges_marks_and_drops_what_a_new_wait_only_repeats():
    timeline = [(e["t"], e["subject"], e["event"]) for e in report.run_timeline(run_record())]
    assert timeline == [(1.0, "drill", "n1 machine stopped"), (2.0, "swarm", "no leader"),
                        (8.5, "swarm", "leader n2"), (8.5, "n1", "ready"), (16.0, "n1", "down"),
                        (40.0, "n1", "ready")]


def test_markdown_summarises_each_run_with_its_figures():
    text = report.markdown([run_record(), {**run_record(), "profile": "default", "passed": False, "waits": []}])
    assert "| leader_loss | tuned | n1 | passed | 6 | 3 | new leader (not n1) 8.5s; n1 down 16s; n1 ready 40s |" in text
    assert "| leader_loss | default | n1 | FAILED | 0 | 0 |  |" in text
    assert "![timeline](leader-loss-tuned.svg)" in text


def test_svg_timeline_draws_status_bands_the_leader_bar_and_the_drill_marks():
    svg = ET.fromstring(report.svg_timeline(run_record()))
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t.text for t in svg.iter(f"{ns}text")]
    assert "n1" in labels and "n1 machine stopped (1s)" in labels
    bands = {g.find(f"{ns}title").text: g.find(f"{ns}rect") for g in svg.iter(f"{ns}g")}
    assert set(bands) == {"n1 ready from 8.5s to 16s", "n1 down from 16s to 40s", "n1 ready from 40s to 42s"}
    assert bands["n1 down from 16s to 40s"].get("fill") == report.STATUS_COLOURS["down"]
    width = {tip: float(r.get("width")) for tip, r in bands.items()}
    assert width["n1 down from 16s to 40s"] > 3 * width["n1 ready from 8.5s to 16s"]


def test_the_leader_bar_follows_leadership_from_node_to_node():
    run = {"drill": "leader_loss", "marks": [], "waits": [{"timeline": [
        {"t": 0.0, "subject": "swarm", "event": "leader n1"}, {"t": 0.0, "subject": "n1", "event": "ready"},
        {"t": 0.0, "subject": "n2", "event": "ready"}, {"t": 5.0, "subject": "swarm", "event": "no leader"},
        {"t": 9.0, "subject": "swarm", "event": "leader n2"}]}]}
    svg = ET.fromstring(report.svg_timeline(run))
    ns = "{http://www.w3.org/2000/svg}"
    tips = [g.find(f"{ns}title").text for g in svg.iter(f"{ns}g")]
    assert "n1 leader from 0s" in tips and "n2 leader from 9s" in tips
    assert not [tip for tip in tips if tip.startswith("n2 leader from 0")]


def test_report_json_keeps_runs_and_summary():
    data = json.loads(report.report_json([run_record()]))
    assert data["summary"][0]["events"]["n1 down"] == 16.0
    assert data["runs"][0]["target"] == "n1"


def test_the_report_lists_each_alert_with_when_it_fired_and_resolved_in_the_table_and_the_picture():
    run = run_record()
    run["waits"][0]["timeline"] += [{"t": 20.0, "subject": "alert SwarmNodeDown node=n1", "event": "firing"},
                                    {"t": 21.0, "subject": "alert SwarmQuorumAtRisk", "event": "firing"}]
    run["waits"][1]["timeline"] += [{"t": 30.0, "subject": "alert SwarmNodeDown node=n1", "event": "firing"},
                                    {"t": 45.5, "subject": "alert SwarmNodeDown node=n1", "event": "resolved"}]
    assert report.alert_spans(run) == [{"alert": "SwarmNodeDown node=n1", "fired": 20.0, "resolved": 45.5},
                                       {"alert": "SwarmQuorumAtRisk", "fired": 21.0, "resolved": None}]
    text = report.markdown([run])
    assert "| SwarmNodeDown node=n1 fired 20s, resolved 45.5s; SwarmQuorumAtRisk fired 21s, still firing |" in text
    svg = ET.fromstring(report.svg_timeline(run))
    ns = "{http://www.w3.org/2000/svg}"
    bars = {g.find(f"{ns}title").text: g.find(f"{ns}rect") for g in svg.iter(f"{ns}g")}
    alert_bar = bars["SwarmNodeDown node=n1 fired 20s, resolved 45.5s"]
    assert alert_bar.get("fill") == report.ALERT_COLOUR
    assert "SwarmQuorumAtRisk" in [t.text for t in svg.iter(f"{ns}text")]
    assert not [tip for tip in bars if tip.startswith("alert ")]  # no node row for an alert
