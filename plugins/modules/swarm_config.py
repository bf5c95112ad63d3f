#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_config
short_description: A swarm config kept as versions, rotated under the services that use it
version_added: 0.1.0
description:
  - C(docker config create) made declarative. Configs are immutable, so each value is a version named
    C(<name>.v<N>); a new value makes the next version, every service that uses any version of O(name) is pointed
    at it under the same target file (a rolling update, waited for), and versions no service uses are removed.
  - Reference the config by O(name) in P(swarmops.ha.swarm_service#module) C(configs); it resolves to the newest
    version. A config named exactly O(name) made by hand is taken over as version 0 and replaced.
  - Each version carries a salted PBKDF2-SHA256 fingerprint of its data in the label C(swarmops.fingerprint),
    which is how an unchanged value is recognised, as for P(swarmops.ha.swarm_secret#module). O(data) is kept
    out of results and logs as a secret's is (a config may hold what a secret should).
  - Runs against a manager.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.versioned
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description: The config's name, without version; letters, digits, C(_), C(.), C(-), at most 54 characters.
    type: str
    required: true
  data:
    description: The content, for example from a template lookup. O(state=present) needs it or O(users).
    type: str
"""

EXAMPLES = r"""
- name: The app's settings, rolled out to the services that read them when the template changes
  swarmops.ha.swarm_config:
    name: app_settings
    data: "{{ lookup('ansible.builtin.template', 'settings.ini.j2') }}"

- name: A service reads it at /etc/app/settings.ini
  swarmops.ha.swarm_service:
    name: api
    image: registry.example:5000/api:2
    configs:
      - {name: app_settings, target: /etc/app/settings.ini}
"""

RETURN = r"""
config:
  description: The config's name, the current version's name and id.
  returned: success
  type: dict
  sample: {"name": "app_settings", "version_name": "app_settings.v2", "id": "k3j9..."}
services_moved:
  description: Services pointed at the current version.
  returned: success
  type: list
  elements: str
removed:
  description: Versions removed (or to be removed in check mode).
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import swarm_data
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import SwarmAPI


def main():
    module = AnsibleModule(argument_spec=swarm_data.ARGUMENT_SPEC, **swarm_data.MODULE_RULES)
    with module_errors(module, "swarm_config"):
        swarm_data.check_name(module.params["name"])
        data, identity = swarm_data.wanted(module.params)
        api = SwarmAPI(connect(module.params))
        api.require_manager()
        result = swarm_data.converge(swarm_data.Kind("Config"), api, module.params, data, identity, module.check_mode)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
