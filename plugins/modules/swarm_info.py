#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_info
short_description: What `docker node ls`, `docker service ls` and `docker info` say about a swarm, with quorum maths
version_added: 0.1.0
description:
  - Reads, never changes. On a manager, returns every node (role, status, availability, manager status, leader,
    addresses, labels, engine version), the quorum arithmetic, and summaries of services and tasks.
    On a worker or an engine in no swarm, returns what the engine knows of itself.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.docker.engines
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.read_only
options:
  services:
    description: Include the services summary.
    type: bool
    default: true
  tasks:
    description: Include the count of tasks per state.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the swarm from a manager
  swarmops.ha.swarm_info:
  register: swarm_state

- name: Read two docker-machine machines' engines in one module run on the controller
  swarmops.ha.swarm_info:
    services: false
    tasks: false
    engines:
      - "{{ hostvars['node1'] | swarmops.ha.docker_connection_options | combine({'name': 'node1'}) }}"
      - "{{ hostvars['node2'] | swarmops.ha.docker_connection_options | combine({'name': 'node2'}) }}"
  delegate_to: localhost
  run_once: true
  register: engines_state

- name: Show the guide's `docker node ls`
  ansible.builtin.debug:
    msg: "{{ item.hostname }} {{ item.status }} {{ item.availability }} {{ item.manager_status }}"
  loop: "{{ swarm_state.nodes }}"
"""

RETURN = r"""
engines:
  description:
    - With O(engines), each engine's result by its name (RV(local), and on a manager the other values below), or
      C(error) for an engine that could not be read.
  returned: when O(engines) is set
  type: dict
  sample: {"node2": {"local": {"local_node_state": "active", "is_manager": false}}, "node9": {"error": "..."}}
local:
  description: This engine's swarm state and identity
    (C(local_node_state), C(node_id), C(is_manager), C(engine_version),
    C(name), C(engine_labels) as C(key=value) strings).
  returned: without O(engines)
  type: dict
nodes:
  description: Every node, sorted by host name, as C(docker node ls) shows them, with C(running_tasks) (tasks
    running there that the swarm wants running) when O(tasks=true) or O(services=true).
  returned: on a manager
  type: list
  elements: dict
settings:
  description:
    - The swarm's settings that M(swarmops.ha.swarm_init) manages, as the swarm has them (durations in
      nanoseconds), and no secret (neither join tokens nor the unlock key).
  returned: on a manager
  type: dict
  sample: {"autolock": false, "dispatcher_heartbeat": 5000000000, "task_history_limit": 5}
quorum:
  description: C(managers), C(reachable), C(quorum), C(tolerated_failures), C(has_quorum), C(leader), and
    C(at_risk) (reachable managers no more than the quorum, so one more loss would lose it; the monitoring role's
    C(SwarmQuorumAtRisk) alert). With RV(problems) it answers the monitoring alerts' questions from the API, for
    playbooks that gate on health.
  returned: on a manager
  type: dict
services:
  description: Each service's name, image, mode, desired and running tasks.
  returned: on a manager, with O(services=true)
  type: list
  elements: dict
tasks:
  description: Number of tasks per state (running, shutdown, failed ...).
  returned: on a manager, with O(tasks=true)
  type: dict
problems:
  description:
    - Why the swarm is not healthy, one sentence each; empty when every node is Ready, every manager Reachable
      (or Leader), a leader exists and every service runs the tasks it wants (counting tasks on Ready nodes only).
    - The failover drills refuse to start unless this is empty.
  returned: on a manager
  type: list
  elements: str
  sample: ["node4 is down", "service web runs 2 of 3 tasks"]
"""

import collections

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import drill
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import (
    ENGINE_SPEC,
    connect,
    docker_spec,
    each_engine,
)
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors


def service_summary(service: dict, running: int) -> dict:
    spec = service["Spec"]
    mode = spec.get("Mode", {})
    return {
        "name": spec["Name"],
        "image": spec["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0],
        "mode": "global" if "Global" in mode else "replicated",
        "desired": (mode.get("Replicated") or {}).get("Replicas"),
        "running": running,
    }


def read(params: dict) -> dict:
    """What one engine says, as the options ask."""
    api = swarm_lib.SwarmAPI(connect(params))
    info = api.info()
    local = info.get("Swarm") or {}
    result = {"local": {"local_node_state": local.get("LocalNodeState", "inactive"),
                        "node_id": local.get("NodeID", ""), "is_manager": bool(local.get("ControlAvailable")),
                        "engine_version": info.get("ServerVersion", ""), "name": info.get("Name", ""),
                        "engine_labels": info.get("Labels") or []}}
    if result["local"]["is_manager"] and result["local"]["local_node_state"] == "active":
        raw_nodes = api.raw_nodes()
        result["nodes"] = swarm_lib.sorted_node_facts(raw_nodes)
        result["quorum"] = swarm_lib.quorum_facts(result["nodes"])
        result["settings"] = swarm_lib.spec_settings(api.swarm()["Spec"], swarm_lib.SWARM_SETTINGS)
        services = api.services()
        tasks = api.tasks()
        wanted = [t for t in tasks if t.get("DesiredState") == "running"]
        result["problems"] = drill.problems(drill.snapshot(raw_nodes, services, wanted))
        if params["services"] or params["tasks"]:
            swarm_lib.count_running_tasks(result["nodes"], wanted)
        if params["services"]:
            running = collections.Counter(t["ServiceID"] for t in tasks if t["Status"]["State"] == "running")
            result["services"] = sorted((service_summary(s, running[s["ID"]]) for s in services),
                                        key=lambda s: s["name"])
        if params["tasks"]:
            result["tasks"] = dict(collections.Counter(t["Status"]["State"] for t in tasks))
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(services=dict(type="bool", default=True), tasks=dict(type="bool", default=True),
                                  engines=dict(type="list", elements="dict", options=ENGINE_SPEC)),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_info"):
        if params["engines"] is not None:
            module.exit_json(changed=False, engines=each_engine(params, params["engines"], read))
        module.exit_json(changed=False, **read(params))


if __name__ == "__main__":
    main()
