"""site.yml forms the guide's swarm: node1 Leader, node2 and node3 Reachable, node4 and node5 workers."""

import re

from labtools import NODES, PREFIX, PROMOTE_TASK, changed_tasks, leaked, recap

from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib


def node_ls(lab):
    nodes = lab.engine(lab.names[0]).api.nodes()
    return {n["Description"]["Hostname"]: (n["Spec"]["Role"], n["Status"]["State"],
                                           "Leader" if (n.get("ManagerStatus") or {}).get("Leader")
                                           else (n.get("ManagerStatus") or {}).get("Reachability", ""))
            for n in nodes}


def test_node_list_matches_the_guide(lab):
    assert NODES == 5
    names = lab.names
    assert node_ls(lab) == {
        names[0]: ("manager", "ready", "Leader"),
        names[1]: ("manager", "ready", "reachable"),
        names[2]: ("manager", "ready", "reachable"),
        names[3]: ("worker", "ready", ""),
        names[4]: ("worker", "ready", ""),
    }


def test_site_at_vvv_shows_no_join_token(lab):
    assert len(lab.secrets_after_first_run) >= 2
    assert not leaked(lab.first_run, lab.secrets_after_first_run), "join tokens in site.yml -vvv output"


def test_swarm_info_reports_quorum_arithmetic(lab):
    failed, result = lab.module("swarm_info", lab.connection(lab.names[1]), lab.names[1])
    assert not failed
    assert result["quorum"] == {"managers": 3, "reachable": 3, "quorum": 2, "tolerated_failures": 1,
                                "has_quorum": True, "at_risk": False, "leader": lab.names[0]}
    assert [n["hostname"] for n in result["nodes"]] == lab.names


def test_promote_refuses_unknown_names_and_even_counts_and_changes_nothing(lab):
    before = node_ls(lab)
    failed, result = lab.module("swarm_promote", {**lab.connection(lab.names[0]),
                                                  "managers": [lab.names[0], "no-such-node"]})
    assert failed and "managers: no-such-node not in this swarm" in result["msg"]
    failed, result = lab.module("swarm_promote", {**lab.connection(lab.names[0]), "manager_count": 4})
    assert failed and "4 managers" in result["msg"] and "allow_even" in result["msg"]
    assert node_ls(lab) == before


def test_five_managers_then_site_demotes_two_safely(lab):
    """The module grows the managers to five; node_bootstrap then reads five managers, not the inventory's three, so
    the swarm role's promote runs and demotes two, the leader kept (the promote is skipped only when the managers
    read are the inventory's: test_lab_lifecycle)."""
    guide = node_ls(lab)
    failed, grown = lab.module("swarm_promote", {**lab.connection(lab.names[0]), "manager_count": 5})
    assert not failed and grown["promoted"] == lab.names[3:]
    assert grown["quorum"]["reachable"] == 5
    out = lab.playbook("site.yml", "--tags", "bootstrap,swarm")
    assert changed_tasks(out) == {lab.names[0]: [PROMOTE_TASK]}
    assert node_ls(lab) == guide and guide[lab.names[0]] == ("manager", "ready", "Leader")


def test_check_mode_on_fresh_machines_reports_every_change_and_makes_none(lab):
    totals = recap(lab.check_run)
    assert all(totals[name]["failed"] == 0 and totals[name]["changed"] >= 2 for name in lab.names)
    assert "Create the swarm on the first manager" in lab.check_run
    assert lab.after_check == dict.fromkeys(lab.names, "inactive")
    # grep -c prints 0 and exits 1 on every machine: no profile got the alias.
    assert sorted(re.findall(r"^(\S+) \| FAILED \| rc=1 >>\n0", lab.profiles_after_check, re.M)) == lab.names


def node_module(lab, **args):
    return lab.module("swarm_node", {**lab.connection(lab.names[0]), **args})


def node_spec(lab, name):
    return next(n["Spec"] for n in lab.engine(lab.names[0]).api.nodes() if n["Description"]["Hostname"] == name)


def test_swarm_node_sets_labels_and_availability_with_honest_check_mode(lab):
    name = lab.names[3]
    wanted = {"name": name, "labels": {"disk": "ssd"}, "availability": "drain"}
    failed, checked = lab.module("swarm_node", {**lab.connection(lab.names[0]), **wanted}, check_mode=True)
    assert not failed and checked["changed"]
    assert checked["diff"]["after"] == {"labels": {"disk": "ssd"}, "availability": "drain"}
    assert node_spec(lab, name).get("Availability") == "active"

    failed, changed = node_module(lab, **wanted)
    assert not failed and changed["changed"]
    assert (node_spec(lab, name)["Labels"], node_spec(lab, name)["Availability"]) == ({"disk": "ssd"}, "drain")
    assert node_module(lab, **wanted)[1]["changed"] is False

    failed, restored = node_module(lab, name=name, labels_to_remove=["disk"], availability="active")
    assert not failed and restored["changed"]
    assert (node_spec(lab, name).get("Labels"), node_spec(lab, name)["Availability"]) == ({}, "active")


def test_swarm_node_refuses_unknown_nodes_and_removing_a_live_one(lab):
    failed, result = node_module(lab, name="no-such-node", labels={"a": "b"})
    assert failed and "name: 'no-such-node' is not a node of this swarm" in result["msg"]
    failed, result = node_module(lab, name=lab.names[4], state="absent")
    assert failed and "is ready, not down" in result["msg"]
    failed, result = node_module(lab, name=lab.names[1], state="absent", force=True)
    assert failed and "is a manager" in result["msg"]
    assert len(node_ls(lab)) == NODES


def test_node_labels_from_the_inventory_are_applied_once(lab):
    labelled = recap(lab.playbook("site.yml", "--tags", "swarm", "-e", '{"swarm_node_labels": {"tier": "it"}}'))
    assert all(labelled[name]["changed"] == 1 for name in lab.names)
    # merged with the labels other roles set: the routing and monitoring roles' on the managers stay
    assert {name: node_spec(lab, name)["Labels"] for name in lab.names} == {
        name: {"tier": "it", **({"swarmops.routing": "true", "swarmops.monitoring": "true"} if i < 3 else {})}
        for i, name in enumerate(lab.names)}
    again = recap(lab.playbook("site.yml", "--tags", "swarm", "-e", '{"swarm_node_labels": {"tier": "it"}}'))
    assert all(again[name]["changed"] == 0 for name in lab.names)


def test_engine_labels_from_node_bootstrap_restart_the_engine_once(lab):
    worker = lab.names[4]
    labels = ["-e", '{"node_bootstrap_engine_labels": {"zone": "it", "disk": "ssd"}}', "--limit", worker]
    first = recap(lab.playbook("site.yml", "--tags", "bootstrap", *labels))
    assert first[worker]["changed"] == 2  # the configuration, and the handler's restart
    assert sorted(lab.engine(worker).info()["Labels"]) == ["disk=ssd", "zone=it"]  # the engine keeps no order
    assert recap(lab.playbook("site.yml", "--tags", "bootstrap", *labels))[worker]["changed"] == 0


def test_a_sixth_machine_joins_through_a_run_limited_to_it_and_the_managers_stay(lab):
    """As an operator adds a node: site.yml limited to the controller (which makes the machine), the new node and
    one manager that is not the first. The new node joins through the first manager, outside the play; the
    managers outside the play are not demoted, the swarm is not created again on the new node, the volume keeps
    its bricks, and the manager in the play changes nothing."""
    sixth, manager = f"{PREFIX}{NODES + 1}", lab.names[1]
    before = node_ls(lab)
    out = lab.playbook("site.yml", "-e", f"lab_nodes={NODES + 1}", "--limit", f"localhost,{manager},{sixth}")
    grown = recap(out)
    assert grown[sixth]["changed"] >= 2 and grown[sixth]["failed"] == 0
    assert grown[manager]["changed"] == 0, changed_tasks(out)
    assert set(grown) == {"localhost", manager, sixth}
    assert node_ls(lab) == {**before, sixth: ("worker", "ready", "")}

    sixth_conn = lab.connection(sixth)
    assert not lab.module("swarm_join", {**sixth_conn, "state": "absent"}, sixth)[0]
    swarm_lib.wait_for(lambda: node_ls(lab)[sixth][1] == "down", 60, f"{sixth} to be down")
    failed, removed = node_module(lab, name=sixth, state="absent")
    assert not failed and removed["changed"]
    assert not lab.module("machine", {"name": sixth, "state": "absent"})[0]
    assert sixth not in node_ls(lab) and len(node_ls(lab)) == NODES
