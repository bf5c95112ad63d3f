# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker-machine's on-disk store: paths, config.json, TLS material and SSH keys.

The layout and the JSON shape are docker-machine's own, so that machines made by
the lab driver and machines made by docker-machine are read by the same code:

    <store>/certs/{ca.pem,ca-key.pem,cert.pem,key.pem}          shared CA and client cert
    <store>/machines/<name>/config.json                          the machine record
    <store>/machines/<name>/{ca.pem,cert.pem,key.pem}            copies used as DOCKER_CERT_PATH
    <store>/machines/<name>/{server.pem,server-key.pem}          the engine's certificate
    <store>/machines/<name>/{id_rsa,id_rsa.pub}                  the SSH key
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import tempfile
from urllib.parse import urlsplit

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

CONFIG_VERSION = 3
CA_FILES = ("ca.pem", "ca-key.pem", "cert.pem", "key.pem")
CLIENT_FILES = ("ca.pem", "cert.pem", "key.pem")
CERT_DAYS = 1080
RSA_BITS = 2048


class StoreError(SwarmopsError):
    """A store path or record that cannot be used; the message names the file."""


def resolve_storage_path(path: str | None = None) -> str:
    """Explicit path, then MACHINE_STORAGE_PATH, then ~/.docker/machine (docker-machine's order)."""
    chosen = path or os.environ.get("MACHINE_STORAGE_PATH") or "~/.docker/machine"
    return os.path.abspath(os.path.expanduser(chosen))


def machines_dir(store: str) -> str:
    return os.path.join(store, "machines")


def machine_dir(store: str, name: str) -> str:
    return os.path.join(store, "machines", name)


def certs_dir(store: str) -> str:
    return os.path.join(store, "certs")


def config_path(store: str, name: str) -> str:
    return os.path.join(machine_dir(store, name), "config.json")


def list_machine_names(store: str) -> list[str]:
    """Names of the machine folders, sorted; an absent machines/ folder is an empty store."""
    try:
        entries = os.listdir(machines_dir(store))
    except FileNotFoundError:
        return []
    return sorted(e for e in entries if os.path.isdir(os.path.join(machines_dir(store), e)))


def read_config(store: str, name: str) -> dict | None:
    """The machine's config.json as a dict, None when the machine does not exist."""
    path = config_path(store, name)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: cannot read machine record: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Driver"), dict):
        raise StoreError(f"{path}: not a docker-machine record (no Driver object)")
    return data


def write_file(path: str, content: bytes | str, mode: int = 0o644) -> bool:
    """Write atomically; return False (and touch nothing) when the content is already there."""
    data = content.encode() if isinstance(content, str) else content
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def write_config(store: str, name: str, config: dict) -> bool:
    return write_file(config_path(store, name), json.dumps(config, indent=4, sort_keys=False) + "\n", 0o600)


def remove_machine(store: str, name: str) -> bool:
    path = machine_dir(store, name)
    if not os.path.isdir(path):
        return False
    shutil.rmtree(path)
    return True


def lab_config(store: str, name: str, driver: dict, engine_labels: list[str], storage_driver: str = "") -> dict:
    """A docker-machine record for a lab machine: the same keys a virtualbox machine has where they mean the same."""
    mdir = machine_dir(store, name)
    cdir = certs_dir(store)
    return {
        "ConfigVersion": CONFIG_VERSION,
        "Driver": {
            "IPAddress": driver["IPAddress"],
            "MachineName": name,
            "SSHUser": driver.get("SSHUser", "docker"),
            "SSHPort": driver.get("SSHPort", 22),
            "SSHKeyPath": os.path.join(mdir, "id_rsa"),
            "StorePath": store,
            "SwarmMaster": False,
            "SwarmHost": "",
            "SwarmDiscovery": "",
            "EnginePort": driver.get("EnginePort", 2376),
            **{k: v for k, v in driver.items() if k not in ("SSHUser", "SSHPort", "EnginePort")},
        },
        "DriverName": "lab",
        "HostOptions": {
            "Driver": "",
            "Memory": 0,
            "Disk": 0,
            "EngineOptions": {
                "ArbitraryFlags": [],
                "Dns": None,
                "GraphDir": "",
                "Env": [],
                "Ipv6": False,
                "InsecureRegistry": [],
                "Labels": list(engine_labels),
                "LogLevel": "",
                "StorageDriver": storage_driver,
                "SelinuxEnabled": False,
                "TlsVerify": True,
                "RegistryMirror": [],
                "InstallURL": "",
            },
            "SwarmOptions": {"IsSwarm": False, "Master": False, "Discovery": "", "Host": "", "Image": ""},
            "AuthOptions": {
                "CertDir": cdir,
                "CaCertPath": os.path.join(cdir, "ca.pem"),
                "CaPrivateKeyPath": os.path.join(cdir, "ca-key.pem"),
                "CaCertRemotePath": "",
                "ServerCertPath": os.path.join(mdir, "server.pem"),
                "ServerKeyPath": os.path.join(mdir, "server-key.pem"),
                "ClientKeyPath": os.path.join(cdir, "key.pem"),
                "ServerCertRemotePath": "",
                "ServerKeyRemotePath": "",
                "ClientCertPath": os.path.join(cdir, "cert.pem"),
                "ServerCertSANs": [],
                "StorePath": mdir,
            },
        },
        "Name": name,
    }


# --- TLS and SSH material, made the way docker-machine makes it -------------------------------


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def _certificate(subject_org: str, key, issuer_cert=None, issuer_key=None, *, ca=False, server_ips=(), client=False,
                 dns_names=("localhost",), days=CERT_DAYS):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject_org)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_encipherment=True, key_cert_sign=ca, crl_sign=ca,
                content_commitment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    if client:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if server_ips or not ca and not client:
        names = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())


def _cert_pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def ensure_ca(store: str, org: str = "swarmops") -> bool:
    """The store-wide CA and client certificate (certs/), made once; True when made now."""
    cdir = certs_dir(store)
    if all(os.path.exists(os.path.join(cdir, f)) for f in CA_FILES):
        return False
    ca_key = _new_key()
    ca_cert = _certificate(org, ca_key, ca=True)
    client_key = _new_key()
    client_cert = _certificate(org, client_key, ca_cert, ca_key, client=True)
    write_file(os.path.join(cdir, "ca.pem"), _cert_pem(ca_cert))
    write_file(os.path.join(cdir, "ca-key.pem"), _key_pem(ca_key), 0o600)
    write_file(os.path.join(cdir, "cert.pem"), _cert_pem(client_cert))
    write_file(os.path.join(cdir, "key.pem"), _key_pem(client_key), 0o600)
    return True


def load_ca(store: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cdir = certs_dir(store)
    with open(os.path.join(cdir, "ca.pem"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(cdir, "ca-key.pem"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return cert, key


def server_cert_ips(path: str) -> list[str]:
    """IP addresses in a server certificate's SANs ([] when the file is missing)."""
    from cryptography import x509

    try:
        with open(path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
    except FileNotFoundError:
        return []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress))


def ensure_machine_tls(store: str, name: str, ips: list[str], org: str = "swarmops") -> bool:
    """Client cert copies and a server certificate whose SANs are exactly `ips`; True when anything was written."""
    mdir = machine_dir(store, name)
    changed = False
    for filename in CLIENT_FILES:
        with open(os.path.join(certs_dir(store), filename), "rb") as handle:
            mode = 0o600 if filename == "key.pem" else 0o644
            changed |= write_file(os.path.join(mdir, filename), handle.read(), mode)
    server_pem = os.path.join(mdir, "server.pem")
    if server_cert_ips(server_pem) != sorted(ips) or not os.path.exists(os.path.join(mdir, "server-key.pem")):
        ca_cert, ca_key = load_ca(store)
        key = _new_key()
        cert = _certificate(f"{org}.{name}", key, ca_cert, ca_key, server_ips=ips)
        write_file(os.path.join(mdir, "server-key.pem"), _key_pem(key), 0o600)
        write_file(server_pem, _cert_pem(cert))
        changed = True
    return changed


def ensure_ssh_key(store: str, name: str, comment: str = "") -> bool:
    """machines/<name>/id_rsa and id_rsa.pub (OpenSSH formats); True when made now."""
    from cryptography.hazmat.primitives import serialization

    mdir = machine_dir(store, name)
    private, public = os.path.join(mdir, "id_rsa"), os.path.join(mdir, "id_rsa.pub")
    if os.path.exists(private) and os.path.exists(public):
        return False
    key = _new_key()
    openssh = serialization.PrivateFormat.OpenSSH
    write_file(private, key.private_bytes(serialization.Encoding.PEM, openssh, serialization.NoEncryption()), 0o600)
    pub = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    write_file(public, pub + (f" {comment}".encode() if comment else b"") + b"\n")
    return True


# --- reading records as docker-machine's drivers read them --------------------------------------

# Drivers whose GetSSHHostname is the loopback: VirtualBox forwards Driver.SSHPort on the host to the VM's port 22.
SSH_LOOPBACK_DRIVERS = frozenset({"virtualbox"})
DEFAULT_ENGINE_PORT = 2376


def engine_labels(config: dict) -> dict[str, str]:
    """HostOptions.EngineOptions.Labels (`k=v` strings, as given to --engine-label) as a dict."""
    labels = ((config.get("HostOptions") or {}).get("EngineOptions") or {}).get("Labels") or []
    return dict(label.partition("=")[::2] for label in labels)


def machine_hostvars(config: dict, state: str = "Unknown") -> dict:
    """Ansible host variables for one record: SSH as `docker-machine ssh`, the engine as `docker-machine env`.

    Values the record cannot give (no address yet) are left out rather than guessed, so that a play
    using them fails instead of reaching the wrong host or the local engine.
    """
    driver = config["Driver"]
    kind = config.get("DriverName", "")
    options = config.get("HostOptions") or {}
    engine = options.get("EngineOptions") or {}
    auth = options.get("AuthOptions") or {}
    mdir = os.path.join(driver.get("StorePath") or "", "machines", driver.get("MachineName") or config.get("Name", ""))
    ip = driver.get("IPAddress") or None
    url = driver.get("URL") or None
    if url is None and ip:
        url = f"tcp://{f'[{ip}]' if ':' in ip else ip}:{driver.get('EnginePort') or DEFAULT_ENGINE_PORT}"
    cert_path = auth.get("StorePath") or mdir
    hostvars = {}
    if kind != "none":
        hostvars = {
            "ansible_host": "127.0.0.1" if kind in SSH_LOOPBACK_DRIVERS else ip,
            "ansible_port": int(driver.get("SSHPort") or 22),
            "ansible_user": driver.get("SSHUser") or "root",
            "ansible_ssh_private_key_file": driver.get("SSHKeyPath") or os.path.join(mdir, "id_rsa"),
        }
    if driver.get("Kind") != "bare":
        # A bare machine is an ordinary server: the modules run on it against its own socket, so no engine URL.
        hostvars.update({
            "docker_host": url,
            "docker_tls_verify": bool(engine.get("TlsVerify", True)),
            "docker_cert_path": cert_path,
            "ca_path": auth.get("CaCertPath") or os.path.join(cert_path, "ca.pem"),
            "client_cert": auth.get("ClientCertPath") or os.path.join(cert_path, "cert.pem"),
            "client_key": auth.get("ClientKeyPath") or os.path.join(cert_path, "key.pem"),
        })
    hostvars.update({
        "swarm_advertise_addr": driver.get("PrivateIPAddress") or ip or (urlsplit(url).hostname if url else None),
        "machine_driver": kind,
        "machine_state": state,
        "machine_engine_labels": engine_labels(config),
    })
    return {key: value for key, value in hostvars.items() if value is not None}
