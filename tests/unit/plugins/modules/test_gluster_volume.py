import pytest
from module_harness import ModuleFail, exit_result, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import gluster_volume


class FakeModule:
    """run_command answers from a list, one answer per call, and records the calls."""

    def __init__(self, answers):
        self.answers, self.calls = list(answers), []

    def get_bin_path(self, name, required=False):
        return f"/usr/sbin/{name}"

    def run_command(self, args):
        self.calls.append(args[2:])
        return self.answers.pop(0)


NOT_CONNECTED = (1, "", "volume create: data: failed: Staging failed on 192.0.2.12. "
                        "Error: Host 192.0.2.13 not connected")


def test_create_waits_for_a_peer_that_does_not_see_a_third_one_yet(monkeypatch):
    monkeypatch.setattr(gluster_volume.time, "sleep", lambda seconds: None)
    module = FakeModule([NOT_CONNECTED, NOT_CONNECTED, (0, "volume create: data: success", "")])
    gluster_volume.Gluster(module).create("data", ["replica", "3"], timeout=60)
    assert module.calls == [["volume", "create", "data", "replica", "3"]] * 3


def test_create_gives_up_at_the_timeout_and_at_once_on_other_errors(monkeypatch):
    monkeypatch.setattr(gluster_volume.time, "sleep", lambda seconds: None)
    module = FakeModule([NOT_CONNECTED] * 2)
    with pytest.raises(gluster_volume.GlusterError, match="Host 192.0.2.13 not connected"):
        gluster_volume.Gluster(module).create("data", ["replica", "3"], timeout=-1)
    assert len(module.calls) == 1
    module = FakeModule([(1, "", "volume create: data: failed: brick is already part of a volume")])
    with pytest.raises(gluster_volume.GlusterError, match="already part of a volume"):
        gluster_volume.Gluster(module).create("data", ["replica", "3"], timeout=60)


class FakeGluster:
    """The trusted pool and volumes one node's glusterd would report; records what would change them."""

    def __init__(self, module):
        self.volumes, self.pool, self.writes = {}, {}, []

    def run(self, *args, check=True):
        if args[:2] == ("pool", "list"):
            return 0, ""
        self.writes.append(args)
        if args[0] == "peer":
            self.pool[args[2]] = "Connected"
        elif args[1] == "start":
            self.volumes[args[2]]["status"] = "Started"
        elif args[1] == "stop":
            self.volumes[args[2]]["status"] = "Stopped"
        elif args[1] == "delete":
            del self.volumes[args[2]]
        return 0, ""

    def volume(self, name):
        return dict(self.volumes[name]) if name in self.volumes else None

    def peers(self):
        return dict(self.pool)

    def wait_connected(self, hosts, timeout):
        assert all(self.pool.get(host) == "Connected" for host in hosts)

    def create(self, name, args, timeout):
        self.writes.append(("volume", "create", name))
        bricks = [arg for arg in args if ":/" in arg]
        self.volumes[name] = {"name": name, "status": "Created", "replica": int(args[1]), "bricks": bricks}


BRICKS = [f"192.0.2.{host}:/srv/gluster/data" for host in (11, 12, 13)]


@pytest.fixture
def cluster(monkeypatch):
    """A node at 192.0.2.11 with no peers and no volume yet."""
    fake = FakeGluster(None)
    patch_exits(monkeypatch, gluster_volume.AnsibleModule)
    monkeypatch.setattr(gluster_volume, "Gluster", lambda module: fake)
    monkeypatch.setattr(gluster_volume, "is_local", lambda address: address == "192.0.2.11")
    return fake


def test_main_probes_the_peers_creates_and_starts_once_and_check_mode_changes_nothing(cluster):
    planned = exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS, "_ansible_check_mode": True})
    assert planned["changed"] is True and planned["probed"] == ["192.0.2.12", "192.0.2.13"]
    assert cluster.writes == []
    made = exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    assert made["changed"] is True and made["diff"]["before"] == {}
    assert cluster.writes == [("peer", "probe", "192.0.2.12"), ("peer", "probe", "192.0.2.13"),
                              ("volume", "create", "data"), ("volume", "start", "data")]
    again = exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    assert again["changed"] is False and again["probed"] == [] and len(cluster.writes) == 4
    assert again["volume"] == {"name": "data", "status": "Started", "replica": 3, "bricks": BRICKS}


def test_a_started_volume_is_left_alone_when_the_pool_names_a_brick_host_otherwise_and_it_is_down(cluster):
    exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    cluster.pool = {"node2.example.test": "Disconnected", "192.0.2.13": "Connected"}
    writes = list(cluster.writes)
    again = exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    assert again["changed"] is False and again["probed"] == [] and cluster.writes == writes


def test_main_refuses_before_any_change_naming_the_option_and_value(cluster):
    refused = run_main(gluster_volume.main, {"name": "data", "bricks": BRICKS, "replica": 2})
    assert isinstance(refused, ModuleFail)
    assert refused.args[0]["msg"].startswith("replica: 2 does not fit 3 bricks")
    refused = run_main(gluster_volume.main, {"name": "data", "bricks": ["192.0.2.12/srv"]})
    assert isinstance(refused, ModuleFail) and "bricks: '192.0.2.12/srv' is not host:/absolute/path" in \
        refused.args[0]["msg"]
    exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    writes = list(cluster.writes)
    refused = run_main(gluster_volume.main, {"name": "data", "bricks": BRICKS[:2], "replica": 2})
    assert isinstance(refused, ModuleFail) and "exists with replica 3" in refused.args[0]["msg"]
    assert cluster.writes == writes


def test_main_stops_and_deletes_an_absent_volume_once(cluster):
    exit_result(gluster_volume.main, {"name": "data", "bricks": BRICKS})
    gone = exit_result(gluster_volume.main, {"name": "data", "state": "absent"})
    assert gone["changed"] is True and cluster.writes[-2:] == [("volume", "stop", "data"), ("volume", "delete", "data")]
    assert exit_result(gluster_volume.main, {"name": "data", "state": "absent"})["changed"] is False
