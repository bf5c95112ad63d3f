# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # What swarm_secret and swarm_config share: a value kept as versions and rolled out to the services.
    DOCUMENTATION = r"""
options:
  data_is_base64:
    description: Whether O(data) is base64 (binary values such as keystores).
    type: bool
    default: false
  labels:
    description: Labels of a new version; versions are immutable, so labels of existing ones stay.
    type: dict
    default: {}
  state:
    description: V(present) makes the value current; V(absent) removes every version, refused while a service
      uses one.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: Seconds to wait for each moved service's tasks to run on the new version.
    type: int
    default: 120
notes:
  - Check mode reports the version it would make and the services it would move; diff shows version names and
    services, never data.
"""
