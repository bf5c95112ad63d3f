# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routing address (a VIP that keepalived moves between the proxy nodes over VRRP), checked before any change.

Pure functions: what a node reports (its addresses, its neighbour table, the VRRP adverts it heard) in, the
problems out, each naming the role variable, the value and what would be accepted. The routing_vip_check module
gathers the facts on each proxy node and fails with these messages before the role changes anything.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

VRRP_PROTOCOL = 112
VRRP_GROUP = "224.0.0.18"
# Neighbour states in which an address has answered ARP recently.
ANSWERED = ("REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP")


class VipError(SwarmopsError):
    """The VIP or the VRRP router id cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Advert:
    source: str
    router_id: int
    addresses: tuple[str, ...]


def interfaces_of(ip_addr_json: list[dict]) -> list[tuple[str, ipaddress.IPv4Interface]]:
    """(interface, address/prefix) of every IPv4 address in `ip -j -4 addr` output."""
    found = []
    for link in ip_addr_json:
        for info in link.get("addr_info") or []:
            if info.get("family") == "inet" and info.get("local"):
                found.append((link["ifname"], ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}")))
    return found


def parse_vips(vip, extra) -> list[ipaddress.IPv4Address]:
    """routing_vip and routing_vip_extra as addresses; VipError naming the variable for anything else."""
    vips = []
    for option, values in (("routing_vip", [vip]), ("routing_vip_extra", list(extra or []))):
        for value in values:
            try:
                address = ipaddress.IPv4Address(str(value).strip())
            except ValueError:
                raise VipError(f"{option}: {value!r} is not an IPv4 address (example: 192.168.10.50)") from None
            if address.is_loopback or address.is_multicast or address.is_unspecified or address.is_link_local:
                raise VipError(f"{option}: {value} is not an address a client can reach (not loopback, multicast, "
                               f"link-local or 0.0.0.0)")
            if address in vips:
                raise VipError(f"{option}: {value} is given twice")
            vips.append(address)
    return vips


def router_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
        raise VipError(f"routing_vrrp_router_id: {value!r} is not a VRRP router id (1 to 255, unique on the network)")
    return value


def option_of(vip: ipaddress.IPv4Address, vips: list[ipaddress.IPv4Address]) -> str:
    return "routing_vip" if vip == vips[0] else "routing_vip_extra"


def interface_for(vip: ipaddress.IPv4Address, vips: list[ipaddress.IPv4Address], node: str,
                  interfaces: list[tuple[str, ipaddress.IPv4Interface]]) -> tuple[str, ipaddress.IPv4Interface]:
    """The interface (and the node's own address on it) whose subnet holds the VIP; the VIPs themselves, which
    keepalived adds as /32, do not count."""
    own = [(name, iface) for name, iface in interfaces if iface.network.prefixlen < 32]
    for name, iface in own:
        if vip in iface.network:
            if vip in (iface.network.network_address, iface.network.broadcast_address) and iface.network.prefixlen < 31:
                raise VipError(f"{option_of(vip, vips)}: {vip} is the network or broadcast address of {iface.network} "
                               f"on {node}")
            if vip == iface.ip:
                raise VipError(f"{option_of(vip, vips)}: {vip} is {node}'s own address on {name}; choose a free "
                               f"address of {iface.network}")
            return name, iface
    listed = ", ".join(f"{iface} on {name}" for name, iface in own) or "none"
    raise VipError(f"{option_of(vip, vips)}: {vip} is not in the subnet of any address of proxy node {node} "
                   f"({listed}); VRRP moves an address within one layer-2 network, so choose a free address there")


def neighbours(ip_neigh_json: list[dict]) -> dict[str, str]:
    """address -> link-layer address of the entries that answered, from `ip -j -4 neigh` output."""
    return {entry["dst"]: entry["lladdr"] for entry in ip_neigh_json
            if entry.get("lladdr") and set(entry.get("state") or []) & set(ANSWERED)}


def parse_advert(packet: bytes) -> Advert | None:
    """A VRRP (v2 or v3) advertisement from a raw IPv4 packet; None for anything else."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != VRRP_PROTOCOL:
        return None
    header = (packet[0] & 0x0F) * 4
    body = packet[header:]
    if len(body) < 8 or body[0] >> 4 not in (2, 3) or body[0] & 0x0F != 1:
        return None
    count = body[3]
    addresses = tuple(str(ipaddress.IPv4Address(body[8 + 4 * i:12 + 4 * i])) for i in range(count)
                      if len(body) >= 12 + 4 * i)
    source = str(ipaddress.IPv4Address(struct.unpack("!4s", packet[12:16])[0]))
    return Advert(source=source, router_id=body[1], addresses=addresses)


def peer_links(answered: dict[str, str], peers: list[str]) -> set[str]:
    """The link-layer addresses the other proxy nodes answered ARP from."""
    return {answered[p] for p in peers if p in answered}


def held_by_proxies(vips: list[str], held: set[str], answered: dict[str, str], peers: list[str]) -> bool:
    """Whether every VIP is held by this node or answers from another proxy node: their VRRP instance is up."""
    ours = peer_links(answered, peers)
    return all(vip in held or answered.get(vip) in ours for vip in vips)


def check(node: str, vip, extra, vrid, interfaces: list[tuple[str, ipaddress.IPv4Interface]],
          held: set[str], answered: dict[str, str], peers: list[str], adverts: list[Advert]) -> dict:
    """Everything wrong with the VIPs and router id seen from one proxy node, at once (VipError), else where
    keepalived puts them: {'interface', 'address', 'prefix'}.

    held: the VIPs this node holds now. answered: address -> link-layer address of the neighbours that answered
    ARP (the VIPs and the peers were asked). peers: the other proxy nodes' addresses. A VIP answering from a
    link-layer address that is not a peer's is someone else's; adverts with our router id from an address that is
    not a peer's are another VRRP router's (keepalived elsewhere, a firewall pair), which would fight ours.
    """
    vips = parse_vips(vip, extra)
    vrid = router_id(vrid)
    problems, placed = [], None
    for address in vips:
        try:
            name, iface = interface_for(address, vips, node, interfaces)
        except VipError as exc:
            problems.append(str(exc))
            continue
        if placed is None:
            placed = (name, iface)
        elif placed[0] != name:
            problems.append(f"{option_of(address, vips)}: {address} is on {name} of {node}, not on {placed[0]} "
                            f"with {vips[0]}; all the addresses of one VRRP instance move together on one network")
    ours = peer_links(answered, peers)
    for address in vips:
        text = str(address)
        if text in held or text not in answered:
            continue
        if answered[text] not in ours:
            problems.append(f"{option_of(address, vips)}: {address} is already in use on the network (it answers "
                            f"from {answered[text]}, which is not one of the proxy nodes); choose a free address")
    local = {str(iface.ip) for dummy, iface in interfaces}
    strangers = sorted({a.source for a in adverts if a.router_id == vrid and a.source not in set(peers) | local})
    if strangers:
        problems.append(f"routing_vrrp_router_id: {vrid} is already used by another VRRP router on the network "
                        f"({', '.join(strangers)}); choose another id (1 to 255)")
    if problems:
        raise VipError("; ".join(problems))
    return {"interface": placed[0], "address": str(placed[1].ip), "prefix": placed[1].network.prefixlen}
