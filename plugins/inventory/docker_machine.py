# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_machine
short_description: Machines of a docker-machine store, with SSH, engine and TLS variables and swarm groups
version_added: 0.1.0
description:
  - Reads docker-machine's own store directly, one C(machines/<name>/config.json) per machine, with no
    C(docker-machine) call per machine. Machines made by docker-machine (virtualbox, generic, none, cloud drivers)
    and lab machines made by P(swarmops.ha.machine#module) become hosts alike.
  - Every machine is in the group C(docker_machine), in C(driver_<driver>), in C(state_<state>) (lower case) and in
    exactly one of C(swarm_managers) and C(swarm_workers); see O(managers) for the rule.
  - "Host variables: C(ansible_host), C(ansible_port), C(ansible_user), C(ansible_ssh_private_key_file) (not for the
    C(none) driver), C(docker_host), C(docker_tls_verify), C(docker_cert_path), C(ca_path), C(client_cert),
    C(client_key) (the names of community.docker's connection options), C(swarm_advertise_addr), C(machine_driver),
    C(machine_state) and C(machine_engine_labels)."
  - Uses a YAML configuration file whose name ends with C(.docker_machine.yml) or C(.docker_machine.yaml).
  - A machine whose C(config.json) cannot be read or is not a docker-machine record is left out with a warning.
author:
  - swarmops.ha contributors (!UNKNOWN)
requirements:
  - The Docker SDK for Python, only to read the state of C(lab) machines (O(live_state)).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [swarmops.ha.docker_machine]
  storage_path:
    description:
      - The docker-machine store. When neither this nor E(MACHINE_STORAGE_PATH) is set, C(~/.docker/machine),
        as for docker-machine itself.
      - A store that does not exist is an error that names it.
    type: path
    env:
      - name: MACHINE_STORAGE_PATH
  live_state:
    description:
      - Ask each machine's running state. Lab machines are read from the Docker engine that hosts them, one
        request per engine (their record's C(Driver.DockerHost), else E(DOCKER_HOST), else the local socket);
        other machines from one C(docker-machine ls) call, when C(docker-machine) is on PATH.
      - A lab machine's container running is C(Running), exited or created C(Stopped), paused C(Paused), any other
        status C(Error), and no container C(NotFound); other machines have the state C(docker-machine ls) shows.
      - A state that cannot be asked is C(Unknown), with one warning per engine or for the binary. Without
        O(live_state) every state is C(Unknown).
    type: bool
    default: true
    env:
      - name: SWARMOPS_MACHINE_LIVE_STATE
  managers:
    description:
      - Which machines are in C(swarm_managers); every other machine is in C(swarm_workers).
      - An engine label C(swarm.role=manager) or C(swarm.role=worker) on a machine always decides for it.
      - A list of machine names makes those of them without such a label managers.
      - A number is the count of managers wanted; labelled managers count towards it and the rest are the first
        machines without a label in natural name order (C(node2) before C(node10)).
    type: raw
    default: 3
"""

EXAMPLES = r"""
# inventories/lab/lab.docker_machine.yml: the lab made by swarmops.ha.machine, store from MACHINE_STORAGE_PATH
# or ~/.docker/machine, the first three machines managers.
plugin: swarmops.ha.docker_machine
managers: 3

---
# inventories/docker_machine/docker_machine.docker_machine.yml: machines made with
# `docker-machine create --driver virtualbox node1..node5`, named managers, a cached inventory.
plugin: swarmops.ha.docker_machine
storage_path: ~/.docker/machine
managers: [node1, node2, node3]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/swarmops-inventory
keyed_groups:
  - key: machine_engine_labels.zone | default('none')
    prefix: zone
compose:
  # `none` machines have no SSH details in their record; reach them at their engine's address.
  ansible_host: ansible_host | default(swarm_advertise_addr)
"""

import os
import shutil
import subprocess

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import natural_key

UNKNOWN = "Unknown"
ENGINE_TIMEOUT = 10
LS_TIMEOUT = 60


def choose_managers(labels: dict[str, dict], managers: int | list[str]) -> set[str]:
    """The machines of swarm_managers: the swarm.role label wins, then `managers` (names or a total count)."""
    roles = {name: machine_labels.get("swarm.role") for name, machine_labels in labels.items()}
    chosen = {name for name, role in roles.items() if role == "manager"}
    free = sorted((name for name, role in roles.items() if role not in ("manager", "worker")), key=natural_key)
    if isinstance(managers, int):
        return chosen | set(free[:max(managers - len(chosen), 0)])
    return chosen | set(managers).intersection(free)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "swarmops.ha.docker_machine"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".docker_machine.yml", ".docker_machine.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        store = store_lib.resolve_storage_path(self.get_option("storage_path"))
        use_cache = self.get_option("cache")
        key = self.get_cache_key(path)
        data = self._cache.get(key) if use_cache and cache else None
        if not data or data.get("store") != store:
            data = {"store": store, **self.read_store(store)}
            if use_cache:
                self._cache[key] = data
        self.populate(data["records"], data["states"])

    def read_store(self, store: str) -> dict:
        """The store's records (name -> config.json) and, with live_state, their states (name -> state)."""
        if not os.path.isdir(store):
            raise AnsibleParserError(f"storage_path: the docker-machine store {store} does not exist")
        records = {}
        for name in store_lib.list_machine_names(store):
            try:
                record = store_lib.read_config(store, name)
                if record is None:
                    raise store_lib.StoreError(f"{store_lib.config_path(store, name)}: no machine record")
            except store_lib.StoreError as exc:
                self.display.warning(f"{exc}; machine {name} left out")
                continue
            records[name] = record
        return {"records": records, "states": self.live_states(store, records) if self.get_option("live_state") else {}}

    def live_states(self, store: str, records: dict[str, dict]) -> dict[str, str]:
        engines: dict[str, list[str]] = {}
        others = False
        for name, record in records.items():
            if record.get("DriverName") == "lab":
                engines.setdefault(record["Driver"].get("DockerHost") or "", []).append(name)
            else:
                others = True
        states = self.docker_machine_states(store) if others else {}
        for docker_host, names in engines.items():
            states.update(self.lab_states(docker_host, names))
        return states

    def docker_machine_states(self, store: str) -> dict[str, str]:
        """One `docker-machine ls` for every machine of other drivers than lab."""
        binary = shutil.which("docker-machine")
        if binary is None:
            self.display.warning("live_state: docker-machine is not on PATH; machines of drivers other than lab "
                                 "have the state Unknown")
            return {}
        try:
            out = subprocess.run([binary, "--storage-path", store, "ls", "--format", "{{.Name}}\t{{.State}}"],
                                 capture_output=True, text=True, check=True, timeout=LS_TIMEOUT,
                                 stdin=subprocess.DEVNULL).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            detail = (getattr(exc, "stderr", None) or str(exc)).strip()
            self.display.warning(f"live_state: docker-machine ls failed ({detail}); machines of drivers other than "
                                 f"lab have the state Unknown")
            return {}
        return {name: state or UNKNOWN for name, dummy, state in (line.partition("\t") for line in out.splitlines())}

    def engine_client(self, docker_host: str | None):
        from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect

        return connect({"docker_host": docker_host, "timeout": ENGINE_TIMEOUT})

    def lab_states(self, docker_host: str, names: list[str]) -> dict[str, str]:
        """One container listing on the engine that hosts these lab machines (docker is imported only here)."""
        from ansible_collections.swarmops.ha.plugins.module_utils import lab
        from ansible_collections.swarmops.ha.plugins.module_utils.errors import DockerException, SwarmopsError

        docker_host = docker_host or os.environ.get("DOCKER_HOST")
        try:
            client = self.engine_client(docker_host)
            containers = client.containers.list(all=True, sparse=True, filters={"label": lab.LABEL_MACHINE})
        except (SwarmopsError, DockerException, OSError) as exc:
            self.display.warning(f"live_state: cannot list lab machines on the Docker engine "
                                 f"{docker_host or 'of the local socket'} ({exc}); their state is Unknown")
            return {}
        found = {c.attrs["Labels"][lab.LABEL_MACHINE]: {"State": {"Status": c.status}} for c in containers}
        return {name: lab.container_state(found.get(name)) for name in names}

    def managers_option(self) -> int | list[str]:
        managers = self.get_option("managers")
        if isinstance(managers, str) and managers.isdigit():
            return int(managers)
        if (isinstance(managers, int) and not isinstance(managers, bool) and managers >= 0) or (
                isinstance(managers, list) and all(isinstance(name, str) for name in managers)):
            return managers
        raise AnsibleParserError(f"managers: {managers!r} is neither a number of managers nor a list of machine "
                                 f"names (examples: 3, [node1, node2, node3])")

    def populate(self, records: dict[str, dict], states: dict[str, str]) -> None:
        """Hosts, variables and groups from parsed records (name -> config.json) and states (name -> state)."""
        managers = self.managers_option()
        strict = self.get_option("strict")
        compose, groups, keyed = (self.get_option(option) for option in ("compose", "groups", "keyed_groups"))
        hostvars = {name: store_lib.machine_hostvars(record, states.get(name, UNKNOWN))
                    for name, record in records.items()}
        chosen = choose_managers({name: v["machine_engine_labels"] for name, v in hostvars.items()}, managers)
        inventory = self.inventory
        for group in ("docker_machine", "swarm_managers", "swarm_workers"):
            inventory.add_group(group)
        for name in sorted(records, key=natural_key):
            host_vars = hostvars[name]
            inventory.add_host(name, group="docker_machine")
            for key, value in host_vars.items():
                inventory.set_variable(name, key, value)
            inventory.add_child("swarm_managers" if name in chosen else "swarm_workers", name)
            for group in (f"driver_{host_vars['machine_driver']}", f"state_{host_vars['machine_state'].lower()}"):
                inventory.add_child(inventory.add_group(group), name)
            if compose:
                self._set_composite_vars(compose, host_vars, name, strict)
            if groups:
                self._add_host_to_composed_groups(groups, host_vars, name, strict)
            if keyed:
                self._add_host_to_keyed_groups(keyed, host_vars, name, strict)
