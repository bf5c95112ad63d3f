#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_promote
short_description: Make the swarm's manager set what is wanted, without losing quorum
version_added: 0.1.0
description:
  - C(docker node promote) and C(docker node demote) made declarative and quorum-safe. Give the managers by
    name (O(managers)) or by number (O(manager_count)); the module promotes first (all together, as
    C(docker node promote node2 node3) does) and waits until the new managers are Reachable, then demotes
    non-leaders before the leader, one at a time.
  - Refuses, and says why, a plan with an even manager count (unless O(allow_even=true)), unknown node names,
    more managers than nodes, or a demotion that would leave fewer reachable managers than the quorum.
  - By count, reachable managers are kept (the leader first) and workers are promoted in name order.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  managers:
    description: Host names of the nodes that must be the managers, and no others.
    type: list
    elements: str
  manager_count:
    description: How many managers the swarm must have.
    type: int
  allow_even:
    description: Accept an even number of managers (it tolerates no more failures than one fewer).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for each role change to take effect.
    type: int
    default: 60
notes:
  - Point the module at a manager.
  - Check mode returns the plan and changes nothing.
"""

EXAMPLES = r"""
- name: Three managers, as the guide's `docker node promote node2 node3`
  swarmops.ha.swarm_promote:
    manager_count: 3
"""

RETURN = r"""
promoted:
  description: Nodes promoted (or that would be).
  returned: always
  type: list
  elements: str
demoted:
  description: Nodes demoted (or that would be), in order.
  returned: always
  type: list
  elements: str
managers:
  description: The managers after the change.
  returned: always
  type: list
  elements: str
quorum:
  description: Manager count, reachable managers, quorum and tolerated failures after the change.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            managers=dict(type="list", elements="str"),
            manager_count=dict(type="int"),
            allow_even=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=60),
        ),
        mutually_exclusive=[("managers", "manager_count")],
        required_one_of=[("managers", "manager_count")],
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_promote"):
        validate.integer("wait_timeout", params["wait_timeout"], 0, what="a number of seconds")
        validate.integer("manager_count", params["manager_count"], 1, what="a number of managers")
        api = swarm_lib.SwarmAPI(connect(params))
        api.require_manager()
        nodes = api.nodes()
        before = [n["hostname"] for n in nodes if n["role"] == "manager"]
        plan = swarm_lib.plan_managers(nodes, params["managers"], params["manager_count"], params["allow_even"])
        if not module.check_mode:
            # All at once, as `docker node promote` takes them: raft adds one member at a time whatever the order.
            for name in plan.promote:
                api.set_role(name, "manager")
            if plan.promote:
                swarm_lib.wait_for(
                    lambda: {n["hostname"] for n in api.nodes()
                             if n["manager_status"] in ("Reachable", "Leader")} >= set(plan.promote),
                    params["wait_timeout"], f"{', '.join(plan.promote)} to be Reachable managers")
            for name in plan.demote:
                api.set_role(name, "worker")
                swarm_lib.wait_for(
                    lambda name=name: any(n["hostname"] == name and n["role"] == "worker" for n in api.nodes()),
                    params["wait_timeout"], f"{name} to be a worker")
            nodes = api.nodes()
        after = plan.wanted
        quorum = swarm_lib.quorum_facts(nodes) if not module.check_mode else {
            "managers": len(after), "quorum": swarm_lib.quorum(len(after)),
            "tolerated_failures": swarm_lib.tolerated_failures(len(after))}
        module.exit_json(changed=bool(plan.promote or plan.demote), promoted=plan.promote, demoted=plan.demote,
                         managers=after, quorum=quorum,
                         diff={"before": {"managers": before}, "after": {"managers": after}})


if __name__ == "__main__":
    main()
