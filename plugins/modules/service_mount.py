#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_mount
short_description: Add, replace or remove mounts of an existing swarm service
version_added: 0.1.0
description:
  - The guide's C(docker service update --mount-add / --mount-rm), declarative. Mounts are matched by target.
  - V(present) adds the given mounts and replaces those with the same target, keeping the others; V(absent)
    removes the mounts at the given targets; V(exact) makes the given mounts the only ones.
  - The service is updated only when its mounts change (its tasks are then replaced); diff shows the mounts
    before and after.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.mount
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  service:
    description: Name of the service.
    type: str
    required: true
  state:
    description: V(present), V(absent) or V(exact), as above.
    type: str
    choices: [present, absent, exact]
    default: present
  mounts:
    required: true
  wait:
    description: Wait until every task of the updated service runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 120
notes:
  - Point the module at a manager.
  - With O(state=absent) only each mount's O(mounts[].target) is read.
"""

EXAMPLES = r"""
- name: Give the web service a named volume and a tmpfs, as the guide's --mount does
  swarmops.ha.service_mount:
    service: web
    mounts:
      - {type: volume, source: web-data, target: /usr/share/nginx/html}
      - {type: tmpfs, target: /cache, tmpfs_size: 64M, tmpfs_mode: "1770"}

- name: Take the tmpfs away again
  swarmops.ha.service_mount:
    service: web
    state: absent
    mounts:
      - target: /cache
"""

RETURN = r"""
mounts:
  description: The service's mounts afterwards (as they would be in check mode), in the canonical form.
  returned: always
  type: list
  elements: dict
changes:
  description: Targets C(added), C(removed) and C(changed).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import mounts as mounts_lib
from ansible_collections.swarmops.ha.plugins.module_utils import services as service_lib
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            service=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent", "exact"]),
            mounts=dict(type="list", elements="dict", required=True, options=mounts_lib.MOUNT_OPTIONS),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=120),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "service_mount"):
        validate.object_name("service", params["service"], "a service name")
        validate.integer("wait_timeout", params["wait_timeout"], 0, what="a number of seconds")
        if params["state"] == "absent":
            given = mounts_lib.normalise([{"target": m["target"]} for m in params["mounts"]])
        else:
            given = mounts_lib.normalise(params["mounts"])
        client = connect(params)
        api = swarm_lib.SwarmAPI(client)
        api.require_manager()
        services = service_lib.ServiceAPI(client)
        service = services.get(params["service"])
        if service is None:
            raise SwarmopsError(f"service: {params['service']!r} is not a service of this swarm")
        current = service_lib.actual_mounts(service["Spec"])
        after = mounts_lib.merge(current, given, params["state"])
        changes = mounts_lib.diff(current, after)
        changed = any(changes.values())
        if changed and not module.check_mode:
            spec = service_lib.apply(service["Spec"], {"mounts": after})
            services.write(service, spec, params["wait_timeout"] if params["wait"] else None)
        module.exit_json(changed=changed, mounts=after, changes=changes,
                         diff={"before": {"mounts": current}, "after": {"mounts": after}})


if __name__ == "__main__":
    main()
