import concurrent.futures
import io
import json
import tarfile
import threading
import time

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import lab
from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as ms
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError


def test_pick_address_takes_lowest_free_from_eleven():
    assert lab.pick_address("198.51.100.0/24", set()) == "198.51.100.11"
    assert lab.pick_address("198.51.100.0/24", {"198.51.100.11", "198.51.100.12"}) == "198.51.100.13"


def test_pick_address_honours_a_wanted_free_address():
    assert lab.pick_address("198.51.100.0/24", {"198.51.100.11"}, "198.51.100.50") == "198.51.100.50"


@pytest.mark.parametrize("wanted, message", [
    ("198.51.100.11", "already used"),
    ("192.0.2.5", "not a usable host address"),
    ("198.51.100.1", "not a usable host address"),
    ("banana", "not an IPv4 address"),
])
def test_pick_address_refuses_bad_wanted_address(wanted, message):
    with pytest.raises(SwarmopsError, match=f"driver_options.ip: .*{message}"):
        lab.pick_address("198.51.100.0/24", {"198.51.100.11"}, wanted)


@pytest.mark.parametrize("subnet", ["nonsense", "198.51.100.0/29", "2001:db8::/64"])
def test_validate_subnet_names_the_option(subnet):
    with pytest.raises(SwarmopsError, match=f"subnet: '{subnet}'"):
        lab.validate_subnet(subnet)


def test_subnet_exhaustion_is_reported():
    taken = {f"198.51.100.{i}" for i in range(1, 15)}
    with pytest.raises(SwarmopsError, match="no free address"):
        lab.pick_address("198.51.100.0/28", taken)


def test_apt_mirror_reads_deb822_and_one_line_sources(tmp_path):
    (tmp_path / "a.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n")
    assert lab.apt_mirror((str(tmp_path / "*.sources"),)) == "http://mirror.example/debian"
    (tmp_path / "b.list").write_text("# comment\ndeb [arch=amd64] http://other.example/debian bookworm main\n")
    assert lab.apt_mirror((str(tmp_path / "*.list"),)) == "http://other.example/debian"
    assert lab.apt_mirror((str(tmp_path / "none*"),)) is None


def test_slim_base_drops_docs_and_apt_leftovers_but_keeps_directories_copyrights_and_programs(tmp_path):
    root = tmp_path / "rootfs"
    for path in ("usr/share/doc/bash/README", "usr/share/doc/bash/copyright", "usr/share/man/man1/ls.1.gz",
                 "usr/share/locale/de/LC_MESSAGES/apt.mo", "var/cache/apt/archives/bash_5.2_amd64.deb",
                 "var/cache/apt/archives/lock", "var/lib/apt/lists/deb.debian.org_dists_bookworm_Release",
                 "var/lib/apt/lists/lock", "usr/bin/bash", "usr/share/zoneinfo/UTC"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(root, arcname=".", filter=lab.slim_member)
    buf.seek(0)
    files = {member.name for member in tarfile.open(fileobj=buf).getmembers() if member.isfile()}
    assert files == {"./usr/share/doc/bash/copyright", "./var/cache/apt/archives/lock", "./var/lib/apt/lists/lock",
                     "./usr/bin/bash", "./usr/share/zoneinfo/UTC"}
    buf.seek(0)
    assert "./usr/share/man/man1" in tarfile.open(fileobj=buf).getnames()  # dpkg still finds its directories
    assert lab.SLIM_DPKG_CONFIG.splitlines() == [
        "path-exclude /usr/share/doc/*", "path-exclude /usr/share/man/*", "path-exclude /usr/share/locale/*",
        "path-exclude /usr/share/info/*", "path-include /usr/share/doc/*/copyright"]


def test_recipe_inputs_change_with_base_and_recipe():
    first = lab.recipe_inputs("node", "sha256:aaa")
    assert first == lab.recipe_inputs("node", "sha256:aaa")
    assert first != lab.recipe_inputs("node", "sha256:bbb")
    assert first != lab.recipe_inputs("app", "sha256:aaa")


def test_build_context_substitutes_base_and_ships_files():
    with tarfile.open(fileobj=lab.build_context("node", "example/base:1")) as tar:
        names = tar.getnames()
        dockerfile = tar.extractfile("Dockerfile").read().decode()
    assert dockerfile.startswith("FROM example/base:1\n")
    assert {"Dockerfile", "lab-init", "engine"} <= set(names)


def test_daemon_json_listens_with_tls_verify_and_labels():
    config = json.loads(lab.daemon_json(["swarm.role=manager"], "btrfs"))
    assert "tcp://0.0.0.0:2376" in config["hosts"]
    assert config["tlsverify"] is True and config["tlscacert"] == "/etc/docker/ca.pem"
    assert config["labels"] == ["swarm.role=manager"]
    assert config["storage-driver"] == "btrfs"
    assert "storage-driver" not in json.loads(lab.daemon_json([]))


@pytest.mark.parametrize("status, state", [
    ("running", "Running"), ("exited", "Stopped"), ("created", "Stopped"), ("dead", "Error"),
])
def test_container_state_uses_docker_machine_words(status, state):
    assert lab.container_state({"State": {"Status": status}}) == state


def test_container_state_of_no_container():
    assert lab.container_state(None) == "NotFound"


def test_machine_files_carry_engine_tls_and_authorized_key(tmp_path):
    store = str(tmp_path)
    ms.ensure_ca(store)
    ms.ensure_ssh_key(store, "node1")
    ms.ensure_machine_tls(store, "node1", ["192.0.2.11"])
    with tarfile.open(fileobj=io.BytesIO(lab.machine_files(store, "node1", [], ""))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        authorized = tar.extractfile("home/docker/.ssh/authorized_keys").read()
    assert set(members) == {"etc/docker/ca.pem", "etc/docker/server.pem", "etc/docker/server-key.pem",
                            "etc/docker/daemon.json", "home/docker/.ssh/authorized_keys"}
    assert members["etc/docker/server-key.pem"].mode == 0o600
    assert authorized == (tmp_path / "machines" / "node1" / "id_rsa.pub").read_bytes()


def test_machine_settings_keep_what_the_machine_was_made_with(tmp_path):
    record = ms.lab_config(str(tmp_path), "node1", {"IPAddress": "192.0.2.11", "Network": "labnet",
                                                    "Subnet": "198.51.100.0/24", "Image": "img:1"}, [])
    # A record made before kinds and releases existed is a bookworm node.
    assert lab.machine_settings(record, {}) == {"Network": "labnet", "Subnet": "198.51.100.0/24", "Kind": "node",
                                                "Release": "bookworm", "Image": "img:1", "DockerHost": "",
                                                "BtrfsDisk": ""}
    assert lab.machine_settings(None, {})["Network"] == lab.DEFAULT_NETWORK
    with pytest.raises(SwarmopsError, match="driver_options.btrfs_disk: machine node1 was made with '', not '2G'"):
        lab.machine_settings(record | {"Driver": record["Driver"] | {"BtrfsDisk": ""}}, {"btrfs_disk": "2G"})
    with pytest.raises(SwarmopsError,
                       match="driver_options.network: machine node1 was made with 'labnet', not 'other'"):
        lab.machine_settings(record, {"network": "other"})


def test_machine_image_follows_kind_and_release():
    assert lab.machine_settings(None, {})["Image"] == "swarmops/lab-node:bookworm"
    assert lab.machine_settings(None, {"kind": "bare", "release": "trixie"})["Image"] == "swarmops/lab-bare:trixie"
    with pytest.raises(SwarmopsError,
                       match="driver_options.release: 'jessie' is not one of bullseye, bookworm, trixie"):
        lab.machine_settings(None, {"release": "jessie"})
    with pytest.raises(SwarmopsError, match="driver_options.kind: 'vm' is not one of node, bare"):
        lab.machine_settings(None, {"kind": "vm"})


def test_bare_machine_gets_only_its_key_owned_by_the_ssh_user(tmp_path):
    store = str(tmp_path)
    ms.ensure_ssh_key(store, "srv1")
    with tarfile.open(fileobj=io.BytesIO(lab.machine_files(store, "srv1", [], "", kind="bare"))) as tar:
        members = tar.getmembers()
    assert [(m.name, m.uid, m.mode) for m in members] == [("home/docker/.ssh/authorized_keys", lab.SSH_UID, 0o600)]


def test_bare_machine_has_no_engine_variables(tmp_path):
    record = ms.lab_config(str(tmp_path), "srv1", {"IPAddress": "192.0.2.21", "Kind": "bare"}, [])
    hostvars = ms.machine_hostvars(record, "Running")
    assert hostvars["ansible_host"] == hostvars["swarm_advertise_addr"] == "192.0.2.21"
    assert not {"docker_host", "ca_path", "client_cert", "client_key", "docker_tls_verify"} & set(hostvars)


def test_engine_params_point_at_tls_endpoint_with_store_certs(tmp_path):
    record = ms.lab_config(str(tmp_path), "node1", {"IPAddress": "192.0.2.11"}, [])
    params = lab.engine_params(record)
    assert params["docker_host"] == "tcp://192.0.2.11:2376"
    assert params["validate_certs"] is True
    assert params["client_key"] == str(tmp_path / "certs" / "key.pem")


@pytest.mark.parametrize("ref, pulled", [
    ("alpine", ("alpine", "latest")),
    ("swarmops/lab-app:1", ("swarmops/lab-app", "1")),
    ("localhost:5000/alpine", ("localhost:5000/alpine", "latest")),
    ("localhost:5000/alpine:3.20", ("localhost:5000/alpine", "3.20")),
])
def test_pull_image_takes_the_tag_after_the_last_colon_unless_it_is_a_registry_port(ref, pulled):
    class Api:
        def pull(self, repository, tag):
            self.pulled = (repository, tag)

    class Client:
        api = Api()

    lab.pull_image(Client, ref)
    assert Client.api.pulled == pulled


class BuildingEngineAPI:
    """An engine with no registry, whose builds of two images only finish once both have started."""

    def __init__(self):
        self.tags, self.builds = {}, []
        self.both_building = threading.Barrier(2, timeout=10)

    def inspect_image(self, ref):
        if ref not in self.tags:
            raise lab.NotFound(ref)
        return {"Id": f"sha256:{ref}", "Config": {"Labels": self.tags[ref]}}

    def pull(self, repository, tag):
        raise lab.NotFound(f"{repository}:{tag}")

    def build(self, tag, labels, **_):
        self.builds.append(tag)
        self.both_building.wait()
        self.tags[tag] = labels
        yield {"stream": "built"}


def test_two_images_of_one_release_build_side_by_side_on_the_one_base_they_share(tmp_path, monkeypatch):
    engine = type("Engine", (), {"api": BuildingEngineAPI()})()
    bases = []

    def debootstrap_base(client, tag, suite):
        bases.append(tag)
        time.sleep(0.2)
        client.api.tags[tag] = {}

    monkeypatch.setattr(lab, "IMAGES_LOCK_DIR", str(tmp_path))
    monkeypatch.setattr(lab, "debootstrap_base", debootstrap_base)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda image: lab.ensure_image(engine, *image),
                             [("swarmops/lab-node:bookworm", "node"), ("swarmops/lab-bare:bookworm", "bare")]))
    assert bases == ["swarmops/lab-base:bookworm"]
    assert sorted(engine.api.builds) == ["swarmops/lab-bare:bookworm", "swarmops/lab-node:bookworm"]
    assert [image["base"] for image in made] == ["swarmops/lab-base:bookworm"] * 2
    assert all(image["changed"] for image in made)
    assert not lab.ensure_image(engine, "swarmops/lab-node:bookworm", "node")["changed"]


class EmptyEngineAPI:
    """An engine with no container and no network."""

    def inspect_container(self, name):
        raise lab.NotFound(name)

    inspect_network = inspect_container


def test_two_new_machines_of_one_store_build_their_images_side_by_side(tmp_path, monkeypatch):
    both_building, built = threading.Barrier(2, timeout=10), []

    def ensure_image(client, tag, recipe, base_image, check_mode, release):
        if tag not in built:  # under the store's lock, the second machine would never start its build
            built.append(tag)
            both_building.wait()
        return {"changed": True}

    monkeypatch.setattr(lab, "ensure_image", ensure_image)
    engine = type("Engine", (), {"api": EmptyEngineAPI()})()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda machine: lab.converge_machine(
            engine, str(tmp_path), machine[0], "started", {"kind": machine[1], "release": "bullseye"}, [],
            check_mode=True), [("n1", "node"), ("n2", "bare")]))
    assert sorted(built) == ["swarmops/lab-bare:bullseye", "swarmops/lab-node:bullseye"]
    assert [result["actions"][:3] for result in made] == [
        ["create", "create network", "build node image"], ["create", "create network", "build bare image"]]


class FakeEngineAPI:
    """An engine's image store: tag -> id; save gives the id's bytes, load adds the archive's image."""

    def __init__(self, tags):
        self.tags = dict(tags)
        self.saved, self.loaded = [], []

    def images(self):
        return [{"Id": image_id} for image_id in set(self.tags.values())]

    def inspect_image(self, ref):
        if ref not in self.tags:
            raise lab.NotFound(ref)
        return {"Id": self.tags[ref]}

    def get_image(self, ref):
        self.saved.append(ref)
        return [json.dumps([ref, self.tags[ref]]).encode()]

    def load_image(self, handle):
        ref, image_id = json.loads(handle.read())
        self.loaded.append(ref)
        self.tags[ref] = image_id


class FakeEngine:
    def __init__(self, tags):
        self.api = FakeEngineAPI(tags)


def test_load_images_saves_each_missing_image_once_and_loads_it_only_where_its_id_is_missing():
    host = FakeEngine({"app:1": "sha256:a", "proxy:1": "sha256:p", "old:1": "sha256:o"})
    machines = {"n1": FakeEngine({"app:1": "sha256:a"}), "n2": FakeEngine({"app:1": "sha256:stale"}),
                "n3": FakeEngine({})}
    images = {"app:1": "sha256:a", "proxy:1": "sha256:p"}
    planned = lab.load_images(host, machines, images, check_mode=True)
    assert planned == {"app:1": ["n2", "n3"], "proxy:1": ["n1", "n2", "n3"]}
    assert host.api.saved == [] and not any(m.api.loaded for m in machines.values())
    assert lab.load_images(host, machines, images) == planned
    assert sorted(host.api.saved) == ["app:1", "proxy:1"]
    assert {name: sorted(m.api.loaded) for name, m in machines.items()} == {
        "n1": ["proxy:1"], "n2": ["app:1", "proxy:1"], "n3": ["app:1", "proxy:1"]}
    assert lab.load_images(host, machines, images) == {"app:1": [], "proxy:1": []}


class SeedEngineAPI:
    """An engine's images (tag -> id), volumes (name -> labels) and containers by name; a volume named in `in_use`
    is refused removal, as the engine refuses a volume a container mounts."""

    def __init__(self, images, volumes=None, containers=(), in_use=()):
        self.images, self.volumes_held = dict(images), dict(volumes or {})
        self.containers, self.in_use, self.removed = set(containers), set(in_use), []

    def inspect_image(self, ref):
        if ref not in self.images:
            raise lab.NotFound(ref)
        return {"Id": self.images[ref]}

    def inspect_volume(self, name):
        if name not in self.volumes_held:
            raise lab.NotFound(name)
        return {"Name": name, "Labels": self.volumes_held[name]}

    def inspect_container(self, name):
        if name not in self.containers:
            raise lab.NotFound(name)
        return {"Id": name}

    def volumes(self, filters):
        key, value = filters["label"].split("=", 1)
        return {"Volumes": [{"Name": name} for name, labels in self.volumes_held.items() if labels.get(key) == value]}

    def remove_volume(self, name, force=False):
        if name in self.in_use:
            raise lab.DockerException(f"volume {name} is in use")
        self.removed.append(name)
        del self.volumes_held[name]

    def remove_container(self, name, force=False):
        self.removed.append(name)
        self.containers.discard(name)


def seed_engine(monkeypatch, **state):
    """An engine whose seeds are made by recording the call (the making itself needs an engine in a container)."""
    api = SeedEngineAPI({"swarmops/lab-node:bookworm": "sha256:node", "app:1": "sha256:app", "proxy:1": "sha256:px"},
                        **state)
    made = []

    def make_seed(client, volume, machine_image, wanted):
        made.append((volume, machine_image, wanted))
        api.volumes_held[volume] = {lab.LABEL_SEED: machine_image}

    monkeypatch.setattr(lab, "make_seed", make_seed)
    return type("Engine", (), {"api": api})(), made


def test_a_seed_holds_the_images_the_host_has_and_is_made_once(monkeypatch):
    engine, made = seed_engine(monkeypatch)
    seed = lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["app:1", "missing:1", "proxy:1"])
    assert made == [(seed, "swarmops/lab-node:bookworm", {"app:1": "sha256:app", "proxy:1": "sha256:px"})]
    assert lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["proxy:1", "app:1"]) == seed
    assert len(made) == 1
    assert lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["missing:1"]) is None
    assert lab.ensure_seed(engine, "swarmops/lab-node:trixie", ["app:1"]) is None  # no such machine image
    assert len(made) == 1


def test_a_seed_whose_making_was_cut_short_or_that_is_no_seed_is_made_again(monkeypatch):
    engine, made = seed_engine(monkeypatch)
    seed = lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["app:1"])
    engine.api.containers.add(f"{seed}-maker")  # what a killed making leaves
    assert lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["app:1"]) == seed
    assert engine.api.removed == [f"{seed}-maker", seed]
    engine.api.volumes_held[seed] = {}  # a volume of that name the engine made empty, for a copy's mount
    assert lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["app:1"]) == seed
    assert engine.api.removed == [f"{seed}-maker", seed, seed]
    assert [call[0] for call in made] == [seed, seed, seed]


def test_a_new_seed_replaces_the_machine_images_other_seeds_but_one_in_use(monkeypatch):
    node = {lab.LABEL_SEED: "swarmops/lab-node:bookworm"}
    engine, made = seed_engine(monkeypatch, volumes={"old": dict(node), "copying": dict(node),
                                                     "other-release": {lab.LABEL_SEED: "swarmops/lab-node:trixie"}},
                               in_use={"copying"})
    seed = lab.ensure_seed(engine, "swarmops/lab-node:bookworm", ["app:1"])
    assert sorted(engine.api.volumes_held) == sorted(["copying", "other-release", seed])
    assert engine.api.removed == ["old"]


def test_preload_leaves_a_kept_disk_alone_and_check_mode_makes_nothing(monkeypatch):
    engine, made = seed_engine(monkeypatch, volumes={"swarmops-lab-kept-docker": {}})
    assert not lab.preload_disk(engine, "/store", "kept", "swarmops/lab-node:bookworm", ["app:1"], False)
    assert lab.preload_disk(engine, "/store", "new", "swarmops/lab-node:bookworm", ["app:1"], True)
    assert not lab.preload_disk(engine, "/store", "new", "swarmops/lab-node:bookworm", ["missing:1"], True)
    assert made == [] and engine.api.removed == []
