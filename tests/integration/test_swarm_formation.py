"""site.yml forms the guide's swarm: node1 Leader, node2 and node3 Reachable, node4 and node5 workers."""

from labtools import NODES

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib


def node_ls(lab):
    nodes = lab.engine(lab.names[0]).api.nodes()
    return {n["Description"]["Hostname"]: (n["Spec"]["Role"], n["Status"]["State"],
                                           "Leader" if (n.get("ManagerStatus") or {}).get("Leader")
                                           else (n.get("ManagerStatus") or {}).get("Reachability", ""))
            for n in nodes}


def connection(lab, host):
    return lab_lib.engine_params(lab.record(host))


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


def test_swarm_info_reports_quorum_arithmetic(lab):
    failed, result = lab.module("swarm_info", connection(lab, lab.names[1]), lab.names[1])
    assert not failed
    assert result["quorum"] == {"managers": 3, "reachable": 3, "quorum": 2, "tolerated_failures": 1,
                                "has_quorum": True, "leader": lab.names[0]}
    assert [n["hostname"] for n in result["nodes"]] == lab.names


def test_promote_refuses_unknown_names_and_even_counts_and_changes_nothing(lab):
    before = node_ls(lab)
    failed, result = lab.module("swarm_promote", {**connection(lab, lab.names[0]),
                                                   "managers": [lab.names[0], "no-such-node"]})
    assert failed and "managers: no-such-node not in this swarm" in result["msg"]
    failed, result = lab.module("swarm_promote", {**connection(lab, lab.names[0]), "manager_count": 4})
    assert failed and "4 managers" in result["msg"] and "allow_even" in result["msg"]
    assert node_ls(lab) == before


def test_five_managers_then_three_demotes_safely(lab):
    conn = connection(lab, lab.names[0])
    failed, grown = lab.module("swarm_promote", {**conn, "manager_count": 5})
    assert not failed and grown["promoted"] == lab.names[3:]
    failed, shrunk = lab.module("swarm_promote", {**conn, "managers": lab.names[:3]})
    assert not failed and shrunk["demoted"] == lab.names[3:]
    assert shrunk["quorum"]["reachable"] == 3
    assert node_ls(lab)[lab.names[0]] == ("manager", "ready", "Leader")
