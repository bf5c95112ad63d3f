"""routing_vip_check's main() with the node's addresses, neighbours and VRRP adverts given: a VIP the proxies hold
is checked without listening; a new one is listened for, and a stranger advertising the router id is refused."""

import json

import pytest
from module_harness import ModuleExit, ModuleFail, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.module_utils import vrrp
from ansible_collections.swarmops.ha.plugins.modules import routing_vip_check

VIP, NODE, PEER = "192.0.2.250", "192.0.2.11", "192.0.2.12"


class Node:
    """`ip -j -4 addr` and `ip -j -4 neigh` of a proxy node, and the adverts its listen would hear; its clock moves
    only when the module sleeps."""

    def __init__(self, holds_vip, adverts=(), peer_holds_vip=False):
        addresses = [{"family": "inet", "local": NODE, "prefixlen": 24}]
        if holds_vip:
            addresses.append({"family": "inet", "local": VIP, "prefixlen": 24})
        self.addr = [{"ifname": "eth0", "addr_info": addresses}]
        self.neigh = [{"dst": PEER, "lladdr": "02:42:c0:00:02:0c", "state": ["REACHABLE"]}]
        if peer_holds_vip:
            self.neigh.append({"dst": VIP, "lladdr": "02:42:c0:00:02:0c", "state": ["REACHABLE"]})
        self.adverts, self.listened, self.now = list(adverts), [], 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def run_command(self, argv, check_rc=False):
        return 0, json.dumps(self.addr if argv[3] == "addr" else self.neigh), ""

    def listen(self, local, seconds):
        self.listened.append(seconds)
        return self.adverts if seconds else []


def run(monkeypatch, node, vip=VIP):
    patch_exits(monkeypatch, routing_vip_check.AnsibleModule)
    monkeypatch.setattr(routing_vip_check.AnsibleModule, "run_command", lambda module, argv, check_rc: node.run_command(
        argv, check_rc))
    monkeypatch.setattr(routing_vip_check, "listen_adverts", node.listen)
    monkeypatch.setattr(routing_vip_check, "ask_arp", lambda addresses: None)
    monkeypatch.setattr(routing_vip_check, "time", node)
    return run_main(routing_vip_check.main, {"routing_vip": vip, "routing_vrrp_router_id": 51, "peers": [PEER]})


def test_a_vip_this_node_holds_is_checked_without_listening(monkeypatch):
    node = Node(holds_vip=True)
    outcome = run(monkeypatch, node)
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    assert outcome.args[0]["listened"] is False and outcome.args[0]["held"] == [VIP] and node.listened == [0]
    assert outcome.args[0]["interface"] == "eth0" and outcome.args[0]["changed"] is False


def test_a_vip_another_proxy_node_holds_is_checked_as_soon_as_it_answers_arp(monkeypatch):
    node = Node(holds_vip=False, peer_holds_vip=True)
    outcome = run(monkeypatch, node)
    assert isinstance(outcome, ModuleExit), outcome.args[0]
    assert outcome.args[0]["listened"] is False and node.listened == [0] and node.now == 0.0


def test_a_new_vip_is_listened_for_and_a_strangers_router_id_is_refused(monkeypatch):
    quiet = Node(holds_vip=False)
    outcome = run(monkeypatch, quiet)
    assert isinstance(outcome, ModuleExit) and outcome.args[0]["listened"] is True and quiet.listened == [3.0]
    assert quiet.now == pytest.approx(1.0, abs=0.05)  # a free address never answers ARP: the whole second
    stranger = Node(holds_vip=False, adverts=[vrrp.Advert(source="192.0.2.99", router_id=51, addresses=[])])
    refused = run(monkeypatch, stranger)
    assert isinstance(refused, ModuleFail)
    assert "routing_vrrp_router_id" in refused.args[0]["msg"] and "192.0.2.99" in refused.args[0]["msg"]


@pytest.mark.parametrize("vip, message", [
    ("192.0.2.300", "routing_vip: '192.0.2.300'"),
    ("198.51.100.250", "routing_vip: 198.51.100.250 is not in the subnet of any address of proxy node"),
])
def test_a_vip_that_is_no_address_or_outside_the_nodes_networks_is_refused(monkeypatch, vip, message):
    outcome = run(monkeypatch, Node(holds_vip=False), vip)
    assert isinstance(outcome, ModuleFail) and message in outcome.args[0]["msg"]
