# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machines of a docker-machine store: made, started, stopped and removed by the lab driver or the
docker-machine binary, and reached over SSH as `docker-machine ssh` reaches them. Runs on the controller."""

from __future__ import annotations

import concurrent.futures
import os
import shlex
import shutil
import subprocess

from ansible_collections.swarmops.ha.plugins.module_utils import lab
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, failure_message


class DockerMachineCLI:
    """docker-machine for every driver but lab: one binary call per step."""

    def __init__(self, driver: str, store: str):
        self.driver = driver
        self.store = store
        self.binary = shutil.which("docker-machine")

    def run(self, *args: str, check: bool = True) -> str:
        if not self.binary:
            raise SwarmopsError(f"driver: {self.driver!r} needs the docker-machine binary on the "
                                f"controller's PATH (install docker-machine, or use driver: lab)")
        proc = subprocess.run([self.binary, "--storage-path", self.store, *args],
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()
            raise SwarmopsError(f"docker-machine {' '.join(args)} failed: {output[-1500:]}")
        return proc.stdout.strip()

    def state(self, name: str) -> str:
        if store_lib.read_config(self.store, name) is None:
            return "NotFound"
        return self.run("status", name, check=False) or "Error"

    def converge(self, name: str, state: str, options: dict, labels: list[str], check: bool) -> dict:
        driver = self.driver
        before = self.state(name)
        steps: list[tuple[str, ...]] = []
        if state == "absent":
            if before != "NotFound":
                steps.append(("rm", "-y", name))
        elif before == "NotFound":
            flags = [f"--{key}" if value is True else f"--{key}={value}" for key, value in options.items()]
            steps.append(("create", "--driver", driver, *(f"--engine-label={label}" for label in labels),
                          *flags, name))
            if state == "stopped":
                steps.append(("stop", name))
        elif state == "started" and before != "Running":
            steps.append(("start", name))
        elif state == "stopped" and before == "Running":
            steps.append(("stop", name))
        elif state == "restarted":
            steps.append(("restart", name))
        if not check:
            for step in steps:
                self.run(*step)
        after = before
        if steps:
            after = {"rm": "NotFound", "stop": "Stopped"}.get(steps[-1][0], "Running")
        machine = {"name": name, "driver": driver, "state": after, "storage_path": self.store}
        if after == "Running" and not check:
            machine["ip"] = self.run("ip", name, check=False)
            machine["url"] = self.run("url", name, check=False)
        record = None if check else store_lib.read_config(self.store, name)
        if record:
            driver_info = record["Driver"]
            machine.update(ssh_user=driver_info.get("SSHUser"), ssh_port=driver_info.get("SSHPort"),
                           ssh_key_path=driver_info.get("SSHKeyPath"),
                           cert_path=store_lib.machine_dir(self.store, name))
        return {"changed": bool(steps), "actions": [step[0] for step in steps], "before": before,
                "after": after, "machine": machine}


def converge_all(params: dict, store: str, options: dict, check_mode: bool) -> list[dict]:
    """Every machine to the state; lab machines side by side, the docker-machine binary one machine at a time."""
    names = params["name"]
    if params["driver"] == "lab":
        host_of = {name: options[name].get("docker_host") or os.environ.get("DOCKER_HOST") for name in names}
        clients = {host: connect({"docker_host": host}) for host in set(host_of.values())}

        def converge(name):
            return lab.converge_machine(clients[host_of[name]], store, name, params["state"], options[name],
                                        params["engine_labels"], check_mode, params["wait_timeout"])
        workers = min(len(names), 8)
    else:
        cli = DockerMachineCLI(params["driver"], store)

        def converge(name):
            return cli.converge(name, params["state"], options[name], params["engine_labels"], check_mode)
        workers = 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(converge, name) for name in names]
        concurrent.futures.wait(futures)
    for name, future in zip(names, futures):
        error = future.exception()
        if error is not None:
            message = failure_message(error, f"machine {name}")
            if message is None:
                raise error
            raise SwarmopsError(message) from error
    return [future.result() for future in futures]


def record(store: str, name: str) -> dict:
    """A machine's record in the store; SwarmopsError when the store has none."""
    found = store_lib.read_config(store, name)
    if found is None:
        raise SwarmopsError(f"machine {name} is not in the store {store}")
    return found


def set_state(store: str, names: list[str], state: str) -> list[dict]:
    """Start or stop machines of the store, each with the driver it was made with (one call per driver)."""
    by_driver: dict[str, list[str]] = {}
    for name in names:
        by_driver.setdefault(record(store, name).get("DriverName") or "lab", []).append(name)
    results = []
    for driver, group in by_driver.items():
        params = {"name": group, "driver": driver, "state": state, "engine_labels": [], "wait_timeout": 90}
        results += converge_all(params, store, {name: {} for name in group}, False)
    return results


def ssh(store: str, name: str, command: list[str], stdin: str = "", timeout: float = 180) -> str:
    """Run `command` on a machine as `docker-machine ssh` does (the store's address, user and key, no host key
    check); its output, or SwarmopsError with what it printed when it fails."""
    hostvars = store_lib.machine_hostvars(record(store, name))
    if "ansible_host" not in hostvars:
        raise SwarmopsError(f"machine {name} has no SSH address in the store {store}")
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-i", hostvars["ansible_ssh_private_key_file"],
            "-p", str(hostvars["ansible_port"]), f"{hostvars['ansible_user']}@{hostvars['ansible_host']}",
            shlex.join(command)]
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SwarmopsError(f"machine {name}: {shlex.join(command)} did not finish in {timeout:g}s") from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()
        raise SwarmopsError(f"machine {name}: {shlex.join(command)} failed (exit {proc.returncode}): {output[-800:]}")
    return proc.stdout
