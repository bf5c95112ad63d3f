"""Secrets and configs as versions: fingerprints, names, and what a change plans (against a fake engine)."""

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import services, swarm_data
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

SECRET = swarm_data.Kind("Secret")


def test_a_fingerprint_recognises_its_data_and_nothing_else():
    stored = swarm_data.fingerprint(b"s3cret", iterations=1000)
    assert swarm_data.matches(b"s3cret", stored)
    assert not swarm_data.matches(b"s3cret ", stored)
    assert "s3cret" not in stored and stored != swarm_data.fingerprint(b"s3cret", iterations=1000)  # salted
    assert not swarm_data.matches(b"s3cret", None) and not swarm_data.matches(b"s3cret", "md5$1$x$y")


@pytest.mark.parametrize("name", ["db password", "-db", "db.v2", "x" * 55, ""])
def test_names_the_versions_could_not_carry_are_refused(name):
    with pytest.raises(SwarmopsError, match="name: .* is not accepted"):
        swarm_data.check_name(name)


def test_versions_belong_to_their_name():
    assert services.logical_name("db.v12") == "db"
    assert services.logical_name("db.version") == "db.version"
    assert swarm_data.version_name("db", 3) == "db.v3"


class FakeEngine:
    def __init__(self, secrets, services):
        self._secrets, self._services = secrets, services

    def secrets(self, filters=None):
        """The engine's filters: label key=value, name as a substring."""
        filters = filters or {}
        key, dummy, value = filters.get("label", "=").partition("=")
        return [s for s in self._secrets
                if (not key or (s["Spec"].get("Labels") or {}).get(key) == value)
                and filters.get("name", "") in s["Spec"]["Name"]]

    def services(self):
        return self._services


def version(n, data, ident=None):
    return {"ID": ident or f"id{n}", "Spec": {"Name": f"db.v{n}", "Labels": {
        "swarmops.name": "db", "swarmops.version": str(n),
        "swarmops.fingerprint": swarm_data.fingerprint(data, iterations=1000)}}}


def service(name, *secret_ids):
    return {"Spec": {"Name": name, "TaskTemplate": {"ContainerSpec": {"Secrets": [
        {"SecretID": i, "SecretName": "x", "File": {"Name": "db"}} for i in secret_ids]}}}}


def test_the_same_value_plans_nothing():
    engine = FakeEngine([version(1, b"a")], [service("api", "id1")])
    the_plan = swarm_data.plan(SECRET, engine, "db", b"a")
    assert not the_plan.changed and the_plan.current["ID"] == "id1"


def test_a_new_value_makes_the_next_version_moves_its_users_and_removes_the_old():
    engine = FakeEngine([version(1, b"a"), version(2, b"b")], [service("api", "id2"), service("web", "id1"),
                                                               service("other")])
    the_plan = swarm_data.plan(SECRET, engine, "db", b"c")
    assert the_plan.create == "db.v3"
    assert the_plan.move == ["api", "web"]
    assert [v["ID"] for v in the_plan.remove] == ["id1", "id2"]


def test_an_interrupted_rotation_is_finished_without_a_new_version():
    engine = FakeEngine([version(1, b"a"), version(2, b"b")], [service("api", "id2"), service("web", "id1")])
    the_plan = swarm_data.plan(SECRET, engine, "db", b"b")
    assert (the_plan.create, the_plan.move, [v["ID"] for v in the_plan.remove]) == (None, ["web"], ["id1"])


def test_a_secret_made_by_hand_is_taken_over():
    by_hand = {"ID": "h", "Spec": {"Name": "db"}}
    engine = FakeEngine([by_hand], [service("api", "h")])
    the_plan = swarm_data.plan(SECRET, engine, "db", b"a")
    assert (the_plan.create, the_plan.move, the_plan.remove) == ("db.v1", ["api"], [by_hand])


def test_absent_is_refused_while_a_service_uses_a_version():
    engine = FakeEngine([version(1, b"a")], [service("api", "id1")])
    with pytest.raises(SwarmopsError, match="state: absent, but secret db is used by api"):
        swarm_data.plan(SECRET, engine, "db", None)
    assert swarm_data.plan(SECRET, FakeEngine([version(1, b"a")], []), "db", None).remove[0]["ID"] == "id1"


def users(*entries):
    return [{"name": name, "password": password, "groups": groups} for name, password, groups in entries]


def test_user_files_hash_every_password_and_keep_roles_as_groups():
    import bcrypt

    given = users(("ci", "push-password-1", ["push"]), ("app", "pull-password-1", ["pull"]))
    htpasswd = swarm_data.users_file(given, "htpasswd", 4).decode()
    lines = dict(line.split(":", 1) for line in htpasswd.splitlines())
    assert list(lines) == ["app", "ci"] and bcrypt.checkpw(b"push-password-1", lines["ci"].encode())
    userlist = swarm_data.users_file(given, "haproxy", 4).decode().splitlines()
    assert userlist[:3] == ["userlist swarmops_users", "    group pull", "    group push"]
    name, hashed, groups = userlist[4].split()[1], userlist[4].split()[3], userlist[4].split()[-1]
    assert (name, groups) == ("ci", "push") and bcrypt.checkpw(b"push-password-1", hashed.encode())
    assert "password-1" not in htpasswd + "".join(userlist)


def test_the_same_users_are_recognised_though_each_file_is_salted_anew():
    given = users(("ci", "push-password-1", ["push"]))
    identity = swarm_data.users_identity(given, "haproxy", 6)
    assert swarm_data.users_file(given, "haproxy", 6) != swarm_data.users_file(given, "haproxy", 6)
    assert identity == swarm_data.users_identity(list(reversed(given)), "haproxy", 6)
    for changed in (users(("ci", "push-password-2", ["push"])), users(("ci", "push-password-1", ["pull"]))):
        assert swarm_data.users_identity(changed, "haproxy", 6) != identity
    assert swarm_data.users_identity(given, "htpasswd", 6) != identity


@pytest.mark.parametrize("given, message", [
    (users(("ci", "tiny1", [])), r"users\[0\] \(ci\): the password is shorter than password_min_length \(12\)"),
    (users(("c i", "long-enough-password", [])), r"users\[0\].name: 'c i' is not accepted"),
    (users(("ci", "long-enough-password", []), ("ci", "another-password!", [])),
     r"users\[1\].name: 'ci' is given twice"),
    (users(("ci", "long-enough-password", ["push,pull"])), r"users\[0\].groups: 'push,pull' is not accepted"),
])
def test_bad_users_are_refused_naming_the_user_never_the_password(given, message):
    with pytest.raises(SwarmopsError, match=message) as caught:
        swarm_data.check_users(given, 12)
    assert not any(user["password"] in str(caught.value) for user in given)
