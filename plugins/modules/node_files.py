#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_files
short_description: A node's configuration files in one call, each checked before it replaces the one in place
version_added: 0.1.0
description:
  - What C(ansible.builtin.copy) with C(content) and C(validate) does for one file, for a list of files in one
    round trip. Each file whose content or mode differs is written, in the order given, through a temporary file
    next to it that O(files[].validate) checks first. A file refused by its check stops the call; files before it
    in the list are in place, the refused one and those after it are not.
  - Missing parent folders are made with mode C(0755); existing folders are left as they are.
  - O(prune) removes the files of a folder that match its patterns and are not in O(files), once every file is in
    place, so a refused file leaves them where they are.
  - As for C(ansible.builtin.copy), the arguments shown in a result (at C(-vvv)) hold no content; the diff (with
    C(--diff)) does, so a task writing secrets sets C(no_log) or turns its diff off.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_and_diff
options:
  files:
    description: The files, in the order they are written.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content.
        type: str
        required: true
      mode:
        description: Permissions as an octal string.
        type: str
        default: "0644"
      validate:
        description:
          - A command that checks the new content before it replaces the file; V(%s) in it is the temporary file's
            path. Run without a shell, as C(ansible.builtin.copy) runs its C(validate).
          - Not run in check mode.
        type: str
  prune:
    description: Folders whose other files go.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the folder (a missing folder has nothing to prune).
        type: path
        required: true
      patterns:
        description: Shell patterns of the file names that are removed unless listed in O(files).
        type: list
        elements: str
        default: ["*"]
"""

EXAMPLES = r"""
- name: Prometheus's rules and configuration, each checked by promtool; rule files no longer shipped go
  swarmops.ha.node_files:
    files:
      - path: /etc/swarmops/prometheus/rules/swarmops.yml
        content: "{{ lookup('ansible.builtin.template', 'rules.yml.j2') }}"
        validate: docker run --rm -v %s:/check.yml:ro --entrypoint /bin/promtool prom/prometheus check rules /check.yml
      - path: /etc/swarmops/prometheus/prometheus.yml
        content: "{{ lookup('ansible.builtin.template', 'prometheus.yml.j2') }}"
    prune:
      - {path: /etc/swarmops/prometheus/rules, patterns: ["*.yml"]}
  become: true
  register: prometheus_files

- name: Reload Prometheus when any of them changed
  ansible.builtin.command: docker kill --signal HUP prometheus
  when: prometheus_files is changed
"""

RETURN = r"""
written:
  description: The files written (in check mode, that would be written), content or mode.
  returned: success
  type: list
  elements: str
  sample: ["/etc/swarmops/prometheus/prometheus.yml"]
removed:
  description: The files pruned (in check mode, that would be).
  returned: success
  type: list
  elements: str
"""

import fnmatch
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors

FILE_SPEC = dict(
    path=dict(type="path", required=True),
    content=dict(type="str", required=True),
    mode=dict(type="str", default="0644"),
    validate=dict(type="str"),
)
PRUNE_SPEC = dict(
    path=dict(type="path", required=True),
    patterns=dict(type="list", elements="str", default=["*"]),
)


def wanted_files(files: list[dict]) -> list[dict]:
    """The files with their mode as a number; refuses what cannot be written as asked."""
    seen = set()
    for index, item in enumerate(files):
        option = f"files[{index}]"
        if not os.path.isabs(item["path"]):
            raise SwarmopsError(f"{option}.path: {item['path']!r} is not an absolute path")
        if item["path"] in seen:
            raise SwarmopsError(f"{option}.path: {item['path']!r} is listed twice (each file once)")
        seen.add(item["path"])
        try:
            mode = int(item["mode"], 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o7777:
            raise SwarmopsError(f"{option}.mode: {item['mode']!r} is not a mode (an octal string such as '0644')")
        item["mode"] = mode
        if item["validate"] is not None and "%s" not in item["validate"]:
            raise SwarmopsError(f"{option}.validate: {item['validate']!r} has no %s (where the new file's path goes)")
    return files


def stale_files(prune: list[dict], keep: set[str]) -> list[str]:
    stale = []
    for index, folder in enumerate(prune):
        if not os.path.isabs(folder["path"]):
            raise SwarmopsError(f"prune[{index}].path: {folder['path']!r} is not an absolute path")
        if not os.path.isdir(folder["path"]):
            continue
        for name in sorted(os.listdir(folder["path"])):
            path = os.path.join(folder["path"], name)
            if (path not in keep and os.path.isfile(path)
                    and any(fnmatch.fnmatch(name, pattern) for pattern in folder["patterns"])):
                stale.append(path)
    return stale


def current_state(path: str) -> tuple[str | None, int | None]:
    """The file's text and mode; (None, None) when there is none."""
    try:
        with open(path, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            return to_text(handle.read(), errors="surrogate_or_replace"), mode
    except FileNotFoundError:
        return None, None


def make_folders(folder: str) -> None:
    if not os.path.isdir(folder):
        make_folders(os.path.dirname(folder))
        os.mkdir(folder)
        os.chmod(folder, 0o755)


def write(module: AnsibleModule, item: dict) -> None:
    """Through a temporary file in the same folder, checked first; the file in place is untouched if refused."""
    folder = os.path.dirname(item["path"])
    make_folders(folder)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(item['path'])}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(item["content"].encode())
        os.chmod(temporary, item["mode"])
        if item["validate"]:
            rc, out, err = module.run_command(item["validate"] % temporary)
            if rc != 0:
                raise SwarmopsError(f"{item['path']}: its check refused the new content ({item['validate']}, rc {rc}): "
                                    f"{(err or out).strip() or 'no output'}")
        module.atomic_move(temporary, item["path"])
        os.chmod(item["path"], item["mode"])
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def run(module: AnsibleModule, files: list[dict]) -> dict:
    files = wanted_files(files)
    stale = stale_files(module.params["prune"], {item["path"] for item in files})
    result = dict(changed=False, written=[], removed=stale, diff=[])
    for item in files:
        content, mode = current_state(item["path"])
        if content == item["content"] and mode == item["mode"]:
            continue
        result["written"].append(item["path"])
        if content != item["content"]:
            result["diff"].append(dict(before_header=item["path"], after_header=item["path"],
                                       before=content or "", after=item["content"]))
        if mode not in (None, item["mode"]):
            result["diff"].append(dict(before={"path": item["path"], "mode": f"{mode:04o}"},
                                       after={"path": item["path"], "mode": f"{item['mode']:04o}"}))
        if not module.check_mode:
            write(module, item)
    for path in stale:
        result["diff"].append(dict(before={"path": path, "state": "file"}, after={"path": path, "state": "absent"}))
        if not module.check_mode:
            os.unlink(path)
    result["changed"] = bool(result["written"] or result["removed"])
    if not module._diff:
        del result["diff"]
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=FILE_SPEC),
            prune=dict(type="list", elements="dict", default=[], options=PRUNE_SPEC),
        ),
        supports_check_mode=True,
    )
    files = [dict(item) for item in module.params["files"]]
    # As ansible.builtin.copy does for its content: the module's arguments in a result (-vvv) show no content, which
    # may hold what a secret should (an Alertmanager receiver's token); the diff still shows what changed.
    for item in module.params["files"]:
        item["content"] = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    with module_errors(module):
        module.exit_json(**run(module, files))


if __name__ == "__main__":
    main()
