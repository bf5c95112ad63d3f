"""Monitoring on the lab: the Prometheus, Alertmanager and node-exporter services that site.yml runs, the engines'
metrics, alerts when a machine goes away, and the configuration checked before it replaces the running one."""

import http.client
import json
import time
import urllib.parse

from labtools import recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib

MANAGERS = 3
PROMETHEUS = "prometheus.swarmops.test"
ALERTMANAGER = "alertmanager.swarmops.test"


def address(lab, name):
    return lab.record(name)["Driver"]["IPAddress"]


def api(lab, host, path, node=None):
    """JSON from Prometheus or Alertmanager through the routing proxy on a manager."""
    connection = http.client.HTTPConnection(address(lab, node or lab.names[0]), 80, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, (response.status, body[:300])
        return json.loads(body)
    finally:
        connection.close()


def eventually(check, timeout=60, interval=1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (OSError, AssertionError, ValueError) as exc:
            result = exc
        if result and not isinstance(result, Exception):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s (last: {result!r})")
        time.sleep(interval)


def query(lab, promql):
    return api(lab, PROMETHEUS, "/api/v1/query?query=" + urllib.parse.quote(promql))["data"]["result"]


def targets(lab):
    return list(api(lab, PROMETHEUS, "/api/v1/targets?state=active")["data"]["activeTargets"])


def firing(lab, alertname):
    """Alerts of that name Alertmanager holds as active."""
    return [a for a in api(lab, ALERTMANAGER, "/api/v2/alerts?active=true&silenced=false&inhibited=false")
            if a["labels"]["alertname"] == alertname]


def monitoring(lab, *extra, check=True):
    """The monitoring play on the managers only: the rules and the services live there (the workers' part, engine
    metrics and the certificates' expiry, is the same whatever the rules; site.yml's second run covers it)."""
    return lab.playbook("site.yml", "--tags", "monitoring", "--limit", "swarm_managers", *extra, check=check)


def task_containers(lab, service):
    """{manager: [container ids of the service's tasks there]}"""
    label = f"com.docker.swarm.service.name={service}"
    return {name: sorted(c.id for c in lab.engine(name).containers.list(filters={"label": label}))
            for name in lab.names[:MANAGERS]}


def test_prometheus_finds_every_engine_node_exporter_and_proxy_and_they_are_up(lab):
    def all_up():
        up = {}
        for target in targets(lab):
            if target["health"] == "up":
                labels = target["labels"]
                up.setdefault(labels["job"], set()).add(labels.get("node") or labels["instance"])
                if labels["job"] == "services":
                    up.setdefault(labels["service"], set()).add(labels["node"])
        wanted = {"engine": set(lab.names), "node": set(lab.names), "routing": set(lab.names[:MANAGERS]),
                  "alertmanager": set(lab.names[:MANAGERS])}
        return all(up.get(job, set()) >= nodes for job, nodes in wanted.items()) and up
    up = eventually(all_up, 90, 3)
    print({job: sorted(nodes) for job, nodes in up.items()})
    # The engines' own metrics: five nodes Ready as the managers see them, and one leader.
    assert query(lab, 'max(swarm_manager_nodes{state="ready"})')[0]["value"][1] == "5"
    assert len(query(lab, "swarm_manager_leader == 1")) == 1

    # HAProxy's own metrics, from every proxy: the journal's backend has its task (once each proxy's health check
    # passed and Prometheus scraped it since).
    def proxies_with_the_journal():
        backends = query(lab, 'haproxy_backend_active_servers{proxy="be_journal"} == 1')
        nodes = {r["metric"]["node"] for r in backends}
        assert nodes == set(lab.names[:MANAGERS]), f"proxies whose journal backend has its task: {sorted(nodes)}"
        return nodes
    eventually(proxies_with_the_journal, 60, 3)


def test_alertmanagers_peer_with_each_other_on_different_managers(lab):
    assert all(len(ids) == 1 for ids in task_containers(lab, "alertmanager").values())

    def all_peers():
        status = api(lab, ALERTMANAGER, "/api/v2/status")
        return status if len(status["cluster"]["peers"]) == MANAGERS else None

    status = eventually(all_peers, 60, 2)
    assert status["cluster"]["status"] == "ready"
    assert len({peer["address"] for peer in status["cluster"]["peers"]}) == MANAGERS
    # No instance advertises docker_gwbridge's address, which is the same on every node.
    assert not any(peer["address"].startswith("172.18.") for peer in status["cluster"]["peers"])


def short_alerts(lab, service):
    return [a for a in firing(lab, "SwarmServiceShort") if a["labels"]["service"] == service]


def test_a_service_wanting_more_than_the_nodes_hold_fires_the_short_alert_and_it_resolves(lab):
    """A lost node's SwarmNodeDown firing and resolving is checked by the failover drills, which read Alertmanager."""
    service = {**lab_lib.engine_params(lab.record(lab.names[0])), "name": "too-big", "image": "swarmops/lab-app:1",
               "command": ["sleep", "3600"], "networks": ["swarmops-monitoring"], "reserve_memory": "1T",
               "replicas": 1, "wait": False}
    asked = time.monotonic()
    failed, result = lab.module("swarm_service", service)
    assert not failed, result
    try:
        alerts = eventually(lambda: short_alerts(lab, "too-big"), 120, 2)
        print(f"SwarmServiceShort for too-big in Alertmanager {time.monotonic() - asked:.0f}s after it was created")
        assert alerts[0]["labels"]["severity"] == "warning"
    finally:
        failed, result = lab.module("swarm_service", {**service, "state": "absent"})
        assert not failed, result
    eventually(lambda: not short_alerts(lab, "too-big"), 90, 2)


def rule_sums(lab):
    out = lab.run("ansible", "swarm_managers", "-b", "-m", "ansible.builtin.shell",
                  "-a", "md5sum /etc/swarmops/monitoring/prometheus/*.yml /etc/swarmops/monitoring/prometheus/rules/*")
    return sorted(line for line in out.splitlines() if ".yml" in line)


def rule_names(lab):
    groups = api(lab, PROMETHEUS, "/api/v1/rules")["data"]["groups"]
    return {rule["name"] for group in groups for rule in group["rules"]}


def test_a_bad_rule_is_refused_and_a_good_one_reloads_prometheus_without_a_restart(lab):
    before, containers = rule_sums(lab), task_containers(lab, "prometheus")
    bad = [{"name": "lab.yml", "content": "groups: [{name: lab, rules: [{alert: Broken, expr: 'up =='}]}]\n"}]
    out = monitoring(lab, "-e", json.dumps({"monitoring_extra_rules": bad}), check=False)
    assert "promtool" in out or "failed to validate" in out, out[-2000:]
    assert recap(out)[lab.names[0]]["failed"] == 1
    assert rule_sums(lab) == before
    assert "Broken" not in rule_names(lab) and "SwarmNodeDown" in rule_names(lab)

    good = [{"name": "lab.yml", "content": "groups: [{name: lab, rules: [{alert: LabAlways, expr: 'vector(1)'}]}]\n"}]
    out = monitoring(lab, "-e", json.dumps({"monitoring_extra_rules": good}))
    assert "Reload the instances" in out
    eventually(lambda: "LabAlways" in rule_names(lab), 30)
    assert task_containers(lab, "prometheus") == containers

    out = monitoring(lab)
    eventually(lambda: "LabAlways" not in rule_names(lab), 30)
    assert rule_sums(lab) == before and task_containers(lab, "prometheus") == containers
