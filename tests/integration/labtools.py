"""The integration lab: its own store, network and machine names, driven through the real playbooks."""

import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import warnings

import yaml

from ansible_collections.swarmops.ha.plugins.module_utils import lab as lab_lib
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.swarm import wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
# Two checkouts can run their suites side by side with other names (SWARMOPS_IT_PREFIX=wt-node
# SWARMOPS_IT_SUBNET=172.30.89.0/24); CI uses the defaults. A suite's labs take the /24s from four below SUBNET to
# one above it.
PREFIX = os.environ.get("SWARMOPS_IT_PREFIX", "it-node")
NETWORK = f"swarmops-{PREFIX}"
SUBNET = os.environ.get("SWARMOPS_IT_SUBNET", "172.30.97.0/24")
NODES = 5
with open(os.path.join(ROOT, "roles", "machines", "defaults", "main.yml"), encoding="utf-8") as defaults:
    # The images the lab's inventory runs (name: recipe), as the machines role makes them for lab machines.
    LAB_IMAGES = {image["name"]: image["recipe"] for image in yaml.safe_load(defaults)["machines_lab_images"]}
# The last machine keeps its engine data on btrfs (a loop file), for the storage driver tests; on btrfs the engine
# would pick the btrfs driver by itself, so it starts on overlay2 as the others do.
BTRFS_NODE = f"{PREFIX}{NODES}"
LAB_VARS = {"lab_nodes": NODES, "machines_prefix": PREFIX,
            "machines_driver_options": {"network": NETWORK, "subnet": SUBNET},
            "machines_options_by_name": {BTRFS_NODE: {"btrfs_disk": "3G", "storage_driver": "overlay2"}}}

# A second lab, built beside the shared one for modules that would otherwise wait for it (the security play, the
# failover drills): on the /24 two below it when a checkout runs with other names, as the servers' lab is above it.
if "SWARMOPS_IT_PREFIX" in os.environ or "SWARMOPS_IT_SUBNET" in os.environ:
    SECOND_PREFIX, SECOND_SUBNET = f"{PREFIX}-second", str(ipaddress.ip_network(SUBNET).network_address - 512) + "/24"
else:
    SECOND_PREFIX, SECOND_SUBNET = "it-second", "172.30.94.0/24"
SECOND_LAB_VARS = {"lab_nodes": NODES, "machines_prefix": SECOND_PREFIX,
                   "machines_driver_options": {"network": f"swarmops-{SECOND_PREFIX}", "subnet": SECOND_SUBNET}}
# The pytest-xdist group of the modules on the servers' lab and on the second lab: one worker takes them in file
# order, so the servers' lab (a module's) is gone before the second lab (the session's) is built, and no more than
# two labs run at once. Two groups let a worker build the second lab first and keep it up beside the servers' lab.
OTHER_LABS = "other_labs"


class Lab:
    def __init__(self, store, config, lab_vars=None):
        self.store = store
        self.vars = lab_vars or LAB_VARS
        self.prefix = self.vars["machines_prefix"]
        self.names = [f"{self.prefix}{i}" for i in range(1, self.vars["lab_nodes"] + 1)]
        self.env = {**os.environ, "MACHINE_STORAGE_PATH": store, "ANSIBLE_FORCE_COLOR": "0", "PY_COLORS": "0",
                    "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
        self.config = config

    def run(self, *args, check=True, live=False):
        """Run an ansible command in the checkout; stream its output live when asked (long steps)."""
        cmd = [os.path.join(BIN, args[0]), *args[1:]]
        if live:
            capture = self.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                print(f"\n$ {' '.join(args)}", flush=True)
                proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
                lines, started = [], time.monotonic()
                for line in proc.stdout:
                    lines.append(line)
                    if line.startswith(("TASK", "PLAY", "changed", "ok:", "fatal", "failed")) or "=>" in line:
                        print(f"  {time.monotonic() - started:5.0f}s {line.rstrip()[:160]}", flush=True)
                proc.wait()
                out = "".join(lines)
                returncode = proc.returncode
        else:
            done = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, check=False)
            if check and done.returncode != 0:
                output = done.stdout + done.stderr
                raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{output[-4000:]}")
            return done.stdout
        if check and returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {returncode}:\n{out[-4000:]}")
        return out

    def module(self, name, args, host="localhost", check_mode=False, on_node=False):
        """Run swarmops.ha.<name> on the controller for `host`, or on the node over SSH with become;
        returns (failed, result)."""
        where = ["-b"] if on_node else ["--connection", "local",
                                        "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"]
        out = self.run("ansible", host, "-m", f"swarmops.ha.{name}", "-a", json.dumps(args), *where,
                       # the callbacks keep a result's diff only from -vvv on
                       *(["--check", "--diff", "-vvv"] if check_mode else []), check=False)
        status = re.search(rf"^{re.escape(host)} \| (\S+).* => ", out, re.M)
        result = json.JSONDecoder().raw_decode(out[status.end():])[0]
        return status.group(1).startswith("FAILED"), result

    def playbook(self, name, *extra, live=False, check=True):
        return self.run("ansible-playbook", f"playbooks/{name}", "-e", json.dumps(self.vars), *extra,
                        live=live, check=check)

    def record(self, name):
        return machine_store.read_config(self.store, name)

    def connection(self, name):
        """The connection options of a machine's engine, as the modules take them."""
        return lab_lib.engine_params(self.record(name))

    def engine(self, name):
        return connect(self.connection(name))

    def swarm_node(self, name):
        """The node of that hostname as the first manager sees it; None when it has no such node."""
        found = [n for n in self.engine(self.names[0]).api.nodes() if n["Description"]["Hostname"] == name]
        return found[0] if found else None

    def wait_back_in_swarm(self, name, timeout=90):
        """Wait until the managers see a restarted machine ready. Once in CI a restarted worker stayed unavailable
        while its engine answered, and every later test on the shared lab failed (docker/for-linux#209 reports the
        same after docker-machine start): then warn with the evidence, restart its engine once and wait again."""
        def ready():
            return self.swarm_node(name)["Status"]["State"] == "ready"
        try:
            wait_for(ready, timeout, f"{name} to be ready in the swarm", interval=2)
            return
        except SwarmopsError:
            status = self.swarm_node(name)["Status"]
            local = self.engine(name).info()["Swarm"]
            log = self.run("ansible", name, "-b", "-m", "ansible.builtin.command", "-a",
                           "tail -n 30 /var/log/docker.log", check=False)
        warnings.warn(f"{name} was still {status} to the managers {timeout}s after its start, its engine said "
                      f"{local['LocalNodeState']!r} {local.get('Error')!r}; restarting its engine. Its log:\n{log}",
                      stacklevel=2)
        self.run("ansible", name, "-b", "-m", "ansible.builtin.command", "-a", "/etc/init.d/docker restart")
        wait_for(ready, timeout, f"{name} to be ready in the swarm after its engine restarted", interval=2)

    def swarm_secrets(self):
        """The join tokens and, with autolock on, the unlock key, read from the first manager's engine."""
        api = self.engine(self.names[0]).api
        swarm = api.inspect_swarm()
        values = list(swarm["JoinTokens"].values())
        if swarm["Spec"].get("EncryptionConfig", {}).get("AutoLockManagers"):
            values.append(api.get_unlock_key()["UnlockKey"])
        return values


def leaked(output, values):
    """The secret values found in output, shortened so the failure message does not print them."""
    return [value[:6] + "..." for value in values if value and value in output]


def recap(output):
    """PLAY RECAP counters per host: {'it-node1': {'ok': 3, 'changed': 0, ...}}."""
    totals = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE):
        totals[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return totals


# The swarm role's task that makes the managers the inventory's (skipped when node_bootstrap read them so).
PROMOTE_TASK = "swarmops.ha.swarm : Make the managers what the inventory wants"


def tasks_with(output, status):
    """{host: [tasks whose result for it is `status`: changed, ok, skipping]} from a playbook's output."""
    found, task = {}, None
    for line in output.splitlines():
        header = re.match(r"^\s*TASK \[(.*)\]", line)
        if header:
            task = header.group(1)
        hit = re.match(rf"^\s*{status}: \[([^\]]+)\]", line)
        if hit:
            found.setdefault(hit.group(1).split(" -> ")[0], []).append(task)
    return found


def changed_tasks(output):
    """{host: [tasks that changed it]} from a playbook's output, to say why a run that should change nothing did."""
    return tasks_with(output, "changed")


def remove_stale_machines(client, names, store):
    """Machines of these names left by an interrupted earlier session (another store) would block this lab."""
    for name in names:
        info = lab_lib.find_container(client, name)
        owner = ((info or {}).get("Config", {}).get("Labels") or {}).get(lab_lib.LABEL_STORE)
        if info is not None and owner != store:
            print(f"removing {name}, left by an earlier session's store {owner}")
            lab_lib.remove_machine(client, owner, name)


@contextlib.contextmanager
def new_lab(store, config, client, lab_vars=None):
    """A lab in its own store, rid of machines of its names that an earlier session left, torn down at the end."""
    the_lab = Lab(store, config, lab_vars)
    remove_stale_machines(client, the_lab.names, store)
    try:
        yield the_lab
    finally:
        the_lab.playbook("teardown.yml", check=False)
