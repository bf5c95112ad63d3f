"""lab_image's main() on a fake lab: build once, load only where the image is missing, check mode, refusals."""

import pytest
from module_harness import ModuleFail, exit_result, patch_exits, run_main

from ansible_collections.swarmops.ha.plugins.modules import lab_image


class FakeLab:
    """The lab host's images (name -> id) and each machine's image ids; records builds and loads."""

    def __init__(self, machines):
        self.host, self.machines, self.builds, self.loads = {}, {name: set() for name in machines}, [], []

    def ensure_image(self, client, name, recipe, base_image, check_mode):
        made = name not in self.host
        if made and not check_mode:
            self.builds.append((name, recipe))
            self.host[name] = f"sha256:{len(self.host) + 1}"
        return {"changed": made}

    def load_images(self, host, targets, wanted, check_mode):
        missing = {image: [name for name in sorted(targets) if wanted[image] not in self.machines[name]]
                   for image in wanted}
        for image, names in missing.items():
            for name in names if not check_mode else []:
                self.loads.append((image, name))
                self.machines[name].add(wanted[image])
        return missing


@pytest.fixture
def lab(monkeypatch):
    fake = FakeLab(["node1", "node2"])
    patch_exits(monkeypatch, lab_image.AnsibleModule)
    monkeypatch.setattr(lab_image, "connect", lambda params: params)
    monkeypatch.setattr(lab_image.lab, "ensure_image", fake.ensure_image)
    monkeypatch.setattr(lab_image.lab, "image_id", lambda client, name: fake.host.get(name))
    monkeypatch.setattr(lab_image.lab, "load_images", fake.load_images)
    monkeypatch.setattr(lab_image.lab, "engine_params", lambda record: record)
    monkeypatch.setattr(lab_image.store_lib, "read_config",
                        lambda store, name: {"name": name} if name in fake.machines else None)
    return fake


def test_main_builds_once_and_loads_only_where_the_image_is_missing(lab):
    args = {"name": "swarmops/lab-app:1", "recipe": "app", "machines": ["node1", "node2"], "storage_path": "/store"}
    made = exit_result(lab_image.main, args)
    assert made["changed"] is True and made["built"] is True and made["loaded"] == ["node1", "node2"]
    assert lab.builds == [("swarmops/lab-app:1", "app")] and made["image_id"] == "sha256:1"
    lab.machines["node2"].clear()
    reloaded = exit_result(lab_image.main, args)
    assert reloaded["built"] is False and reloaded["loaded"] == ["node2"]
    again = exit_result(lab_image.main, args)
    assert again["changed"] is False and again["loaded"] == [] and len(lab.builds) == 1 and len(lab.loads) == 3


def test_check_mode_builds_and_loads_nothing_and_counts_a_machine_not_made_yet(lab):
    planned = exit_result(lab_image.main, {"images": [{"name": "swarmops/lab-app:1", "recipe": "app"}],
                                           "machines": ["node1", "node3"], "_ansible_check_mode": True})
    assert planned["changed"] is True and planned["images"] == [
        {"name": "swarmops/lab-app:1", "built": True, "loaded": ["node1", "node3"]}]
    assert lab.builds == [] and lab.loads == []


def test_main_refuses_a_missing_recipe_and_an_unknown_machine_naming_them(lab):
    refused = run_main(lab_image.main, {"images": [{"name": "a:1", "recipe": "app"}, {"name": "b:1"}]})
    assert isinstance(refused, ModuleFail)
    assert refused.args[0]["msg"].startswith("images[1].recipe: required to build b:1")
    refused = run_main(lab_image.main, {"name": "a:1", "recipe": "app", "machines": ["node9"]})
    assert isinstance(refused, ModuleFail) and "machines: 'node9' is not a machine" in refused.args[0]["msg"]
    assert lab.builds == [] and lab.loads == []
