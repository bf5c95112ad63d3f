#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: routing_vip_check
short_description: Check, on a proxy node, that the routing VIP and VRRP router id can be used
version_added: 0.1.0
description:
  - Runs on each proxy node (with become, since it listens for VRRP adverts on a raw socket) before the routing role
    changes anything, and fails with every problem found, naming the routing role's variable, the value and what
    would be accepted.
  - The VIPs must be in the subnet of one of the node's own addresses (the same interface for all of them), not
    that subnet's network or broadcast address nor the node's own address, and must not answer ARP from a machine
    that is not one of O(peers) (an address already in use; one that no machine answers for within a second is
    free). VRRP adverts heard for O(listen_seconds) with O(routing_vrrp_router_id) from a router that is not one of
    O(peers) are a router id clash.
  - Returns the interface and the node's address and prefix there, for the keepalived configuration.
  - "Needs C(ip) (iproute2) with JSON output on the node."
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.read_only
options:
  routing_vip:
    description: The address clients use; keepalived holds it on one proxy node at a time.
    type: str
    required: true
  routing_vip_extra:
    description: More addresses moved with it.
    type: list
    elements: str
    default: []
  routing_vrrp_router_id:
    description: The VRRP router id (1 to 255) of the proxy nodes' instance, unique on the network.
    type: int
    required: true
  peers:
    description: The other proxy nodes' addresses on the VIP's network (theirs may answer for the VIP, and send
      adverts with the router id).
    type: list
    elements: str
    default: []
  listen_seconds:
    description:
      - How long to listen for VRRP adverts (routers advertise every second by default); 0 skips it.
      - The node does not listen once the VIPs are held by it or answer from another of O(peers), since then the
        proxy nodes' VRRP instance is up, and a clash would have been found by the run that started it. So a
        no-change run does not wait for it.
    type: float
    default: 3
"""

EXAMPLES = r"""
- name: Refuse a VIP outside the proxy nodes' subnet, in use, or a VRRP id clash, before any change
  swarmops.ha.routing_vip_check:
    routing_vip: 192.168.10.50
    routing_vrrp_router_id: 51
    peers: [192.168.10.11, 192.168.10.12]
  become: true
  register: routing_vip_place
"""

RETURN = r"""
interface:
  description: The interface whose subnet holds the VIPs.
  returned: success
  type: str
  sample: eth0
address:
  description: The node's own address on that interface (keepalived's source address).
  returned: success
  type: str
  sample: 192.168.10.11
prefix:
  description: The prefix length of that subnet.
  returned: success
  type: int
  sample: 24
held:
  description: The VIPs this node holds now.
  returned: success
  type: list
  elements: str
listened:
  description: Whether the node listened for other VRRP routers (false once the proxy nodes hold the VIPs).
  returned: success
  type: bool
"""

import json
import select
import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import vrrp
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def ip_json(module, *args) -> list[dict]:
    rc, out, err = module.run_command(["ip", "-j", "-4", *args], check_rc=False)
    if rc != 0:
        raise SwarmopsError(f"ip -j -4 {' '.join(args)} failed on the node (iproute2 with JSON output is needed): "
                            f"{err.strip()}")
    return json.loads(out or "[]")


def ask_arp(addresses: list[str]) -> None:
    """A datagram to each address makes the kernel ask ARP for it; the neighbour table then says who answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for address in addresses:
            try:
                sock.sendto(b"", (address, 9))
            except OSError:
                continue


def arp_answers(module, addresses: list[str], wait: float = 1.0) -> dict[str, str]:
    """The neighbour table once each of `addresses` has answered ARP, or after `wait` seconds (a free address never
    answers)."""
    ask_arp(addresses)
    deadline = time.monotonic() + wait
    while True:
        answered = vrrp.neighbours(ip_json(module, "neigh"))
        if all(address in answered for address in addresses) or time.monotonic() >= deadline:
            return answered
        time.sleep(0.05)


def listen_adverts(local: str, seconds: float) -> list[vrrp.Advert]:
    if seconds <= 0:
        return []
    adverts = []
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, vrrp.VRRP_PROTOCOL) as sock:
        membership = socket.inet_aton(vrrp.VRRP_GROUP) + socket.inet_aton(local)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, dummy, dummy = select.select([sock], [], [], left)
            if ready:
                advert = vrrp.parse_advert(sock.recv(2048))
                if advert is not None:
                    adverts.append(advert)
    return adverts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routing_vip=dict(type="str", required=True),
            routing_vip_extra=dict(type="list", elements="str", default=[]),
            routing_vrrp_router_id=dict(type="int", required=True),
            peers=dict(type="list", elements="str", default=[]),
            listen_seconds=dict(type="float", default=3.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    node = socket.gethostname()
    with module_errors(module, f"proxy node {node}"):
        addresses = vrrp.parse_vips(params["routing_vip"], params["routing_vip_extra"])
        vips = [str(v) for v in addresses]
        interfaces = vrrp.interfaces_of(ip_json(module, "addr"))
        held = {str(iface.ip) for dummy, iface in interfaces if str(iface.ip) in vips}
        answered = arp_answers(module, [v for v in vips if v not in held] + params["peers"] if len(held) < len(vips)
                               else [])
        listen_seconds = 0 if vrrp.held_by_proxies(vips, held, answered, params["peers"]) else params["listen_seconds"]
        # Join the VRRP group on the node's address on the VIP's network (any address if the VIP fits none).
        try:
            local = vrrp.interface_for(addresses[0], addresses, node, interfaces)[1].ip
        except vrrp.VipError:
            local = "0.0.0.0"
        adverts = listen_adverts(str(local), listen_seconds)
        place = vrrp.check(node, params["routing_vip"], params["routing_vip_extra"], params["routing_vrrp_router_id"],
                           interfaces, held, answered, params["peers"], adverts)
    module.exit_json(changed=False, held=sorted(held), listened=listen_seconds > 0, **place)


if __name__ == "__main__":
    main()
