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
  engines:
    description:
      - Several engines to join (or make leave) in one module run, all at once, instead of this module's own
        connection. For nodes driven from the controller (C(tcp://) engines, as docker-machine's), this is one
        module run for all of them instead of one for each; the roles do so.
      - Each item is an engine with its own connection options, named and defaulted as this module's; O(timeout)
        and O(api_version), and the other options, are the module's. The result is then RV(engines).
      - Every item is checked before any engine is asked anything.
    type: list
    elements: dict
    suboptions:
      name:
        description: The key of this engine's result in RV(engines), for example its inventory host.
        type: str
        required: true
      advertise_addr:
        description: O(advertise_addr) for this engine's node; the module's when not set.
        type: str
      docker_host:
        description: O(docker_host) of this engine.
        type: str
        default: unix:///var/run/docker.sock
      tls:
        description: O(tls) for this engine.
        type: bool
        default: false
      validate_certs:
        description: O(validate_certs) for this engine.
        type: bool
        default: false
      ca_path:
        description: O(ca_path) for this engine.
        type: path
      client_cert:
        description: O(client_cert) for this engine.
        type: path
      client_key:
        description: O(client_key) for this engine.
        type: path
notes:
  - Check mode reports what would change and changes nothing.
  - With O(engines), an engine that cannot be joined does not fail the module, and the others are joined all the
    same. Its result in RV(engines) has C(error), the message it would have failed with. The C(swarmops.ha.swarm)
    role runs the module again for such a node alone, so only that host fails.
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

- name: Join two docker-machine machines in one module run on the controller
  swarmops.ha.swarm_join:
    remote_addrs: ["{{ hostvars['node1'].swarm_advertise_addr }}"]
    join_token: "{{ hostvars['node1'].swarm_tokens.worker }}"
    engines:
      - "{{ hostvars['node2'] | swarmops.ha.docker_connection_options
        | combine({'name': 'node2', 'advertise_addr': hostvars['node2'].swarm_advertise_addr}) }}"
      - "{{ hostvars['node3'] | swarmops.ha.docker_connection_options
        | combine({'name': 'node3', 'advertise_addr': hostvars['node3'].swarm_advertise_addr}) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
engines:
  description:
    - With O(engines), each engine's result by its name; C(actions), RV(node_id) and RV(local_state) as without
      O(engines), or C(error) for an engine that could not be joined.
  returned: when O(engines) is set
  type: dict
  sample: {"node2": {"actions": ["join"], "node_id": "hzxo4dcbp6wprjpuwdeac4u9i", "local_state": "active"}}
node_id:
  description: This node's id in the swarm (empty when it left, or in check mode before joining).
  returned: without O(engines)
  type: str
local_state:
  description: The engine's swarm state afterwards (active, inactive; as it would be in check mode).
  returned: without O(engines)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import (
    ENGINE_SPEC,
    connect,
    docker_spec,
    each_engine,
)
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors, named_errors


def in_swarm_of(local: dict, remote_addrs: list[str]) -> bool:
    managers = {m.get("Addr") for m in local.get("RemoteManagers") or []}
    return bool(managers & {swarm_lib.normalise_addr(a) for a in remote_addrs})


def join(params: dict, check_mode: bool) -> dict:
    """Join one engine (or make it leave) as the options say: the module's result for it, with its diff."""
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
    if not check_mode:
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
    return {"actions": actions, "node_id": local.get("NodeID", "") if after == "active" else "",
            "local_state": after if check_mode else local.get("LocalNodeState", ""),
            "diff": {"before": {"local_state": state}, "after": {"local_state": after}}}


def join_engines(params: dict, check_mode: bool) -> dict:
    """join() on every item of engines at once, each checked first; an engine that fails has its error instead."""
    engines = [dict(engine, advertise_addr=engine["advertise_addr"] or params["advertise_addr"])
               for engine in params["engines"]]
    for engine in engines:
        with named_errors(f"engines ({engine['name']})"):
            swarm_lib.check_join_options({**params, **engine}, check_mode)
    return each_engine(params, engines, lambda options: join(options, check_mode))


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
            engines=dict(type="list", elements="dict", options=dict(ENGINE_SPEC, advertise_addr=dict(type="str"))),
        ),
        required_if=[("state", "present", ["remote_addrs", "join_token"])],
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_join"):
        if params["engines"] is not None:
            nodes = join_engines(params, module.check_mode)
            diffs = {name: node.pop("diff") for name, node in nodes.items() if "error" not in node}
            module.exit_json(changed=any(nodes[name]["actions"] for name in diffs), engines=nodes,
                             diff={side: {name: diff[side] for name, diff in diffs.items()}
                                   for side in ("before", "after")})
        swarm_lib.check_join_options(params, module.check_mode)
        node = join(params, module.check_mode)
        module.exit_json(changed=bool(node["actions"]), **node)


if __name__ == "__main__":
    main()
