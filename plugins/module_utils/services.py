# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A swarm service's spec as options: one table (FIELDS) that declares each option once, its argument spec, where
it lives in the Engine API spec and how to read and write it, so the options a user gave are compared and written
in place and nothing else is touched. The module's argument spec is made from it (SERVICE_OPTIONS), and sanity's
validate-modules holds the module's DOCUMENTATION to that spec.

An option left out (None) is not managed: the service keeps what it has. Values are compared in a normal form
(`normal`): what the user wrote and what the engine holds come out equal when Docker treats them the same.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

try:
    from docker.auth import resolve_repository_name
except ImportError:  # pragma: no cover - connect() reports the missing SDK
    resolve_repository_name = None

from ansible_collections.swarmops.ha.plugins.module_utils import mounts as mounts_lib
from ansible_collections.swarmops.ha.plugins.module_utils import resources as resources_lib
from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import inspect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import DockerException, SwarmopsError, describe
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import NANO, parse_duration, wait_for

CONTAINER = ("TaskTemplate", "ContainerSpec")
PLACEMENT = ("TaskTemplate", "Placement")

PUBLISH_OPTIONS = dict(
    published_port=dict(type="int"),
    target_port=dict(type="int", required=True),
    protocol=dict(type="str", default="tcp", choices=["tcp", "udp", "sctp"]),
    mode=dict(type="str", default="ingress", choices=["ingress", "host"]),
)
FILE_OPTIONS = dict(
    name=dict(type="str", required=True),
    target=dict(type="str"),
    uid=dict(type="str", default="0"),
    gid=dict(type="str", default="0"),
    mode=dict(type="raw", default="0444"),
)
POLICY_OPTIONS = dict(
    parallelism=dict(type="int"),
    delay=dict(type="raw"),
    failure_action=dict(type="str", choices=["continue", "pause", "rollback"]),
    monitor=dict(type="raw"),
    max_failure_ratio=dict(type="float"),
    order=dict(type="str", choices=["stop-first", "start-first"]),
)
RESTART_OPTIONS = dict(
    condition=dict(type="str", choices=["none", "on-failure", "any"]),
    delay=dict(type="raw"),
    max_attempts=dict(type="int"),
    window=dict(type="raw"),
)
HEALTHCHECK_OPTIONS = dict(
    test=dict(type="raw"),
    interval=dict(type="raw"),
    timeout=dict(type="raw"),
    retries=dict(type="int"),
    start_period=dict(type="raw"),
)


def get(spec: dict, path: tuple):
    for key in path:
        spec = (spec or {}).get(key)
    return spec


def put(spec: dict, path: tuple, value) -> None:
    """Write value at path in spec (in place), making the sections on the way."""
    for key in path[:-1]:
        if not isinstance(spec.get(key), dict):
            spec[key] = {}
        spec = spec[key]
    spec[path[-1]] = value


def strip_digest(image: str | None) -> str:
    """The engine pins image@sha256:... when it could resolve the tag; the user names the tag."""
    return (image or "").split("@", 1)[0]


def nanoseconds(option: str):
    return lambda value: parse_duration(option, value)


def octal_mode(option: str):
    """A quoted mode is octal digits ('0444'); an unquoted YAML 0444 arrives as the number it means."""
    def parse(value) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
            return value
        text = str(value).strip().removeprefix("0o")
        if isinstance(value, bool) or not text.isdigit() or set(text) - set("01234567"):
            raise SwarmopsError(f"{option}: {value!r} is not an octal file mode (examples: '0444', '0400')")
        return int(text, 8)
    return parse


def fields(table: dict, value: dict | None) -> dict:
    """A dict option's given suboptions -> {API key: API value}; suboptions left out are not managed."""
    result = {}
    for name, given in (value or {}).items():
        if given is not None:
            key, convert = table[name]
            result[key] = convert(given) if convert else given
    return result


RESTART = {"condition": ("Condition", None), "delay": ("Delay", nanoseconds("restart_policy.delay")),
           "max_attempts": ("MaxAttempts", None), "window": ("Window", nanoseconds("restart_policy.window"))}


def policy_table(option: str) -> dict:
    return {"parallelism": ("Parallelism", None), "delay": ("Delay", nanoseconds(f"{option}.delay")),
            "failure_action": ("FailureAction", None), "monitor": ("Monitor", nanoseconds(f"{option}.monitor")),
            "max_failure_ratio": ("MaxFailureRatio", None), "order": ("Order", None)}


def health_test(value) -> list[str]:
    """A string is a shell command (CMD-SHELL); a list is given as Docker takes it (["CMD", ...] or ["NONE"])."""
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    if isinstance(value, list) and value and value[0] in ("CMD", "CMD-SHELL", "NONE"):
        return [str(part) for part in value]
    raise SwarmopsError(f"healthcheck.test: {value!r} is not a command (a shell string, or a list starting with "
                        f"CMD, CMD-SHELL or NONE)")


HEALTH = {"test": ("Test", health_test), "interval": ("Interval", nanoseconds("healthcheck.interval")),
          "timeout": ("Timeout", nanoseconds("healthcheck.timeout")), "retries": ("Retries", None),
          "start_period": ("StartPeriod", nanoseconds("healthcheck.start_period"))}


@dataclass
class Field:
    """One option, declared once: its argument spec, where it lives in the service spec, its normal form from the
    user's value (None: made from several options in wanted_values) and from the engine's, and the API value to
    write. A dict-valued field with `partial` compares and writes only the keys the user gave."""
    spec: dict
    path: tuple
    wanted: Callable | None
    actual: Callable = lambda value: value
    to_api: Callable = lambda value: value
    partial: bool = False


def publish_normal(ports: list[dict]) -> list[dict]:
    normal = [{"target_port": p["target_port"], "published_port": p.get("published_port") or 0,
               "protocol": p.get("protocol") or "tcp", "mode": p.get("mode") or "ingress"} for p in ports or []]
    return sorted(normal, key=lambda p: (p["target_port"], p["protocol"], p["published_port"]))


def publish_actual(ports: list[dict] | None) -> list[dict]:
    return publish_normal([{"target_port": p.get("TargetPort"), "published_port": p.get("PublishedPort"),
                            "protocol": p.get("Protocol"), "mode": p.get("PublishMode")} for p in ports or []])


def publish_api(ports: list[dict]) -> list[dict]:
    return [{"TargetPort": p["target_port"], "Protocol": p["protocol"], "PublishMode": p["mode"],
             **({"PublishedPort": p["published_port"]} if p["published_port"] else {})} for p in ports]


def files_normal(entries: list[dict], option: str) -> list[dict]:
    mode = octal_mode(f"{option}[].mode")
    return sorted(({"name": e["name"], "target": e.get("target") or e["name"], "uid": str(e.get("uid") or "0"),
                    "gid": str(e.get("gid") or "0"), "mode": format(mode(e.get("mode") or "0444"), "04o")}
                   for e in entries or []), key=lambda e: e["name"])


# swarm_secret and swarm_config name versions <name>.v<N> and label them; a service using any version uses <name>.
VERSIONED = re.compile(r"^(?P<name>.+)\.v(?P<version>\d+)$")
NAME_LABEL = "swarmops.name"
VERSION_LABEL = "swarmops.version"


def logical_name(versioned: str) -> str:
    """The name a version belongs to (`db.v3` -> `db`); other names are their own."""
    match = VERSIONED.match(versioned)
    return match.group("name") if match else versioned


def files_actual(kind: str):
    def read(entries: list[dict] | None) -> list[dict]:
        return sorted(({"name": logical_name(e.get(f"{kind}Name", "")),
                        "target": (e.get("File") or {}).get("Name", ""), "uid": (e.get("File") or {}).get("UID", "0"),
                        "gid": (e.get("File") or {}).get("GID", "0"),
                        "mode": format((e.get("File") or {}).get("Mode", 0o444), "04o")} for e in entries or []),
                      key=lambda e: e["name"])
    return read


def files_api(kind: str):
    """Secret/config references by name; the module fills in the ids."""
    return lambda entries: [
        {f"{kind}Name": e["name"], "File": {"Name": e["target"], "UID": e["uid"], "GID": e["gid"],
                                            "Mode": int(e["mode"], 8)}}
        for e in entries]


def mode_normal(params: dict) -> dict:
    if params.get("mode") == "global":
        if params.get("replicas") is not None:
            raise SwarmopsError("replicas: a global service runs one task per node; leave replicas out or use "
                                "mode: replicated")
        return {"Global": {}}
    replicas = 1 if params.get("replicas") is None else params["replicas"]
    if replicas < 0:
        raise SwarmopsError(f"replicas: {replicas} is not a number of tasks (0 or more)")
    return {"Replicated": {"Replicas": replicas}}


def labels(value: dict) -> dict:
    return {key: str(item) for key, item in value.items()}


FIELDS = {
    "image": Field(dict(type="str"), CONTAINER + ("Image",), str, strip_digest),
    "command": Field(dict(type="list", elements="str"), CONTAINER + ("Command",), list, lambda v: v or []),
    "args": Field(dict(type="list", elements="str"), CONTAINER + ("Args",), list, lambda v: v or []),
    "env": Field(dict(type="dict"), CONTAINER + ("Env",), labels,
                 lambda v: dict(item.split("=", 1) for item in v or []),
                 lambda v: [f"{k}={x}" for k, x in sorted(v.items())]),
    "labels": Field(dict(type="dict"), ("Labels",), labels, lambda v: v or {}),
    "container_labels": Field(dict(type="dict"), CONTAINER + ("Labels",), labels, lambda v: v or {}),
    "user": Field(dict(type="str"), CONTAINER + ("User",), str, lambda v: v or ""),
    "workdir": Field(dict(type="str"), CONTAINER + ("Dir",), str, lambda v: v or ""),
    "hostname": Field(dict(type="str"), CONTAINER + ("Hostname",), str, lambda v: v or ""),
    "stop_signal": Field(dict(type="str"), CONTAINER + ("StopSignal",), str, lambda v: v or ""),
    "stop_grace_period": Field(dict(type="raw"), CONTAINER + ("StopGracePeriod",), nanoseconds("stop_grace_period"),
                               lambda v: v if v is not None else 10 * NANO),
    # made with replicas by mode_normal
    "mode": Field(dict(type="str", choices=["replicated", "global"]), ("Mode",), None,
                  lambda v: {"Global": {}} if "Global" in (v or {}) else
                  {"Replicated": {"Replicas": ((v or {}).get("Replicated") or {}).get("Replicas", 1)}}),
    "networks": Field(dict(type="list", elements="str"), ("TaskTemplate", "Networks"), lambda v: sorted(set(v)),
                      lambda v: sorted(n["Target"] for n in v or []), lambda v: [{"Target": n} for n in v]),
    "publish": Field(dict(type="list", elements="dict", options=PUBLISH_OPTIONS), ("EndpointSpec", "Ports"),
                     publish_normal, publish_actual, publish_api),
    "endpoint_mode": Field(dict(type="str", choices=["vip", "dnsrr"]), ("EndpointSpec", "Mode"), str,
                           lambda v: v or "vip"),
    "constraints": Field(dict(type="list", elements="str"), PLACEMENT + ("Constraints",), sorted,
                         lambda v: sorted(v or [])),
    "placement_preferences": Field(
        dict(type="list", elements="str"), PLACEMENT + ("Preferences",), list,
        lambda v: [(p.get("Spread") or {}).get("SpreadDescriptor", "") for p in v or []],
        lambda v: [{"Spread": {"SpreadDescriptor": d}} for d in v]),
    **{option: Field(dict(type="raw"), ("TaskTemplate", "Resources", section, key), None, lambda v: v or 0)
       for option, (section, key, dummy) in resources_lib.RESOURCE_OPTIONS.items()},  # made by resources_spec
    "restart_policy": Field(dict(type="dict", options=RESTART_OPTIONS), ("TaskTemplate", "RestartPolicy"),
                            lambda v: fields(RESTART, v), partial=True),
    "update_config": Field(dict(type="dict", options=POLICY_OPTIONS), ("UpdateConfig",),
                           lambda v: fields(policy_table("update_config"), v), partial=True),
    "rollback_config": Field(dict(type="dict", options=POLICY_OPTIONS), ("RollbackConfig",),
                             lambda v: fields(policy_table("rollback_config"), v), partial=True),
    "mounts": Field(dict(type="list", elements="dict", options=mounts_lib.MOUNT_OPTIONS), CONTAINER + ("Mounts",),
                    lambda v: sorted(mounts_lib.normalise(v), key=lambda m: m["target"]),
                    # written by apply() with to_api_list, which keeps the engine's entries of unchanged mounts
                    lambda v: sorted((mounts_lib.from_api(m) for m in v or []), key=lambda m: m["target"])),
    # The secrets a service mounts, by name and target file: no secret values, so no_log would only hide them.
    "secrets": Field(dict(type="list", elements="dict", options=FILE_OPTIONS, no_log=False), CONTAINER + ("Secrets",),
                     lambda v: files_normal(v, "secrets"), files_actual("Secret"), files_api("Secret")),
    "configs": Field(dict(type="list", elements="dict", options=FILE_OPTIONS), CONTAINER + ("Configs",),
                     lambda v: files_normal(v, "configs"), files_actual("Config"), files_api("Config")),
    "healthcheck": Field(dict(type="dict", options=HEALTHCHECK_OPTIONS), CONTAINER + ("HealthCheck",),
                         lambda v: fields(HEALTH, v), partial=True),
}


# replicas has no field of its own: with mode it makes the mode field (mode_normal).
SERVICE_OPTIONS = {**{option: field.spec for option, field in FIELDS.items()}, "replicas": dict(type="int")}


def actual_mounts(spec: dict) -> list[dict]:
    return FIELDS["mounts"].actual(get(spec, FIELDS["mounts"].path))


CONSTRAINT = re.compile(r"^\s*[A-Za-z][\w.-]*\s*(==|!=)\s*\S.*$")


def check_options(params: dict) -> None:
    """What the engine would store as given (a port of 70000) or refuse only on the write: refused here first."""
    validate.object_name("name", params.get("name"), "a service name")
    ports = params.get("publish") or []
    for index, entry in enumerate(ports):
        validate.port(f"publish[{index}].target_port", entry.get("target_port"))
        validate.port(f"publish[{index}].published_port", entry.get("published_port"), allow_zero=True)
    taken = [(p.get("published_port"), p.get("protocol") or "tcp") for p in ports if p.get("published_port")]
    for published, protocol in sorted({t for t in taken if taken.count(t) > 1}):
        raise SwarmopsError(f"publish: port {published}/{protocol} is published twice; each published port once")
    for index, constraint in enumerate(params.get("constraints") or []):
        if not CONSTRAINT.match(constraint):
            raise SwarmopsError(f"constraints[{index}]: {constraint!r} is not a constraint (examples: "
                                f"node.role==manager, node.labels.zone!=b)")
    for index, net in enumerate(params.get("networks") or []):
        validate.object_name(f"networks[{index}]", net, "a network name")
    for kind in ("secrets", "configs"):
        for index, entry in enumerate(params.get(kind) or []):
            validate.object_name(f"{kind}[{index}].name", entry.get("name"), f"a {kind[:-1]} name", 64)
            for key in ("uid", "gid"):
                if not str(entry.get(key) or "0").isdigit():
                    raise SwarmopsError(f"{kind}[{index}].{key}: {entry.get(key)!r} is not a numeric id (example: 0)")
    restart = params.get("restart_policy") or {}
    validate.integer("restart_policy.max_attempts", restart.get("max_attempts"), 0, what="a number of restarts")
    for option in ("update_config", "rollback_config"):
        policy = params.get(option) or {}
        validate.integer(f"{option}.parallelism", policy.get("parallelism"), 0, what="a number of tasks")
        validate.number(f"{option}.max_failure_ratio", policy.get("max_failure_ratio"), 0, 1, "a share of tasks")
    validate.integer("healthcheck.retries", (params.get("healthcheck") or {}).get("retries"), 0,
                     what="a number of failures")
    validate.integer("wait_timeout", params.get("wait_timeout"), 0, what="a number of seconds")


def wanted_values(params: dict) -> dict:
    """option -> normal form of what the user gave; SwarmopsError (naming the option) for bad input."""
    check_options(params)
    values = {option: FIELDS[option].wanted(params[option]) for option in FIELDS
              if params.get(option) is not None and FIELDS[option].wanted}
    resources = resources_lib.resources_spec(**{o: params.get(o) for o in resources_lib.RESOURCE_OPTIONS})
    for option in resources_lib.RESOURCE_OPTIONS:
        if params.get(option) is not None:
            values[option] = get(resources, FIELDS[option].path[2:]) or 0
    if params.get("mode") is not None or params.get("replicas") is not None:
        values["mode"] = mode_normal(params)
    return values


def compare(spec: dict, wanted: dict) -> tuple[dict, dict]:
    """(before, after) of the options that differ, in normal form; both empty when the service is as wanted.
    Networks are compared as the spec holds them: resolve names to ids in `wanted` first."""
    before, after = {}, {}
    for option, value in wanted.items():
        field, current = FIELDS[option], get(spec, FIELDS[option].path)
        actual = {key: (current or {}).get(key) for key in value} if field.partial else field.actual(current)
        if actual != value:
            before[option], after[option] = actual, value
    return before, after


def apply(spec: dict, wanted: dict) -> dict:
    """A copy of spec with the wanted options written in, the rest as it was."""
    updated = copy.deepcopy(spec)
    for option, value in wanted.items():
        field = FIELDS[option]
        if field.partial:
            put(updated, field.path, {**(get(updated, field.path) or {}), **value})
        elif option == "mounts":
            put(updated, field.path, mounts_lib.to_api_list(value, get(spec, field.path)))
        else:
            put(updated, field.path, field.to_api(value))
    return updated


def task_facts(task: dict, hostnames: dict) -> dict:
    status = task.get("Status") or {}
    return {"id": task["ID"], "node": hostnames.get(task.get("NodeID"), task.get("NodeID", "")),
            "slot": task.get("Slot"), "desired_state": task.get("DesiredState", ""), "state": status.get("State", ""),
            "message": status.get("Message", ""), "error": status.get("Err", "")}


def same_template(task_spec: dict, template: dict) -> bool:
    """A task was made from this template: the engine leaves empty sections and the Runtime out of task specs."""
    def meaningful(spec: dict) -> dict:
        return {key: value for key, value in spec.items() if value not in (None, {}, []) and key != "Runtime"}
    return meaningful(task_spec) == meaningful(template)


def node_satisfies(node: dict, constraint: str) -> bool:
    """A placement constraint (`key==value` or `key!=value`) holds on a node, compared as swarmkit does (case
    insensitive, a missing label is empty); an unknown key never holds."""
    match = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*", constraint)
    if not match:
        return False
    key, operator, value = match.groups()
    description, spec = node.get("Description") or {}, node.get("Spec") or {}
    fixed = {"node.id": node.get("ID"), "node.hostname": description.get("Hostname"), "node.role": spec.get("Role"),
             "node.platform.os": (description.get("Platform") or {}).get("OS"),
             "node.platform.arch": (description.get("Platform") or {}).get("Architecture")}
    lowered = key.lower()
    if lowered in fixed:
        actual = fixed[lowered]
    elif lowered.startswith("node.labels."):
        actual = (spec.get("Labels") or {}).get(key[len("node.labels."):])
    elif lowered.startswith("engine.labels."):
        actual = ((description.get("Engine") or {}).get("Labels") or {}).get(key[len("engine.labels."):])
    else:
        return False
    equal = (actual or "").lower() == value.lower()
    return equal if operator == "==" else not equal


def current_task(task: dict, template: dict, nodes: dict[str, dict]) -> bool:
    """The task is of this template; or differs only in placement and its node meets the new constraints, which
    is a task the swarm keeps as it is rather than replacing."""
    spec = task.get("Spec") or {}
    if same_template(spec, template):
        return True
    node = nodes.get(task.get("NodeID") or "")
    return (node is not None and same_template({**spec, "Placement": template.get("Placement")}, template)
            and all(node_satisfies(node, c) for c in (template.get("Placement") or {}).get("Constraints") or []))


def converged(service: dict, tasks: list[dict], nodes: dict[str, dict] | None = None) -> bool:
    """Every wanted task of the service's current spec runs, and no rolling update is under way."""
    if ((service.get("UpdateStatus") or {}).get("State") or "completed") not in ("completed", "rollback_completed"):
        return False
    spec = service["Spec"]
    live = [t for t in tasks if t.get("DesiredState") == "running"]
    if "Global" in (spec.get("Mode") or {}):
        # One task per node that is up, not drained and meets the constraints; a node whose task keeps failing
        # (an image it cannot pull) has no live task between retries, and must not count as done.
        constraints = (spec["TaskTemplate"].get("Placement") or {}).get("Constraints") or []
        eligible = [n for n in (nodes or {}).values() if (n.get("Status") or {}).get("State") == "ready"
                    and (n.get("Spec") or {}).get("Availability") != "drain"
                    and all(node_satisfies(n, c) for c in constraints)]
        wanted = max(len(eligible), len(live)) if nodes else len(live)
    else:
        wanted = ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", len(live))
    current = [t for t in live if current_task(t, spec["TaskTemplate"], nodes or {})
               and t["Status"]["State"] == "running"]
    return len(live) == wanted and len(current) == wanted


class ServiceAPI:
    """Names <-> ids for networks, secrets and configs, writes, waits and summaries; takes a docker.DockerClient
    so tests can pass another."""

    def __init__(self, client):
        self.api = client.api

    def get(self, name: str) -> dict | None:
        """A service's inspect data by name or id; None when the swarm has no such service."""
        return inspect(self.api.inspect_service, name)

    def remove(self, service: dict) -> None:
        self.api.remove_service(service["ID"])

    def view(self, spec: dict) -> dict:
        """The spec with network ids shown as names, as users write them."""
        names = {n["Id"]: n["Name"] for n in self.api.networks()}
        spec = copy.deepcopy(spec)
        for network in get(spec, ("TaskTemplate", "Networks")) or []:
            network["Target"] = names.get(network["Target"], network["Target"])
        return spec

    def resolve(self, spec: dict, create_networks: bool) -> dict:
        """Network names -> ids (making missing overlays), secret and config names -> ids."""
        for network in get(spec, ("TaskTemplate", "Networks")) or []:
            found = [n for n in self.api.networks(names=[network["Target"]]) if n["Name"] == network["Target"]]
            if not found and create_networks:
                found = [self.api.create_network(network["Target"], driver="overlay", attachable=True)]
            if not found:
                raise SwarmopsError(f"networks: {network['Target']!r} does not exist")
            network["Target"] = found[0]["Id"]
        for kind, lister in (("Secret", self.api.secrets), ("Config", self.api.configs)):
            for entry in get(spec, CONTAINER + (f"{kind}s",)) or []:
                if not entry.get(f"{kind}ID"):
                    name = entry[f"{kind}Name"]
                    match = [x for x in lister(filters={"name": name}) if x["Spec"]["Name"] == name]
                    # the newest version that swarm_secret / swarm_config made of this name
                    match = match or sorted((x for x in lister(filters={"label": f"{NAME_LABEL}={name}"})
                                             if logical_name(x["Spec"]["Name"]) == name),
                                            key=lambda x: -int(x["Spec"]["Labels"].get(VERSION_LABEL, 0)))
                    if not match:
                        raise SwarmopsError(f"{kind.lower()}s: {name!r} does not exist in this swarm")
                    entry[f"{kind}ID"], entry[f"{kind}Name"] = match[0]["ID"], match[0]["Spec"]["Name"]
        return spec

    def login(self, registry_auth: dict, image: str) -> None:
        """Log the manager's engine in, so the create or update carries the credentials to every node that pulls."""
        registry = registry_auth["registry"] or resolve_repository_name(image)[0]
        try:
            self.api.login(registry_auth["username"], registry_auth["password"], registry=registry, reauth=True)
        except DockerException as exc:
            raise SwarmopsError(f"registry_auth: {registry} refused the login of {registry_auth['username']!r}: "
                                f"{describe(exc)}") from exc

    def write(self, current: dict | None, spec: dict, wait_timeout: int | None = None) -> None:
        """Create or update the service; with wait_timeout, wait until its tasks have converged."""
        parts = dict(task_template=spec["TaskTemplate"], name=spec["Name"], labels=spec.get("Labels"),
                     mode=spec.get("Mode"), update_config=spec.get("UpdateConfig"),
                     rollback_config=spec.get("RollbackConfig"), endpoint_spec=spec.get("EndpointSpec"))
        if current is None:
            self.api.create_service(**parts)
        else:
            self.api.update_service(current["ID"], current["Version"]["Index"], **parts)
        if wait_timeout is not None:
            self.wait_converged(spec["Name"], wait_timeout)

    def tasks(self, name: str) -> list[dict]:
        return self.api.tasks(filters={"service": name})

    def task_report(self, name: str) -> list[dict]:
        hostnames = {n["ID"]: n["Description"]["Hostname"] for n in self.api.nodes()}
        tasks = sorted(self.tasks(name), key=lambda t: t.get("CreatedAt", ""), reverse=True)
        return [task_facts(t, hostnames) for t in tasks[:20]]

    def wait_converged(self, name: str, timeout: int) -> None:
        try:
            wait_for(lambda: converged(self.api.inspect_service(name), self.tasks(name),
                                       {n["ID"]: n for n in self.api.nodes()}), timeout,
                     f"every task of {name} to run")
        except SwarmopsError as exc:
            update = self.api.inspect_service(name).get("UpdateStatus") or {}
            lines = [f"{t['node'] or '-'} {t['desired_state']}/{t['state']}: {t['error'] or t['message']}"
                     for t in self.task_report(name)[:8]]
            raise SwarmopsError(f"{exc}; update {update.get('State', 'n/a')} {update.get('Message', '')}; "
                                f"tasks: {'; '.join(lines)}") from exc

    def summary(self, name: str, wanted: dict | None) -> dict:
        """service and tasks for the result; from `wanted` when the service does not exist (check mode)."""
        service = inspect(self.api.inspect_service, name)
        if service is None:
            mode = (wanted or {}).get("mode") or {"Replicated": {"Replicas": 1}}
            return {"service": {"id": "", "name": name, "mode": "global" if "Global" in mode else "replicated",
                                "replicas": (mode.get("Replicated") or {}).get("Replicas"), "running": 0},
                    "tasks": []}
        tasks = self.task_report(name)
        mode = service["Spec"].get("Mode") or {}
        return {"service": {"id": service["ID"], "name": name,
                            "mode": "global" if "Global" in mode else "replicated",
                            "replicas": (mode.get("Replicated") or {}).get("Replicas"),
                            "running": sum(t["state"] == "running" and t["desired_state"] == "running"
                                           for t in tasks)},
                "tasks": tasks}
