# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_files' action: a look over the connection, no module, when every file is already what is asked.

A run that changes nothing is the one users wait for most. The look is one shell command (no Python on the node): the
mode and SHA-1 of each file, and the regular files of each prune folder. When each file's bytes and mode are the ones
asked and no folder holds a file to prune, the result is the module's for that case; anything else (a difference, a
look that failed or printed what it should not) runs the module, which checks the options, writes and reports.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
import shlex

from ansible.plugins.action import ActionBase

# set -e: a find that fails (no -printf) must not read as an empty folder. A failed stat or sha1sum prints a line
# unchanged() does not accept, so the module runs.
LOOK = r"""
set -e
count=$1; shift
while [ "$count" -gt 0 ]; do
  if [ -f "$1" ]; then
    printf 'file %s %s\n' "$(stat -L -c %a -- "$1")" "$(sha1sum < "$1" | cut -d ' ' -f 1)"
  else
    echo 'file none'
  fi
  shift; count=$((count - 1))
done
for folder; do
  echo 'folder'
  if [ -d "$folder" ]; then find "$folder" -mindepth 1 -maxdepth 1 -type f -printf 'name %f\n'; fi
done
"""


def look_command(files: list, prune: list) -> str | None:
    """The look for these options, or None when they are not plainly valid (the module then refuses them by name)."""
    paths = [item.get("path") for item in files if isinstance(item, dict)]
    folders = [folder.get("path") for folder in prune if isinstance(folder, dict)
               and isinstance(folder.get("patterns", []), list)
               and all(isinstance(pattern, str) for pattern in folder.get("patterns", []))]
    if (len(paths) != len(files) or len(folders) != len(prune) or len(set(paths)) != len(paths)
            or not all(isinstance(path, str) and posixpath.isabs(path) for path in paths + folders)):
        return None
    return " ".join(shlex.quote(word) for word in ["sh", "-c", LOOK, "sh", str(len(paths)), *paths, *folders])


def wanted_mode(item: dict) -> int | None:
    try:
        mode = int(str(item.get("mode", "0644")), 8)
    except ValueError:
        return None
    return mode if 0 <= mode <= 0o7777 else None


def unchanged(files: list, prune: list, output: str) -> bool:
    """Whether the look's output shows every file as asked and nothing to prune; False for anything unexpected."""
    lines = output.splitlines()
    if len(lines) < len(files):
        return False
    for item, line in zip(files, lines[:len(files)], strict=True):
        fields = line.split(" ")
        content = item.get("content")
        if len(fields) != 3 or fields[0] != "file" or not isinstance(content, str):
            return False
        try:
            mode = int(fields[1], 8)
        except ValueError:
            return False
        if mode != wanted_mode(item) or fields[2] != hashlib.sha1(content.encode()).hexdigest():
            return False
    keep = {item["path"] for item in files}
    folders = -1
    for line in lines[len(files):]:
        if line == "folder":
            folders += 1
            continue
        if folders < 0 or folders >= len(prune) or not line.startswith("name ") or "/" in line[5:]:
            return False
        folder = prune[folders]
        name = line[5:]
        patterns = folder.get("patterns", ["*"])
        if posixpath.join(folder["path"], name) not in keep and any(fnmatch.fnmatch(name, p) for p in patterns):
            return False
    return folders == len(prune) - 1


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        files, prune = args.get("files"), args.get("prune", [])
        if isinstance(files, list) and isinstance(prune, list):
            command = look_command(files, prune)
            if command is not None:
                look = self._low_level_execute_command(command, sudoable=True)
                if look.get("rc") == 0 and unchanged(files, prune, look.get("stdout", "")):
                    result.update(changed=False, written=[], removed=[])
                    if self._task.diff:
                        result["diff"] = []
                    return result
        result.update(self._execute_module(module_name="swarmops.ha.node_files", module_args=args,
                                           task_vars=task_vars))
        return result
