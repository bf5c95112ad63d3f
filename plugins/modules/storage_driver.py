#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_driver
short_description: Switch a node's Docker storage driver and its options, with a preflight and a rollback
version_added: 0.1.0
description:
  - Runs on the node (over SSH, with C(become)). Sets the engine's storage driver and daemon-wide storage options
    in C(/etc/docker/daemon.json) (or boot2docker's profile), restarts the engine and waits until it answers with
    the new driver.
  - Before anything changes, a preflight checks that the kernel has the driver's file system, that the data root's
    file system can carry the driver, and that the options belong to the driver and can be honoured (a size option
    of overlay2 or vfs needs xfs mounted with pquota). A node that lacks something fails with what it lacks, and the
    engine is not restarted.
  - The settings file is backed up first. When the engine does not come back with the new driver within
    O(wait_timeout), the backup is restored, the engine restarted on it, and the module fails saying so.
  - Images and containers made under the old driver are not visible under the new one (they stay on disk); the
    result says when images must be provided again (P(swarmops.ha.storage#role) does it).
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_and_diff
options:
  driver:
    description: The storage driver, for example V(overlay2), V(btrfs), V(zfs), V(devicemapper), V(vfs).
    type: str
    required: true
  options:
    description: Daemon-wide storage options (C(storage-opts)), each C(key=value), for example
      C(btrfs.min_space=1G) or C(overlay2.size=10G). The list replaces the current one.
    type: list
    elements: str
    default: []
  settings:
    description: V(daemon_json) edits C(storage-driver) and C(storage-opts) in O(path) (default
      C(/etc/docker/daemon.json)); V(boot2docker_profile) edits C(DOCKER_STORAGE) and the C(--storage-opt) flags of
      C(EXTRA_ARGS) in O(path) (default C(/var/lib/boot2docker/profile)).
    type: str
    choices: [daemon_json, boot2docker_profile]
    default: daemon_json
  path:
    description: The settings file; the default of O(settings) when not given.
    type: path
  service:
    description: The engine's service name, restarted with C(systemctl) where systemd runs, else with C(service).
    type: str
    default: docker
  wait_timeout:
    description: Seconds to wait for the engine to answer with the new driver before rolling back.
    type: int
    default: 90
  btrfs_quota:
    description:
      - With O(driver=btrfs), turn on the quota groups of the data root's file system and wait for their scan, so
        that C(--storage-opt size=) limits hold from the first container; and rescan them when they are marked
        inconsistent, which stops every limit until a rescan.
      - Docker turns them on at the first container that asks for a size, without waiting for the scan. On Linux 6
        that scan races the container, the kernel marks the groups inconsistent when the container's subvolume is
        dropped, and later containers write past their limit.
      - Docker's btrfs driver turns the quota groups off whenever the engine stops. The module turns them on again
        after its own restarts (the rollback's too); after any other restart of the engine (a reboot, an upgrade)
        they stay off until the next run.
      - Needs the C(btrfs) command (btrfs-progs) on the node.
    type: bool
    default: true
  preflight:
    description: Run the preflight. Turning it off lets a switch the preflight would refuse reach the engine, whose
      failure is then rolled back.
    type: bool
    default: true
notes:
  - Check mode runs the preflight, reports the change and the diff of the settings file, and changes nothing.
  - When only the quota groups need work, the engine is not restarted.
  - On a swarm node, drain it first and make it active after (P(swarmops.ha.storage#role) does both).
requirements:
  - the docker CLI on the node
"""

EXAMPLES = r"""
- name: Put node4's engine on btrfs, with per-container disk limits
  swarmops.ha.storage_driver:
    driver: btrfs
  become: true

- name: overlay2 with a default size limit per container (data root on xfs with pquota)
  swarmops.ha.storage_driver:
    driver: overlay2
    options: [overlay2.size=20G]
  become: true
"""

RETURN = r"""
previous_driver:
  description: The driver the engine ran before.
  returned: always
  type: str
  sample: overlay2
driver:
  description: The driver the engine runs now (the wanted one in check mode).
  returned: always
  type: str
  sample: btrfs
images_reload_needed:
  description: The driver changed, so the images made under the old one are not visible; provide them again.
  returned: always
  type: bool
per_container_size:
  description: The driver with these options honours C(--storage-opt size=) per container.
  returned: always
  type: bool
btrfs_quota:
  description: What the run did (in check mode, would do) to the data root's quota groups, V(kept), V(turned_on) or
    V(rescanned).
  returned: when O(driver=btrfs) and O(btrfs_quota) is true
  type: str
  sample: turned_on
backup:
  description: Where the previous settings were saved (absent when nothing changed).
  returned: changed
  type: str
"""

import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import storage
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors

DEFAULT_PATHS = {"daemon_json": "/etc/docker/daemon.json", "boot2docker_profile": "/var/lib/boot2docker/profile"}
BACKUP_SUFFIX = ".swarmops-backup"
MISSING_MARK = "# swarmops.ha: this file did not exist\n"


class Node:
    def __init__(self, module):
        self.module = module
        self.docker = module.get_bin_path("docker", required=True)

    def info(self) -> dict | None:
        rc, out, dummy = self.module.run_command([self.docker, "info", "--format", "{{json .}}"])
        if rc != 0:
            return None
        info = json.loads(out)
        return info if info.get("Driver") else None

    def facts(self, root: str) -> dict:
        with open("/proc/filesystems") as handle:
            filesystems = {line.split()[-1] for line in handle if line.strip()}
        dummy, backing, dummy = self.module.run_command(["stat", "-f", "-c", "%T", root], check_rc=True)
        dummy, options, dummy = self.module.run_command(["findmnt", "-n", "-o", "OPTIONS", "--target", root],
                                                        check_rc=True)
        return {"filesystems": filesystems, "backing": backing.strip(), "root": root,
                "mount_options": options.strip().split(",") if options.strip() else []}

    def restart(self, service: str) -> None:
        if os.path.isdir("/run/systemd/system"):
            command = [self.module.get_bin_path("systemctl", required=True), "restart", service]
        else:
            command = [self.module.get_bin_path("service", required=True), service, "restart"]
        self.module.run_command(command)

    def why_it_failed(self, service: str) -> str:
        """The engine's last error line from its log, which says why it did not start."""
        if os.path.isdir("/run/systemd/system"):
            dummy, out, dummy = self.module.run_command(["journalctl", "-u", service, "-n", "30", "--no-pager", "-q"])
        else:
            out = "\n".join((read("/var/log/docker.log") or "").splitlines()[-30:])
        errors = [line.strip() for line in out.splitlines() if "level=error" in line or "level=fatal" in line
                  or line.startswith("failed to start daemon")]
        return errors[-1] if errors else ""

    def wait_driver(self, driver: str, timeout: int) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.info()
            if info is not None:
                return info if info["Driver"] == driver else None
            time.sleep(1)
        return None

    def btrfs_quota(self, root: str, act: bool) -> str:
        btrfs = self.module.get_bin_path("btrfs")
        if btrfs is None:
            raise storage.StorageError("btrfs_quota: needs the btrfs command (btrfs-progs) on this node; install it, "
                                       "or set btrfs_quota to false")
        rc, dummy, err = self.module.run_command([btrfs, "qgroup", "show", root])
        if rc != 0 and "quotas not enabled" not in err:
            raise storage.StorageError(f"btrfs_quota: `btrfs qgroup show {root}` failed: {err.strip()}")
        action = "turned_on" if rc != 0 else "rescanned" if "inconsistent" in err else "kept"
        if act and action == "turned_on":
            self.module.run_command([btrfs, "quota", "enable", root], check_rc=True)
            self.module.run_command([btrfs, "quota", "rescan", "-W", root], check_rc=True)
        elif act and action == "rescanned":
            self.module.run_command([btrfs, "quota", "rescan", "-w", root], check_rc=True)
        return action


def read(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.swarmops-new"
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def wanted_text(flavour: str, current: str | None, driver: str, options: list[str]) -> str:
    if flavour == "daemon_json":
        return storage.render_daemon_json(storage.daemon_json_wanted(storage.daemon_json_settings(current),
                                                                     driver, options))
    return storage.profile_wanted(current, driver, options)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            driver=dict(type="str", required=True),
            options=dict(type="list", elements="str", default=[]),
            settings=dict(type="str", default="daemon_json", choices=list(DEFAULT_PATHS)),
            path=dict(type="path"),
            service=dict(type="str", default="docker"),
            wait_timeout=dict(type="int", default=90),
            btrfs_quota=dict(type="bool", default=True),
            preflight=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"] or DEFAULT_PATHS[params["settings"]]
    node = Node(module)
    with module_errors(module):
        info = node.info()
        if info is None:
            raise storage.StorageError("the engine on this node does not answer `docker info`; start it first")
        granted = {"per_container_size": None}
        if params["preflight"]:
            granted = storage.preflight(params["driver"], params["options"], node.facts(info["DockerRootDir"]))
        current = read(path)
        if params["settings"] == "daemon_json":
            try:
                storage.daemon_json_settings(current)
            except ValueError as exc:
                raise storage.StorageError(f"path: {path} is not valid JSON ({exc}); fix it before switching") from exc
        wanted = wanted_text(params["settings"], current, params["driver"], params["options"])
        quota = None
        if params["driver"] == "btrfs" and params["btrfs_quota"]:
            quota = node.btrfs_quota(info["DockerRootDir"], act=False)

    previous = info["Driver"]
    switch = wanted != (current or "") or previous != params["driver"]
    if quota is not None and switch and previous == "btrfs":
        quota = "turned_on"  # the engine's btrfs driver turns the quota groups off when it stops
    result = dict(changed=switch or quota not in (None, "kept"), previous_driver=previous, driver=params["driver"],
                  images_reload_needed=previous != params["driver"],
                  per_container_size=granted["per_container_size"],
                  diff={"before": current or "", "after": wanted, "before_header": path, "after_header": path})
    if quota is not None:
        result["btrfs_quota"] = quota
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    failure = None
    if switch:
        result["backup"], failure = switch_driver(module, node, path, current, wanted, previous)
    running = node.info() if switch else info
    if quota is not None and running and running["Driver"] == "btrfs":
        with module_errors(module):
            result["btrfs_quota"] = node.btrfs_quota(info["DockerRootDir"], act=True)
    if failure:
        module.fail_json(msg=failure, **{**result, "driver": previous})
    module.exit_json(**result)


def switch_driver(module, node: Node, path: str, current: str | None, wanted: str, previous: str):
    """Write the settings and restart the engine; when it does not come back with the driver, restore the settings
    and restart it again. Returns the backup's path and what failed (None when the switch worked)."""
    params = module.params
    backup = path + BACKUP_SUFFIX
    if current is None:
        write(backup, MISSING_MARK)
    else:
        shutil.copy2(path, backup)
    write(path, wanted)
    node.restart(params["service"])
    if node.wait_driver(params["driver"], params["wait_timeout"]) is not None:
        return backup, None
    why = node.why_it_failed(params["service"])
    if current is None:
        os.remove(path)
    else:
        shutil.copy2(backup, path)
    node.restart(params["service"])
    back = node.wait_driver(previous, params["wait_timeout"])
    return backup, (f"driver: the engine did not come back with {params['driver']} within {params['wait_timeout']}s; "
                    f"the previous settings were restored from {backup} and the engine "
                    f"{'runs ' + previous + ' again' if back else 'does not answer yet either'}; "
                    f"the engine said: {why or 'nothing'}")


if __name__ == "__main__":
    main()
