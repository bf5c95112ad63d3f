#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: machine
short_description: Create, start, stop and remove docker-machine machines, or lab machines that look the same
version_added: 0.1.0
description:
  - Manages machines in a docker-machine store, the way C(docker-machine create/start/stop/rm) does.
  - Several names in O(name) are brought to O(state) in one call; lab machines are made and started in parallel
    (their engines boot side by side), other drivers one after the other (C(docker-machine create) of two
    VirtualBox machines at once can race for the host-only network).
  - With O(driver=lab) (the default) the machine is a container on a local Docker engine running its own
    C(dockerd) (TLS on port 2376, certificates made as docker-machine makes them) and C(sshd) (a generated key),
    on a dedicated network at a fixed address, with C(/var/lib/docker) on its own volume. Its record in the store
    has docker-machine's format, so the P(swarmops.ha.docker_machine#inventory) inventory and the roles cannot
    tell it from a VirtualBox machine.
  - With any other driver the module drives the C(docker-machine) binary, which must be on the controller's PATH.
  - Runs on the controller.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description:
      - Machine name, as in C(docker-machine ls); also the lab machine's host name.
      - A list of names manages them all in one call.
    type: list
    elements: str
    required: true
  driver:
    description:
      - V(lab) for the built-in driver; any other value is passed to C(docker-machine create --driver).
    type: str
    default: lab
  state:
    description:
      - V(present) creates the machine (running, as C(docker-machine create) leaves it) and leaves an existing one
        as it is; V(started) also starts a stopped one; V(stopped) stops it, keeping its disk;
        V(restarted) restarts it; V(absent) removes it, its disk and its store record.
    type: str
    choices: [present, absent, started, stopped, restarted]
    default: started
  storage_path:
    description:
      - The docker-machine store. Defaults to E(MACHINE_STORAGE_PATH), else C(~/.docker/machine).
    type: path
  engine_labels:
    description:
      - Engine labels (C(key=value)) set when the machine is created (C(--engine-label)).
      - The inventory reads C(swarm.role=manager) or C(swarm.role=worker) from them.
    type: list
    elements: str
    default: []
  driver_options:
    description:
      - For O(driver=lab), a dictionary with any of C(network) (default C(swarmops-lab)),
        C(subnet) (default C(172.30.99.0/24)), C(ip) (a fixed address; by default the lowest free one from .11),
        C(kind) (V(node), docker-machine's kind, an engine with TLS on 2376 made with the machine; or V(bare), an
        ordinary server with systemd, sshd and Python but no Docker, which the inventory gives no C(docker_host), so
        the roles install the engine and run the modules on it), C(release) (the Debian release, V(bullseye),
        V(bookworm) (default) or V(trixie)), C(image) (machine image tag, default
        C(swarmops/lab-<kind>:<release>)), C(base_image) (what the machine image is built on; default
        C(debian:{release}-slim), C({release}) standing for the release, and where it cannot be pulled a Debian base
        is made with C(debootstrap)), C(storage_driver), C(docker_host) (the engine that hosts the lab; default the
        local one),
        C(btrfs_disk) (a size such as V(3G), which puts the engine's C(/var/lib/docker) on a btrfs file system in a
        loop file of that size, for drivers and per-container disk limits that need it; there the engine picks the
        btrfs driver by itself unless C(storage_driver) names another), C(preload_images) (names of images on the
        engine that hosts the lab; a new V(node) machine without C(btrfs_disk) or C(storage_driver) starts with
        those of them that engine has, copied from a seed volume made once per machine image and set of images,
        instead of each engine unpacking them; P(swarmops.ha.lab_image#module) loads what a machine still lacks).
      - "For other drivers, flags of C(docker-machine create) without the leading dashes, for example
        C(virtualbox-memory: 2048); a value of V(true) passes the flag alone."
    type: dict
    default: {}
  driver_options_by_name:
    description:
      - "Options of single machines, by name, laid over O(driver_options) for that machine (for example
        C(node5: {btrfs_disk: 3G}), or a fixed C(ip)). Every key must be one of O(name)."
    type: dict
    default: {}
  wait_timeout:
    description: Seconds to wait for a started machine's SSH and engine ports to open.
    type: int
    default: 90
notes:
  - Check mode reports what would change and changes nothing.
  - "The seed volumes of O(driver_options) C(preload_images) (label C(swarmops.lab.seed)) stay on the engine that
    hosts the lab, as the built images do: a seed is remade when the machine image or an image changes, and
    C(docker volume rm) removes one."
  - The lab driver needs the Docker SDK for Python on the controller and a Docker engine it can reach; making a
    base image with C(debootstrap) needs root.
"""

EXAMPLES = r"""
- name: Create the five machines of the guide as lab machines, in parallel
  swarmops.ha.machine:
    name: [node1, node2, node3, node4, node5]
    driver_options_by_name:
      node5: {btrfs_disk: 3G}

- name: Take the leader away, as docker-machine stop does
  swarmops.ha.machine:
    name: node1
    state: stopped

- name: A VirtualBox machine through docker-machine
  swarmops.ha.machine:
    name: node1
    driver: virtualbox
    engine_labels: [swarm.role=manager]
    driver_options:
      virtualbox-memory: 2048
"""

RETURN = r"""
machine:
  description: The machine after the change (in check mode, as it would be).
  returned: when O(name) is one name
  type: dict
  contains:
    name: {description: Machine name., type: str, sample: node1}
    driver: {description: Driver name., type: str, sample: lab}
    state: {description: docker-machine's word for the state., type: str, sample: Running}
    ip: {description: The machine's address., type: str, sample: 172.30.99.11}
    url: {description: "The engine URL, as C(docker-machine url) prints it.", type: str, sample: tcp://172.30.99.11:2376}
    cert_path: {description: "Folder with the engine's TLS files (E(DOCKER_CERT_PATH)).", type: str}
    ssh_user: {description: SSH user., type: str, sample: docker}
    ssh_port: {description: SSH port., type: int, sample: 22}
    ssh_key_path: {description: SSH private key., type: str}
machines:
  description:
    - Every machine of O(name), in its order, as RV(machine) describes one, each with the RV(actions) done to it.
  returned: always
  type: list
  elements: dict
  sample: [{name: node1, state: Running, ip: 172.30.99.11, actions: []}]
actions:
  description:
    - What was done (or would be, in check mode), in order.
    - "With several names, each action is preceded by the machine's name (V(node2: start))."
  returned: always
  type: list
  elements: str
  sample: [create, create network, build node image, preload images, write store, start]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import lab
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors
from ansible_collections.swarmops.ha.plugins.module_utils.machines import converge_all


def machine_options(params: dict) -> dict:
    """Each machine's driver options: driver_options with its entry of driver_options_by_name laid over them."""
    names, by_name = params["name"], params["driver_options_by_name"]
    strangers = sorted(set(by_name) - set(names))
    if strangers:
        raise SwarmopsError(f"driver_options_by_name: {', '.join(strangers)} not among name ({', '.join(names)})")
    if len(names) > 1 and "ip" in params["driver_options"]:
        raise SwarmopsError(f"driver_options.ip: one address for {len(names)} machines; give each its own in "
                            f"driver_options_by_name")
    options = {name: {**params["driver_options"], **(by_name.get(name) or {})} for name in names}
    for name in names:
        lab.check_machine_params({**params, "name": name, "driver_options": options[name]})
    return options


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True),
            driver=dict(type="str", default="lab"),
            state=dict(type="str", default="started", choices=["present", "absent", "started", "stopped", "restarted"]),
            storage_path=dict(type="path"),
            engine_labels=dict(type="list", elements="str", default=[]),
            driver_options=dict(type="dict", default={}),
            driver_options_by_name=dict(type="dict", default={}),
            wait_timeout=dict(type="int", default=90),
        ),
        supports_check_mode=True,
    )
    params = module.params
    names = params["name"]
    store = store_lib.resolve_storage_path(params["storage_path"])
    with module_errors(module):
        if not names or len(set(names)) != len(names):
            raise SwarmopsError(f"name: {names!r} must name each machine once, and at least one")
        results = converge_all(params, store, machine_options(params), module.check_mode)
    machines = [{**result["machine"], "actions": result["actions"]} for result in results]
    if len(results) == 1:
        actions = results[0]["actions"]
        diff = {"before": {"state": results[0]["before"]}, "after": {"state": results[0]["after"]}}
        single = {"machine": results[0]["machine"]}
    else:
        actions = [f"{result['machine']['name']}: {action}" for result in results for action in result["actions"]]
        diff = {"before": {result["machine"]["name"]: result["before"] for result in results},
                "after": {result["machine"]["name"]: result["after"] for result in results}}
        single = {}
    module.exit_json(changed=any(result["changed"] for result in results), actions=actions, machines=machines,
                     diff=diff, **single)


if __name__ == "__main__":
    main()
