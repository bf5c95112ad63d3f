"""Certificates from the collection's CA, and the user's own checked: match, names, expiry, issuer."""

import datetime

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import pki
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

NAMES = ["127.0.0.1", "registry.example"]


def issue(tmp_path, name="registry", names=None, days=397):
    return pki.ensure(str(tmp_path), name, NAMES if names is None else names, days, 3650, "swarmops")


def files(tmp_path, name="registry"):
    return {key: open(path, "rb").read() for key, path in pki.paths(str(tmp_path), name).items()}


def test_an_issued_certificate_covers_its_names_and_is_kept_until_something_changes(tmp_path):
    assert pki.plan(str(tmp_path), "registry", NAMES, 30)["reason"] == "no certificate yet"
    described = issue(tmp_path)
    assert described["subject_alt_names"] == NAMES and described["issuer"] == "O=swarmops CA"
    assert oct((tmp_path / "registry.key").stat().st_mode & 0o777) == "0o600"
    assert pki.plan(str(tmp_path), "registry", NAMES, 30)["reason"] is None
    assert "does not cover other.example" in pki.plan(str(tmp_path), "registry", NAMES + ["other.example"], 30)[
        "reason"]
    assert "within renew_days (400)" in pki.plan(str(tmp_path), "registry", NAMES, 400)["reason"]


def test_a_second_certificate_comes_from_the_same_ca(tmp_path):
    issue(tmp_path)
    ca_before = files(tmp_path)["ca_certificate"]
    issue(tmp_path, "routing", ["app.example"])
    mine = files(tmp_path, "routing")
    assert mine["ca_certificate"] == ca_before
    assert pki.signed_by(pki.load_certificate(mine["certificate"], "c"), pki.load_certificate(ca_before, "ca"))


def test_a_client_certificate_is_for_client_authentication_and_a_server_one_is_not_taken_for_it(tmp_path):
    pki.ensure(str(tmp_path), "engine-client", [], 397, 3650, "swarmops", client=True)
    client = pki.load_certificate(files(tmp_path, "engine-client")["certificate"], "c")
    assert pki.for_clients(client) and pki.names_of(client) == []
    assert pki.plan(str(tmp_path), "engine-client", [], 30, client=True)["reason"] is None
    issue(tmp_path, "engine-node1", NAMES)
    server = pki.load_certificate(files(tmp_path, "engine-node1")["certificate"], "c")
    assert not pki.for_clients(server)
    assert pki.plan(str(tmp_path), "engine-node1", [], 30, client=True)["reason"] == \
        "the certificate is not one for client authentication"


def test_the_users_own_certificate_is_refused_for_each_problem_without_showing_the_key(tmp_path):
    issue(tmp_path / "a")
    issue(tmp_path / "b")
    mine, other = files(tmp_path / "a"), files(tmp_path / "b")
    given = {"certificate": mine["certificate"], "private_key": other["private_key"]}
    with pytest.raises(SwarmopsError, match="do not match") as caught:
        pki.plan(str(tmp_path / "c"), "registry", NAMES, 30, given)
    assert other["private_key"].decode() not in str(caught.value)
    given = {"certificate": mine["certificate"], "private_key": mine["private_key"],
             "ca_certificate": other["ca_certificate"]}
    with pytest.raises(SwarmopsError, match="not signed by the CA certificate"):
        pki.plan(str(tmp_path / "c"), "registry", NAMES, 30, given)
    with pytest.raises(SwarmopsError, match="does not cover app.example"):
        pki.plan(str(tmp_path / "c"), "registry", ["app.example"], 30, {**given, "ca_certificate": mine[
            "ca_certificate"]})
    with pytest.raises(SwarmopsError, match="private_key: not an unencrypted PEM private key"):
        pki.plan(str(tmp_path / "c"), "registry", NAMES, 30, {**given, "private_key": b"not a key"})


def test_the_users_own_certificate_is_written_once(tmp_path):
    issue(tmp_path / "a")
    mine = files(tmp_path / "a")
    given = {key: mine[key] for key in ("certificate", "private_key", "ca_certificate")}
    assert pki.plan(str(tmp_path / "c"), "registry", NAMES, 30, given)["reason"]
    pki.ensure(str(tmp_path / "c"), "registry", NAMES, 397, 3650, "swarmops", given)
    assert pki.plan(str(tmp_path / "c"), "registry", NAMES, 30, given)["reason"] is None


def test_an_expiring_certificate_is_a_problem_named_with_its_date(tmp_path):
    issue(tmp_path, days=10)
    cert = pki.load_certificate(files(tmp_path)["certificate"], "c")
    key = pki.load_key(files(tmp_path)["private_key"], "k")
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)
    assert pki.problems(cert, key, None, NAMES, 30) == [
        f"the certificate expires {soon:%Y-%m-%d}, within renew_days (30)"]


@pytest.mark.parametrize("names", [["bad name"], [], ["-x.example"]])
def test_names_that_are_neither_hosts_nor_addresses_are_refused(names):
    with pytest.raises(SwarmopsError, match="subject_alt_names: "):
        pki.split_names(names)
