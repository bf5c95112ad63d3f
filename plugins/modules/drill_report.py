#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_report
short_description: Write a failover drill's results as JSON, a Markdown report and an SVG timeline per run
version_added: 0.1.0
description:
  - Takes the runs a drill collected (each with its C(swarm_wait) results and the drill's own marks) and writes
    C(drill.json), C(README.md) (a summary table and one timeline table per run) and one C(<drill>-<profile>.svg)
    per run (a row per node coloured by status, dashed lines where the drill acted or the leader changed)
    into O(path).
  - Runs on the controller. Files whose content would not change are left alone.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_only
options:
  path:
    description: Folder for the report; made when missing.
    type: path
    required: true
  runs:
    description:
      - The drill runs, in order. Each has C(drill), C(profile), C(target), C(passed), C(notes) (list of str),
        C(marks) (list of C(t), C(event)) and C(waits) (registered C(swarmops.ha.swarm_wait) results).
    type: list
    elements: dict
    required: true
  title:
    description: Heading of the Markdown report.
    type: str
    default: Failover drill
"""

EXAMPLES = r"""
- name: Write the report
  swarmops.ha.drill_report:
    path: reports/drill
    runs: "{{ failover_drill_runs }}"
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: Paths of the files of the report.
  returned: always
  type: list
  elements: str
summary:
  description: One row per run (drill, profile, target, passed, events, leaderless_seconds, short_seconds).
  returned: always
  type: list
  elements: dict
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import report
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors

RUN_KEYS = ("drill", "waits")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            runs=dict(type="list", elements="dict", required=True),
            title=dict(type="str", default="Failover drill"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for index, run in enumerate(params["runs"]):
        missing = [key for key in RUN_KEYS if key not in run]
        if missing:
            module.fail_json(msg=f"runs[{index}]: {', '.join(missing)} missing (each run has drill, profile, target, "
                                 f"passed, notes, marks and waits)")
    runs = [dict(run) for run in params["runs"]]
    files = {}
    for run in runs:
        name = f"{slug(run['drill'])}-{slug(run.get('profile', 'default'))}.svg"
        run["svg"] = name
        files[name] = report.svg_timeline(run)
    files["README.md"] = report.markdown(runs, params["title"])
    files["drill.json"] = report.report_json(runs)
    changed = []
    with module_errors(module):
        for name, content in files.items():
            target = os.path.join(params["path"], name)
            if os.path.exists(target):
                with open(target, encoding="utf-8") as handle:
                    if handle.read() == content:
                        continue
            changed.append(target)
            if not module.check_mode:
                os.makedirs(params["path"], exist_ok=True)
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(content)
    module.exit_json(changed=bool(changed), files=[os.path.join(params["path"], n) for n in files],
                     written=changed, summary=report.summary_rows(runs))


if __name__ == "__main__":
    main()
