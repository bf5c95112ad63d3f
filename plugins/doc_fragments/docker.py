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
