import pytest

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
