# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mount schema shared by swarm_service and service_mount: one argument spec, one canonical form.

normalise() turns what a user wrote into canonical mounts and from_api() turns what an engine holds into the same
form, so wanted and actual mounts compare with ==. A canonical mount always has target, type and read_only, has
source when there is one, and has a type's own options only where they differ from what Docker does without them:
read_only false, propagation rprivate, no_copy false, empty labels or driver_opts, driver local, tmpfs_size 0
(no limit) and tmpfs_mode 1777 or 0 are all left out, so a mount that says them equals one that does not.
Paths are cleaned as Docker cleans them ('/data/' is '/data'). tmpfs_size is in bytes, tmpfs_mode an octal string.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.resources import ResourceError, parse_size

MOUNT_TYPES = ["bind", "volume", "tmpfs"]

MOUNT_OPTIONS = dict(
    target=dict(type="str", required=True),
    source=dict(type="str"),
    type=dict(type="str", choices=MOUNT_TYPES, default="volume"),
    read_only=dict(type="bool", default=False),
    propagation=dict(type="str", choices=["private", "rprivate", "shared", "rshared", "slave", "rslave"]),
    no_copy=dict(type="bool"),
    labels=dict(type="dict"),
    driver=dict(type="str"),
    driver_opts=dict(type="dict"),
    tmpfs_size=dict(type="raw"),
    tmpfs_mode=dict(type="raw"),
)

# A type's own options: option -> (path in a ContainerSpec.Mounts entry, what Docker does when it is not set).
TYPE_OPTIONS = {
    "propagation": (("BindOptions", "Propagation"), "rprivate"),
    "no_copy": (("VolumeOptions", "NoCopy"), False),
    "labels": (("VolumeOptions", "Labels"), {}),
    "driver": (("VolumeOptions", "DriverConfig", "Name"), "local"),
    "driver_opts": (("VolumeOptions", "DriverConfig", "Options"), {}),
    "tmpfs_size": (("TmpfsOptions", "SizeBytes"), 0),
    "tmpfs_mode": (("TmpfsOptions", "Mode"), "1777"),
}
SECTION_TYPES = {"BindOptions": "bind", "VolumeOptions": "volume", "TmpfsOptions": "tmpfs"}
PYTHON_TYPES = {"str": (str, "a string"), "bool": (bool, "true or false"), "dict": (dict, "a dict")}
LOCAL_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
OCTAL = re.compile(r"(?:0o)?([0-7]+)", re.IGNORECASE)


class MountError(SwarmopsError, ValueError):
    """A mount the user must fix; also a SwarmopsError, so module_errors() reports it like any other."""


def _owner(option: str) -> str:
    return SECTION_TYPES[TYPE_OPTIONS[option][0][0]]


def _mode_text(mode: int) -> str | None:
    """An Engine API file mode as octal digits; 0 is Docker's 'not set'."""
    return format(mode, "o") if mode else None


def _canonical(kind: str, target: str, source: str | None, read_only: bool, options: dict) -> dict:
    mount = {"target": target, "type": kind}
    if source:
        mount["source"] = source
    mount["read_only"] = bool(read_only)
    for option, value in options.items():
        if value is not None and value != TYPE_OPTIONS[option][1]:
            mount[option] = dict(value) if isinstance(value, dict) else value
    return mount


def _check_schema(entry, where: str) -> None:
    """What AnsibleModule checks against MOUNT_OPTIONS, for callers that did not go through it."""
    if not isinstance(entry, dict):
        raise MountError(f"{where}: {entry!r} is not a mount (a dict with at least target)")
    for key, value in entry.items():
        spec = MOUNT_OPTIONS.get(key)
        if spec is None:
            raise MountError(f"{where}: unknown option {key!r} (options: {', '.join(MOUNT_OPTIONS)})")
        if value is None:
            continue
        python_type, described = PYTHON_TYPES.get(spec["type"], (object, ""))
        if not isinstance(value, python_type):
            raise MountError(f"{where}.{key}: {value!r} is not {described}")
        if value not in spec.get("choices", [value]):
            raise MountError(f"{where}.{key}: {value!r} is not one of {', '.join(spec['choices'])}")
    if not entry.get("target"):
        raise MountError(f"{where}.target: missing; give the absolute path in the container")


def _path(value: str, name: str, place: str) -> str:
    if not value.startswith("/"):
        raise MountError(f"{name}: {value!r} must be an absolute path {place}")
    return posixpath.normpath(value)


def _tmpfs_mode(value, name: str) -> str | None:
    """Digits read as octal, as the docker CLI reads tmpfs-mode: 1777, "1777", "01777" and "0o1777" are one mode."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    match = OCTAL.fullmatch(text)
    if not match or int(match[1], 8) > 0o7777:
        raise MountError(f"{name}: {value!r} is not an octal file mode (examples: 1777, '0700')")
    return _mode_text(int(match[1], 8))


def _source(kind: str, entry: dict, where: str) -> str | None:
    """A path on the node for bind; a volume name, or none for an anonymous volume; none for tmpfs."""
    source = entry.get("source") or None
    if kind == "bind":
        if source is None:
            raise MountError(f"{where}.source: missing; type bind needs an absolute path on the node")
        return _path(source, f"{where}.source", "on the node for type bind")
    if kind == "tmpfs" and source:
        raise MountError(f"{where}.source: {source!r} is not allowed for type tmpfs, which has no source")
    local_driver = entry.get("driver") in (None, "local")
    if kind == "volume" and source and local_driver and not LOCAL_VOLUME_NAME.fullmatch(source):
        raise MountError(f"{where}.source: {source!r} is not a local volume name (examples: data, app_db.1); "
                         f"for a path on the node set type: bind")
    return source


def _normalise_one(entry, where: str) -> dict:
    _check_schema(entry, where)
    kind = entry.get("type") or "volume"
    target = _path(entry["target"], f"{where}.target", "in the container")
    if target.strip("/") == "":
        raise MountError(f"{where}.target: {entry['target']!r} is the container's root; mount below it")
    for option in TYPE_OPTIONS:
        if entry.get(option) is not None and _owner(option) != kind:
            raise MountError(f"{where}.{option}: {entry[option]!r} applies to type {_owner(option)} only, not {kind}")
    source = _source(kind, entry, where)
    read_only = bool(entry.get("read_only"))
    if kind == "volume" and source is None and read_only:
        raise MountError(f"{where}.read_only: true needs a source; an anonymous volume cannot be read-only")
    options = {option: entry.get(option) for option in TYPE_OPTIONS if _owner(option) == kind}
    for option in ("labels", "driver_opts"):
        if options.get(option) is not None:
            options[option] = {str(key): str(value) for key, value in options[option].items()}
    if options.get("tmpfs_size") is not None:
        try:
            options["tmpfs_size"] = parse_size(options["tmpfs_size"], f"{where}.tmpfs_size")
        except ResourceError as exc:
            raise MountError(str(exc)) from None
    if options.get("tmpfs_mode") is not None:
        options["tmpfs_mode"] = _tmpfs_mode(options["tmpfs_mode"], f"{where}.tmpfs_mode")
    return _canonical(kind, target, source, read_only, options)


def normalise(mounts: list[dict] | None, option: str = "mounts") -> list[dict]:
    """Mounts as a user wrote them -> canonical mounts in the user's order; MountError names the entry and field.

    Each entry may come from AnsibleModule (every option present, unset ones None) or straight from Python.
    """
    result: list[dict] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(mounts or []):
        where = f"{option}[{index}]"
        mount = _normalise_one(entry, where)
        if mount["target"] in first:
            raise MountError(f"{where}.target: {mount['target']!r} is already the target of "
                             f"{option}[{first[mount['target']]}]")
        first[mount["target"]] = index
        result.append(mount)
    return result


def to_api(mount: dict) -> dict:
    """A canonical mount as a ContainerSpec.Mounts entry, with only what is set."""
    api = {"Type": mount["type"], "Target": mount["target"], "ReadOnly": mount["read_only"]}
    if mount.get("source"):
        api["Source"] = mount["source"]
    for option, (path, dummy) in TYPE_OPTIONS.items():
        if option in mount:
            value = int(mount[option], 8) if option == "tmpfs_mode" else mount[option]
            node = api
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = dict(value) if isinstance(value, dict) else value
    return api


def from_api(api_mount: dict) -> dict:
    """A ContainerSpec.Mounts entry as a canonical mount, whatever an engine leaves out or sends empty.

    Fields this schema does not manage (Consistency, BindOptions.NonRecursive, VolumeOptions.Subpath, ...) are
    not compared; to_api_list() keeps them on mounts that do not change. Types other than bind, volume and tmpfs
    come back with target, type, source and read_only only.
    """
    kind = api_mount.get("Type") or "volume"
    options = {}
    for option, (path, dummy) in TYPE_OPTIONS.items():
        if _owner(option) == kind:
            value = api_mount
            for key in path:
                value = (value or {}).get(key)
            options[option] = _mode_text(value or 0) if option == "tmpfs_mode" else value
    source = api_mount.get("Source") or None
    if kind == "bind" and source:
        source = posixpath.normpath(source)
    target = api_mount.get("Target") or ""
    return _canonical(kind, posixpath.normpath(target) if target else "", source, api_mount.get("ReadOnly"), options)


def to_api_list(wanted: list[dict], current_api: list[dict] | None = None) -> list[dict]:
    """Canonical mounts as ContainerSpec.Mounts, reusing the engine's own entry for each mount that does not change.

    So adding one mount with service_mount leaves the others exactly as they were, with the fields this schema
    does not manage.
    """
    current = {from_api(entry)["target"]: entry for entry in current_api or []}
    return [current[mount["target"]] if mount["target"] in current and from_api(current[mount["target"]]) == mount
            else to_api(mount) for mount in wanted]


def merge(current: list[dict], wanted: list[dict], state: str) -> list[dict]:
    """The mounts a service should have after service_mount, matched by target; all lists are canonical.

    present adds or replaces the wanted mounts, keeps the others in their order and appends new ones; absent
    removes the wanted targets and reads nothing else (normalise [{'target': ...}] to validate them); exact is
    wanted.
    """
    if state == "exact":
        return list(wanted)
    targets = {mount["target"] for mount in wanted}
    if state == "absent":
        return [mount for mount in current if mount["target"] not in targets]
    if state == "present":
        by_target = {mount["target"]: mount for mount in wanted}
        known = {mount["target"] for mount in current}
        return [by_target.get(mount["target"], mount) for mount in current] + [
            mount for mount in wanted if mount["target"] not in known]
    raise MountError(f"state: {state!r} is not one of present, absent, exact")


def diff(current: list[dict], wanted: list[dict]) -> dict:
    """Targets added, removed and changed between two canonical lists, for `changed` and messages.

    Order is not a difference: Docker mounts a service's mounts by target depth, not by list order. Ansible's
    diff is the two canonical lists themselves: diff={'before': current, 'after': wanted}.
    """
    before = {mount["target"]: mount for mount in current}
    after = {mount["target"]: mount for mount in wanted}
    return {
        "added": [target for target in after if target not in before],
        "removed": [target for target in before if target not in after],
        "changed": [target for target in after if target in before and after[target] != before[target]],
    }
