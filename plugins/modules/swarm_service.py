#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_service
short_description: Create, update in place or remove a swarm service, and wait until its tasks run
version_added: 0.1.0
description:
  - C(docker service create), C(docker service update) and C(docker service rm) made declarative.
  - Only the options given are managed; an option left out keeps what the service has. To clear a value give its
    empty form (V([]), V({}), or V(0) for a limit).
  - An update writes the given options into the service's current spec, so nothing else changes; an update that
    changes nothing is V(ok). Diff shows the managed options that change, before and after.
  - After a change it waits until every wanted task runs (O(wait)), and on failure reports the tasks' states and
    errors.
  - O(services) manages several services in one module run (one connection, one look at the swarm). Every change is
    written first and then waited for, so the services converge side by side.
extends_documentation_fragment:
  - swarmops.ha.docker
  - swarmops.ha.mount
  - swarmops.ha.attributes
  - swarmops.ha.attributes.actiongroup_docker
  - swarmops.ha.attributes.check_and_diff
options:
  name:
    description: Service name. Give O(name) or O(services).
    type: str
  services:
    description:
      - Several services, each a dict of this module's service options (V(name) required; any option from
        O(image) to O(healthcheck), with O(replicas), O(state) and O(force_update)). Each item is checked as those
        options are, before anything changes.
      - An option an item leaves out takes the module's value for it (the task's, or module_defaults'), so settings
        the services share are given once. O(wait), O(wait_timeout) and O(registry_auth) apply to all of them.
      - The result lists each service's outcome in RV(services); the diff is keyed by service name.
    type: list
    elements: dict
  state:
    description: V(present) creates or updates, V(absent) removes.
    type: str
    choices: [present, absent]
    default: present
  image:
    description: Image of the tasks; required to create a service.
    type: str
  command:
    description: Replaces the image's entrypoint.
    type: list
    elements: str
  args:
    description: Arguments of the command.
    type: list
    elements: str
  env:
    description: Environment variables (values are strings).
    type: dict
  labels:
    description: Service labels.
    type: dict
  container_labels:
    description: Labels of the task containers.
    type: dict
  user:
    description: User the tasks run as.
    type: str
  workdir:
    description: Working directory of the tasks.
    type: str
  hostname:
    description: Container host name (a Go template such as C({{.Node.Hostname}}) is allowed).
    type: str
  stop_signal:
    description: Signal that asks a task's container to stop (C(--stop-signal)), for example V(SIGINT).
    type: str
  stop_grace_period:
    description:
      - Time a task's container has to stop after O(stop_signal) before it is killed (C(--stop-grace-period)),
        seconds or strings like V(10s); the engine's default is 10 seconds. A task whose process ignores the signal
        (a shell as PID 1) holds its node's shutdown and its own update for this long.
    type: raw
  mode:
    description: V(replicated) runs O(replicas) tasks, V(global) one task on every eligible node.
    type: str
    choices: [replicated, global]
  replicas:
    description: Number of tasks of a replicated service (1 when a service is created without it).
    type: int
  networks:
    description: Networks (names) the tasks attach to; a missing one is created as an attachable overlay.
    type: list
    elements: str
  publish:
    description: Published ports.
    type: list
    elements: dict
    suboptions:
      published_port:
        description: Port on the nodes; left out, the swarm picks one (ingress) or the node's own (host).
        type: int
      target_port:
        description: Port in the container.
        type: int
        required: true
      protocol:
        description: Protocol.
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
      mode:
        description:
          - V(ingress) publishes on every node through the routing mesh; V(host) only on nodes running a task.
          - Nodes without IPVS (the lab) have no routing mesh; use V(host) there.
        type: str
        choices: [ingress, host]
        default: ingress
  endpoint_mode:
    description: V(vip) gives the service one virtual IP; V(dnsrr) resolves its name to the tasks' addresses
      (needed where IPVS is missing, as in the lab).
    type: str
    choices: [vip, dnsrr]
  constraints:
    description: Placement constraints, as C(--constraint) takes them (V(node.role==manager)).
    type: list
    elements: str
  placement_preferences:
    description: Spread descriptors, as C(--placement-pref spread=...) takes them (V(node.labels.zone)).
    type: list
    elements: str
  limit_cpu:
    description: CPU limit of each task (V(0.5), V(2)); V(0) removes it.
    type: raw
  limit_memory:
    description: Memory limit of each task (V(512M), V(1g), bytes); V(0) removes it.
    type: raw
  reserve_cpu:
    description: CPUs reserved for each task on its node; not above O(limit_cpu).
    type: raw
  reserve_memory:
    description: Memory reserved for each task on its node; not above O(limit_memory).
    type: raw
  restart_policy:
    description: When tasks are restarted. Durations are seconds or strings like V(5s), V(1m30s).
    type: dict
    suboptions:
      condition:
        description: Restart condition.
        type: str
        choices: [none, on-failure, any]
      delay:
        description: Delay between restarts.
        type: raw
      max_attempts:
        description: Restarts before giving up (0 for no limit).
        type: int
      window:
        description: Window used to evaluate the restart policy.
        type: raw
  update_config:
    description: How updates roll out.
    type: dict
    suboptions: &policy
      parallelism:
        description: Tasks updated at once (0 for all).
        type: int
      delay:
        description: Delay between batches.
        type: raw
      failure_action:
        description: What to do when a task fails to update.
        type: str
        choices: [continue, pause, rollback]
      monitor:
        description: How long to watch each task for failure after it is updated.
        type: raw
      max_failure_ratio:
        description: Share of tasks that may fail.
        type: float
      order:
        description: V(stop-first) or V(start-first).
        type: str
        choices: [stop-first, start-first]
  rollback_config:
    description: How rollbacks roll out; the same suboptions as O(update_config).
    type: dict
    suboptions: *policy
  secrets:
    description: Secrets (by name, created beforehand) given to the tasks as files under C(/run/secrets).
    type: list
    elements: dict
    suboptions: &files
      name:
        description: Name of the secret or config.
        type: str
        required: true
      target:
        description: File name in the container (default O(secrets[].name)).
        type: str
      uid:
        description: Owner uid.
        type: str
        default: "0"
      gid:
        description: Owner gid.
        type: str
        default: "0"
      mode:
        description: File mode; quote it (V('0400')), or give the number.
        type: raw
        default: "0444"
  configs:
    description: Configs (by name, created beforehand) given to the tasks as files; as O(secrets).
    type: list
    elements: dict
    suboptions: *files
  healthcheck:
    description: Health check of the tasks; durations as in O(restart_policy).
    type: dict
    suboptions:
      test:
        description: A shell command string, or a list starting with C(CMD), C(CMD-SHELL) or C(NONE).
        type: raw
      interval:
        description: Time between checks.
        type: raw
      timeout:
        description: Time a check may take.
        type: raw
      retries:
        description: Failures before the task is unhealthy.
        type: int
      start_period:
        description: Time before failures count.
        type: raw
  force_update:
    description: Restart every task even when nothing changed (C(docker service update --force)); always changed.
    type: bool
    default: false
  wait:
    description: After a change, wait until every wanted task runs and any rolling update has completed.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 120
  registry_auth:
    description:
      - Credentials for a private image, sent with the create or update so that every node can pull it (the CLI's
        C(--with-registry-auth)). The manager's engine logs in first, so wrong credentials fail the task before the
        service changes.
      - The swarm keeps them with the service and never shows them, so they are not compared; new credentials
        alone do not update a service (use O(force_update)).
    type: dict
    suboptions:
      username:
        description: The registry user.
        type: str
        required: true
      password:
        description: Its password, from a vault.
        type: str
        required: true
      registry:
        description: The registry, as in the image name (C(host:port)); by default the image's.
        type: str
notes:
  - Point the module at a manager.
  - Check mode reports the change and the diff and changes nothing. On an engine that is not in a swarm yet (a
    check run of a playbook whose earlier plays would form it), check mode reports the service as new, with a warning.
"""

EXAMPLES = r"""
- name: The guide's registry, published on every node's port 5000
  swarmops.ha.swarm_service:
    name: registry
    image: registry:2
    publish:
      - {published_port: 5000, target_port: 5000}
    mounts:
      - {type: volume, source: registry-data, target: /var/lib/registry}

- name: A web service with limits and reservations, spread over zones
  swarmops.ha.swarm_service:
    name: web
    image: nginx:1.27
    replicas: 3
    limit_cpu: 0.5
    limit_memory: 256M
    reserve_cpu: 0.25
    reserve_memory: 128M
    placement_preferences: [node.labels.zone]
    update_config: {parallelism: 1, delay: 10s, order: start-first, failure_action: rollback}

- name: Remove it
  swarmops.ha.swarm_service:
    name: web
    state: absent

- name: Two services that share their restart policy, in one module run
  swarmops.ha.swarm_service:
    restart_policy: {condition: any, delay: 2s}
    services:
      - {name: api, image: "app:2", replicas: 2}
      - {name: worker, image: "app:2", command: [worker], mode: global}
"""

RETURN = r"""
service:
  description: The service's id, name, mode, replicas and running tasks after the change (as wanted in check mode).
  returned: when state is present (without services)
  type: dict
  sample: {"id": "x1y2", "name": "web", "mode": "replicated", "replicas": 3, "running": 3}
tasks:
  description: The service's current tasks (node, desired and actual state, error), also in failure messages.
  returned: when state is present (without services)
  type: list
  elements: dict
services:
  description:
    - With O(services), each service's name, whether it changed, and (unless it was removed) its RV(service) and
      RV(tasks), in the order given.
  returned: when services is given
  type: list
  elements: dict
  sample: [{"name": "api", "changed": false, "service": {"id": "x1y2", "name": "api", "mode": "replicated",
            "replicas": 2, "running": 2}, "tasks": []}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.swarmops.ha.plugins.module_utils import services as service_lib
from ansible_collections.swarmops.ha.plugins.module_utils import swarm as swarm_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect, docker_spec
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors

# What an item of services takes: a service's own options. state and force_update have no default here, so an item
# that leaves one out takes the module's value (the task's, or module_defaults').
ITEM_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"]),
    force_update=dict(type="bool"),
    **service_lib.SERVICE_OPTIONS,
)


def batch(params: dict) -> list[dict]:
    """The module's parameters for each service it manages: its own, or each item of services over them."""
    if params["services"] is None:
        return [params]
    validator = ArgumentSpecValidator(ITEM_SPEC)
    items = []
    for index, item in enumerate(params["services"]):
        checked = validator.validate(item)
        if checked.error_messages:
            label = item.get("name") if isinstance(item.get("name"), str) else index
            messages = [f"unsupported option {error.msg}" if isinstance(error, UnsupportedError) else error.msg
                        for error in checked.errors]
            raise SwarmopsError(f"services[{index}] ({label}): {'; '.join(messages)}")
        given = {option: value for option, value in checked.validated_parameters.items() if value is not None}
        items.append({**params, "services": None, **given})
    names = [item["name"] for item in items]
    for name in sorted({name for name in names if names.count(name) > 1}):
        raise SwarmopsError(f"services: service {name!r} is given twice; give each service once")
    return items


def plan(services, params: dict, wanted: dict) -> dict:
    """What one service needs: its current state, the (before, after) diff, and whether it changes."""
    current = services.get(params["name"])
    if params["state"] == "absent":
        return {"params": params, "current": current, "changed": bool(current),
                "diff": {"before": {"name": params["name"]} if current else {}, "after": {}}}
    if current is None and not params["image"]:
        raise SwarmopsError(f"image: required to create service {params['name']!r}")
    spec = services.view(current["Spec"]) if current else {"Name": params["name"]}
    before, after = service_lib.compare(spec, wanted)
    return {"params": params, "current": current, "spec": spec, "wanted": wanted,
            "changed": bool(before or after or current is None or params["force_update"]),
            "diff": {"before": before if current else {}, "after": after}}


def write(services, step: dict) -> None:
    """Remove, create or update one planned service, without waiting for its tasks."""
    params, current = step["params"], step["current"]
    if params["state"] == "absent":
        services.remove(current)
        return
    spec = services.resolve(service_lib.apply(step["spec"], step["wanted"]), create_networks=True)
    if params["force_update"] and current:
        template = spec["TaskTemplate"]
        template["ForceUpdate"] = (template.get("ForceUpdate") or 0) + 1
    if params["registry_auth"]:
        services.login(params["registry_auth"], spec["TaskTemplate"]["ContainerSpec"]["Image"])
    services.write(current, spec)


def outcome(services, step: dict, check_mode: bool) -> dict:
    """One service's part of the result."""
    params = step["params"]
    if params["state"] == "absent":
        return {"changed": step["changed"], "diff": step["diff"]}
    return {"changed": step["changed"], "diff": step["diff"],
            **services.summary(params["name"], step["wanted"] if check_mode else None)}


def main():
    module = AnsibleModule(
        argument_spec=docker_spec(
            name=dict(type="str"),
            services=dict(type="list", elements="dict"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force_update=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=120),
            registry_auth=dict(type="dict", options=dict(
                username=dict(type="str", required=True),
                password=dict(type="str", required=True, no_log=True),
                registry=dict(type="str"),
            )),
            **service_lib.SERVICE_OPTIONS,
        ),
        mutually_exclusive=[("name", "services")],
        required_one_of=[("name", "services")],
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "swarm_service"):
        items = batch(params)
        wanted = [service_lib.wanted_values(item) for item in items]
        client = connect(params)
        api = swarm_lib.SwarmAPI(client)
        services = service_lib.ServiceAPI(client)
        if module.check_mode and api.local().get("LocalNodeState") == "inactive":
            module.warn(f"the engine is not in a swarm yet; check mode reports "
                        f"{'every service' if params['services'] else 'the service'} as new")
            results = [{"changed": item["state"] == "present", "service": {}, "tasks": [],
                        "diff": {"before": {}, "after": want if item["state"] == "present" else {}}}
                       for item, want in zip(items, wanted)]
        else:
            api.require_manager()
            steps = [plan(services, item, want) for item, want in zip(items, wanted)]
            changing = [step for step in steps if step["changed"]]
            if not module.check_mode:
                for step in changing:
                    write(services, step)
                # Written first, waited for after: the services converge side by side.
                if params["wait"]:
                    for step in changing:
                        if step["params"]["state"] == "present":
                            services.wait_converged(step["params"]["name"], params["wait_timeout"])
            results = [outcome(services, step, module.check_mode) for step in steps]
        if params["services"] is None:
            module.exit_json(**results[0])
        module.exit_json(
            changed=any(result["changed"] for result in results),
            diff={"before": {item["name"]: result["diff"]["before"] for item, result in zip(items, results)
                             if result["changed"]},
                  "after": {item["name"]: result["diff"]["after"] for item, result in zip(items, results)
                            if result["changed"]}},
            services=[{"name": item["name"], **{key: value for key, value in result.items() if key != "diff"}}
                      for item, result in zip(items, results)])


if __name__ == "__main__":
    main()
