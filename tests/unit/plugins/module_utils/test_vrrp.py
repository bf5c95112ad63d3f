import ipaddress
import struct

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import vrrp
from ansible_collections.swarmops.ha.plugins.module_utils.vrrp import Advert, VipError

IP_ADDR = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.0.0.11", "prefixlen": 24},
                                     {"family": "inet", "local": "10.0.0.50", "prefixlen": 32}]},
    {"ifname": "docker0", "addr_info": [{"family": "inet", "local": "172.17.0.1", "prefixlen": 16}]},
]
INTERFACES = vrrp.interfaces_of(IP_ADDR)
PEERS = ["10.0.0.12", "10.0.0.13"]
PEER_MACS = {"10.0.0.12": "02:00:00:00:00:12", "10.0.0.13": "02:00:00:00:00:13"}


def check(vip="10.0.0.50", extra=(), vrid=51, held=(), answered=None, adverts=()):
    return vrrp.check("node1", vip, list(extra), vrid, INTERFACES, set(held),
                      {**PEER_MACS, **(answered or {})}, PEERS, list(adverts))


def test_a_free_vip_in_the_subnet_is_placed_on_its_interface():
    assert check(vip="10.0.0.60") == {"interface": "eth0", "address": "10.0.0.11", "prefix": 24}


def test_a_vip_this_node_or_a_peer_holds_is_ours():
    assert check(held={"10.0.0.50"})["interface"] == "eth0"
    assert check(answered={"10.0.0.50": PEER_MACS["10.0.0.13"]})["address"] == "10.0.0.11"


def test_the_vips_are_held_by_the_proxies_only_when_each_is_held_here_or_answers_from_a_peer():
    answered = {**PEER_MACS, "10.0.0.60": PEER_MACS["10.0.0.12"], "10.0.0.61": "02:00:00:00:00:99"}
    assert vrrp.held_by_proxies(["10.0.0.50", "10.0.0.60"], {"10.0.0.50"}, answered, PEERS)
    assert not vrrp.held_by_proxies(["10.0.0.50", "10.0.0.61"], {"10.0.0.50"}, answered, PEERS)  # a stranger's
    assert not vrrp.held_by_proxies(["10.0.0.70"], set(), answered, PEERS)  # nobody answers: not up yet


@pytest.mark.parametrize("vip, extra, message", [
    ("192.168.1.5", (), "routing_vip: 192.168.1.5 is not in the subnet of any address of proxy node node1 "
                        "(127.0.0.1/8 on lo, 10.0.0.11/24 on eth0, 172.17.0.1/16 on docker0)"),
    ("10.0.0.x", (), "routing_vip: '10.0.0.x' is not an IPv4 address"),
    ("10.0.0.255", (), "routing_vip: 10.0.0.255 is the network or broadcast address of 10.0.0.0/24 on node1"),
    ("10.0.0.11", (), "routing_vip: 10.0.0.11 is node1's own address on eth0"),
    ("10.0.0.60", ("10.0.0.60",), "routing_vip_extra: 10.0.0.60 is given twice"),
    ("10.0.0.60", ("172.17.0.9",), "routing_vip_extra: 172.17.0.9 is on docker0 of node1, not on eth0"),
    ("127.0.0.5", (), "routing_vip: 127.0.0.5 is not an address a client can reach"),
])
def test_a_vip_outside_the_nodes_subnet_is_refused_naming_the_variable(vip, extra, message):
    with pytest.raises(VipError, match=None) as error:
        check(vip=vip, extra=extra)
    assert message in str(error.value)


def test_a_vip_that_answers_from_another_machine_is_in_use():
    with pytest.raises(VipError) as error:
        check(vip="10.0.0.60", extra=["10.0.0.61"], answered={"10.0.0.61": "02:00:00:00:00:99"})
    assert str(error.value) == ("routing_vip_extra: 10.0.0.61 is already in use on the network (it answers from "
                                "02:00:00:00:00:99, which is not one of the proxy nodes); choose a free address")


def test_adverts_of_our_router_id_from_a_stranger_are_a_clash_and_every_problem_is_told():
    adverts = [Advert("10.0.0.12", 51, ("10.0.0.50",)), Advert("10.0.0.99", 51, ("10.0.0.70",)),
               Advert("10.0.0.98", 52, ("10.0.0.80",))]
    with pytest.raises(VipError) as error:
        check(vip="10.0.0.60", adverts=adverts, answered={"10.0.0.60": "02:00:00:00:00:99"})
    text = str(error.value)
    assert "routing_vip: 10.0.0.60 is already in use" in text
    assert "routing_vrrp_router_id: 51 is already used by another VRRP router on the network (10.0.0.99)" in text
    assert check(vip="10.0.0.60", adverts=adverts[:1] + adverts[2:])["interface"] == "eth0"


@pytest.mark.parametrize("value", [0, 256, "51", True])
def test_a_router_id_outside_1_to_255_is_refused(value):
    with pytest.raises(VipError, match="routing_vrrp_router_id: .* is not a VRRP router id"):
        check(vrid=value)


def test_neighbours_keep_the_entries_that_answered():
    table = [{"dst": "10.0.0.12", "lladdr": "02:00:00:00:00:12", "state": ["REACHABLE"]},
             {"dst": "10.0.0.60", "state": ["FAILED"]},
             {"dst": "10.0.0.61", "lladdr": "02:00:00:00:00:99", "state": ["STALE"]}]
    assert vrrp.neighbours(table) == {"10.0.0.12": "02:00:00:00:00:12", "10.0.0.61": "02:00:00:00:00:99"}


def vrrp_packet(source, vrid, addresses, version=2):
    body = bytes([version << 4 | 1, vrid, 100, len(addresses), 1, 1, 0, 0])
    body += b"".join(ipaddress.IPv4Address(a).packed for a in addresses) + b"secret12"
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(body), 0, 0, 255, 112, 0,
                         ipaddress.IPv4Address(source).packed, ipaddress.IPv4Address("224.0.0.18").packed)
    return header + body


def test_a_vrrp_advert_is_read_from_a_raw_packet():
    assert vrrp.parse_advert(vrrp_packet("10.0.0.99", 7, ["10.0.0.70", "10.0.0.71"])) == \
        Advert("10.0.0.99", 7, ("10.0.0.70", "10.0.0.71"))
    assert vrrp.parse_advert(vrrp_packet("10.0.0.99", 7, [], version=3)).router_id == 7
    assert vrrp.parse_advert(b"\x45" + b"\0" * 30) is None
