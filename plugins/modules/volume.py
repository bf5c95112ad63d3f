#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Create or remove a named volume on one engine, with its driver and driver options
version_added: 0.1.0
description:
  - C(docker volume create --driver --opt --label) made declarative, for the guide's named volumes and volume-driver
    volumes (for example the local driver mounting an NFS export).
  - A volume's driver and options cannot change once it exists. A volume that differs is an error naming what
    differs, unless O(recreate=true), which removes and creates it again (its data is lost; a volume in use is refused).
  - Volumes are per engine. Run it for every node that needs the volume, or let a service mount with
    C(driver) and C(driver_opts) create it where the tasks run.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description: The volume's name.
    type: str
    required: true
  state:
    description: V(present) creates the volume when missing; V(absent) removes it (refused while a container uses it).
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: Volume driver.
    type: str
    default: local
  driver_opts:
    description: Driver options (values are strings), for example C(type), C(o) and C(device) of the local driver.
    type: dict
    default: {}
  labels:
    description: Volume labels.
    type: dict
    default: {}
  recreate:
    description: Remove and create the volume again when its driver, options or labels differ.
    type: bool
    default: false
notes:
  - Check mode reports the change and makes none; diff shows the driver, options and labels.
"""

EXAMPLES = r"""
- name: The guide's named volume on every node
  swarmops.ha.volume:
    docker_host: "{{ docker_host }}"
    name: app-data
  delegate_to: localhost

- name: A local-driver volume backed by an NFS export
  swarmops.ha.volume:
    name: shared
    driver_opts:
      type: nfs
      o: addr=192.0.2.20,rw,nfsvers=4
      device: ":/exports/shared"
"""

RETURN = r"""
volume:
  description: The volume after the change (as it would be in check mode); absent when removed.
  returned: when state is present
  type: dict
  sample:
    name: app-data
    driver: local
    driver_opts: {}
    labels: {}
    mountpoint: /var/lib/docker/volumes/app-data/_data
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors
from ansible_collections.swarmops.ha.plugins.module_utils.volumes import VolumeAPI, described


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            driver=dict(type="str", default="local"),
            driver_opts=dict(type="dict", default={}),
            labels=dict(type="dict", default={}),
            recreate=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, f"volume {params['name']}"):
        validate.object_name("name", params["name"], "a volume name", 255)
        wanted = {"driver": params["driver"],
                  "driver_opts": {key: str(value) for key, value in params["driver_opts"].items()},
                  "labels": {key: str(value) for key, value in params["labels"].items()}}
        volumes = VolumeAPI(connect(params))
        current = volumes.get(params["name"])
        before = described(current)
        after = {} if params["state"] == "absent" else wanted
        differs = current is not None and params["state"] == "present" and before != wanted
        if differs and not params["recreate"]:
            changed_keys = ", ".join(key for key in wanted if before[key] != wanted[key])
            raise SwarmopsError(f"{changed_keys}: the volume exists with {before}; a volume cannot change, "
                                f"set recreate: true to remove it (and its data) and create it as wanted")
        changed = before != after
        made = current
        if changed and not module.check_mode:
            if current is not None:
                volumes.remove(params["name"])
            made = volumes.create(params["name"], wanted) if params["state"] == "present" else None
        result = dict(changed=changed, diff={"before": before, "after": after})
        if params["state"] == "present":
            result["volume"] = {"name": params["name"], **wanted, "mountpoint": (made or {}).get("Mountpoint", "")}
        module.exit_json(**result)


if __name__ == "__main__":
    main()
