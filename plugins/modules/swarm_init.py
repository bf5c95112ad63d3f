#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_init
short_description: Create a swarm on its first manager, or keep the existing one's settings
version_added: 0.1.0
description:
  - C(docker swarm init) made idempotent. On an engine that is in no swarm, creates one with this engine as leader.
    On a manager of an existing swarm, changes nothing but the settings given here that differ (shown in diff).
  - Returns no secret unless asked (the join tokens with O(return_join_tokens=true), the unlock key with
    O(return_unlock_key=true)). To read settings only, use M(swarmops.ha.swarm_info).
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  advertise_addr:
    description:
      - Address other nodes reach this manager at (C(--advertise-addr)); the inventory's C(swarm_advertise_addr).
    type: str
  listen_addr:
    description: Address the manager listens on for swarm traffic.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description: Address for data (overlay VXLAN) traffic, when it differs from O(advertise_addr).
    type: str
  default_addr_pool:
    description: Address pools for overlay networks, for example V(10.20.0.0/16). Only used when creating the swarm.
    type: list
    elements: str
  subnet_size:
    description: Prefix length of each overlay network taken from O(default_addr_pool).
    type: int
  autolock:
    description: Encrypt the managers' raft keys at rest; an engine restart then needs the unlock key.
    type: bool
  dispatcher_heartbeat:
    description:
      - How often nodes report to the dispatcher (seconds, or V(5s), V(1m)); shorter detects a lost node sooner.
    type: raw
  task_history_limit:
    description: Finished tasks kept per slot.
    type: int
  cert_expiry:
    description: Validity of node certificates (seconds, or V(2160h), V(90d)).
    type: raw
  snapshot_interval:
    description: Raft log entries between snapshots.
    type: int
  rotate_worker_token:
    description: Make a new worker join token (the old one stops working).
    type: bool
    default: false
  rotate_manager_token:
    description: Make a new manager join token.
    type: bool
    default: false
  rotate_ca:
    description:
      - Replace the swarm's root CA (C(docker swarm ca --rotate)) and wait until every node has a certificate
        from the new one, up to O(ca_rotation_timeout). A rotation is a change, made on each run that asks.
      - Nodes that are down at the time get their certificate when they come back.
    type: bool
    default: false
  ca_rotation_timeout:
    description: Seconds to wait for the nodes to move to the new CA.
    type: int
    default: 180
  return_join_tokens:
    description:
      - Return the join tokens (RV(join_tokens)). They let any machine join the swarm.
      - "Ansible hides them: on a task with C(no_log: true) the whole result is hidden and the registered variable
        holds the tokens; on any other task the tokens are masked in the result too, with a warning."
    type: bool
    default: false
  return_unlock_key:
    description:
      - Return the unlock key (RV(unlock_key)) when autolock is on; hidden as O(return_join_tokens) says.
    type: bool
    default: false
notes:
  - Settings not given are left as the swarm has them.
  - Check mode reports what would change and changes nothing.
"""

EXAMPLES = r"""
- name: Create the swarm on node1, as `docker swarm init --advertise-addr` does
  swarmops.ha.swarm_init:
    docker_host: "{{ docker_host }}"
    validate_certs: true
    ca_path: "{{ ca_path }}"
    client_cert: "{{ client_cert }}"
    client_key: "{{ client_key }}"
    advertise_addr: "{{ swarm_advertise_addr }}"
    dispatcher_heartbeat: 2s
    return_join_tokens: true
  register: swarm
  no_log: true  # the tokens reach the registered variable only from a no_log task
"""

RETURN = r"""
swarm_id:
  description: The swarm's id (empty in check mode before the swarm exists).
  returned: always
  type: str
node_id:
  description: This manager's node id.
  returned: always
  type: str
join_tokens:
  description: Join tokens, C(worker) and C(manager). Secret.
  returned: with O(return_join_tokens=true), when the swarm exists
  type: dict
unlock_key:
  description: The key that unlocks an autolocked manager. Secret; keep it in a vault.
  returned: with O(return_unlock_key=true), when autolock is on
  type: str
settings:
  description: The managed settings as the swarm has them now (durations in nanoseconds).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            advertise_addr=dict(type="str"),
            listen_addr=dict(type="str", default="0.0.0.0:2377"),
            data_path_addr=dict(type="str"),
            default_addr_pool=dict(type="list", elements="str"),
            subnet_size=dict(type="int"),
            autolock=dict(type="bool"),
            dispatcher_heartbeat=dict(type="raw"),
            task_history_limit=dict(type="int"),
            cert_expiry=dict(type="raw"),
            snapshot_interval=dict(type="int"),
            rotate_worker_token=dict(type="bool", default=False, no_log=False),
            rotate_manager_token=dict(type="bool", default=False, no_log=False),
            rotate_ca=dict(type="bool", default=False),
            ca_rotation_timeout=dict(type="int", default=180),
            return_join_tokens=dict(type="bool", default=False, no_log=False),
            return_unlock_key=dict(type="bool", default=False, no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_init"):
        swarm_lib.check_init_options(params)
        wanted = swarm_lib.wanted_settings(params)
        api = swarm_lib.SwarmAPI(connect(params))
        local = api.unlocked_local()
        state = local.get("LocalNodeState")
        if state == "active" and not local.get("ControlAvailable"):
            raise SwarmopsError("this engine is a worker of a swarm; point swarm_init at a manager")
        created = state != "active"
        if created:
            before = {}
            if not module.check_mode:
                api.create(params["advertise_addr"], params["listen_addr"], wanted,
                           default_addr_pool=params["default_addr_pool"], subnet_size=params["subnet_size"],
                           data_path_addr=params["data_path_addr"])
            changes = wanted
        else:
            current = api.swarm()
            for note in swarm_lib.creation_only_notes(params, local, current):
                module.warn(note)
            before = swarm_lib.spec_settings(current["Spec"], wanted)
            changes = {k: v for k, v in wanted.items() if before[k] != v}
            rotate = params["rotate_worker_token"] or params["rotate_manager_token"]
            if (changes or rotate or params["rotate_ca"]) and not module.check_mode:
                spec = swarm_lib.apply_settings(current["Spec"], changes)
                if params["rotate_ca"]:
                    ca_config = spec.setdefault("CAConfig", {})
                    ca_config["ForceRotate"] = (ca_config.get("ForceRotate") or 0) + 1
                api.update(current, spec, rotate_worker_token=params["rotate_worker_token"],
                           rotate_manager_token=params["rotate_manager_token"])
                if params["rotate_ca"]:
                    swarm_lib.wait_for_ca_rotation(api, current.get("TLSInfo", {}).get("TrustRoot"),
                                                   params["ca_rotation_timeout"])
            changes = {**changes, **({"rotated_tokens": True} if rotate else {}),
                       **({"rotated_ca": True} if params["rotate_ca"] else {})}
        result = {"swarm_id": "", "node_id": local.get("NodeID", ""), "settings": {**before, **wanted}}
        if not module.check_mode or not created:
            info = api.swarm()
            result.update(swarm_id=info["ID"], node_id=api.local().get("NodeID", ""),
                          settings=swarm_lib.spec_settings(info["Spec"], swarm_lib.SWARM_SETTINGS))
            secrets = swarm_lib.requested_secrets(info, api.unlock_key, params["return_join_tokens"],
                                                  params["return_unlock_key"])
            swarm_lib.hide_secrets(module, secrets)
            result.update(secrets)
        after = {**before, **{k: v for k, v in changes.items() if k in swarm_lib.SWARM_SETTINGS}}
        module.exit_json(changed=created or bool(changes), created=created,
                         diff={"before": {"swarm": "active" if not created else "none", **before},
                               "after": {"swarm": "active", **after}},
                         **result)


if __name__ == "__main__":
    main()
