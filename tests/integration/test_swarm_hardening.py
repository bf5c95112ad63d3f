"""Swarm hardening on the lab: autolock (a restarted manager stays locked until the unlock play gives it the key)
and join-token rotation."""

import json

from labtools import recap

from ansible_collections.swarmops.ha.plugins.module_utils.swarm import wait_for

WRONG_KEY = "SWMKEY-1-" + "A" * 43


def local_state(lab, name):
    return lab.engine(name).info()["Swarm"]["LocalNodeState"]


def reachability(lab, name):
    node = next(n for n in lab.engine(lab.names[0]).api.nodes() if n["Description"]["Hostname"] == name)
    return node["Status"]["State"], (node.get("ManagerStatus") or {}).get("Reachability")


def test_a_restarted_manager_stays_locked_until_the_unlock_play(lab, tmp_path):
    manager = lab.names[2]
    key_file = tmp_path / "unlock-key"
    try:
        locked = lab.playbook("site.yml", "--tags", "swarm", "-e", json.dumps(
            {"swarm_autolock": True, "swarm_unlock_key_file": str(key_file)}))
        assert recap(locked)[lab.names[0]]["changed"] == 2  # the setting, and the key written
        key = key_file.read_text().strip()
        assert key.startswith("SWMKEY-1-") and oct(key_file.stat().st_mode & 0o777) == "0o600"
        assert key not in locked

        lab.run("ansible", manager, "-b", "-m", "ansible.builtin.service", "-a", "name=docker state=restarted")
        wait_for(lambda: local_state(lab, manager) == "locked", 60, f"{manager} locked after its restart")

        refused = lab.playbook("unlock.yml", "-e", json.dumps({"swarm_unlock_key": WRONG_KEY}), "-vvv", check=False)
        assert "unlock_key: the engine refused the key" in refused and WRONG_KEY not in refused
        assert recap(refused)[manager]["failed"] == 1
        assert local_state(lab, manager) == "locked"

        unlocked = lab.playbook("unlock.yml", "-e", json.dumps({"swarm_unlock_key": key}), "-vvv")
        assert {name: recap(unlocked)[name]["changed"] for name in lab.names[:3]} == {
            lab.names[0]: 0, lab.names[1]: 0, manager: 1}
        assert key not in unlocked
        wait_for(lambda: reachability(lab, manager) == ("ready", "reachable"), 60, f"{manager} reachable again")
    finally:
        off = lab.playbook("site.yml", "--tags", "swarm", "-e", json.dumps(
            {"swarm_autolock": False, "swarm_unlock_key": key_file.read_text().strip() if key_file.exists() else None}))
        assert recap(off)[lab.names[0]]["failed"] == 0
    assert local_state(lab, manager) == "active"


def test_join_tokens_are_replaced_when_asked_and_never_shown(lab):
    before = lab.engine(lab.names[0]).api.inspect_swarm()["JoinTokens"]
    out = lab.playbook("site.yml", "--tags", "swarm", "-e", "swarm_rotate_join_tokens=true", "-vvv")
    assert recap(out)[lab.names[0]]["changed"] == 1
    after = lab.engine(lab.names[0]).api.inspect_swarm()["JoinTokens"]
    assert before["Worker"] != after["Worker"] and before["Manager"] != after["Manager"]
    assert not any(token in out for token in (*before.values(), *after.values()))
