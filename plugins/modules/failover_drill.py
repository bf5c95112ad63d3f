#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: failover_drill
short_description: Run one failover drill on a swarm of docker-machine machines and return its timeline
version_added: 0.1.0
description:
  - Takes part of the swarm away, watches it recover from a manager that stays, brings the part back, and returns
    the run (what was taken away, when, and every change the watching manager saw) for
    P(swarmops.ha.drill_report#module).
  - V(leader_loss) stops the leader's machine and waits for a new leader, the old one Down and every service at
    full strength, then starts it and waits for it to be Ready and Reachable.
  - V(worker_loss) stops the busiest node that is not the leader (a worker when one runs tasks) and waits for its
    tasks to run elsewhere; with O(data_path) it writes a file on the distributed volume on one of O(data_hosts)
    before and reads it on another after.
  - V(engine_restart) restarts one engine (O(target), else the leader's) over SSH; V(rolling_restart) restarts
    every manager's, one at a time, the leader last.
  - V(quorum_loss) stops a majority of the managers, checks that the swarm refuses a change, and brings them back.
  - Every machine the drill stopped is started again, whatever happened. A drill that fails midway fails the task
    and still returns its run.
  - The machines are those of a docker-machine store (the lab driver's or docker-machine's); the module runs on the
    controller, reaches each manager's engine over TLS as C(docker-machine env) does, stops and starts machines with
    their driver, and runs commands over SSH with C(sudo) as C(docker-machine ssh) does.
extends_documentation_fragment:
  - swarmops.ha.alerts
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
options:
  drill:
    description: The drill to run.
    type: str
    required: true
    choices: [leader_loss, worker_loss, engine_restart, rolling_restart, quorum_loss]
  profile:
    description: Name of the swarm settings the drill runs with, kept in the run for the report.
    type: str
    default: default
  managers:
    description:
      - The swarm's managers, as machine names of the store; the first is watched from unless the drill takes it
        away, and V(quorum_loss) keeps it.
    type: list
    elements: str
    required: true
  storage_path:
    description:
      - The docker-machine store of the machines. Defaults to E(MACHINE_STORAGE_PATH), else C(~/.docker/machine).
    type: path
  target:
    description: The node whose engine V(engine_restart) restarts; the leader when not given.
    type: str
  engine_service:
    description: The engine's service name on the machines, restarted with C(service <name> restart).
    type: str
    default: docker
  data_path:
    description:
      - A folder of the distributed volume on O(data_hosts), checked by V(worker_loss); not checked when not given.
    type: str
  data_hosts:
    description:
      - Nodes that mount O(data_path); the file is written on the first that is not taken away and read on the last.
    type: list
    elements: str
    default: []
  alerts_wait:
    description: With O(alerts), a drill that stops a node also waits for that node's C(SwarmNodeDown) alert to fire.
    type: bool
    default: true
  wait_timeout:
    description: Seconds each wait of the drill may take before the drill fails.
    type: int
    default: 120
  settle_timeout:
    description: Seconds the swarm gets to be healthy before the drill (and before each engine restart).
    type: int
    default: 30
  interval:
    description: Seconds between two looks at the swarm.
    type: float
    default: 0.5
  request_timeout:
    description: Seconds each request to a manager may take; short, so that one unanswered request hides no change.
    type: float
    default: 3
attributes:
  check_mode:
    support: full
    details: Reads the swarm and returns the target the drill would take away; nothing is stopped.
  diff_mode:
    support: none
notes:
  - V(quorum_loss) leaves the swarm without a leader for a while; the P(swarmops.ha.failover_drill#role) role runs it
    only when asked.
"""

EXAMPLES = r"""
- name: Stop the leader, watch the failover and bring it back
  swarmops.ha.failover_drill:
    drill: leader_loss
    managers: "{{ groups['swarm_managers'] }}"
  register: leader_loss

- name: Write the report
  swarmops.ha.drill_report:
    path: reports/drill
    runs: ["{{ leader_loss.run }}"]
"""

RETURN = r"""
run:
  description:
    - The run, as P(swarmops.ha.drill_report#module) takes it. C(target) (the nodes taken away), C(passed),
      C(notes) (what it measured, and why it failed), C(marks) (C(t) and C(event), what the drill did, in seconds
      from its first action) and C(waits) (each watch, as P(swarmops.ha.swarm_wait#module) returns it).
  returned: when the drill started
  type: dict
  sample:
    drill: leader_loss
    profile: default
    target: node1
    passed: true
    notes: ["node1 machine off 1.9s after the stop was asked", "new leader node2 after 3.1s"]
    marks: [{t: 1.9, event: node1 machine stopped}, {t: 16.4, event: node1 machine start}]
    waits: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import drill as watch_lib
from ansible_collections.swarmops.ha.plugins.module_utils import failover, validate
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def main():
    module = AnsibleModule(
        argument_spec=dict(
            drill=dict(type="str", required=True, choices=list(failover.DRILLS)),
            profile=dict(type="str", default="default"),
            managers=dict(type="list", elements="str", required=True),
            storage_path=dict(type="path"),
            target=dict(type="str"),
            engine_service=dict(type="str", default="docker"),
            data_path=dict(type="str"),
            data_hosts=dict(type="list", elements="str", default=[]),
            alerts=watch_lib.ALERTS_SPEC,
            alerts_wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=120),
            settle_timeout=dict(type="int", default=30),
            interval=dict(type="float", default=0.5),
            request_timeout=dict(type="float", default=3),
        ),
        supports_check_mode=True,
    )
    params = module.params
    store = store_lib.resolve_storage_path(params["storage_path"])
    with module_errors(module, "failover_drill"):
        if not params["managers"] or len(set(params["managers"])) != len(params["managers"]):
            raise SwarmopsError(f"managers: {params['managers']!r} must name each manager once, and at least one")
        for option in ("wait_timeout", "settle_timeout"):
            validate.integer(option, params[option], 0, what="a number of seconds")
        validate.number("interval", params["interval"], 0.05, what="a number of seconds")
        validate.number("request_timeout", params["request_timeout"], 0.1, what="a number of seconds")
        eyes = failover.StoreEyes(store, params["request_timeout"], params["alerts"])
        hands = failover.StoreHands(store, params["engine_service"])
        run = failover.run_drill(params["drill"], params["profile"], params["managers"], eyes, hands, params,
                                 module.check_mode)
    if not run["passed"]:
        module.fail_json(msg=f"{params['drill']} ({params['profile']}): {run['notes'][-1]}", run=run)
    module.exit_json(changed=not module.check_mode, run=run)


if __name__ == "__main__":
    main()
