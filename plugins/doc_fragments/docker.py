# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Connection options, named as community.docker names them so habits carry over.
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - URL of the Docker engine, for example V(tcp://192.0.2.10:2376) or V(unix:///var/run/docker.sock).
      - The P(swarmops.ha.docker_machine#inventory) inventory sets the host variable C(docker_host) for every machine;
        pass it once with C(module_defaults) for the group C(group/swarmops.ha.docker).
      - When not set in the task, the environment variable E(DOCKER_HOST) of the host the module runs on is used.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  api_version:
    description: Engine API version to speak; V(auto) negotiates.
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description: Seconds to wait for an answer from the engine.
    type: int
    default: 60
  ca_path:
    description: CA certificate that signed the engine's certificate; C(ca.pem) under C(DOCKER_CERT_PATH) when not set.
    type: path
    aliases: [ca_cert, tls_ca_cert, cacert_path]
  client_cert:
    description: Client certificate presented to the engine; C(cert.pem) under C(DOCKER_CERT_PATH) when not set.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description: Key of O(client_cert); C(key.pem) under C(DOCKER_CERT_PATH) when not set.
    type: path
    aliases: [tls_client_key, key_path]
  tls:
    description:
      - Speak TLS to the engine without verifying its certificate. Implied by O(validate_certs=true).
      - When not set in the task, the environment variable E(DOCKER_TLS) is used.
    type: bool
    default: false
  validate_certs:
    description:
      - Speak TLS and verify the engine's certificate against O(ca_path) (docker-machine's default).
      - When not set in the task, the environment variable E(DOCKER_TLS_VERIFY) is used.
    type: bool
    default: false
    aliases: [tls_verify]
notes:
  - Needs the Docker SDK for Python (C(docker) 7 or newer) where the module runs.
  - The engine's certificate must name the address in O(docker_host) (docker-machine and the lab driver put the
    machine's IP in it); Docker SDK 7 has no way to expect another host name, so there is no C(tls_hostname).
"""

    # A module's `engines`: several engines in one run, as the roles use it for the nodes driven from the controller.
    ENGINES = r"""
options:
  engines:
    description:
      - Several engines to act on in one module run, all at once, instead of this module's own connection. For nodes
        driven from the controller (C(tcp://) engines, as docker-machine's), this is one module run for all of them
        instead of one for each; the roles do so, with the filter P(swarmops.ha.docker_connection_options#filter).
      - Each item is an engine with its own connection options, named and defaulted as this module's; O(timeout),
        O(api_version) and the other options are the module's.
      - The result is then C(engines), each engine's result by its name. An engine that fails does not fail the
        module, nor stop the others; its result is C(error), the message it would have failed with.
    type: list
    elements: dict
    suboptions:
      name:
        description: The key of this engine's result, for example its inventory host.
        type: str
        required: true
      docker_host:
        description: O(docker_host) of this engine.
        type: str
        default: unix:///var/run/docker.sock
      tls:
        description: O(tls) for this engine.
        type: bool
        default: false
      validate_certs:
        description: O(validate_certs) for this engine.
        type: bool
        default: false
      ca_path:
        description: O(ca_path) for this engine.
        type: path
      client_cert:
        description: O(client_cert) for this engine.
        type: path
      client_key:
        description: O(client_key) for this engine.
        type: path
"""
