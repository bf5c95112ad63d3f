# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm secrets and configs as versions of one name: immutable in the swarm, so a new value is a new version
(`<name>.v<N>`), the services that use the name move to it, and versions no service uses are removed.

The swarm never gives a secret's data back, so each version carries a salted PBKDF2 fingerprint of its data in a
label; the data itself never leaves this module but to the engine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass

from ansible_collections.swarmops.ha.plugins.module_utils import services as services_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.services import NAME_LABEL, VERSION_LABEL, VERSIONED

FINGERPRINT_LABEL = "swarmops.fingerprint"
ITERATIONS = 100_000
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,53}$")
USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
USERLIST = "swarmops_users"


def version_name(name: str, version: int) -> str:
    return f"{name}.v{version}"


def fingerprint(data: bytes, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", data, salt, iterations)
    return "$".join(("pbkdf2_sha256", str(iterations), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def matches(data: bytes, stored: str | None) -> bool:
    try:
        scheme, iterations, salt, dummy = (stored or "").split("$")
        if scheme != "pbkdf2_sha256":
            return False
        return hmac.compare_digest(fingerprint(data, base64.b64decode(salt), int(iterations)), stored)
    except ValueError:
        return False


def check_name(name: str) -> None:
    if not NAME.match(name) or VERSIONED.match(name):
        raise SwarmopsError(f"name: {name!r} is not accepted: letters, digits, '_', '.', '-', at most 54 characters, "
                            "not ending in .v<number> (the versions' suffix)")


def check_users(users: list[dict], min_length: int) -> None:
    """Names and groups that both file formats take, no name twice, passwords long enough; never shows a password."""
    seen = set()
    for number, user in enumerate(users):
        where = f"users[{number}]"
        if not USER.match(user["name"]):
            raise SwarmopsError(f"{where}.name: {user['name']!r} is not accepted: letters, digits, '_', '.', '@', '-', "
                                "at most 64 characters")
        if user["name"] in seen:
            raise SwarmopsError(f"{where}.name: {user['name']!r} is given twice")
        seen.add(user["name"])
        if len(user["password"]) < min_length:
            raise SwarmopsError(f"{where} ({user['name']}): the password is shorter than password_min_length "
                                f"({min_length})")
        for group in user.get("groups") or []:
            if not USER.match(group):
                raise SwarmopsError(f"{where}.groups: {group!r} is not accepted: letters, digits, '_', '.', '@', '-'")


def users_identity(users: list[dict], file_format: str, cost: int) -> bytes:
    """What a users file is made from; its fingerprint recognises an unchanged file whose hashes were salted anew."""
    return json.dumps({"format": file_format, "cost": cost, "users": sorted(
        [u["name"], u["password"], sorted(u.get("groups") or [])] for u in users)}).encode()


def users_file(users: list[dict], file_format: str, cost: int) -> bytes:
    """An htpasswd file (the registry's) or an HAProxy userlist section (the proxies'), passwords bcrypt-hashed."""
    try:
        import bcrypt
    except ImportError as exc:
        raise SwarmopsError("users: the bcrypt Python package is needed on the controller "
                            "(pip install bcrypt)") from exc

    def hashed(password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()

    ordered = sorted(users, key=lambda u: u["name"])
    if file_format == "htpasswd":
        return "".join(f"{u['name']}:{hashed(u['password'])}\n" for u in ordered).encode()
    groups = sorted({g for u in ordered for g in u.get("groups") or []})
    lines = [f"userlist {USERLIST}"] + [f"    group {g}" for g in groups]
    for user in ordered:
        member = f" groups {','.join(sorted(user['groups']))}" if user.get("groups") else ""
        lines.append(f"    user {user['name']} password {hashed(user['password'])}{member}")
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Kind:
    """The Docker API's words for secrets or configs."""
    word: str  # Secret or Config

    def list(self, api, **filters):
        return (api.secrets if self.word == "Secret" else api.configs)(filters=filters or None)

    def create(self, api, name: str, data: bytes, labels: dict) -> str:
        create = api.create_secret if self.word == "Secret" else api.create_config
        return create(name, data, labels=labels)["ID"]

    def remove(self, api, ident: str) -> None:
        (api.remove_secret if self.word == "Secret" else api.remove_config)(ident)

    def references(self, service: dict) -> list[dict]:
        return services_lib.get(service["Spec"], services_lib.CONTAINER + (f"{self.word}s",)) or []


def versions(kind: Kind, api, name: str) -> list[dict]:
    """The name's versions, oldest first; a secret of exactly that name (made by hand) counts as version 0."""
    found = [x for x in kind.list(api, label=f"{NAME_LABEL}={name}")
             if (x["Spec"].get("Labels") or {}).get(NAME_LABEL) == name]
    found += [x for x in kind.list(api, name=name) if x["Spec"]["Name"] == name]
    return sorted(found, key=lambda x: int((x["Spec"].get("Labels") or {}).get(VERSION_LABEL, 0)))


@dataclass
class Plan:
    current: dict | None      # the version that holds the data, when one does
    create: str | None        # the name of the version to make, when none does
    move: list[str]           # services to point at the current version
    remove: list[dict]        # versions that will be used by no service

    @property
    def changed(self) -> bool:
        return bool(self.create or self.move or self.remove)


def plan(kind: Kind, api, name: str, data: bytes | None) -> Plan:
    """What makes `name` one version holding `data` (or none, with data None), used by every service that used
    any of its versions."""
    found = versions(kind, api, name)
    ids = {x["ID"] for x in found}
    users = [s for s in api.services() if any(r.get(f"{kind.word}ID") in ids for r in kind.references(s))]
    if data is None:
        if users:
            raise SwarmopsError(f"state: absent, but {kind.word.lower()} {name} is used by "
                                f"{', '.join(sorted(s['Spec']['Name'] for s in users))}")
        return Plan(None, None, [], found)
    current = next((x for x in reversed(found) if matches(data, (x["Spec"].get("Labels") or {}).get(
        FINGERPRINT_LABEL))), None)
    latest = max((int((x["Spec"].get("Labels") or {}).get(VERSION_LABEL, 0)) for x in found), default=0)
    keep = current["ID"] if current else None
    move = sorted(s["Spec"]["Name"] for s in users
                  if any(r.get(f"{kind.word}ID") in ids - {keep} for r in kind.references(s)))
    return Plan(current, None if current else version_name(name, latest + 1), move,
                [x for x in found if x["ID"] != keep])


def apply(kind: Kind, swarm, name: str, data: bytes, labels: dict, the_plan: Plan, wait_timeout: int,
          identity: bytes | None = None) -> dict:
    """Make the version if needed, move the services to it (each waited for), remove the versions left unused.

    `swarm` is a SwarmAPI. The fingerprint is of `identity` when given (what the data is made from), else of the
    data."""
    api = swarm.api
    current = the_plan.current
    if the_plan.create:
        version = int(VERSIONED.match(the_plan.create).group("version"))
        ident = kind.create(api, the_plan.create, data, {
            **labels, NAME_LABEL: name, VERSION_LABEL: str(version), FINGERPRINT_LABEL: fingerprint(identity or data)})
        current = {"ID": ident, "Spec": {"Name": the_plan.create}}
    old = {x["ID"] for x in the_plan.remove}
    service_api = services_lib.ServiceAPI(swarm.client)
    for service_name in the_plan.move:
        service = api.inspect_service(service_name)
        for reference in kind.references(service):
            if reference.get(f"{kind.word}ID") in old:
                reference[f"{kind.word}ID"] = current["ID"]
                reference[f"{kind.word}Name"] = current["Spec"]["Name"]
        service_api.write(service, service["Spec"], wait_timeout)
    for version in the_plan.remove:
        kind.remove(api, version["ID"])
    return current


ARGUMENT_SPEC = docker_spec(
    name=dict(type="str", required=True),
    data=dict(type="str", no_log=True),
    data_is_base64=dict(type="bool", default=False),
    users=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        groups=dict(type="list", elements="str", default=[], aliases=["role"]),
    )),
    users_format=dict(type="str", default="htpasswd", choices=["htpasswd", "haproxy"]),
    password_min_length=dict(type="int", default=12, no_log=False),
    bcrypt_cost=dict(type="int", default=10),
    labels=dict(type="dict", default={}),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    wait_timeout=dict(type="int", default=120),
)
# The rest of the AnsibleModule arguments of swarm_secret and swarm_config.
MODULE_RULES = dict(required_if=[("state", "present", ["data", "users"], True)],
                    mutually_exclusive=[("data", "users")], supports_check_mode=True)


def wanted(params: dict) -> tuple[bytes | None, bytes | None]:
    """(data, identity) of the options, checked before the engine is reached: the data to store, or for `users`
    what the file is made from (its fingerprint's input; the file itself is made only when a version is)."""
    if params["state"] == "absent":
        return None, None
    if params["users"] is not None:
        if not 4 <= params["bcrypt_cost"] <= 16:
            raise SwarmopsError(f"bcrypt_cost: {params['bcrypt_cost']} is not accepted: 4 to 16")
        if not params["users"]:
            raise SwarmopsError("users: empty; give at least one user")
        check_users(params["users"], params["password_min_length"])
        return None, users_identity(params["users"], params["users_format"], params["bcrypt_cost"])
    try:
        data = base64.b64decode(params["data"], validate=True) if params["data_is_base64"] else params["data"].encode()
    except ValueError as exc:
        raise SwarmopsError("data: not valid base64 (data_is_base64 is true)") from exc
    if not data:
        raise SwarmopsError("data: empty; the swarm keeps no empty secret or config")
    return data, None


def converge(kind: Kind, api, params: dict, data: bytes | None, identity: bytes | None, check_mode: bool) -> dict:
    """Bring the name to one version holding the data (or to none); the module's result. `api` is a SwarmAPI."""
    the_plan = plan(kind, api.api, params["name"], identity or data)
    current = the_plan.current
    if the_plan.changed and not check_mode:
        if params["state"] == "absent":
            for version in the_plan.remove:
                kind.remove(api.api, version["ID"])
        else:
            if identity and the_plan.create:
                data = users_file(params["users"], params["users_format"], params["bcrypt_cost"])
            current = apply(kind, api, params["name"], data, params["labels"], the_plan,
                            params["wait_timeout"], identity)
    had = sorted(x["Spec"]["Name"] for x in the_plan.remove + ([the_plan.current] if the_plan.current else []))
    now = (current or {}).get("Spec", {}).get("Name") or the_plan.create
    return {"changed": the_plan.changed,
            "diff": {"before": {"versions": had, "services_moved": []},
                     "after": {"versions": [now] if params["state"] == "present" else [],
                               "services_moved": the_plan.move}},
            kind.word.lower(): {"name": params["name"], "version_name": now or "", "id": (current or {}).get("ID", "")},
            "services_moved": the_plan.move, "removed": [x["Spec"]["Name"] for x in the_plan.remove]}
