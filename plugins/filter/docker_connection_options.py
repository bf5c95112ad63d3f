# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_connection_options
short_description: The Docker connection options of a host, from its host variables
version_added: 0.1.0
description:
  - The connection options of the collection's Docker modules (O(swarmops.ha.swarm_join#module:docker_host),
    O(swarmops.ha.swarm_join#module:validate_certs), O(swarmops.ha.swarm_join#module:ca_path),
    O(swarmops.ha.swarm_join#module:client_cert), O(swarmops.ha.swarm_join#module:client_key)) for a host, from the
    variables the P(swarmops.ha.docker_machine#inventory) inventory sets (C(docker_host), C(docker_tls_verify),
    C(ca_path), C(client_cert), C(client_key)), or a static inventory sets the same way.
  - A host without C(docker_host) gets the local socket; the paths it has not set are left out.
  - The role C(swarmops.ha.docker_connection) gives these to every Docker task, through C(module_defaults).
options:
  _input:
    description: The host's variables, for example C(hostvars[host]).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the swarm through node1's engine, wherever node1's inventory says it is
  swarmops.ha.swarm_info:
  module_defaults:
    group/swarmops.ha.docker: "{{ hostvars['node1'] | swarmops.ha.docker_connection_options }}"

- name: The connection options of every play host whose engine is reached over TCP
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | map('extract', hostvars) | map('swarmops.ha.docker_connection_options')
      | selectattr('docker_host', 'match', 'tcp://') }}"
"""

RETURN = r"""
_value:
  description: C(docker_host) and C(validate_certs), and C(ca_path), C(client_cert) and C(client_key) where set.
  type: dict
"""

from ansible.module_utils.parsing.convert_bool import boolean

# docker_api.DEFAULT_DOCKER_HOST, not imported: that would load the Docker SDK into every worker that templates this.
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def docker_connection_options(host_vars) -> dict:
    options = {"docker_host": host_vars.get("docker_host") or DEFAULT_DOCKER_HOST,
               "validate_certs": boolean(host_vars.get("docker_tls_verify", False), strict=False)}
    options.update((name, host_vars[name]) for name in ("ca_path", "client_cert", "client_key") if name in host_vars)
    return options


class FilterModule:
    def filters(self):
        return {"docker_connection_options": docker_connection_options}
