#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_wait
short_description: Watch a swarm from one manager until it reaches a state, and say when each part of it was reached
version_added: 0.1.0
description:
  - Polls one manager's view of the swarm (leader, node status, manager reachability, running tasks of each service)
    until every condition in O(until) has been met once, and returns when each was first met, counted from O(since).
  - Records every change it sees on the way (leader lost and elected, a node going Down and Ready again, a service
    short of tasks) as a timeline, the raw material of the failover drills' reports.
  - An error from the manager (for example while the swarm has no leader, or has lost its quorum) is an
    observation, not a failure. Only the first connection must succeed.
  - Reads, never changes; runs the same in check mode.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.alerts
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.read_only
options:
  until:
    description:
      - What to wait for. Every key given must be met (each at its own time).
      - C(leader) (bool) some manager is Leader; V(false) the manager sees no leader, or cannot answer.
      - C(leader_other_than) (node name) a manager other than that node is Leader.
      - C(nodes) (dict of node name to a state word or a list of them) each node reaches each word, node status
        V(ready), V(down), V(unknown), V(disconnected), or manager reachability V(reachable), V(unreachable),
        V(leader).
      - C(healthy) (bool) nothing is wrong, every node Ready, every manager Reachable, a leader, every service at
        full strength (what RV(problems) lists otherwise).
      - C(services_converged) (bool) every service (or those named in C(services)) runs as many tasks as it wants,
        counting only tasks on Ready nodes.
      - "C(alerts_firing) (list of dicts of alert labels, each with C(alertname)) Alertmanager lists an active alert
        with those labels, for example C({alertname: SwarmNodeDown, node: node4}). Needs O(alerts)."
      - C(alerts_resolved) (V(true), or a list of dicts of alert labels as C(alerts_firing) takes) no alert that
        became active after O(since) (of those with these labels) is still active. Needs O(alerts).
      - C(healthy), C(services_converged) and C(alerts_resolved) count only from the moment every other condition
        holds. Waiting for node4 V(down) and C(services_converged), the time says when node4's tasks ran elsewhere,
        not that they looked fine before the swarm noticed node4 was gone.
    type: dict
    required: true
  since:
    description:
      - Epoch seconds (a float, as C(now().timestamp()) gives) that the returned times count from, typically the
        moment a drill took a node away. Defaults to the moment the module starts.
    type: float
  wait_timeout:
    description: Seconds to wait before giving up.
    type: int
    default: 120
  interval:
    description: Seconds between two looks at the swarm.
    type: float
    default: 0.5
  fail_on_timeout:
    description: Fail when a condition was not met in time. With V(false), return RV(met=false) and what was missing.
    type: bool
    default: true
notes:
  - The times are as good as O(interval) plus one request to the manager. Point O(docker_host) at a manager the
    drill does not take away; set a short O(timeout) so one unanswered request does not hide a change.
"""

EXAMPLES = r"""
- name: Note when the leader machine is taken away
  ansible.builtin.set_fact:
    drill_t0: "{{ now().timestamp() }}"

- name: Wait for a new leader and for the old one to be marked Down
  swarmops.ha.swarm_wait:
    docker_host: "{{ hostvars[observer].docker_host }}"
    timeout: 5
    since: "{{ drill_t0 }}"
    until:
      leader_other_than: node1
      nodes: {node1: [down, unreachable]}
      services_converged: true
    wait_timeout: 90
  delegate_to: localhost
  register: failover
"""

RETURN = r"""
met:
  description: Whether every condition was met before the timeout.
  returned: always
  type: bool
events:
  description: Condition name (for example C(new leader (not node1)), C(node1 down)) to seconds after O(since)
    when it was first seen met.
  returned: always
  type: dict
  sample: {"new leader (not node1)": 11.8, "node1 down": 16.2, "services converged": 16.2}
missing:
  description: Conditions never met.
  returned: always
  type: list
  elements: str
timeline:
  description: Every change seen, as C(t) (seconds after O(since)), C(subject) (a node, C(swarm) or
    C(service <name>)) and C(event) (C(down), C(leader node2), C(2/3 running), C(manager says ...)).
  returned: always
  type: list
  elements: dict
leaderless_seconds:
  description: Time the manager reported no leader (or could not answer) while watching.
  returned: always
  type: float
short_seconds:
  description: Time some service ran fewer tasks than it wants while watching.
  returned: always
  type: float
elapsed:
  description: Seconds from O(since) to the last look.
  returned: always
  type: float
problems:
  description: What was wrong with the swarm at the last look, one sentence each (as P(swarmops.ha.swarm_info#module)
    returns them).
  returned: always
  type: list
  elements: str
final:
  description: The last look at the swarm (C(leader), C(nodes), C(services), C(error), and C(alerts) with O(alerts)).
  returned: always
  type: dict
alerts_answered:
  description: Whether Alertmanager answered at least once (always V(false) without O(alerts)).
  returned: always
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import drill, validate
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            until=dict(type="dict", required=True),
            since=dict(type="float"),
            wait_timeout=dict(type="int", default=120),
            interval=dict(type="float", default=0.5),
            fail_on_timeout=dict(type="bool", default=True),
            alerts=drill.ALERTS_SPEC,
        ),
        supports_check_mode=True,
    )
    params = module.params
    started = time.time()
    with module_errors(module, "swarm_wait"):
        validate.integer("wait_timeout", params["wait_timeout"], 0, what="a number of seconds")
        validate.number("interval", params["interval"], 0.05, what="a number of seconds")
        conditions = drill.conditions_from(params["until"])
        if not params["alerts"] and any(c["kind"] in ("alert", "alerts_resolved") for c in conditions):
            raise SwarmopsError("until: alerts_firing and alerts_resolved need the alerts option (Alertmanager's URLs)")
        watcher = drill.watcher_of(swarm_lib.SwarmAPI(connect(params)), params["alerts"])
        result = watcher.watch(conditions, params["since"] or started, params["wait_timeout"], params["interval"])
    if not result["met"] and params["fail_on_timeout"]:
        module.fail_json(msg=f"swarm_wait: after {params['wait_timeout']}s still waiting for "
                             f"{', '.join(result['missing'])}", **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
