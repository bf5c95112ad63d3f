"""Every door locked on the second lab: the security play (with -vvv, nothing leaked), a registry that takes logins
over TLS only, a private image pulled on every node, protected routes, a secret rotated under traffic, the swarm CA
and join tokens replaced. The lab is opened again at the end, as the guide has it, for the tests that follow."""

import base64
import http.client
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time

import pytest
from labtools import OTHER_LABS, leaked, recap

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib

MANAGERS = 3
HOST = "secure.swarmops.test"
TAG = f"localhost:5000/private:{secrets.token_hex(4)}"


pytestmark = pytest.mark.xdist_group(OTHER_LABS)


@pytest.fixture(scope="module")
def lab(second_lab):
    return second_lab


def password():
    return "pw-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    values = {
        "registry_users": [{"name": "ci", "password": password(), "role": "push"},
                           {"name": "app", "password": password(), "role": "pull"}],
        "routing_users": [{"name": "alice", "password": password()}, {"name": "bob", "password": password()}],
        "routing_tls_names": [HOST],
        "security_secrets": [{"name": "it_token", "data": "token-" + secrets.token_hex(12)}],
        # Nothing is locked, so the key is never used; it must still appear nowhere.
        "swarm_unlock_key": "SWMKEY-1-" + base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="),
    }
    path = tmp_path_factory.mktemp("vault") / "vault.json"
    path.write_text(json.dumps(values))
    return {"path": str(path), **values}


def users(vault, key):
    return {user["name"]: user["password"] for user in vault[key]}


def manager(lab):
    return lab_lib.engine_params(lab.record(lab.names[0]))


@pytest.fixture(scope="module")
def locked(lab, vault):
    api = lab.engine(lab.names[0]).api
    before = api.inspect_swarm()
    out = lab.playbook("security.yml", "-e", f"@{vault['path']}", "-e", json.dumps(
        {"swarm_rotate_ca": True, "swarm_rotate_join_tokens": True}), "-vvv", live=True)
    try:
        yield {"out": out, "before": before, "after": api.inspect_swarm()}
    finally:
        for name in ("private-pull", "token-web"):
            lab.module("swarm_service", {**manager(lab), "name": name, "state": "absent"})
        # Opening a locked registry must be asked for (test_a_plain_site_run_keeps_the_registry_locked).
        lab.playbook("site.yml", "--tags", "registry,routing", "-e", "registry_open=true")
        assert "registry-store" not in {s["Spec"]["Name"] for s in api.services()}
        trusted = "ls -d /etc/docker/certs.d/localhost:5000 /etc/docker/certs.d/127.0.0.1:5000 2>/dev/null"
        assert all(on_node(lab, name, trusted)[1] == "" for name in lab.names)  # the nodes trust the gate no more


def on_node(lab, name, script, stdin=None):
    done = subprocess.run(["docker", "exec", "-i", lab_lib.container_name(name), "sh", "-c", script],
                          input=stdin, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_security_play_shows_no_secret_even_at_vvv_and_replaces_ca_and_tokens(lab, vault, locked):
    after = locked["after"]
    values = [*users(vault, "registry_users").values(), *users(vault, "routing_users").values(),
              vault["security_secrets"][0]["data"], vault["swarm_unlock_key"],
              *locked["before"]["JoinTokens"].values(), *after["JoinTokens"].values(), *lab.swarm_secrets()]
    found = leaked(locked["out"], values)
    assert not found, f"secret values in the -vvv output: {found}"
    assert after["TLSInfo"]["TrustRoot"] != locked["before"]["TLSInfo"]["TrustRoot"]
    roots = {n["Description"]["TLSInfo"]["TrustRoot"] for n in lab.engine(lab.names[0]).api.nodes()}
    assert roots == {after["TLSInfo"]["TrustRoot"]}
    assert after["JoinTokens"]["Worker"] != locked["before"]["JoinTokens"]["Worker"]

    again = lab.playbook("security.yml", "-e", f"@{vault['path']}")
    assert {host: counts["changed"] for host, counts in recap(again).items()} == {name: 0 for name in lab.names}


def test_a_missing_vault_variable_fails_first_by_name_and_changes_nothing(lab, vault):
    broken = {"registry_users": [{"name": "ci", "password": "{{ vault_ci_password }}", "role": "push"}]}
    out = lab.playbook("security.yml", "-e", json.dumps(broken), check=False)
    assert "vault_ci_password" in out and "is undefined" in out
    assert all(counts["changed"] == 0 for counts in recap(out).values())
    assert "Harden the swarm" not in out


def test_a_short_password_fails_naming_the_user_not_the_password_and_changes_nothing(lab, vault, locked):
    short = "pw-" + secrets.token_hex(3)
    out = lab.playbook("security.yml", "-e", f"@{vault['path']}", "-e", json.dumps(
        {"routing_users": [{"name": "alice", "password": short}]}), "-vvv", check=False)
    assert "users[0] (alice): the password is shorter than password_min_length (12)" in out
    assert short not in out
    assert all(counts["changed"] == 0 for counts in recap(out).values())
    assert recap(out)[lab.names[0]]["failed"] == 1


def test_registry_takes_pushes_only_from_push_users_over_verified_tls(lab, vault, locked):
    registry = users(vault, "registry_users")
    node = lab.names[1]
    assert on_node(lab, node, f"docker tag swarmops/lab-app:1 {TAG}")[0] == 0
    status, out = on_node(lab, node, f"docker push {TAG}")
    assert status != 0 and "no basic auth credentials" in out
    for user, refused in (("app", True), ("ci", False)):
        assert on_node(lab, node, f"docker login -u {user} --password-stdin localhost:5000", registry[user])[0] == 0
        status, out = on_node(lab, node, f"docker push {TAG}; status=$?; docker logout localhost:5000; exit $status")
        assert (status != 0 and "denied: this user may pull, not push" in out) if refused else status == 0, out
    ca = "/etc/docker/certs.d/localhost:5000/ca.crt"
    for name in lab.names:
        status, out = on_node(lab, name, f"curl -sS --cacert {ca} -u app:\"$(cat)\" https://localhost:5000/v2/_catalog",
                              registry["app"])
        assert status == 0 and '"private"' in out, (name, out)
        assert on_node(lab, name, "curl -sS http://localhost:5000/v2/")[0] == 52  # plain HTTP: no answer
        assert on_node(lab, name, "curl -sS https://localhost:5000/v2/")[0] == 60  # not verified without the CA
        assert on_node(lab, name, f"curl -sS --cacert {ca} -o /dev/null -w '%{{http_code}}' "
                                  "https://localhost:5000/v2/")[1] == "401"
        assert "insecure-registries" not in on_node(lab, name, "cat /etc/docker/daemon.json")[1]


def test_a_private_image_is_pulled_on_every_node_only_with_registry_auth(lab, vault, locked):
    service = {**manager(lab), "name": "private-pull", "image": TAG, "mode": "global", "command": ["sleep", "86400"],
               "stop_signal": "SIGKILL", "wait_timeout": 40}
    failed, result = lab.module("swarm_service", service)
    assert failed and ("No such image" in result["msg"] or "no basic auth" in result["msg"]), result
    auth = {"username": "app", "password": users(vault, "registry_users")["app"]}
    failed, result = lab.module("swarm_service", {**service, "registry_auth": auth, "force_update": True,
                                                  "wait_timeout": 120})
    assert not failed, result
    running = {t["NodeID"] for t in lab.engine(lab.names[0]).api.tasks(
        filters={"service": "private-pull", "desired-state": "running"}) if t["Status"]["State"] == "running"}
    assert len(running) == len(lab.names)
    failed, result = lab.module("swarm_service", {**service, "registry_auth": {**auth, "password": "wrong-password"},
                                                  "force_update": True})
    assert failed and "refused the login of 'app'" in result["msg"] and "wrong-password" not in json.dumps(result)


class Proxy:
    """HTTPS to the proxy on one node, verified against the collection's CA for the route's host name."""

    def __init__(self, lab, node):
        self.address = lab.record(node)["Driver"]["IPAddress"]
        self.context = ssl.create_default_context(cafile=f"{lab.store}/swarmops-pki/ca.crt")

    def get(self, path, user=None, secret=None):
        connection = http.client.HTTPConnection(HOST, 443, timeout=5)
        raw = socket.create_connection((self.address, 443), timeout=5)
        connection.sock = self.context.wrap_socket(raw, server_hostname=HOST)
        headers = {"Host": HOST}
        if user:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def token_web(lab, vault, locked):
    """The secret served by a route that only alice may use."""
    failed, result = lab.module("swarm_service", {
        **manager(lab), "name": "token-web", "image": "swarmops/lab-app:1",
        "command": ["httpd", "-f", "-p", "8080", "-h", "/run/secrets"], "replicas": 2,
        "networks": ["swarmops-routing"], "secrets": [{"name": "it_token"}],
        "update_config": {"order": "start-first", "parallelism": 1, "delay": "2s"},
        "labels": {"swarmops.route.host": HOST, "swarmops.route.port": "8080", "swarmops.route.users": "alice",
                   "swarmops.route.health": "/it_token", "swarmops.route.https_redirect": "true"}})
    assert not failed, result
    lab.playbook("site.yml", "--tags", "routing", "-e", f"@{vault['path']}")
    return vault["security_secrets"][0]["data"]


def test_a_protected_route_answers_401_403_and_200_from_every_proxy(lab, vault, token_web):
    routing = users(vault, "routing_users")
    for node in lab.names[:MANAGERS]:
        proxy = Proxy(lab, node)
        assert proxy.get("/it_token")[0] == 401
        assert proxy.get("/it_token", "alice", "wrong-password")[0] == 401
        assert proxy.get("/it_token", "bob", routing["bob"])[0] == 403
        assert proxy.get("/it_token", "alice", routing["alice"]) == (200, token_web)
        plain = http.client.HTTPConnection(lab.record(node)["Driver"]["IPAddress"], 80, timeout=5)
        plain.request("GET", "/it_token", headers={"Host": HOST})
        assert plain.getresponse().status == 301  # never asks for a password over plain HTTP


def test_a_secret_rotated_under_traffic_through_the_proxy_fails_no_request(lab, vault, token_web):
    proxy, alice = Proxy(lab, lab.names[0]), users(vault, "routing_users")["alice"]
    new_token = "token-" + secrets.token_hex(12)
    seen, failures, stop = [], [], threading.Event()

    def traffic():
        while not stop.is_set():
            try:
                status, body = proxy.get("/it_token", "alice", alice)
                (seen if status == 200 else failures).append(body if status == 200 else status)
            except (OSError, http.client.HTTPException) as exc:
                failures.append(repr(exc))
            time.sleep(0.02)

    worker = threading.Thread(target=traffic, daemon=True)
    worker.start()
    try:
        failed, result = lab.module("swarm_secret", {**manager(lab), "name": "it_token", "data": new_token})
        assert not failed and result["services_moved"] == ["token-web"], result
        # The update is done in the swarm; the proxy drops the old tasks once its next DNS answer lacks them. The
        # traffic goes on for 3 s at least, while the old tasks stop, and until the new value is served.
        settled, deadline = time.monotonic() + 3, time.monotonic() + 60
        while (time.monotonic() < settled or seen[-1:] != [new_token]) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join()
    assert not failures, f"{len(failures)} of {len(seen) + len(failures)} requests failed: {failures[:5]}"
    assert seen[0] == token_web and seen[-1] == new_token and len(seen) > 50


def test_a_plain_site_run_keeps_the_registry_locked_and_says_which_variables_to_pass(lab, vault, locked):
    api = lab.engine(lab.names[0]).api
    before = {s["Spec"]["Name"]: s["Version"]["Index"] for s in api.services()}
    out = lab.playbook("site.yml", "--tags", "registry", check=False)
    assert "the registry is locked" in out and "registry_users" in out and "registry_open: true" in out
    assert all(counts["changed"] == 0 for counts in recap(out).values())
    assert {s["Spec"]["Name"]: s["Version"]["Index"] for s in api.services()} == before
    assert on_node(lab, lab.names[1], "curl -sS http://localhost:5000/v2/")[0] == 52  # still no plain HTTP
