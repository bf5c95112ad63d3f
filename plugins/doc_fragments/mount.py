# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The mount schema of module_utils/mounts.py (MOUNT_OPTIONS), named as docker service create --mount names it.
    DOCUMENTATION = r"""
options:
  mounts:
    description:
      - Mounts of the service's containers, as C(docker service create --mount) takes them.
      - Mounts are matched by O(mounts[].target); two entries may not share a target. Their order does not matter.
      - An option left out means what Docker does without it, so O(mounts[].read_only=false),
        O(mounts[].propagation=rprivate), O(mounts[].driver=local) or O(mounts[].tmpfs_mode=1777) change nothing.
    type: list
    elements: dict
    suboptions:
      target:
        description: Absolute path of the mount in the container.
        type: str
        required: true
      source:
        description:
          - For V(bind), the absolute path on the node; required.
          - For V(volume), the volume's name; left out, each task gets a new anonymous volume.
          - Not allowed for V(tmpfs).
        type: str
      type:
        description:
          - V(volume) mounts a named or anonymous volume, V(bind) a path of the node the task runs on,
            V(tmpfs) a file system in memory.
          - The default is that of C(docker service create --mount).
        type: str
        choices: [bind, volume, tmpfs]
        default: volume
      read_only:
        description: Mount read-only. An anonymous volume cannot be read-only.
        type: bool
        default: false
      propagation:
        description: Bind propagation, for V(bind) only; Docker uses V(rprivate) when not set.
        type: str
        choices: [private, rprivate, shared, rshared, slave, rslave]
      no_copy:
        description: For V(volume) only, do not copy the image's files at the target into a new, empty volume.
        type: bool
      labels:
        description: For V(volume) only, labels of the volume when Docker creates it (values are strings).
        type: dict
      driver:
        description: For V(volume) only, the volume driver; Docker uses V(local) when not set.
        type: str
      driver_opts:
        description: For V(volume) only, options for the volume driver (values are strings).
        type: dict
      tmpfs_size:
        description:
          - For V(tmpfs) only, its size in bytes, or with a binary unit such as V(64M) or V(1g) (k = 1024).
          - Not set or V(0) means no limit.
        type: raw
      tmpfs_mode:
        description:
          - For V(tmpfs) only, its file mode, read as octal digits like C(--mount tmpfs-mode=), for example V(1777)
            or V(0700); Docker uses V(1777) when not set.
          - "Quote a mode that starts with 0 (V('0700')): YAML reads an unquoted 0700 as the number 448, whose digits
            are not that mode."
        type: raw
"""
