#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lab_image
short_description: Build (or pull) an image on the lab host and load it into lab machines
version_added: 0.1.0
description:
  - Lab machines reach no container registry, so the images the collection runs on them are made on the lab host
    from small recipes on a Debian base and loaded into each machine's engine over TLS.
  - A built image carries a label with the hash of its inputs (recipe and base image id) and is rebuilt only when
    they change. An image is loaded into a machine only when the machine lacks that image id.
  - Runs on the controller, which must be able to reach the lab host engine and the machines.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_only
options:
  name:
    description:
      - Image reference, for example V(swarmops/lab-app:1).
      - One of O(name) and O(images) is required.
    type: str
  recipe:
    description:
      - What to build. V(app) is busybox on scratch, V(registry) is Debian's docker-registry,
        V(compose) is Debian's docker-compose as the entrypoint, V(node) is the lab machine image (V(bare) one
        without Docker), V(proxy) is Debian's HAProxy (the routing role's proxy), V(prometheus), V(alertmanager) and
        V(node-exporter) are Debian's for the monitoring role.
      - Ignored with O(source=pull).
    type: str
    choices: [alertmanager, app, bare, compose, node, node-exporter, prometheus, proxy, registry]
  images:
    description:
      - Several images in one call, instead of O(name) and O(recipe). They are built (or pulled) side by side,
        four at a time, then every missing image is loaded into every machine side by side.
    type: list
    elements: dict
    suboptions:
      name:
        description: Image reference, as O(name).
        type: str
        required: true
      recipe:
        description: What to build, as O(recipe); required with O(source=build).
        type: str
        choices: [alertmanager, app, bare, compose, node, node-exporter, prometheus, proxy, registry]
  source:
    description: V(build) from O(recipe) on the lab host, or V(pull) O(name) from its registry.
    type: str
    choices: [build, pull]
    default: build
  base_image:
    description:
      - Image the recipes build on (C({release}) stands for V(bookworm)); where it cannot be pulled, a Debian base is
        made with debootstrap.
    type: str
    default: "debian:{release}-slim"
  machines:
    description: Names of lab machines (in O(storage_path)) to load the image into.
    type: list
    elements: str
    default: []
  storage_path:
    description: The docker-machine store. Defaults to E(MACHINE_STORAGE_PATH), else C(~/.docker/machine).
    type: path
  docker_host:
    description:
      - The engine that hosts the lab; the local one by default.
      - When not set in the task, the environment variable E(DOCKER_HOST) is used.
    type: str
notes:
  - Check mode reports what would be built and loaded, and does neither.
"""

EXAMPLES = r"""
- name: Build the registry image and load it into every lab machine
  swarmops.ha.lab_image:
    name: swarmops/lab-registry:2
    recipe: registry
    machines: "{{ groups['docker_machine'] }}"

- name: Build two images and load both into every lab machine in one call
  swarmops.ha.lab_image:
    images:
      - {name: "swarmops/lab-app:1", recipe: app}
      - {name: "swarmops/lab-proxy:1", recipe: proxy}
    machines: "{{ groups['docker_machine'] }}"
"""

RETURN = r"""
built:
  description: Whether the image of O(name) was built or pulled now.
  returned: when O(name) is given
  type: bool
loaded:
  description: Machines the image of O(name) was loaded into (or would be, in check mode).
  returned: when O(name) is given
  type: list
  elements: str
  sample: [node2, node5]
image_id:
  description: The image id on the lab host (absent in check mode when the image is not there yet).
  returned: when O(name) is given and the id is known
  type: str
images:
  description: Each image, in the order given, with RV(built), RV(loaded) and (when known) RV(image_id) as above.
  returned: always
  type: list
  elements: dict
  sample: [{name: "swarmops/lab-app:1", built: false, loaded: [node5], image_id: "sha256:..."}]
"""

import concurrent.futures

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.swarmops.ha.plugins.module_utils import lab
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import connect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors

# An engine answers a load only once it has unpacked the archive; on a busy lab host that takes minutes.
LOAD_TIMEOUT = 600


def machine_clients(store: str, names: list[str], check_mode: bool) -> tuple[dict, list[str]]:
    """Engine clients of the machines, and the machines that do not exist yet (allowed in check mode only)."""
    clients, absent = {}, []
    for name in names:
        record = store_lib.read_config(store, name)
        if record is None:
            if not check_mode:
                raise SwarmopsError(f"machines: {name!r} is not a machine in {store}")
            absent.append(name)
        else:
            clients[name] = connect({**lab.engine_params(record), "timeout": LOAD_TIMEOUT})
    return clients, absent


def wanted_images(params: dict) -> list[dict]:
    images = params["images"] or [{"name": params["name"], "recipe": params["recipe"]}]
    if params["source"] == "build":
        for index, image in enumerate(images):
            if not image["recipe"]:
                option = f"images[{index}].recipe" if params["images"] else "recipe"
                raise SwarmopsError(f"{option}: required to build {image['name']} (source: build); accepted: "
                                    f"{', '.join(sorted(lab.RECIPES))}")
    return images


def converge(host, images: list[dict], params: dict, store: str, check_mode: bool) -> list[dict]:
    targets, absent = machine_clients(store, params["machines"], check_mode)

    def make(image: dict) -> dict:
        if params["source"] == "pull":
            built = lab.image_id(host, image["name"]) is None
            if built and not check_mode:
                lab.pull_image(host, image["name"])
        else:
            built = lab.ensure_image(host, image["name"], image["recipe"], params["base_image"], check_mode)["changed"]
        image_id = lab.image_id(host, image["name"])
        return {"name": image["name"], "built": built, **({"image_id": image_id} if image_id else {})}

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(images), 4)) as pool:
        results = list(pool.map(make, images))
    known = {result["name"]: result["image_id"] for result in results if "image_id" in result}
    missing = lab.load_images(host, targets, known, check_mode) if known else {}
    for result in results:
        result["loaded"] = sorted(missing[result["name"]] + absent) if "image_id" in result else sorted(
            params["machines"])
    return results


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            recipe=dict(type="str", choices=sorted(lab.RECIPES)),
            images=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                recipe=dict(type="str", choices=sorted(lab.RECIPES)),
            )),
            source=dict(type="str", default="build", choices=["build", "pull"]),
            base_image=dict(type="str", default=lab.DEFAULT_BASE_IMAGE),
            machines=dict(type="list", elements="str", default=[]),
            storage_path=dict(type="path"),
            docker_host=dict(type="str", fallback=(env_fallback, ["DOCKER_HOST"])),
        ),
        mutually_exclusive=[("name", "images"), ("recipe", "images")],
        required_one_of=[("name", "images")],
        supports_check_mode=True,
    )
    params = module.params
    store = store_lib.resolve_storage_path(params["storage_path"])
    with module_errors(module, f"image {params['name']}" if params["name"] else ""):
        images = wanted_images(params)
        results = converge(connect({"docker_host": params["docker_host"]}), images, params, store, module.check_mode)
    single = {key: value for key, value in results[0].items() if key != "name"} if params["name"] else {}
    module.exit_json(changed=any(result["built"] or result["loaded"] for result in results), images=results,
                     **single)


if __name__ == "__main__":
    main()
