# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An engine's storage driver: the settings that choose it (daemon.json or a boot2docker profile) and the
preflight that says, before anything changes, whether a node can run the driver and the options asked for."""

from __future__ import annotations

import json
import re
import shlex

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

# driver -> (file system the kernel must know, backing file systems it runs on (None: any but those refused),
#            backing file systems it refuses, option prefix)
DRIVERS = {
    "overlay2": ("overlay", None, {"overlayfs", "overlay", "aufs", "tmpfs"}, "overlay2."),
    "fuse-overlayfs": ("fuse", None, set(), "fuse-overlayfs."),
    "btrfs": ("btrfs", {"btrfs"}, set(), "btrfs."),
    "zfs": ("zfs", {"zfs"}, set(), "zfs."),
    "devicemapper": (None, None, set(), "dm."),
    "vfs": (None, None, set(), "vfs."),
}
# Daemon-wide options that make a per-container size limit (`--storage-opt size=`) possible, and what they need.
SIZE_OPTIONS = {"overlay2.size": "xfs", "vfs.size": "xfs"}
PROJECT_QUOTA = {"prjquota", "pquota"}


class StorageError(SwarmopsError):
    """A node cannot do what was asked; worded for the user, raised before anything changes."""


def parse_options(options: list[str]) -> dict:
    parsed = {}
    for option in options:
        key, sep, value = str(option).partition("=")
        if not sep or not key.strip():
            raise StorageError(f"options: {option!r} is not key=value (examples: btrfs.min_space=1G, "
                               f"overlay2.size=10G)")
        parsed[key.strip()] = value.strip()
    return parsed


def preflight(driver: str, options: list[str], facts: dict) -> dict:
    """What the node lacks for `driver` and `options`, as StorageError; else what the driver gives.

    facts: filesystems (the kernel's, /proc/filesystems), backing (file system type of the data root),
    mount_options (of the data root's mount), root (the data root).
    """
    if driver not in DRIVERS:
        raise StorageError(f"driver: {driver!r} is not a storage driver this module knows "
                           f"({', '.join(sorted(DRIVERS))})")
    kernel_fs, runs_on, refuses, prefix = DRIVERS[driver]
    backing = facts["backing"]
    if kernel_fs and kernel_fs not in facts["filesystems"]:
        raise StorageError(f"driver: {driver} needs the kernel's {kernel_fs} file system, which this node's "
                           f"kernel does not list in /proc/filesystems")
    if (runs_on and backing not in runs_on) or backing in refuses:
        needed = f"on {' or '.join(sorted(runs_on))}" if runs_on else f"not on {backing}"
        raise StorageError(f"driver: {driver} needs the data root {facts['root']} {needed}; it is on {backing}")
    parsed = parse_options(options)
    for key in parsed:
        if not key.startswith(prefix):
            raise StorageError(f"options: {key} is not an option of {driver} (its options start with {prefix})")
        if key in SIZE_OPTIONS and not (backing == SIZE_OPTIONS[key] and PROJECT_QUOTA & set(facts["mount_options"])):
            raise StorageError(f"options: {key} needs the data root {facts['root']} on xfs mounted with pquota; it is "
                               f"on {backing} ({','.join(facts['mount_options']) or 'no options'})")
    per_container_size = driver in ("btrfs", "zfs", "devicemapper") or any(key in SIZE_OPTIONS for key in parsed)
    return {"per_container_size": per_container_size, "options": parsed}


def daemon_json_settings(text: str | None) -> dict:
    return json.loads(text) if text and text.strip() else {}


def daemon_json_wanted(current: dict, driver: str, options: list[str]) -> dict:
    wanted = {key: value for key, value in current.items() if key not in ("storage-driver", "storage-opts")}
    wanted["storage-driver"] = driver
    if options:
        wanted["storage-opts"] = list(options)
    return wanted


def render_daemon_json(settings: dict) -> str:
    return json.dumps(settings, indent=2, sort_keys=True) + "\n"


# boot2docker's profile: DOCKER_STORAGE=<driver> and EXTRA_ARGS='<engine flags, over several lines>'.
PROFILE_STORAGE = re.compile(r"^DOCKER_STORAGE=(.*)$", re.M)
PROFILE_EXTRA_ARGS = re.compile(r"^EXTRA_ARGS=(?:'([^']*)'|\"([^\"]*)\"|(\S*))", re.M)


def profile_extra_args(text: str) -> tuple[re.Match | None, list[str]]:
    match = PROFILE_EXTRA_ARGS.search(text)
    value = next((group for group in match.groups() if group is not None), "") if match else ""
    return match, shlex.split(value)


def profile_wanted(text: str | None, driver: str, options: list[str]) -> str:
    """The profile with DOCKER_STORAGE set and EXTRA_ARGS' --storage-opt flags replaced, the rest as it was."""
    text = text or ""
    text, found = PROFILE_STORAGE.subn(f"DOCKER_STORAGE={driver}", text)
    if not found:
        text = (text.rstrip("\n") + "\n" if text.strip() else "") + f"DOCKER_STORAGE={driver}\n"
    match, words = profile_extra_args(text)
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "--storage-opt":
            skip = True
        elif not word.startswith("--storage-opt="):
            kept.append(word)
    flags = " ".join(kept + [f"--storage-opt {option}" for option in options])
    if match:
        return text[:match.start()] + f"EXTRA_ARGS={shlex.quote(flags)}" + text[match.end():]
    return text + (f"EXTRA_ARGS={shlex.quote(flags)}\n" if options else "")
