#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gluster_volume
short_description: A started GlusterFS replica volume over the given bricks, its peers probed first
version_added: 0.1.0
description:
  - Runs on one of the brick nodes, over SSH, with the C(gluster) command of C(glusterfs-server) and C(glusterd)
    running on every brick node.
  - Probes the brick hosts that are not yet peers, waits until they are connected, creates the volume with
    C(replica) copies over O(bricks) and starts it. A volume that exists with other bricks or another replica count
    is an error naming the difference (growing a volume is C(gluster volume add-brick), not done here).
  - The distributed volume the guide's HA services keep their data on, mounted at the same path on every node by
    the P(swarmops.ha.volumes#role) role.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
options:
  name:
    description: The volume's name.
    type: str
    required: true
  bricks:
    description:
      - Bricks as C(host:/path), one per brick node, in replica order; C(host) is the address peers reach the node
        at. Required with O(state=started).
    type: list
    elements: str
  replica:
    description: Copies of every file; the number of bricks by default.
    type: int
  state:
    description: V(started) creates the volume when missing and starts it; V(absent) stops and deletes it
      (the bricks' files stay on disk).
    type: str
    choices: [started, absent]
    default: started
  force:
    description: Create bricks on the root file system too (C(gluster volume create ... force)), as lab machines need.
    type: bool
    default: false
  peer_timeout:
    description: Seconds to wait for probed peers to be connected.
    type: int
    default: 60
notes:
  - Check mode reports the peers it would probe and the volume it would create or start, and changes nothing.
requirements:
  - glusterfs-server on every brick node, glusterd running
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: Diff shows the volume when it is created or started; peers probed are in RV(probed).
"""

EXAMPLES = r"""
- name: A replica-3 volume over the three managers
  swarmops.ha.gluster_volume:
    name: swarmops
    bricks: >-
      {{ groups['swarm_managers'] | map('extract', hostvars, 'swarm_advertise_addr')
         | map('regex_replace', '$', ':/srv/gluster/swarmops') | list }}
    force: true
  run_once: true
  become: true
"""

RETURN = r"""
volume:
  description: The volume after the change (as it would be in check mode).
  returned: when state is started
  type: dict
  sample: {"name": "swarmops", "replica": 3, "status": "Started", "bricks": ["192.0.2.11:/srv/gluster/swarmops"]}
probed:
  description: Brick hosts that were (or would be) probed as new peers.
  returned: always
  type: list
  elements: str
"""

import socket
import time
from xml.etree import ElementTree

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


class GlusterError(SwarmopsError):
    """gluster refused, or the bricks and replica asked for do not fit."""


def parse_brick(brick: str) -> tuple[str, str]:
    host, sep, path = brick.partition(":")
    if not sep or not host or not path.startswith("/"):
        raise GlusterError(f"bricks: {brick!r} is not host:/absolute/path (example: 192.0.2.11:/srv/gluster/vol)")
    return host, path


def is_local(address: str) -> bool:
    """The address is one of this node's own: a socket can bind to it."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
        return True
    except OSError:
        return False


def volume_from_xml(text: str) -> dict | None:
    root = ElementTree.fromstring(text)
    volume = root.find("./volInfo/volumes/volume")
    if volume is None:
        return None
    return {"name": volume.findtext("name"), "status": volume.findtext("statusStr"),
            "replica": int(volume.findtext("replicaCount") or 1),
            "bricks": [brick.findtext("name") for brick in volume.findall("./bricks/brick")]}


def peers_from_pool(text: str) -> dict:
    """`gluster pool list` -> {hostname: state} for the other peers."""
    peers = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[1] != "localhost":
            peers[parts[1]] = parts[2]
    return peers


class Gluster:
    def __init__(self, module):
        self.module = module
        self.binary = module.get_bin_path("gluster", required=True)

    def run(self, *args, check=True) -> tuple[int, str]:
        rc, out, err = self.module.run_command([self.binary, "--mode=script", *args])
        if check and rc != 0:
            raise GlusterError(f"gluster {' '.join(args)}: {(err or out).strip()}")
        return rc, out

    def volume(self, name: str) -> dict | None:
        dummy, out = self.run("volume", "info", name, "--xml", check=False)
        return volume_from_xml(out) if out.strip().startswith("<") else None

    def peers(self) -> dict:
        return peers_from_pool(self.run("pool", "list")[1])

    def wait_connected(self, hosts: list[str], timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while True:
            peers = self.peers()
            waiting = [host for host in hosts if peers.get(host) != "Connected"]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise GlusterError(f"peers {', '.join(waiting)} not connected after {timeout}s: {peers}")
            time.sleep(1)

    def create(self, name: str, args: list[str], timeout: int) -> None:
        """Create the volume. A peer this node sees connected may not see a third one yet, and the create's staging
        fails on it ("Host ... not connected"): that is retried until the peers' timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.run("volume", "create", name, *args)
                return
            except GlusterError as exc:
                if "not connected" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(1)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            bricks=dict(type="list", elements="str"),
            replica=dict(type="int"),
            state=dict(type="str", default="started", choices=["started", "absent"]),
            force=dict(type="bool", default=False),
            peer_timeout=dict(type="int", default=60),
        ),
        required_if=[("state", "started", ["bricks"])],
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module):
        bricks = params["bricks"] or []
        hosts = [parse_brick(brick)[0] for brick in bricks]
        replica = params["replica"] or len(bricks)
        if params["state"] == "started" and (replica < 2 or len(bricks) % replica):
            raise GlusterError(f"replica: {replica} does not fit {len(bricks)} bricks; a replica volume needs 2 or "
                               f"more copies and a brick count that is a multiple of them")
        wanted = {"name": params["name"], "status": "Started", "replica": replica, "bricks": bricks}
        gluster = Gluster(module)
        if module.check_mode and gluster.run("pool", "list", check=False)[0] != 0:
            # glusterd is not running yet (in check mode the role's service task only reports it would start it).
            module.warn("glusterd does not answer; check mode reports what a node without peers or volumes needs")
            after = wanted if params["state"] == "started" else {}
            module.exit_json(changed=bool(after), probed=[host for host in dict.fromkeys(hosts) if not is_local(host)],
                             volume=after, diff={"before": {}, "after": after})
        current = gluster.volume(params["name"])
        before = current or {}
        if params["state"] == "absent":
            if current and not module.check_mode:
                if current["status"] == "Started":
                    gluster.run("volume", "stop", params["name"])
                gluster.run("volume", "delete", params["name"])
            module.exit_json(changed=bool(current), probed=[], diff={"before": before, "after": {}})

        if current and (current["bricks"] != bricks or current["replica"] != replica):
            raise GlusterError(f"bricks: volume {params['name']} exists with replica {current['replica']} over "
                               f"{current['bricks']}, not replica {replica} over {bricks}; change it with "
                               f"gluster volume add-brick/replace-brick")
        # An existing volume's brick hosts are peers already (the pool may know one by another name, and one may be
        # down): only a volume still to be made has peers to probe.
        probe = []
        if not current:
            peers = gluster.peers()
            probe = [host for host in dict.fromkeys(hosts) if host not in peers and not is_local(host)]
        changed = bool(probe) or before != wanted
        if changed and not module.check_mode:
            for host in probe:
                gluster.run("peer", "probe", host)
            gluster.wait_connected([host for host in dict.fromkeys(hosts) if not is_local(host)],
                                   params["peer_timeout"])
            if current is None:
                gluster.create(params["name"], ["replica", str(replica), "transport", "tcp", *bricks,
                                                *(["force"] if params["force"] else [])], params["peer_timeout"])
            if (current or {}).get("status") != "Started":
                gluster.run("volume", "start", params["name"])
        module.exit_json(changed=changed, probed=probe, volume=wanted, diff={"before": before, "after": wanted})


if __name__ == "__main__":
    main()
