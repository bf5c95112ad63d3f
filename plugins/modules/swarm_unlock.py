#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_unlock
short_description: Unlock an autolocked swarm manager after its engine restarted
version_added: 0.1.0
description:
  - C(docker swarm unlock) made declarative. With autolock on (O(swarmops.ha.swarm_init#module:autolock)), a
    manager whose engine restarts keeps its raft keys encrypted and stays C(locked) until it is given the unlock
    key; this module gives it, and waits until the node is active again (and, for a manager, in contact with the
    swarm's managers).
  - A node that is not locked is left as it is (V(ok)).
  - The key is never shown in results or logs; a wrong key is refused by the engine and reported without it.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_only
options:
  unlock_key:
    description: The swarm's unlock key (C(SWMKEY-1-...)), from a vault.
    type: str
    required: true
  wait_timeout:
    description: Seconds to wait for the node to be active after the unlock.
    type: int
    default: 60
notes:
  - Check mode reports whether the node is locked and changes nothing.
"""

EXAMPLES = r"""
- name: Unlock every manager whose engine restarted
  swarmops.ha.swarm_unlock:
    docker_host: "{{ docker_host }}"
    unlock_key: "{{ vault_swarm_unlock_key }}"
  delegate_to: localhost
"""

RETURN = r"""
state:
  description: The node's swarm state after the module (C(active), or C(locked) in check mode).
  returned: success
  type: str
  sample: active
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors

KEY = re.compile(r"^SWMKEY-1-[A-Za-z0-9+/=]+$")


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            unlock_key=dict(type="str", required=True, no_log=True),
            wait_timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_unlock"):
        if not KEY.match(params["unlock_key"].strip()):
            raise SwarmopsError("unlock_key: not an unlock key (accepted: SWMKEY-1-... as `docker swarm unlock-key` "
                                "prints it)")
        api = swarm_lib.SwarmAPI(connect(params))
        state = api.local().get("LocalNodeState", "inactive")
        if state != "locked" or module.check_mode:
            module.exit_json(changed=state == "locked", state=state)
        api.unlock(params["unlock_key"].strip())
        swarm_lib.wait_for(lambda: api.local().get("LocalNodeState") == "active"
                           and (not api.local().get("ControlAvailable") or api.raw_nodes()),
                           params["wait_timeout"], "the node to be active after the unlock")
        module.exit_json(changed=True, state="active")


if __name__ == "__main__":
    main()
