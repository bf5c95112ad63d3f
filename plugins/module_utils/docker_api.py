# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that opens a Docker engine connection; its failures are DockerError, a SwarmopsError (errors.py)."""

from __future__ import annotations

import concurrent.futures
import os
from urllib.parse import urlparse

from ansible.module_utils.basic import env_fallback

from ansible_collections.swarmops.ha.plugins.module_utils.errors import (
    DockerException,
    SwarmopsError,
    describe,
    named_errors,
)

try:
    import docker
    from docker.errors import NotFound

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by require_sdk()
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = exc

    class NotFound(DockerException):
        """Stands in for the SDK's NotFound; never raised."""

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

DOCKER_ARGUMENT_SPEC = dict(
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"],
                     fallback=(env_fallback, ["DOCKER_HOST"])),
    api_version=dict(type="str", default="auto", aliases=["docker_api_version"]),
    timeout=dict(type="int", default=60),
    ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert", "cacert_path"]),
    client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
    client_key=dict(type="path", aliases=["tls_client_key", "key_path"], no_log=False),
    tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
    validate_certs=dict(type="bool", default=False, aliases=["tls_verify"],
                        fallback=(env_fallback, ["DOCKER_TLS_VERIFY"])),
)

# An item of a module's `engines` option (doc fragment swarmops.ha.docker.ENGINES): one engine and its own connection.
ENGINE_SPEC = dict(
    name=dict(type="str", required=True),
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST),
    tls=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=False),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path"),
)


class DockerError(SwarmopsError):
    """The engine cannot be reached with the connection options, or the SDK is missing; worded for the user."""


def docker_spec(**module_options) -> dict:
    """The connection options plus a module's own, for AnsibleModule(argument_spec=...)."""
    return {**DOCKER_ARGUMENT_SPEC, **module_options}


def require_sdk() -> None:
    if not HAS_DOCKER:
        raise DockerError(f"the Docker SDK for Python is needed on the host that runs this module "
                          f"(pip install 'docker>=7'): {DOCKER_IMPORT_ERROR}")


def _cert_file(explicit: str | None, name: str) -> str | None:
    if explicit:
        return explicit
    cert_dir = os.environ.get("DOCKER_CERT_PATH")
    return os.path.join(cert_dir, name) if cert_dir else None


def tls_config(params: dict):
    """docker.tls.TLSConfig for the options, or False for a plain connection."""
    if not (params.get("tls") or params.get("validate_certs")):
        return False
    ca = _cert_file(params.get("ca_path"), "ca.pem")
    cert = _cert_file(params.get("client_cert"), "cert.pem")
    key = _cert_file(params.get("client_key"), "key.pem")
    for option, path in (("ca_path", ca), ("client_cert", cert), ("client_key", key)):
        if path and not os.path.isfile(path):
            raise DockerError(f"{option}: {path!r} is not a readable file")
    if params.get("validate_certs") and not ca:
        raise DockerError("validate_certs: true needs ca_path (or DOCKER_CERT_PATH with ca.pem)")
    return docker.tls.TLSConfig(
        client_cert=(cert, key) if cert and key else None,
        ca_cert=ca if params.get("validate_certs") else None,
        verify=bool(params.get("validate_certs")),
    )


def connect(params: dict) -> docker.DockerClient:
    """A DockerClient for the connection options; raises DockerError worded for the user."""
    require_sdk()
    host = params.get("docker_host") or DEFAULT_DOCKER_HOST
    if urlparse(host).scheme not in ("unix", "tcp", "ssh", "http", "https", "npipe"):
        raise DockerError(f"docker_host: {host!r} is not an engine URL (examples: tcp://192.0.2.10:2376, "
                          f"unix:///var/run/docker.sock)")
    tls = tls_config(params)
    if tls and host.startswith("tcp://"):
        host = "https://" + host[len("tcp://"):]
    try:
        version = params.get("api_version") or "auto"
        # Negotiate only once the session ignores REQUESTS_CA_BUNDLE, which would replace the engine's CA.
        first_version = docker.constants.MINIMUM_DOCKER_API_VERSION if version == "auto" else version
        client = docker.DockerClient(base_url=host, timeout=params.get("timeout") or 60, tls=tls, version=first_version)
        client.api.trust_env = False
        if version == "auto":
            client.api._version = client.api._retrieve_server_version()
        return client
    except DockerException as exc:
        raise DockerError(f"cannot reach the Docker engine at {params.get('docker_host')}: {describe(exc)}") from exc


def inspect(inspect_call, ref: str) -> dict | None:
    """An engine object's inspect data, None when it does not exist."""
    try:
        return inspect_call(ref)
    except NotFound:
        return None


def each_engine(params: dict, engines: list[dict], work) -> dict:
    """work(options) on every item of `engines` at once, each with its own connection and the module's other options:
    {name: what work returned, or {"error": its failure message}}."""
    names = [engine["name"] for engine in engines]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SwarmopsError(f"engines: each name must be given once; {', '.join(twice)} given more than once")

    def run(engine):
        try:
            with named_errors(engine["name"]):
                return work({**params, **engine})
        except SwarmopsError as exc:
            return {"error": str(exc)}

    with concurrent.futures.ThreadPoolExecutor(min(len(engines), 32) or 1) as pool:
        return dict(zip(names, pool.map(run, engines)))
