# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates for the collection's own doors (the registry, the routing proxy): a CA kept on the controller
signs server certificates for the names asked for, and a certificate the user brings is checked the same way.

Pure where it can be: PEM in, findings out. Files are written only by `ensure`, through machine_store.write_file."""

from __future__ import annotations

import datetime
import ipaddress
import os

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.machine_store import (
    _cert_pem,
    _certificate,
    _key_pem,
    _new_key,
    write_file,
)
from ansible_collections.swarmops.ha.plugins.module_utils.routing import HOST_RE


def load_certificate(pem: bytes, what: str):
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise SwarmopsError(f"{what}: not a PEM certificate") from exc


def load_key(pem: bytes, what: str):
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SwarmopsError(f"{what}: not an unencrypted PEM private key") from exc


def split_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Host names and IP addresses of a subject_alt_names list, each checked."""
    hosts, ips = [], []
    for name in names:
        try:
            ips.append(str(ipaddress.ip_address(name)))
        except ValueError:
            if not HOST_RE.match(name.lower()):
                raise SwarmopsError(f"subject_alt_names: {name!r} is not a host name or an IP address "
                                    f"(examples: registry.example, localhost, 192.0.2.10)") from None
            hosts.append(name.lower())
    if not hosts and not ips:
        raise SwarmopsError("subject_alt_names: empty; give at least one host name or IP address")
    return hosts, ips


def names_of(cert) -> list[str]:
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted([n.lower() for n in san.get_values_for_type(x509.DNSName)] +
                  [str(ip) for ip in san.get_values_for_type(x509.IPAddress)])


def public_bytes(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed_by(cert, ca_cert) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def describe(cert) -> dict:
    return {"subject_alt_names": names_of(cert), "not_after": cert.not_valid_after_utc.isoformat(),
            "issuer": cert.issuer.rfc4514_string()}


def for_clients(cert) -> bool:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages


def problems(cert, key, ca_cert, names: list[str], renew_days: int, now=None, client: bool = False) -> list[str]:
    """Why a certificate cannot serve `names` (empty: it can), for the user's own certificate and for renewal;
    a client certificate must be one for client authentication."""
    now = now or datetime.datetime.now(datetime.UTC)
    found = []
    if client and not for_clients(cert):
        found.append("the certificate is not one for client authentication")
    if public_bytes(cert.public_key()) != public_bytes(key.public_key()):
        found.append("the certificate and the private key do not match (the certificate is for another key)")
    missing = sorted(set(names) - set(names_of(cert)))
    if missing:
        found.append(f"the certificate does not cover {', '.join(missing)} (it covers "
                     f"{', '.join(names_of(cert)) or 'no subject alternative name'})")
    if cert.not_valid_after_utc - now < datetime.timedelta(days=renew_days):
        found.append(f"the certificate expires {cert.not_valid_after_utc:%Y-%m-%d}, within renew_days ({renew_days})")
    if ca_cert is not None and not signed_by(cert, ca_cert):
        found.append("the certificate is not signed by the CA certificate")
    return found


def paths(directory: str, name: str) -> dict[str, str]:
    return {"ca_certificate": os.path.join(directory, "ca.crt"), "ca_key": os.path.join(directory, "ca.key"),
            "certificate": os.path.join(directory, f"{name}.crt"),
            "private_key": os.path.join(directory, f"{name}.key")}


def read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def plan(directory: str, name: str, names: list[str], renew_days: int, given: dict | None = None,
         client: bool = False) -> dict:
    """What `ensure` would do: {'reason': why a certificate is made or written, or None; 'before': description}.

    `given` holds the user's own PEM (certificate, private_key, optional ca_certificate), checked here; any problem
    is an error, since nothing is made in its place."""
    where = paths(directory, name)
    if given:
        cert = load_certificate(given["certificate"], "certificate")
        key = load_key(given["private_key"], "private_key")
        ca = load_certificate(given["ca_certificate"], "ca_certificate") if given.get("ca_certificate") else None
        found = problems(cert, key, ca, names, renew_days)
        if found:
            raise SwarmopsError(f"certificate for {name}: " + "; ".join(found))
        same = (read(where["certificate"]) == given["certificate"] and read(where["private_key"]) ==
                given["private_key"] and (ca is None or read(where["ca_certificate"]) == given["ca_certificate"]))
        return {"reason": None if same else "the given certificate is not the one in place", "after": describe(cert)}
    existing = read(where["certificate"])
    if existing is None or read(where["private_key"]) is None:
        return {"reason": "no certificate yet", "before": None}
    cert = load_certificate(existing, where["certificate"])
    key = load_key(read(where["private_key"]), where["private_key"])
    ca_pem = read(where["ca_certificate"])
    ca = load_certificate(ca_pem, where["ca_certificate"]) if ca_pem else None
    found = problems(cert, key, ca, names, renew_days, client=client) if ca is not None else ["the CA is missing"]
    return {"reason": "; ".join(found) or None, "before": describe(cert)}


def ensure(directory: str, name: str, names: list[str], days: int, ca_days: int, organization: str,
           given: dict | None = None, client: bool = False) -> dict:
    """Write the user's certificate, or issue one from the CA (made when missing); the new certificate's description."""
    where = paths(directory, name)
    if given:
        write_file(where["certificate"], given["certificate"])
        write_file(where["private_key"], given["private_key"], 0o600)
        if given.get("ca_certificate"):
            write_file(where["ca_certificate"], given["ca_certificate"])
        return describe(load_certificate(given["certificate"], "certificate"))
    ca_pem, ca_key_pem = read(where["ca_certificate"]), read(where["ca_key"])
    if ca_pem is None or ca_key_pem is None:
        ca_key = _new_key()
        ca_cert = _certificate(f"{organization} CA", ca_key, ca=True, days=ca_days)
        write_file(where["ca_key"], _key_pem(ca_key), 0o600)
        write_file(where["ca_certificate"], _cert_pem(ca_cert))
    else:
        ca_cert, ca_key = load_certificate(ca_pem, where["ca_certificate"]), load_key(ca_key_pem, where["ca_key"])
    hosts, ips = ([], []) if client else split_names(names)
    key = _new_key()
    cert = _certificate(f"{organization}.{name}", key, ca_cert, ca_key, server_ips=ips, dns_names=hosts, days=days,
                        client=client)
    write_file(where["private_key"], _key_pem(key), 0o600)
    write_file(where["certificate"], _cert_pem(cert))
    return describe(cert)
