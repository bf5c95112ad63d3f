import json
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as ms


def load_cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_storage_path_prefers_option_then_env_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("MACHINE_STORAGE_PATH", str(tmp_path / "env"))
    assert ms.resolve_storage_path(str(tmp_path / "opt")) == str(tmp_path / "opt")
    assert ms.resolve_storage_path(None) == str(tmp_path / "env")
    monkeypatch.delenv("MACHINE_STORAGE_PATH")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ms.resolve_storage_path(None) == str(tmp_path / "home" / ".docker" / "machine")


def test_write_file_reports_change_only_when_content_differs(tmp_path):
    path = str(tmp_path / "a" / "f")
    assert ms.write_file(path, "x", 0o600) is True
    assert ms.write_file(path, "x", 0o600) is False
    assert ms.write_file(path, "y", 0o600) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p for p in os.listdir(tmp_path / "a") if p.startswith(".tmp-")] == []


def test_machine_tls_chain_sans_and_usages(tmp_path):
    store = str(tmp_path)
    assert ms.ensure_ca(store) is True
    assert ms.ensure_ca(store) is False
    assert ms.ensure_machine_tls(store, "node1", ["192.0.2.11", "127.0.0.1"]) is True
    assert ms.ensure_machine_tls(store, "node1", ["192.0.2.11", "127.0.0.1"]) is False

    ca = load_cert(os.path.join(store, "certs", "ca.pem"))
    server = load_cert(os.path.join(store, "machines", "node1", "server.pem"))
    client = load_cert(os.path.join(store, "machines", "node1", "cert.pem"))
    for cert in (server, client):
        ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                               cert.signature_hash_algorithm)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert ExtendedKeyUsageOID.CLIENT_AUTH in client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ms.server_cert_ips(os.path.join(store, "machines", "node1", "server.pem")) == ["127.0.0.1", "192.0.2.11"]
    key_mode = stat.S_IMODE(os.stat(os.path.join(store, "machines", "node1", "server-key.pem")).st_mode)
    assert key_mode == 0o600


def test_machine_tls_is_remade_when_the_address_changes(tmp_path):
    store = str(tmp_path)
    ms.ensure_ca(store)
    ms.ensure_machine_tls(store, "node1", ["192.0.2.11"])
    assert ms.ensure_machine_tls(store, "node1", ["192.0.2.12"]) is True
    assert ms.server_cert_ips(os.path.join(store, "machines", "node1", "server.pem")) == ["192.0.2.12"]


def test_ssh_key_is_openssh_and_made_once(tmp_path):
    store = str(tmp_path)
    assert ms.ensure_ssh_key(store, "node1", "docker@node1") is True
    assert ms.ensure_ssh_key(store, "node1") is False
    with open(os.path.join(store, "machines", "node1", "id_rsa.pub")) as handle:
        pub = handle.read()
    with open(os.path.join(store, "machines", "node1", "id_rsa")) as handle:
        private = handle.read()
    assert pub.startswith("ssh-rsa ") and pub.rstrip().endswith("docker@node1")
    assert private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(os.path.join(store, "machines", "node1", "id_rsa")).st_mode) == 0o600


def test_lab_record_has_docker_machine_shape_and_round_trips(tmp_path):
    store = str(tmp_path)
    record = ms.lab_config(store, "node1", {"IPAddress": "192.0.2.11", "Network": "n"}, ["swarm.role=manager"])
    assert ms.write_config(store, "node1", record) is True
    assert ms.write_config(store, "node1", record) is False
    assert ms.read_config(store, "node1") == record
    assert ms.list_machine_names(store) == ["node1"]
    assert record["DriverName"] == "lab"
    assert record["Driver"]["SSHKeyPath"] == os.path.join(store, "machines", "node1", "id_rsa")
    auth = record["HostOptions"]["AuthOptions"]
    assert auth["CaCertPath"] == os.path.join(store, "certs", "ca.pem")
    assert auth["StorePath"] == os.path.join(store, "machines", "node1")
    assert record["HostOptions"]["EngineOptions"]["Labels"] == ["swarm.role=manager"]
    with open(ms.config_path(store, "node1")) as handle:
        assert json.load(handle)["ConfigVersion"] == ms.CONFIG_VERSION


def test_read_config_names_the_bad_file(tmp_path):
    store = str(tmp_path)
    os.makedirs(os.path.join(store, "machines", "bad"))
    with open(ms.config_path(store, "bad"), "w") as handle:
        handle.write("{not json")
    with pytest.raises(ms.StoreError, match="machines/bad/config.json"):
        ms.read_config(store, "bad")
    assert ms.read_config(store, "missing") is None


def test_remove_machine_removes_only_that_machine(tmp_path):
    store = str(tmp_path)
    for name in ("a", "b"):
        ms.write_config(store, name, ms.lab_config(store, name, {"IPAddress": "192.0.2.1"}, []))
    assert ms.remove_machine(store, "a") is True
    assert ms.remove_machine(store, "a") is False
    assert ms.list_machine_names(store) == ["b"]
