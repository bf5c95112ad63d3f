# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm facts and decisions: node summaries, quorum arithmetic, a quorum-safe manager plan, and waits.

The pure functions take Engine API dicts (node inspect, swarm inspect) so they are tested without Docker;
SwarmAPI is the thin, injectable layer over a docker.DockerClient that the modules use.
"""

from __future__ import annotations

import collections
import re
import time
from dataclasses import dataclass, field

from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import inspect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import DockerException, SwarmopsError, describe

NANO = 1_000_000_000
SWARM_PORT = 2377


def quorum(managers: int) -> int:
    """Managers that must be reachable for the raft log to accept changes."""
    return managers // 2 + 1


def tolerated_failures(managers: int) -> int:
    return max(managers - 1, 0) // 2


def natural_key(name: str) -> list:
    """node2 before node10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def node_facts(node: dict) -> dict:
    """One node of `docker node ls`, with the words the CLI uses."""
    spec, desc, status = node.get("Spec", {}), node.get("Description", {}), node.get("Status", {})
    manager = node.get("ManagerStatus") or {}
    return {
        "id": node["ID"],
        "hostname": desc.get("Hostname", ""),
        "role": spec.get("Role", "worker"),
        "availability": spec.get("Availability", "active"),
        "status": status.get("State", "unknown"),
        "addr": status.get("Addr", ""),
        "manager_status": ("Leader" if manager.get("Leader") else manager.get("Reachability", "").capitalize()),
        "leader": bool(manager.get("Leader")),
        "manager_addr": manager.get("Addr", ""),
        "labels": spec.get("Labels") or {},
        "engine_labels": (desc.get("Engine") or {}).get("Labels") or {},
        "engine_version": (desc.get("Engine") or {}).get("EngineVersion", ""),
        "version": (node.get("Version") or {}).get("Index"),
    }


def count_running_tasks(nodes: list[dict], tasks: list[dict]) -> None:
    """Give each of node_facts() its `running_tasks`: the tasks on it that run and that the swarm wants running."""
    running = collections.Counter(t.get("NodeID") for t in tasks
                                  if t.get("DesiredState") == "running" and t["Status"]["State"] == "running")
    for node in nodes:
        node["running_tasks"] = running[node["id"]]


def quorum_facts(nodes: list[dict]) -> dict:
    """Manager count, reachable managers, the quorum and how many managers may fail, from node_facts()."""
    managers = [n for n in nodes if n["role"] == "manager"]
    reachable = [n for n in managers if n["manager_status"] in ("Leader", "Reachable")]
    return {
        "managers": len(managers),
        "reachable": len(reachable),
        "quorum": quorum(len(managers)),
        "tolerated_failures": tolerated_failures(len(managers)),
        "has_quorum": len(reachable) >= quorum(len(managers)),
        # No failure left to tolerate: the monitoring role's SwarmQuorumAtRisk alert asks the same question.
        "at_risk": len(reachable) <= quorum(len(managers)),
        "leader": next((n["hostname"] for n in managers if n["leader"]), None),
    }


@dataclass
class ManagerPlan:
    promote: list[str] = field(default_factory=list)
    demote: list[str] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)


def plan_managers(nodes: list[dict], names: list[str] | None = None, count: int | None = None,
                  allow_even: bool = False) -> ManagerPlan:
    """Which nodes to promote and demote, in a quorum-safe order; SwarmopsError says why a plan is refused.

    Nodes are named by hostname or node ID; the plan names them by hostname.
    By count, current reachable managers are kept (the leader first), then workers are added in name order.
    Promotions come first; demotions take non-leaders before the leader, and none may leave fewer reachable
    managers than the quorum of the managers that remain.
    """
    by_name = {n["hostname"]: n for n in nodes}
    if names is not None:
        hostname_of = {**{n["id"]: n["hostname"] for n in nodes}, **{name: name for name in by_name}}
        unknown = sorted(set(names) - set(hostname_of), key=natural_key)
        if unknown:
            raise SwarmopsError(f"managers: {', '.join(unknown)} not in this swarm "
                                f"(nodes: {', '.join(sorted(by_name, key=natural_key))})")
        wanted = sorted({hostname_of[name] for name in names}, key=natural_key)
    else:
        if count is None or count < 1:
            raise SwarmopsError(f"manager_count: {count!r} is not a positive number of managers")
        if count > len(nodes):
            raise SwarmopsError(f"manager_count: {count} managers asked, but the swarm has {len(nodes)} nodes")

        def rank(n: dict) -> tuple:
            healthy_manager = n["role"] == "manager" and n["manager_status"] in ("Leader", "Reachable")
            tier = 0 if healthy_manager else 2 if n["role"] == "manager" or n["status"] != "ready" else 1
            return tier, not n["leader"], n["availability"] != "active", natural_key(n["hostname"])

        wanted = sorted((n["hostname"] for n in sorted(nodes, key=rank)[:count]), key=natural_key)
    if len(wanted) % 2 == 0 and not allow_even:
        option = "managers" if names is not None else "manager_count"
        raise SwarmopsError(f"{option}: {len(wanted)} managers tolerate no more failures than {len(wanted) - 1} and "
                            f"make a split vote possible; ask for an odd count, or set allow_even: true")
    plan = ManagerPlan(wanted=wanted)
    plan.promote = [name for name in wanted if by_name[name]["role"] != "manager"]
    current = [n for n in nodes if n["role"] == "manager"]
    leaving = [n for n in current if n["hostname"] not in wanted]
    leaving.sort(key=lambda n: (n["leader"], natural_key(n["hostname"])))
    managers = len(current) + len(plan.promote)
    reachable = sum(n["manager_status"] in ("Leader", "Reachable") for n in current) + len(plan.promote)
    for node in leaving:
        after = managers - 1
        after_reachable = reachable - (node["manager_status"] in ("Leader", "Reachable"))
        if after < 1 or after_reachable < quorum(after):
            raise SwarmopsError(f"demoting {node['hostname']} would leave {after_reachable} reachable of {after} "
                                f"managers, below the quorum of {quorum(after)}; bring managers back first")
        managers, reachable = after, after_reachable
        plan.demote.append(node["hostname"])
    return plan


def poll_delays(interval: float):
    """The pauses between polls: 0.1 s doubling up to `interval`, since most waits (a promotion to Reachable takes
    about 0.6 s) end within the first second, and longer ones need no closer look."""
    delay = min(0.1, interval)
    while True:
        yield delay
        delay = min(delay * 2, interval)


def wait_for(check, timeout: float, what: str, interval: float = 0.5):
    """Poll check() until it returns something truthy; SwarmopsError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    for delay in poll_delays(interval):
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SwarmopsError(f"timed out after {int(timeout)}s waiting for {what}")
        time.sleep(delay)


def wait_for_ca_rotation(api, old_root: str, timeout: float) -> None:
    """Until the swarm has a new root, says the rotation is over, and every node that is up trusts the new root."""
    def done():
        info = api.swarm()
        root = info.get("TLSInfo", {}).get("TrustRoot")
        if info.get("RootRotationInProgress") or root == old_root:
            return False
        return all(node.get("Description", {}).get("TLSInfo", {}).get("TrustRoot") == root
                   for node in api.api.nodes() if node.get("Status", {}).get("State") == "ready")
    wait_for(done, timeout, "every node to get a certificate from the new swarm CA", interval=1)


def normalise_addr(addr: str, port: int = SWARM_PORT) -> str:
    """host or host:port -> host:port, as RemoteManagers lists them."""
    return addr if re.search(r":\d+$", addr) and not addr.endswith("]") else f"{addr}:{port}"


def sorted_node_facts(raw_nodes: list[dict]) -> list[dict]:
    """node_facts of each node, in natural order of their hostnames."""
    return sorted((node_facts(n) for n in raw_nodes), key=lambda n: natural_key(n["hostname"]))


class SwarmAPI:
    """What the swarm modules ask an engine; takes a docker.DockerClient so tests can pass another."""

    def __init__(self, client):
        self.client = client
        self.api = client.api

    def info(self) -> dict:
        """`docker info`."""
        return self.api.info()

    def local(self) -> dict:
        """The Swarm section of `docker info`: LocalNodeState, NodeID, ControlAvailable, Cluster, RemoteManagers."""
        return self.info().get("Swarm") or {}

    def unlocked_local(self) -> dict:
        """local(), refusing a locked node: nothing can be read or changed there before it is unlocked."""
        local = self.local()
        if local.get("LocalNodeState") == "locked":
            raise SwarmopsError("the swarm on this engine is locked; unlock it with its unlock key first")
        return local

    def require_manager(self, option_hint: str = "docker_host") -> None:
        local = self.local()
        if local.get("LocalNodeState") != "active" or not local.get("ControlAvailable"):
            raise SwarmopsError(f"{option_hint}: this engine is not a swarm manager "
                                f"(state {local.get('LocalNodeState', 'unknown')}); point the module at a manager")

    def swarm(self) -> dict:
        return self.api.inspect_swarm()

    def create(self, advertise_addr: str, listen_addr: str, settings: dict, default_addr_pool=None, subnet_size=None,
               data_path_addr=None) -> None:
        """`docker swarm init` with settings named as in SWARM_SETTINGS."""
        self.api.init_swarm(advertise_addr=advertise_addr, listen_addr=listen_addr,
                            swarm_spec=apply_settings({}, settings) or None, default_addr_pool=default_addr_pool,
                            subnet_size=subnet_size, data_path_addr=data_path_addr)

    def update(self, current: dict, spec: dict, rotate_worker_token: bool = False,
               rotate_manager_token: bool = False) -> None:
        """Write the swarm's spec over the version `current` was read at."""
        self.api.update_swarm(current["Version"]["Index"], spec, rotate_worker_token=rotate_worker_token,
                              rotate_manager_token=rotate_manager_token)

    def unlock_key(self) -> dict:
        return self.api.get_unlock_key()

    def join(self, remote_addrs: list[str], join_token: str, listen_addr: str, advertise_addr: str | None,
             data_path_addr: str | None) -> None:
        self.api.join_swarm(remote_addrs, join_token, listen_addr, advertise_addr, data_path_addr)

    def leave(self, force: bool = False) -> None:
        self.api.leave_swarm(force=force)

    def raw_nodes(self) -> list[dict]:
        """The nodes' inspect data, as the engine gives them."""
        return self.api.nodes()

    def nodes(self) -> list[dict]:
        return sorted_node_facts(self.raw_nodes())

    def services(self) -> list[dict]:
        return self.api.services()

    def tasks(self, filters: dict | None = None) -> list[dict]:
        return self.api.tasks(filters=filters)

    def image(self, ref: str) -> dict | None:
        """An image's inspect data on this engine; None when it does not have it."""
        return inspect(self.api.inspect_image, ref)

    def node(self, name: str) -> dict | None:
        """A node's inspect data by hostname or id; None when the swarm has no such node."""
        nodes = self.raw_nodes()
        return next((n for n in nodes if n["ID"] == name), None) or next(
            (n for n in nodes if n["Description"]["Hostname"] == name), None)

    def update_node(self, node: dict, spec: dict) -> None:
        """Write a node's spec over the version `node` was read at."""
        self.api.update_node(node["ID"], node["Version"]["Index"], spec)

    def remove_node(self, node: dict, force: bool = False) -> None:
        self.api.remove_node(node["ID"], force=force)

    def update_spec(self, hostname: str, **changes) -> None:
        node = self.node(hostname)
        self.update_node(node, dict(node["Spec"], **changes))

    def set_role(self, hostname: str, role: str) -> None:
        self.update_spec(hostname, Role=role)

    def unlock(self, key: str) -> None:
        """Give a locked manager its unlock key; a key the engine refuses is the user's to fix, said so."""
        try:
            self.api.unlock_swarm(key)
        except DockerException as exc:
            raise SwarmopsError(f"unlock_key: the engine refused the key ({describe(exc)}); it is not this swarm's "
                                "current unlock key") from None


def wanted_node_spec(spec: dict, labels: dict | None = None, replace_labels: bool = False,
                     labels_to_remove: list[str] | None = None, availability: str | None = None) -> dict:
    """The node Spec after the wanted labels and availability; equal to spec when nothing would change."""
    current = spec.get("Labels") or {}
    wanted = {} if replace_labels else dict(current)
    wanted.update({key: str(value) for key, value in (labels or {}).items()})
    for key in labels_to_remove or []:
        wanted.pop(key, None)
    return {**spec, "Labels": wanted, "Availability": availability or spec.get("Availability", "active")}


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(option: str, value) -> int:
    """Seconds (int) or a duration like '90d', '2160h', '1h30m' -> nanoseconds, as the Engine API wants."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * NANO
    text = str(value).strip()
    if text.isdigit():
        return int(text) * NANO
    parts = re.findall(r"(\d+)([smhd])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SwarmopsError(f"{option}: {value!r} is not a duration (examples: 30 for seconds, 5s, 1h30m, 90d)")
    return sum(int(n) * DURATION_UNITS[u] for n, u in parts) * NANO


# option -> (path in the swarm Spec, value -> API value). One table for init, compare and update.
SWARM_SETTINGS = {
    "dispatcher_heartbeat": (("Dispatcher", "HeartbeatPeriod"), lambda v: parse_duration("dispatcher_heartbeat", v)),
    "task_history_limit": (("Orchestration", "TaskHistoryRetentionLimit"), int),
    "cert_expiry": (("CAConfig", "NodeCertExpiry"), lambda v: parse_duration("cert_expiry", v)),
    "snapshot_interval": (("Raft", "SnapshotInterval"), int),
    "autolock": (("EncryptionConfig", "AutoLockManagers"), bool),
}


def wanted_settings(params: dict) -> dict:
    """The swarm settings a module was given, converted to API values; options left unset are not managed."""
    return {option: convert(params[option]) for option, (dummy, convert) in SWARM_SETTINGS.items()
            if params.get(option) is not None}


def spec_settings(spec: dict, options) -> dict:
    values = {}
    for option in options:
        section, key = SWARM_SETTINGS[option][0]
        values[option] = (spec.get(section) or {}).get(key)
    return values


def apply_settings(spec: dict, settings: dict) -> dict:
    """A copy of spec with the settings written in."""
    updated = {key: (dict(value) if isinstance(value, dict) else value) for key, value in spec.items()}
    for option, value in settings.items():
        section, key = SWARM_SETTINGS[option][0]
        updated.setdefault(section, {})
        updated[section] = {**(updated[section] or {}), key: value}
    return updated


def requested_secrets(info: dict, read_unlock_key, join_tokens: bool, unlock_key: bool) -> dict:
    """The secrets a caller asked for, and only those: join_tokens from swarm inspect data, unlock_key (read through
    read_unlock_key(), called only when asked and autolock is on)."""
    secrets: dict = {}
    if join_tokens:
        tokens = info.get("JoinTokens") or {}
        secrets["join_tokens"] = {"worker": tokens.get("Worker", ""), "manager": tokens.get("Manager", "")}
    if unlock_key and (info.get("Spec", {}).get("EncryptionConfig") or {}).get("AutoLockManagers"):
        secrets["unlock_key"] = (read_unlock_key() or {}).get("UnlockKey") or ""
    return secrets


def secret_values(secrets: dict) -> set[str]:
    """Every non-empty secret string in requested_secrets()' result, for AnsibleModule.no_log_values."""
    values = set((secrets.get("join_tokens") or {}).values())
    values.add(secrets.get("unlock_key") or "")
    return {value for value in values if value}


def hide_secrets(module, secrets: dict) -> None:
    """Mark returned secrets so Ansible hides them, unless the task itself is no_log.

    A value in no_log_values is replaced in the module's result, so the registered variable holds the mask too:
    a task that needs the values (a join) must be no_log, and then Ansible already hides the whole result. A task
    that is not no_log gets masked values and a warning that says how to receive them. (module.no_log is also true
    under the no_target_syslog setting; such a task then shows what it was asked to return.)
    """
    values = secret_values(secrets)
    if values and not module.no_log:
        module.no_log_values.update(values)
        module.warn(f"{', '.join(sorted(secrets))}: hidden in this result because the task is not no_log; "
                    f"set no_log: true on the task to register the values")


def check_address_options(params: dict) -> None:
    """advertise_addr, listen_addr, data_path_addr as swarm init and join take them; before any engine call."""
    validate.address("advertise_addr", params.get("advertise_addr"))
    validate.address("listen_addr", params.get("listen_addr"))
    validate.address("data_path_addr", params.get("data_path_addr"), with_port=False)


def check_init_options(params: dict) -> None:
    """Every swarm_init option that the engine would take as given or refuse only after other changes."""
    check_address_options(params)
    pools = [validate.network(f"default_addr_pool[{i}]", pool) for i, pool in
             enumerate(params.get("default_addr_pool") or [])]
    validate.integer("subnet_size", params.get("subnet_size"), 1, 29, "a prefix length for overlay networks")
    if params.get("subnet_size") is not None:
        for pool in pools:
            if pool.prefixlen > params["subnet_size"]:
                raise SwarmopsError(f"subnet_size: {params['subnet_size']} is larger than the pool {pool} "
                                    f"(accepted: {pool.prefixlen} to 29)")
    validate.integer("task_history_limit", params.get("task_history_limit"), 0, what="a number of tasks")
    validate.integer("snapshot_interval", params.get("snapshot_interval"), 1, what="a number of raft entries")
    validate.integer("ca_rotation_timeout", params.get("ca_rotation_timeout"), 0, what="a number of seconds")
    for option in ("dispatcher_heartbeat", "cert_expiry"):
        if params.get(option) is not None and parse_duration(option, params[option]) == 0:
            raise SwarmopsError(f"{option}: {params[option]!r} is not accepted: a duration above 0 (example: 5s)")
    if params.get("cert_expiry") is not None and parse_duration("cert_expiry", params["cert_expiry"]) < 3600 * NANO:
        raise SwarmopsError(f"cert_expiry: {params['cert_expiry']!r} is below the swarm's minimum of 1h "
                            f"(examples: 2160h, 90d)")


def creation_only_notes(params: dict, local: dict, info: dict) -> list[str]:
    """Warnings for options given to an existing swarm that only swarm init uses and that differ from it."""
    notes = []
    advertise = params.get("advertise_addr")
    if advertise:
        host = validate.split_host_port(advertise)[0]
        node_addr = local.get("NodeAddr") or ""
        if validate.is_ip(host) and node_addr and host != node_addr:
            notes.append(f"advertise_addr: {advertise!r} is not this manager's address ({node_addr}); it is only "
                         f"used when the swarm is created, and the swarm keeps {node_addr}")
    pools = params.get("default_addr_pool")
    if pools and sorted(pools) != sorted(info.get("DefaultAddrPool") or []):
        notes.append(f"default_addr_pool: {pools} is only used when the swarm is created; the swarm keeps "
                     f"{info.get('DefaultAddrPool') or 'its own'}")
    if params.get("subnet_size") is not None and info.get("SubnetSize") not in (None, params["subnet_size"]):
        notes.append(f"subnet_size: {params['subnet_size']} is only used when the swarm is created; the swarm keeps "
                     f"{info.get('SubnetSize')}")
    return notes


JOIN_TOKEN = re.compile(r"^SWMTKN-1-[0-9a-z]+-[0-9a-z]+$")


def check_join_options(params: dict, check_mode: bool = False) -> None:
    """swarm_join's options, before the engine is asked anything. In check mode the token is not checked: a check
    run on a swarm that does not exist yet has none to give."""
    check_address_options(params)
    for index, remote in enumerate(params.get("remote_addrs") or []):
        validate.remote_address(f"remote_addrs[{index}]", remote)
    if params.get("state") == "present" and params.get("remote_addrs") == []:
        raise SwarmopsError("remote_addrs: empty; give the address of at least one manager (example: 192.0.2.10:2377)")
    token = params.get("join_token")
    if (params.get("state") == "present" and not check_mode and token is not None
            and not JOIN_TOKEN.match(token.strip())):
        # The token itself is never quoted: it is a secret.
        raise SwarmopsError("join_token: not a join token (accepted: SWMTKN-1-... as `docker swarm join-token -q "
                            "worker` prints it; a token registered from a task without no_log is masked)")
    validate.integer("wait_timeout", params.get("wait_timeout"), 0, what="a number of seconds")
