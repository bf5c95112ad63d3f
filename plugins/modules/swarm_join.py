#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_join
short_description: Join an engine to a swarm, or make it leave
version_added: 0.1.0
description:
  - C(docker swarm join) and C(docker swarm leave) made idempotent. A node already in the swarm of
    O(remote_addrs) is left as it is; a node in another swarm is an error unless O(leave_other_swarm=true).
  - The token decides the role, as with the CLI; use P(swarmops.ha.swarm_promote#module) to change roles later.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  state:
    description: V(present) joins, V(absent) leaves.
    type: str
    choices: [present, absent]
    default: present
  remote_addrs:
    description: Managers of the swarm to join (C(host) or C(host:port), port 2377 by default).
    type: list
    elements: str
  join_token:
    description: The worker or manager join token from P(swarmops.ha.swarm_init#module).
    type: str
  advertise_addr:
    description: Address other nodes reach this node at; the inventory's C(swarm_advertise_addr).
    type: str
  listen_addr:
    description: Address this node listens on for swarm traffic.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description: Address for data (overlay) traffic.
    type: str
  leave_other_swarm:
    description: When the node is in another swarm, leave it (with O(force)) and join this one.
    type: bool
    default: false
  force:
    description: Leave even as a manager (C(docker swarm leave --force)); the swarm may lose quorum.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the node to be active in the swarm after joining.
    type: int
    default: 60
notes:
  - Check mode reports what would change and changes nothing.
"""

EXAMPLES = r"""
- name: Join node2..node5 as workers, as the guide does
  swarmops.ha.swarm_join:
    docker_host: "{{ docker_host }}"
    validate_certs: true
    ca_path: "{{ ca_path }}"
    client_cert: "{{ client_cert }}"
    client_key: "{{ client_key }}"
    remote_addrs: ["{{ hostvars['node1'].swarm_advertise_addr }}"]
    join_token: "{{ hostvars['node1'].swarm_tokens.worker }}"
    advertise_addr: "{{ swarm_advertise_addr }}"
"""

RETURN = r"""
node_id:
  description: This node's id in the swarm (empty when it left, or in check mode before joining).
  returned: always
  type: str
local_state:
  description: The engine's swarm state afterwards (active, inactive; as it would be in check mode).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def in_swarm_of(local: dict, remote_addrs: list[str]) -> bool:
    managers = {m.get("Addr") for m in local.get("RemoteManagers") or []}
    return bool(managers & {swarm_lib.normalise_addr(a) for a in remote_addrs})


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            remote_addrs=dict(type="list", elements="str"),
            join_token=dict(type="str", no_log=True),
            advertise_addr=dict(type="str"),
            listen_addr=dict(type="str", default="0.0.0.0:2377"),
            data_path_addr=dict(type="str"),
            leave_other_swarm=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=60),
        ),
        required_if=[("state", "present", ["remote_addrs", "join_token"])],
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_join"):
        swarm_lib.check_join_options(params, module.check_mode)
        api = swarm_lib.SwarmAPI(connect(params))
        local = api.unlocked_local()
        state = local.get("LocalNodeState", "inactive")
        actions = []
        if params["state"] == "absent":
            if state != "inactive":
                actions.append("leave")
        elif state == "inactive":
            actions.append("join")
        elif not in_swarm_of(local, params["remote_addrs"]):
            if not params["leave_other_swarm"]:
                managers = ", ".join(m.get("Addr", "") for m in local.get("RemoteManagers") or [])
                raise SwarmopsError(f"remote_addrs: this node is in another swarm (managers {managers}); "
                                    f"set leave_other_swarm: true to leave it and join this one")
            actions += ["leave", "join"]
        if not module.check_mode:
            for action in actions:
                if action == "leave":
                    api.leave(force=params["force"])
                else:
                    api.join(params["remote_addrs"], params["join_token"], params["listen_addr"],
                             params["advertise_addr"], params["data_path_addr"])
                    swarm_lib.wait_for(lambda: api.local().get("LocalNodeState") == "active",
                                       params["wait_timeout"], "the node to be active in the swarm")
            local = api.local()
        after = "inactive" if params["state"] == "absent" else "active"
        module.exit_json(changed=bool(actions), actions=actions,
                         node_id=local.get("NodeID", "") if after == "active" else "",
                         local_state=after if module.check_mode else local.get("LocalNodeState", ""),
                         diff={"before": {"local_state": state}, "after": {"local_state": after}})


if __name__ == "__main__":
    main()
