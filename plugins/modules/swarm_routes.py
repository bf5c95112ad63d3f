#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_routes
short_description: Read the routes a swarm's services ask for in their labels, and make the proxy configuration
version_added: 0.1.0
description:
  - Reads every service from a manager and turns the labels under C(swarmops.route.) into routes, then into an
    HAProxy configuration whose backends are the services' tasks as the swarm's DNS lists them (C(tasks.<service>)),
    so tasks that move or scale need no new configuration.
  - "Labels: C(swarmops.route.host) (a host name), C(swarmops.route.path) (a path prefix; at least one of the two),
    C(swarmops.route.port) (the port the tasks listen on, required), C(swarmops.route.health) (a path checked over
    HTTP), C(swarmops.route.sticky) and C(swarmops.route.https_redirect) (true or false)."
  - Fails, naming each service and label, on a route with no host and no path, a port the service does not expose
    (its published ports and its image's EXPOSE, when the manager has the image), two services claiming the same
    host and path, an unknown label under the prefix, an HTTPS redirect without a certificate, or a user not in
    O(users).
  - Reads, never changes; writing the configuration and reloading the proxy is the routing role's part.
  - Also returns the swarm's nodes with their labels, so the routing role labels its proxy nodes from this one read.
  - In check mode, an engine that is no swarm manager yet (new machines) gives no routes and RV(is_manager=false);
    otherwise it is refused.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.read_only
options:
  slots:
    description: Most tasks one backend can send to (HAProxy C(server-template) slots).
    type: int
    default: 10
  certificate:
    description: Path, inside the proxy, of the PEM file (certificate and key) for HTTPS; none serves HTTP only.
    type: str
  exclude:
    description: Services never routed, whatever their labels (the proxy itself).
    type: list
    elements: str
    default: []
  metrics_port:
    description:
      - Port on which the proxy serves its own Prometheus metrics at C(/metrics) (HAProxy's C(prometheus-exporter)
        service, built in since 2.4); none leaves it out. It is not published; Prometheus reaches it on the proxy's
        network.
    type: int
  users:
    description:
      - Names of the proxy's users. Their passwords are not given here; the proxy reads them from a C(userlist
        swarmops_users) section in a second configuration file (the routing role keeps it as a swarm secret made
        by P(swarmops.ha.swarm_secret#module) with O(swarmops.ha.swarm_secret#module:users_format=haproxy)).
    type: list
    elements: str
    default: []
  access_log:
    description: Log a line per request (HAProxy C(option httplog)); V(false) logs only the requests that went wrong
      (C(option dontlog-normal)), sparing that work on every request.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Make the proxy configuration from the services' labels
  swarmops.ha.swarm_routes:
    docker_host: "{{ hostvars[groups['swarm_managers'][0]].docker_host }}"
  delegate_to: localhost
  register: routes

- name: Route a service by host
  swarmops.ha.swarm_service:
    name: web
    image: nginx:1.27
    replicas: 3
    networks: [swarmops-routing]
    labels:
      swarmops.route.host: web.example.com
      swarmops.route.port: "80"
"""

RETURN = r"""
routes:
  description: The routes, in the order the proxy matches them (host and path, host, longest path first).
  returned: success
  type: list
  elements: dict
  sample: [{"service": "web", "host": "web.example.com", "path": null, "port": 80, "health": null,
            "sticky": false, "https_redirect": false, "users": []}]
config:
  description: The HAProxy configuration for the routes.
  returned: success
  type: str
is_manager:
  description: Whether the engine is an active swarm manager (V(false) only in check mode, with no routes).
  returned: success
  type: bool
nodes:
  description: Every node, sorted by host name, as M(swarmops.ha.swarm_info) returns them (with their labels).
  returned: success
  type: list
  elements: dict
"""

import dataclasses

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import routing, validate
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import module_errors


def image_ports(api, services: list[dict]) -> dict[str, set[int]]:
    """EXPOSE of each routed service's image, for the images this engine has."""
    ports = {}
    for service in services:
        if not any(key.startswith(routing.ROUTE_PREFIX) for key in service["Spec"].get("Labels") or {}):
            continue
        image = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]
        info = api.image(image)
        if info is None:
            continue
        exposed = info["Config"].get("ExposedPorts") or {}
        ports[image] = {int(port.split("/")[0]) for port in exposed if port.endswith("/tcp")}
    return ports


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            slots=dict(type="int", default=10),
            certificate=dict(type="str"),
            exclude=dict(type="list", elements="str", default=[]),
            users=dict(type="list", elements="str", default=[]),
            access_log=dict(type="bool", default=False),
            metrics_port=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_routes"):
        validate.integer("slots", params["slots"], 1, what="a number of servers")
        validate.port("metrics_port", params["metrics_port"])
        api = swarm_lib.SwarmAPI(connect(params))
        local = api.local()
        if local.get("LocalNodeState") != "active" or not local.get("ControlAvailable"):
            if module.check_mode:
                module.exit_json(changed=False, routes=[], config="", is_manager=False, nodes=[])
            api.require_manager()
        services = [s for s in api.services() if s["Spec"]["Name"] not in params["exclude"]]
        routes = routing.routes_from(services, image_ports(api, services), https=bool(params["certificate"]),
                                     users=set(params["users"]))
        config = routing.haproxy_config(routes, slots=params["slots"], certificate=params["certificate"],
                                        access_log=params["access_log"], metrics_port=params["metrics_port"])
        nodes = swarm_lib.sorted_node_facts(api.raw_nodes())
    module.exit_json(changed=False, routes=[dataclasses.asdict(r) for r in routes], config=config, is_manager=True,
                     nodes=nodes)


if __name__ == "__main__":
    main()
