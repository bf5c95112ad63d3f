#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_secret
short_description: A swarm secret kept as versions, rotated under the services that use it
version_added: 0.1.0
description:
  - C(docker secret create) made declarative. Secrets are immutable, so each value is a version named
    C(<name>.v<N>); a new value makes the next version, every service that uses any version of O(name) is pointed
    at it under the same target file (a rolling update, waited for), and versions no service uses are removed.
  - Reference the secret by O(name) in P(swarmops.ha.swarm_service#module) C(secrets); it resolves to the newest
    version. A secret named exactly O(name) made by hand is taken over as version 0 and replaced.
  - The swarm never returns a secret's data; each version carries a salted PBKDF2-SHA256 fingerprint of its data
    in the label C(swarmops.fingerprint), which is how an unchanged value is recognised. O(data) appears in no
    result, diff or log.
  - Runs against a manager.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.versioned
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description: The secret's name, without version; letters, digits, C(_), C(.), C(-), at most 54 characters.
    type: str
    required: true
  data:
    description: The value, from Ansible Vault or a lookup. O(state=present) needs it or O(users).
    type: str
"""

EXAMPLES = r"""
- name: The database password, rotated under the services that use it when the vault changes
  swarmops.ha.swarm_secret:
    name: db_password
    data: "{{ vault_db_password }}"

- name: Logins for an HAProxy in front of a service, as a userlist of bcrypt hashes
  swarmops.ha.swarm_secret:
    name: gate-users
    users:
      - {name: ci, password: "{{ vault_ci_password }}", groups: [push]}
      - {name: app, password: "{{ vault_app_password }}", groups: [pull]}
    users_format: haproxy
    bcrypt_cost: 8

- name: A service reads it at /run/secrets/db_password
  swarmops.ha.swarm_service:
    name: api
    image: registry.example:5000/api:2
    secrets:
      - {name: db_password}
"""

RETURN = r"""
secret:
  description: The secret's name, the current version's name and id.
  returned: success
  type: dict
  sample: {"name": "db_password", "version_name": "db_password.v2", "id": "x2v8..."}
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
    with module_errors(module, "swarm_secret"):
        swarm_data.check_name(module.params["name"])
        data, identity = swarm_data.wanted(module.params)
        api = SwarmAPI(connect(module.params))
        api.require_manager()
        result = swarm_data.converge(swarm_data.Kind("Secret"), api, module.params, data, identity, module.check_mode)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
