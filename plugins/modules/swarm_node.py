#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_node
short_description: Set a swarm node's labels and availability, or remove a node that is gone
version_added: 0.1.0
description:
  - C(docker node update --label-add --label-rm --availability) and C(docker node rm) made declarative.
  - Runs against a manager; the node is named by hostname (as C(docker node ls) shows it) or id.
  - Roles are changed by P(swarmops.ha.swarm_promote#module), which keeps the quorum; this module never changes one.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description: The node's hostname or id.
    type: str
    required: true
  state:
    description:
      - V(present) applies O(labels) and O(availability).
      - V(absent) removes the node from the swarm's node list, as after C(docker swarm leave) or a lost machine.
        A node that is still up, or a manager, is refused unless O(force=true); a manager must be demoted first.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Node labels to set (values are strings).
    type: dict
  labels_state:
    description: V(merge) keeps labels not named in O(labels); V(replace) makes O(labels) the only labels.
    type: str
    choices: [merge, replace]
    default: merge
  labels_to_remove:
    description: Label keys to remove.
    type: list
    elements: str
  availability:
    description: V(active) schedules tasks, V(pause) keeps the running ones only, V(drain) moves them away.
      Left as it is when not given.
    type: str
    choices: [active, pause, drain]
  force:
    description: With O(state=absent), remove a worker that still reports ready (C(docker node rm --force)).
    type: bool
    default: false
notes:
  - Check mode reports the change and makes none; diff shows labels and availability before and after.
"""

EXAMPLES = r"""
- name: Label node4 for the registry and keep tasks off node5
  swarmops.ha.swarm_node:
    docker_host: "{{ hostvars['node1'].docker_host }}"
    name: "{{ item.name }}"
    labels: "{{ item.labels | default(omit) }}"
    availability: "{{ item.availability | default(omit) }}"
  loop:
    - {name: node4, labels: {registry: "true"}}
    - {name: node5, availability: drain}

- name: Forget a machine that was destroyed
  swarmops.ha.swarm_node:
    name: node6
    state: absent
"""

RETURN = r"""
node:
  description: The node after the change (as it would be in check mode); absent when removed.
  returned: when state is present
  type: dict
  sample: {"hostname": "node4", "role": "worker", "availability": "active", "labels": {"registry": "true"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def settable(spec: dict) -> dict:
    return {"labels": spec.get("Labels") or {}, "availability": spec.get("Availability", "active")}


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            labels=dict(type="dict"),
            labels_state=dict(type="str", default="merge", choices=["merge", "replace"]),
            labels_to_remove=dict(type="list", elements="str"),
            availability=dict(type="str", choices=["active", "pause", "drain"]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_node"):
        api = swarm_lib.SwarmAPI(connect(params))
        api.require_manager()
        node = api.node(params["name"])
        if params["state"] == "absent":
            if node is None:
                module.exit_json(changed=False)
            facts = swarm_lib.node_facts(node)
            if facts["role"] == "manager":
                raise SwarmopsError(f"name: {params['name']} is a manager; demote it with swarm_promote first")
            if facts["status"] != "down" and not params["force"]:
                raise SwarmopsError(f"name: {params['name']} is {facts['status']}, not down; make it leave the swarm "
                                    f"(swarm_join state=absent) or set force: true")
            if not module.check_mode:
                api.remove_node(node, force=params["force"])
            module.exit_json(changed=True, diff={"before": {"node": facts["hostname"]}, "after": {}})
        if node is None:
            names = ", ".join(n["hostname"] for n in api.nodes())
            raise SwarmopsError(f"name: {params['name']!r} is not a node of this swarm (nodes: {names})")
        spec = swarm_lib.wanted_node_spec(node["Spec"], params["labels"], params["labels_state"] == "replace",
                                          params["labels_to_remove"], params["availability"])
        before, after = settable(node["Spec"]), settable(spec)
        if before != after and not module.check_mode:
            api.update_node(node, spec)
            node = api.node(node["ID"])
        facts = swarm_lib.node_facts({**node, "Spec": spec})
        module.exit_json(changed=before != after, node=facts, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
