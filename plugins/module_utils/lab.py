# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built-in `lab` driver: docker-machine machines made as containers on a local engine.

Each machine is a container running its own dockerd (TLS on 2376, certificates from the
machine store) and sshd (the store's key), on a dedicated bridge network at a fixed address,
with /var/lib/docker on its own volume. Images come from recipes below, built on the lab
host; none needs a registry once a base image exists.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import fnmatch
import glob
import hashlib
import io
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

from ansible_collections.swarmops.ha.plugins.module_utils import machine_store as store_lib
from ansible_collections.swarmops.ha.plugins.module_utils import validate
from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import NotFound, inspect
from ansible_collections.swarmops.ha.plugins.module_utils.errors import DockerException, SwarmopsError, describe

LABEL_MACHINE = "swarmops.lab.machine"
LABEL_STORE = "swarmops.lab.store"
LABEL_NETWORK = "swarmops.lab.network"
LABEL_INPUTS = "swarmops.lab.inputs"
LABEL_SEED = "swarmops.lab.seed"
DEFAULT_NETWORK = "swarmops-lab"
DEFAULT_SUBNET = "172.30.99.0/24"
DEFAULT_RELEASE = "bookworm"
# Debian releases a lab machine can run: 11 (Python 3.9, engine 20.10), 12 (engine 20.10), 13 (engine 26).
RELEASES = ("bullseye", "bookworm", "trixie")
# node: docker-machine's kind (engine with TLS on 2376, made at creation); bare: an ordinary server with systemd,
# sshd and Python but no Docker, for the roles to provision.
KINDS = ("node", "bare")
DEFAULT_BASE_IMAGE = "debian:{release}-slim"
LOCAL_BASE_TAG = "swarmops/lab-base:{release}"
IMAGES_LOCK_DIR = "/tmp/swarmops-lab-images"
FIRST_HOST_INDEX = 11
ENGINE_PORT = 2376
METRICS_PORT = 9323
SSH_USER = "docker"
SSH_UID = 1000  # the first user the recipes add

# Nested engines: --privileged is refused by the kernel here, so grant everything but SYS_RESOURCE.
HOST_CONFIG = dict(
    cap_add=["ALL"],
    cap_drop=["SYS_RESOURCE"],
    security_opt=["seccomp=unconfined", "apparmor=unconfined"],
    restart_policy={"Name": "no"},
)
TMPFS = {"node": {"/run": "rw,exec"}, "bare": {"/run": "rw,exec", "/run/lock": "rw"}}
UNCONFINED_SYSTEM_PATHS = {"MaskedPaths": [], "ReadonlyPaths": []}
FUSE_DEVICE = "/dev/fuse"
LOOP_CONTROL = "/dev/loop-control"
# A machine's init stops its engine within 30 s (ENGINE_SCRIPT's stop), then unmounts its data; stop and restart give
# it longer, so a slow engine stop does not end in a kill before that unmount.
STOP_TIMEOUT = 45

NODE_PACKAGES = ("docker.io openssh-server python3 sudo iproute2 iptables ca-certificates curl procps "
                 "btrfs-progs kmod less glusterfs-server glusterfs-client")

BARE_PACKAGES = "systemd systemd-sysv openssh-server python3 sudo iproute2 ca-certificates"
# A bare machine makes its SSH host keys at first boot, as a cloud image does.
SSH_HOST_KEYS_UNIT = """[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
"""

ENGINE_SCRIPT = r"""#!/bin/sh
# The lab machine's engine, driven like boot2docker's: /etc/init.d/docker start|stop|restart|status
PIDFILE=/var/run/docker.pid
LOG=/var/log/docker.log
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
start() {
  running && return 0
  rm -f "$PIDFILE"
  nohup /usr/sbin/dockerd >>"$LOG" 2>&1 &
  i=0
  while [ $i -lt 120 ]; do
    docker version >/dev/null 2>&1 && return 0
    [ $i -gt 4 ] && ! running && { echo "dockerd exited, see $LOG" >&2; return 1; }
    i=$((i + 1)); sleep 0.5
  done
  echo "dockerd did not answer within 60s, see $LOG" >&2; return 1
}
stop() {
  running || return 0
  kill "$(cat "$PIDFILE")"
  i=0
  while running && [ $i -lt 60 ]; do i=$((i + 1)); sleep 0.5; done
  running && kill -9 "$(cat "$PIDFILE")"
  rm -f "$PIDFILE"
}
case "$1" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "dockerd is running"; else echo "dockerd is not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"""

GLUSTERD_SCRIPT = r"""#!/bin/sh
# glusterd on a lab machine, which has no systemd: /etc/init.d/glusterd start|stop|restart|status
PIDFILE=/var/run/glusterd.pid
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start) running || /usr/sbin/glusterd -p "$PIDFILE" ;;
  stop) if running; then kill "$(cat "$PIDFILE")"; fi; rm -f "$PIDFILE" ;;
  restart) "$0" stop; sleep 1; "$0" start ;;
  status) if running; then echo "glusterd is running"; else echo "glusterd is not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"""

INIT_SCRIPT = r"""#!/bin/sh
# PID 1 of a lab machine: sshd, the engine, and (once configured) glusterd and the fstab's GlusterFS mounts,
# as a booting machine would; stopped cleanly on `docker stop`.
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A >/dev/null
mkdir -p /run/sshd
chown -R docker:docker /home/docker/.ssh 2>/dev/null
/usr/sbin/sshd
[ -s /var/lib/glusterd/glusterd.info ] && /etc/init.d/glusterd start
if [ -s /etc/lab/btrfs-disk ]; then
  # /var/lib/docker on btrfs in a loop file: the file system that honours per-container disk limits.
  disk=/var/lib/docker-disk/disk.img
  [ -f "$disk" ] || { truncate -s "$(cat /etc/lab/btrfs-disk)" "$disk" && mkfs.btrfs -q "$disk"; }
  i=0; while [ $i -lt 64 ]; do [ -e /dev/loop$i ] || mknod /dev/loop$i b 7 $i; i=$((i + 1)); done
  mkdir -p /var/lib/docker
  mountpoint -q /var/lib/docker || mount -o loop "$disk" /var/lib/docker
fi
grep -q glusterfs /etc/fstab 2>/dev/null && (sleep 3; mount -a -t glusterfs) &
/etc/init.d/docker start
trap '/etc/init.d/docker stop; umount /var/lib/docker 2>/dev/null; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""

# The upstream registry:2 image's configuration (Debian's adds htpasswd auth and another storage directory).
REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""

# name -> (Dockerfile with {base}, extra files). Inputs of a recipe = this text + the base image id.
RECIPES = {
    "node": (
        "FROM {base}\n"
        "ENV DEBIAN_FRONTEND=noninteractive\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {NODE_PACKAGES} \\\n"
        " && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n"
        f"RUN useradd -m -s /bin/bash -g docker {SSH_USER} \\\n"
        f" && install -d -m 700 -o {SSH_USER} /home/{SSH_USER}/.ssh \\\n"
        f" && echo '{SSH_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{SSH_USER} \\\n"
        f" && chmod 0440 /etc/sudoers.d/{SSH_USER} \\\n"
        " && printf 'PasswordAuthentication no\\nPermitRootLogin no\\nUseDNS no\\n' > /etc/ssh/sshd_config.d/lab.conf\n"
        "COPY lab-init /usr/local/sbin/lab-init\n"
        "COPY engine /etc/init.d/docker\n"
        "COPY glusterd /etc/init.d/glusterd\n"
        "RUN chmod 0755 /usr/local/sbin/lab-init /etc/init.d/docker /etc/init.d/glusterd\n"
        "STOPSIGNAL SIGTERM\n"
        'CMD ["/usr/local/sbin/lab-init"]\n',
        {"lab-init": INIT_SCRIPT, "engine": ENGINE_SCRIPT, "glusterd": GLUSTERD_SCRIPT},
    ),
    "bare": (
        "FROM {base}\n"
        "ENV DEBIAN_FRONTEND=noninteractive container=docker\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {BARE_PACKAGES} \\\n"
        " && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n"
        f"RUN useradd -m -s /bin/bash {SSH_USER} \\\n"
        f" && install -d -m 700 -o {SSH_USER} /home/{SSH_USER}/.ssh \\\n"
        f" && echo '{SSH_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{SSH_USER} \\\n"
        f" && chmod 0440 /etc/sudoers.d/{SSH_USER} \\\n"
        " && printf 'PasswordAuthentication no\\nPermitRootLogin no\\nUseDNS no\\n' > /etc/ssh/sshd_config.d/lab.conf\n"
        "COPY ssh-keys.conf /etc/systemd/system/ssh.service.d/keys.conf\n"
        "STOPSIGNAL SIGRTMIN+3\n"
        'CMD ["/sbin/init"]\n',
        {"ssh-keys.conf": SSH_HOST_KEYS_UNIT},
    ),
    "app": (
        "FROM {base} AS build\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends busybox-static\n"
        "FROM scratch\n"
        "COPY --from=build /bin/busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "EXPOSE 8080\n"
        'CMD ["sh"]\n',
        {},
    ),
    "proxy": (
        "FROM {base} AS build\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends haproxy \\\n"
        " && mkdir -p /out/usr/local/etc/haproxy /out/tmp /out/run \\\n"
        " && cp -L --parents /usr/sbin/haproxy $(ldd /usr/sbin/haproxy | grep -o '/[^ ]*') /out/\n"
        "FROM scratch\n"
        "COPY --from=build /out/ /\n"
        "EXPOSE 80 443\n"
        "STOPSIGNAL SIGUSR1\n"
        'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]\n',
        {},
    ),
    "registry": (
        "FROM {base} AS build\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends docker-registry \\\n"
        " && mkdir -p /out/var/lib/registry /out/tmp \\\n"
        " && cp -L --parents /usr/bin/docker-registry $(ldd /usr/bin/docker-registry | grep -o '/[^ ]*') /out/\n"
        "FROM scratch\n"
        "COPY --from=build /out/ /\n"
        "COPY config.yml /etc/docker/registry/config.yml\n"
        "VOLUME /var/lib/registry\n"
        "EXPOSE 5000\n"
        'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]\n',
        {"config.yml": REGISTRY_CONFIG},
    ),
    # The Prometheus stack from Debian's packages, at the paths of the official images (prom/prometheus,
    # prom/alertmanager, prom/node-exporter), so the monitoring role runs either with the same command.
    "prometheus": (
        "FROM {base} AS build\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends prometheus \\\n"
        " && mkdir -p /out/bin /out/etc/prometheus /out/prometheus /out/tmp \\\n"
        " && cp /usr/bin/prometheus /usr/bin/promtool /out/bin/ \\\n"
        " && cp -L -r --parents $(ldd /usr/bin/prometheus | grep -o '/[^ ]*') /usr/share/prometheus/web /out/ \\\n"
        # The classic UI needs one file of moment-timezone, not its 200 MB of raw data.
        " && rm -r /out/usr/share/prometheus/web/static/moment-timezone/data\n"
        "FROM scratch\n"
        "COPY --from=build /out/ /\n"
        "EXPOSE 9090\n"
        'ENTRYPOINT ["/bin/prometheus"]\n'
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]\n',
        {},
    ),
    "alertmanager": (
        "FROM {base} AS build\n"
        # busybox, as in the official image: the role's command finds the task's own overlay address with a shell.
        "RUN apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager busybox-static \\\n"
        " && mkdir -p /out/bin /out/etc/alertmanager /out/alertmanager /out/tmp \\\n"
        " && cp /usr/bin/prometheus-alertmanager /out/bin/alertmanager \\\n"
        " && cp /usr/bin/amtool /bin/busybox /out/bin/ \\\n"
        " && cp -L -r --parents $(ldd /usr/bin/prometheus-alertmanager | grep -o '/[^ ]*') "
        "/usr/share/prometheus/alertmanager /out/\n"
        "FROM scratch\n"
        "COPY --from=build /out/ /\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "EXPOSE 9093 9094\n"
        'ENTRYPOINT ["/bin/alertmanager"]\n'
        'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]\n',
        {},
    ),
    "node-exporter": (
        "FROM {base} AS build\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends prometheus-node-exporter \\\n"
        " && mkdir -p /out/bin /out/tmp && cp /usr/bin/prometheus-node-exporter /out/bin/node_exporter \\\n"
        " && cp -L --parents $(ldd /usr/bin/prometheus-node-exporter | grep -o '/[^ ]*') /out/\n"
        "FROM scratch\n"
        "COPY --from=build /out/ /\n"
        "EXPOSE 9100\n"
        'ENTRYPOINT ["/bin/node_exporter"]\n',
        {},
    ),
    "compose": (
        "FROM {base}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends docker-compose \\\n"
        " && apt-get clean && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR /app\n"
        'ENTRYPOINT ["docker-compose"]\n',
        {},
    ),
}


@contextlib.contextmanager
def store_lock(store: str):
    """Serialise lab changes under one folder (a store, or an image every store shares): parallel forks and labs
    must not build twice or take one address."""
    os.makedirs(store, exist_ok=True)
    with open(os.path.join(store, ".lab.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- images -------------------------------------------------------------------------------------


def image_lock(tag: str):
    """Serialise the making of one image among the labs and forks that share this engine (each would build it, and
    the tag would end on one of the builds); other images are made side by side."""
    return store_lock(os.path.join(IMAGES_LOCK_DIR, re.sub(r"[^\w.-]", "_", tag)))


def recipe_inputs(recipe: str, base_id: str) -> str:
    dockerfile, files = RECIPES[recipe]
    digest = hashlib.sha256(dockerfile.encode() + base_id.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode())
    return digest.hexdigest()[:16]


def image_labels(client, ref: str) -> dict | None:
    """The image's labels, None when it does not exist."""
    info = inspect(client.api.inspect_image, ref)
    return None if info is None else (info["Config"].get("Labels") or {})


def image_id(client, ref: str) -> str | None:
    info = inspect(client.api.inspect_image, ref)
    return None if info is None else info["Id"]


def pull_image(client, ref: str) -> None:
    """Pull `ref`; its tag is after the last colon unless that colon is a registry's port (localhost:5000/app)."""
    repository, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = ref, "latest"
    client.api.pull(repository, tag=tag)


def apt_mirror(sources_glob: tuple[str, ...] = ("/etc/apt/sources.list", "/etc/apt/sources.list.d/*")) -> str | None:
    """The first Debian mirror this host's apt uses: debootstrap uses the same one."""
    for pattern in sources_glob:
        for path in sorted(glob.glob(pattern)):
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            for match in re.finditer(r"^(?:deb\s+(?:\[[^]]*\]\s+)?|URIs:\s*)(\S+)", text, re.MULTILINE):
                uri = match.group(1)
                if "security" not in uri:
                    return uri
    return None


# What Debian's -slim images leave out (and tell dpkg to leave out of later installs), which the base made here
# stands in for; with apt's package lists and downloaded packages, 60% of a minbase tree.
SLIM_EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")
SLIM_INCLUDES = ("/usr/share/doc/*/copyright",)
SLIM_DPKG_CONFIG = "".join([*(f"path-exclude {path}\n" for path in SLIM_EXCLUDES),
                            *(f"path-include {path}\n" for path in SLIM_INCLUDES)])
APT_LEFTOVERS = ("/var/cache/apt/archives/*.deb", "/var/lib/apt/lists/*_*")


def slim_member(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """tarfile filter of a root file system: drop the files a -slim image has no room for, keep every directory."""
    path = member.name.lstrip(".")
    if member.isdir() or any(fnmatch.fnmatch(path, keep) for keep in SLIM_INCLUDES):
        return member
    if any(fnmatch.fnmatch(path, drop) for drop in (*SLIM_EXCLUDES, *APT_LEFTOVERS)):
        return None
    return member


def debootstrap_base(client, tag: str, suite: str = "bookworm", mirror: str | None = None) -> str:
    """Make a minimal Debian image, slim as Debian's own, with debootstrap and `docker import`; returns its id."""
    if not shutil.which("debootstrap"):
        raise SwarmopsError("no base image could be pulled and debootstrap is not installed "
                            "(apt-get install debootstrap, or set base_image to an image this engine has)")
    mirror = mirror or apt_mirror()
    if not mirror:
        raise SwarmopsError("debootstrap needs a Debian mirror: set the option mirror")
    with tempfile.TemporaryDirectory(prefix="swarmops-base-") as tmp:
        rootfs = os.path.join(tmp, "rootfs")
        proc = subprocess.run(["debootstrap", "--variant=minbase", suite, rootfs, mirror],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SwarmopsError(f"debootstrap {suite} failed: {proc.stdout[-800:]}{proc.stderr[-800:]}")
        with open(os.path.join(rootfs, "etc", "dpkg", "dpkg.cfg.d", "swarmops-slim"), "w", encoding="utf-8") as cfg:
            cfg.write(SLIM_DPKG_CONFIG)
        archive = os.path.join(tmp, "rootfs.tar")
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".", filter=slim_member)
        with open(archive, "rb") as handle:
            client.api.import_image_from_data(handle, repository=tag.split(":")[0], tag=tag.split(":")[1])
    return image_id(client, tag)


def ensure_base(client, base_image: str, check_mode: bool = False, release: str = DEFAULT_RELEASE) -> tuple[str, bool]:
    """The base image ref to build on and whether it was made now: pull base_image, else debootstrap.

    `{release}` in base_image stands for the Debian release (debian:{release}-slim).
    """
    base_image = base_image.format(release=release)
    local_tag = LOCAL_BASE_TAG.format(release=release)
    if image_id(client, base_image):
        return base_image, False
    if check_mode:
        return (local_tag, False) if image_id(client, local_tag) else (base_image, True)
    # Two images of one release made side by side would each make this base, and the tag would end on one of them.
    with image_lock(local_tag):
        if image_id(client, local_tag):
            return local_tag, False
        repo, dummy, tag = base_image.partition(":")
        try:
            client.api.pull(repo, tag=tag or "latest")
            return base_image, True
        except Exception:  # noqa: BLE001 - no registry: fall back to a base made here
            debootstrap_base(client, local_tag, suite=release)
            return local_tag, True


def build_context(recipe: str, base: str) -> io.BytesIO:
    dockerfile, files = RECIPES[recipe]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in {"Dockerfile": dockerfile.format(base=base), **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def ensure_image(client, tag: str, recipe: str, base_image: str = DEFAULT_BASE_IMAGE,
                 check_mode: bool = False, release: str = DEFAULT_RELEASE) -> dict:
    """Build `tag` from `recipe` unless an image with the same inputs exists; returns what happened."""
    if recipe not in RECIPES:
        raise SwarmopsError(f"recipe: {recipe!r} is not a lab recipe (accepted: {', '.join(sorted(RECIPES))})")
    with image_lock(tag):
        return build_unless_current(client, tag, recipe, base_image, check_mode, release)


def build_unless_current(client, tag: str, recipe: str, base_image: str, check_mode: bool, release: str) -> dict:
    base, base_made = ensure_base(client, base_image, check_mode, release)
    base_id = image_id(client, base) or "unknown"
    inputs = recipe_inputs(recipe, base_id)
    labels = image_labels(client, tag)
    if labels is not None and labels.get(LABEL_INPUTS) == inputs:
        return {"changed": False, "image": tag, "inputs": inputs, "base": base}
    if not check_mode:
        log = []
        try:
            for chunk in client.api.build(fileobj=build_context(recipe, base), custom_context=True, tag=tag, rm=True,
                                          forcerm=True, labels={LABEL_INPUTS: inputs}, decode=True):
                log.append(chunk.get("stream") or chunk.get("error") or "")
        except Exception as exc:  # noqa: BLE001
            raise SwarmopsError(f"building {tag} from the {recipe} recipe failed: {describe(exc)}") from exc
        # The build API reports a failed step as a message in the stream, so confirm the result.
        if (image_labels(client, tag) or {}).get(LABEL_INPUTS) != inputs:
            raise SwarmopsError(f"building {tag} from the {recipe} recipe failed: {''.join(log)[-1500:]}")
    return {"changed": True, "image": tag, "inputs": inputs, "base": base, "base_made": base_made}


# --- machines -----------------------------------------------------------------------------------


def container_name(name: str) -> str:
    return f"swarmops-lab-{name}"


def find_container(client, name: str) -> dict | None:
    return inspect(client.api.inspect_container, container_name(name))


def container_state(info: dict | None) -> str:
    """docker-machine's words for a machine's state."""
    if info is None:
        return "NotFound"
    status = info["State"]["Status"]
    return {"running": "Running", "exited": "Stopped", "created": "Stopped", "paused": "Paused"}.get(status, "Error")


def ensure_network(client, name: str, subnet: str, check_mode: bool = False) -> bool:
    net = inspect(client.api.inspect_network, name)
    if net is not None:
        subnets = [c.get("Subnet") for c in (net.get("IPAM") or {}).get("Config") or []]
        if subnet not in subnets:
            raise SwarmopsError(f"subnet: network {name} exists with subnet {', '.join(map(str, subnets))}, "
                                f"not {subnet}; remove the lab or use that subnet")
        return False
    if not check_mode:
        ipam = {"Driver": "default", "Config": [{"Subnet": subnet}]}
        client.api.create_network(name, driver="bridge", ipam=ipam, labels={LABEL_NETWORK: "true"},
                                  check_duplicate=True)
    return True


def validate_subnet(subnet: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(subnet)
    except ValueError as exc:
        raise SwarmopsError(f"subnet: {subnet!r} is not a network in CIDR form (example: {DEFAULT_SUBNET})") from exc
    if net.version != 4 or net.num_addresses < 16:
        raise SwarmopsError(f"subnet: {subnet!r} must be an IPv4 network of at least 16 addresses (a /28 or larger)")
    return net


OPTIONS = {"network", "subnet", "ip", "image", "base_image", "storage_driver", "docker_host", "btrfs_disk", "kind",
           "release", "preload_images"}


def check_machine_params(params: dict) -> None:
    """The machine module's options, before the store or the engine is touched: a machine whose name the engine
    refuses must leave no store record for the inventory to list."""
    validate.machine_name("name", params["name"])
    for label in params.get("engine_labels") or []:
        if "=" not in label or label.startswith("="):
            raise SwarmopsError(f"engine_labels: {label!r} is not key=value (example: swarm.role=manager)")
    validate.integer("wait_timeout", params.get("wait_timeout"), 0, what="a number of seconds")
    if params.get("driver", "lab") != "lab":
        return
    options = params.get("driver_options") or {}
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise SwarmopsError(f"driver_options: {', '.join(unknown)} not known to the lab driver "
                            f"(accepted: {', '.join(sorted(OPTIONS))})")
    subnet = machine_settings(None, options)["Subnet"]  # also checks the subnet, kind and release
    if options.get("network"):
        validate.object_name("driver_options.network", options["network"], "a network name")
    if options.get("ip"):
        pick_address(subnet, set(), options["ip"])
    validate.size("driver_options.btrfs_disk", options.get("btrfs_disk"))
    preload = options.get("preload_images") or []
    if not isinstance(preload, list) or not all(isinstance(image, str) and image for image in preload):
        raise SwarmopsError(f"driver_options.preload_images: {preload!r} is not a list of image names "
                            f"(example: [swarmops/lab-app:1])")
    if options.get("storage_driver") and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", options["storage_driver"]):
        raise SwarmopsError(f"driver_options.storage_driver: {options['storage_driver']!r} is not a storage driver "
                            f"name (examples: overlay2, btrfs)")


def pick_address(subnet: str, taken: set[str], wanted: str | None = None) -> str:
    """The wanted address if it is free and in the subnet, else the lowest free one from .11 on."""
    net = validate_subnet(subnet)
    if wanted:
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError as exc:
            raise SwarmopsError(f"driver_options.ip: {wanted!r} is not an IPv4 address") from exc
        if addr not in net or addr in (net.network_address, net.broadcast_address, next(net.hosts())):
            raise SwarmopsError(f"driver_options.ip: {wanted} is not a usable host address of {subnet}")
        if wanted in taken:
            raise SwarmopsError(f"driver_options.ip: {wanted} is already used by another lab machine")
        return wanted
    for index, addr in enumerate(net.hosts(), start=1):
        if index >= FIRST_HOST_INDEX and str(addr) not in taken:
            return str(addr)
    raise SwarmopsError(f"subnet: no free address left in {subnet}")


def taken_addresses(client, store: str, network: str, except_name: str) -> set[str]:
    taken = set()
    for other in store_lib.list_machine_names(store):
        if other == except_name:
            continue
        try:
            record = store_lib.read_config(store, other)
        except store_lib.StoreError:
            continue
        if record and record.get("DriverName") == "lab" and record["Driver"].get("Network") == network:
            taken.add(record["Driver"].get("IPAddress"))
    for endpoint in ((inspect(client.api.inspect_network, network) or {}).get("Containers") or {}).values():
        taken.add(endpoint.get("IPv4Address", "").split("/")[0])
    return taken


def daemon_json(engine_labels: list[str], storage_driver: str = "") -> str:
    config = {
        "hosts": ["unix:///var/run/docker.sock", f"tcp://0.0.0.0:{ENGINE_PORT}"],
        "tls": True,
        "tlsverify": True,
        "tlscacert": "/etc/docker/ca.pem",
        "tlscert": "/etc/docker/server.pem",
        "tlskey": "/etc/docker/server-key.pem",
        "labels": list(engine_labels),
        # The engine's Prometheus metrics, as the monitoring role sets them (no experimental needed since 20.10):
        # made with the machine, so the role finds nothing to restart on a new lab.
        "metrics-addr": f"0.0.0.0:{METRICS_PORT}",
    }
    if storage_driver:
        config["storage-driver"] = storage_driver
    return json.dumps(config, indent=2) + "\n"


def machine_files(store: str, name: str, engine_labels: list[str], storage_driver: str,
                  btrfs_disk: str = "", kind: str = "node") -> bytes:
    """A tar of what the machine needs from the store: authorized_keys, and for a node its engine's TLS files
    and daemon.json (a bare machine gets its engine from the roles, as an ordinary server does)."""
    mdir = store_lib.machine_dir(store, name)

    def read(path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    entries = [(f"home/{SSH_USER}/.ssh/authorized_keys", read(os.path.join(mdir, "id_rsa.pub")), 0o600)]
    if kind == "node":
        entries += [
            ("etc/docker/ca.pem", read(os.path.join(mdir, "ca.pem")), 0o644),
            ("etc/docker/server.pem", read(os.path.join(mdir, "server.pem")), 0o644),
            ("etc/docker/server-key.pem", read(os.path.join(mdir, "server-key.pem")), 0o600),
            ("etc/docker/daemon.json", daemon_json(engine_labels, storage_driver).encode(), 0o644),
        ]
    if btrfs_disk:
        entries.append(("etc/lab/btrfs-disk", btrfs_disk.encode(), 0o644))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data, mode in entries:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            if path.startswith("home/"):
                info.uid = info.gid = SSH_UID  # sshd refuses keys the user does not own
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def engine_host_config(client, mounts: list[dict], kind: str = "node", **options) -> dict:
    """The host configuration of a container that runs an engine (a machine, or the one that makes a seed)."""
    host_config = client.api.create_host_config(
        binds={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}}, mounts=mounts, tmpfs=TMPFS[kind],
        **HOST_CONFIG, **options)
    host_config.update(UNCONFINED_SYSTEM_PATHS)
    return host_config


def create_container(client, store: str, name: str, ip: str, network: str, image: str,
                     engine_labels: list[str], storage_driver: str, btrfs_disk: str = "", kind: str = "node") -> None:
    cname = container_name(name)
    # The engine's disk is a volume; with btrfs_disk it holds the loop file lab-init mounts at /var/lib/docker.
    target = "/var/lib/docker-disk" if btrfs_disk else "/var/lib/docker"
    host_config = engine_host_config(client, [disk_mount(store, name, target)], kind)
    devices = [FUSE_DEVICE] if os.path.exists(FUSE_DEVICE) else []  # GlusterFS mounts through FUSE
    if btrfs_disk:
        devices.append(LOOP_CONTROL)
        host_config["DeviceCgroupRules"] = ["b 7:* rwm"]  # the loop devices lab-init makes
    host_config["Devices"] = [{"PathOnHost": d, "PathInContainer": d, "CgroupPermissions": "rwm"} for d in devices]
    networking = client.api.create_networking_config({network: client.api.create_endpoint_config(ipv4_address=ip)})
    client.api.create_container(
        image, name=cname, hostname=name, host_config=host_config, networking_config=networking,
        labels={LABEL_MACHINE: name, LABEL_STORE: store},
    )
    client.api.put_archive(cname, "/", machine_files(store, name, engine_labels, storage_driver, btrfs_disk, kind))


def disk_mount(store: str, name: str, target: str = "/var/lib/docker") -> dict:
    """The machine's disk: a volume made with the machine (or by its preload) and removed with it."""
    return {"Type": "volume", "Source": f"{container_name(name)}-docker", "Target": target,
            "VolumeOptions": {"Labels": {LABEL_MACHINE: name, LABEL_STORE: store}}}


# --- seeds: the images a new machine starts with ------------------------------------------------
# Loading the lab images into a machine unpacks every layer in its engine, machine after machine. A seed is the image
# store of one engine of the machine image, with the images loaded once; a new machine's disk starts as its copy.
# Only the image store is copied: engine state (networks, swarm, containers) is each machine's own.

SEED_DONE = "swarmops-seed-done"  # written into a seed once its images are in: the storage driver's folder


def run_in(client, container: str, command: str) -> str:
    """`sh -c command` in a running container: its output, or SwarmopsError with it when the command fails."""
    exec_id = client.api.exec_create(container, ["sh", "-c", command])["Id"]
    output = client.api.exec_start(exec_id).decode(errors="replace")
    code = client.api.exec_inspect(exec_id)["ExitCode"]
    if code:
        raise SwarmopsError(f"{command!r} in {container} exited {code}: {output.strip()[-1500:]}")
    return output


def ensure_seed(client, machine_image: str, images: list[str]) -> str | None:
    """The seed volume of `machine_image` holding those of `images` the lab host has, made now unless it exists;
    None when the host has none of them. Seeds of the machine image with other images are removed."""
    wanted = {name: image_id(client, name) for name in images}
    wanted = {name: found for name, found in wanted.items() if found}
    machine_id = image_id(client, machine_image)
    if not wanted or machine_id is None:
        return None
    digest = hashlib.sha256("\n".join([machine_id, *sorted(wanted.values())]).encode()).hexdigest()
    volume = f"swarmops-lab-seed-{digest[:16]}"
    with image_lock(volume):
        maker = inspect(client.api.inspect_container, f"{volume}-maker")
        found = inspect(client.api.inspect_volume, volume)
        if maker is None and found is not None and (found.get("Labels") or {}).get(LABEL_SEED) == machine_image:
            return volume
        if maker is not None:  # a making that was cut short
            client.api.remove_container(maker["Id"], force=True)
        if found is not None:  # that making's volume, or an empty one a copy made when its seed had just gone
            client.api.remove_volume(volume, force=True)
        for old in client.api.volumes(filters={"label": f"{LABEL_SEED}={machine_image}"})["Volumes"] or []:
            with contextlib.suppress(DockerException):  # in use: another lab copies from it right now
                client.api.remove_volume(old["Name"])
        make_seed(client, volume, machine_image, wanted)
    return volume


def make_seed(client, volume: str, machine_image: str, wanted: dict[str, str]) -> None:
    """Load the images into an engine of the machine image whose data is the seed volume, on no network."""
    maker = f"{volume}-maker"
    labels = {LABEL_SEED: machine_image}
    mounts = [{"Type": "volume", "Source": volume, "Target": "/var/lib/docker", "VolumeOptions": {"Labels": labels}}]
    client.api.create_container(machine_image, name=maker, labels=labels,
                                host_config=engine_host_config(client, mounts, network_mode="none"))
    try:
        client.api.start(maker)
        run_in(client, maker, "i=0; until docker version >/dev/null 2>&1; do "
                              "i=$((i + 1)); [ $i -lt 240 ] || exit 1; sleep 0.25; done")
        run_in(client, maker, "mkdir -p " + " ".join(f"/tmp/seed/{index}" for index in range(len(wanted))))
        for index, name in enumerate(wanted):
            client.api.put_archive(maker, f"/tmp/seed/{index}", client.api.get_image(name))
        run_in(client, maker, 'for d in /tmp/seed/*/; do tar -C "$d" -c . | docker load -q || exit 1; done; '
                              "rm -rf /tmp/seed")
        loaded = run_in(client, maker, "docker image inspect --format '{{.Id}}' " + " ".join(wanted)).split()
        if loaded != list(wanted.values()):
            raise SwarmopsError(f"seed {volume}: the images loaded as {loaded}, not {list(wanted.values())}")
        run_in(client, maker, f"docker info --format '{{{{.Driver}}}}' >/var/lib/docker/{SEED_DONE}")
        client.api.stop(maker, timeout=STOP_TIMEOUT)
    except Exception:
        client.api.remove_container(maker, force=True)
        client.api.remove_volume(volume, force=True)
        raise
    client.api.remove_container(maker)


def preload_disk(client, store: str, name: str, machine_image: str, images: list[str], check_mode: bool) -> bool:
    """Make a new machine's disk as a copy of its seed's image store; whether it was (or would be) done."""
    disk = disk_mount(store, name)
    if inspect(client.api.inspect_volume, disk["Source"]) is not None:  # kept from an earlier try: left as it is
        return False
    if check_mode:
        return any(image_id(client, image) for image in images)
    seed = ensure_seed(client, machine_image, images)
    if seed is None:
        return False
    copier = f"{disk['Source']}-preload"
    command = (f'driver=$(cat /seed/{SEED_DONE}) && '
               f'cp -a --preserve=xattr --reflink=auto /seed/image "/seed/$driver" /var/lib/docker/')
    mounts = [{"Type": "volume", "Source": seed, "Target": "/seed", "ReadOnly": True}, disk]
    with contextlib.suppress(NotFound):
        client.api.remove_container(copier, force=True)
    client.api.create_container(machine_image, name=copier, command=["sh", "-c", command],
                                host_config=engine_host_config(client, mounts, network_mode="none"))
    try:
        client.api.start(copier)
        code = client.api.wait(copier, timeout=600)["StatusCode"]
        if code:
            output = client.api.logs(copier).decode(errors="replace").strip()
            raise SwarmopsError(f"machine {name}: copying the images of {seed} exited {code}: {output[-1500:]}")
    except Exception:
        client.api.remove_container(copier, force=True)
        client.api.remove_volume(disk["Source"], force=True)
        raise
    client.api.remove_container(copier)
    return True


def wait_ready(ip: str, ports: tuple[int, ...] = (22, ENGINE_PORT), timeout: float = 90.0) -> None:
    """Wait until sshd and the engine accept connections on the machine's address."""
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        try:
            with socket.create_connection((ip, pending[0]), timeout=2):
                pending.pop(0)
                continue
        except OSError:
            if time.monotonic() > deadline:
                raise SwarmopsError(f"machine at {ip} did not open port {pending[0]} within {int(timeout)}s") from None
            time.sleep(0.3)


def remove_machine(client, store: str, name: str) -> None:
    cname = container_name(name)
    info = find_container(client, name)
    if info is not None:
        client.api.remove_container(cname, force=True, v=True)
    with contextlib.suppress(NotFound):
        client.api.remove_volume(f"{cname}-docker", force=True)
    store_lib.remove_machine(store, name)


def remove_network_if_unused(client, network: str) -> bool:
    net = inspect(client.api.inspect_network, network)
    if net is None or net.get("Containers") or (net.get("Labels") or {}).get(LABEL_NETWORK) != "true":
        return False
    client.api.remove_network(network)
    return True


def machine_ip(info: dict | None, record: dict | None, network: str) -> str | None:
    if record and record["Driver"].get("IPAddress"):
        return record["Driver"]["IPAddress"]
    if info:
        return ((info["NetworkSettings"]["Networks"].get(network) or {}).get("IPAMConfig") or {}).get("IPv4Address")
    return None


SETTINGS = {"Network": ("network", DEFAULT_NETWORK), "Subnet": ("subnet", DEFAULT_SUBNET),
            "Kind": ("kind", "node"), "Release": ("release", DEFAULT_RELEASE), "Image": ("image", ""),
            "DockerHost": ("docker_host", ""), "BtrfsDisk": ("btrfs_disk", "")}


def machine_settings(record: dict | None, options: dict) -> dict:
    """Network, subnet, image and hosting engine: a machine keeps what it was made with; options may not differ."""
    recorded = (record or {}).get("Driver", {})
    settings = {}
    for key, (option, default) in SETTINGS.items():
        wanted, had = options.get(option), recorded.get(key)
        if record is not None and wanted and had is not None and wanted != had:
            raise SwarmopsError(f"driver_options.{option}: machine {recorded.get('MachineName')} was made with "
                                f"{had!r}, not {wanted!r}; remove the machine to change it")
        settings[key] = wanted or had or default
    validate_subnet(settings["Subnet"])
    for key, accepted in (("Kind", KINDS), ("Release", RELEASES)):
        if settings[key] not in accepted:
            raise SwarmopsError(f"driver_options.{SETTINGS[key][0]}: {settings[key]!r} is not one of "
                                f"{', '.join(accepted)}")
    settings["Image"] = settings["Image"] or f"swarmops/lab-{settings['Kind']}:{settings['Release']}"
    return settings


def converge_machine(client, store: str, name: str, state: str, options: dict, engine_labels: list[str],
                     check_mode: bool = False, wait_timeout: float = 90.0) -> dict:
    """Bring lab machine `name` to `state`; returns changed, the actions taken (or that would be) and the machine."""
    actions: list[str] = []

    def build_image(settings: dict) -> bool:
        return ensure_image(client, settings["Image"], settings["Kind"],
                            options.get("base_image") or DEFAULT_BASE_IMAGE, check_mode, settings["Release"])["changed"]

    # A new machine's image and disk are made before the store's lock (each image and seed has its own), so the new
    # machines of one store, made in parallel, build their images and copy their seed side by side.
    built = preloaded = False
    if state != "absent" and find_container(client, name) is None:
        settings = machine_settings(store_lib.read_config(store, name), options)
        built = build_image(settings)
        preloaded = settings["Kind"] == "node" and not settings["BtrfsDisk"] and not options.get("storage_driver") \
            and bool(options.get("preload_images")) \
            and preload_disk(client, store, name, settings["Image"], options["preload_images"], check_mode)
    with store_lock(store):
        info = find_container(client, name)
        owner = ((info or {}).get("Config", {}).get("Labels") or {}).get(LABEL_STORE)
        if info is not None and owner != store:
            raise SwarmopsError(f"name: {name!r} is already a lab machine of the store {owner}; "
                                f"container names are shared by every store on this engine, so choose another name")
        record = store_lib.read_config(store, name)
        made_with = machine_settings(record, options)
        network, subnet = made_with["Network"], made_with["Subnet"]
        before = container_state(info)
        if state == "absent":
            if info is not None or record is not None:
                actions.append("remove")
                if not check_mode:
                    remove_machine(client, store, name)
                    if remove_network_if_unused(client, network):
                        actions.append("remove network")
            return {"changed": bool(actions), "actions": actions, "before": before, "after": "NotFound",
                    "machine": {"name": name, "driver": "lab", "state": "NotFound"}}

        ip = machine_ip(info, record, network)
        if info is None:
            ip = pick_address(subnet, taken_addresses(client, store, network, name), options.get("ip") or ip)
            actions.append("create")
            if ensure_network(client, network, subnet, check_mode):
                actions.append("create network")
            if build_image(made_with) or built:
                actions.append(f"build {made_with['Kind']} image")
            if preloaded:
                actions.append("preload images")
        elif options.get("ip") and options["ip"] != ip:
            raise SwarmopsError(f"driver_options.ip: machine {name} exists with address {ip}; remove it to change it")

        record_wanted = store_lib.lab_config(store, name, {
            "IPAddress": ip, "SSHUser": SSH_USER, "SSHPort": 22, "EnginePort": ENGINE_PORT,
            "ContainerName": container_name(name), **made_with,
        }, engine_labels, options.get("storage_driver") or "")
        if record is not None and info is not None:
            # Engine options are fixed at creation, as with docker-machine: keep what the machine was made with.
            record_wanted["HostOptions"]["EngineOptions"] = record["HostOptions"]["EngineOptions"]
        if record != record_wanted:
            actions.append("write store")
        if not check_mode:
            store_lib.ensure_ca(store)
            store_lib.ensure_ssh_key(store, name, f"{SSH_USER}@{name}")
            store_lib.ensure_machine_tls(store, name, [ip, "127.0.0.1"])
            store_lib.write_config(store, name, record_wanted)
            if info is None:
                create_container(client, store, name, ip, network, record_wanted["Driver"]["Image"],
                                 engine_labels, options.get("storage_driver") or "", made_with["BtrfsDisk"],
                                 made_with["Kind"])

        running = before == "Running"
        if state == "restarted" or (state in ("started", "present") and info is None):
            actions.append("restart" if running else "start")
            if not check_mode:
                if running:
                    client.api.restart(container_name(name), timeout=STOP_TIMEOUT)
                else:
                    client.api.start(container_name(name))
            after = "Running"
        elif state == "started" and not running:
            actions.append("start")
            if not check_mode:
                client.api.start(container_name(name))
            after = "Running"
        elif state == "stopped" and running:
            actions.append("stop")
            if not check_mode:
                client.api.stop(container_name(name), timeout=STOP_TIMEOUT)
            after = "Stopped"
        else:
            after = before if info is not None else "Stopped"

    if not check_mode and after == "Running" and {"start", "restart", "create"} & set(actions):
        wait_ready(ip, (22, ENGINE_PORT) if made_with["Kind"] == "node" else (22,), timeout=wait_timeout)
    mdir = store_lib.machine_dir(store, name)
    return {
        "changed": bool(actions), "actions": actions, "before": before, "after": after,
        "machine": {
            "name": name, "driver": "lab", "state": after, "ip": ip,
            "url": f"tcp://{ip}:{ENGINE_PORT}" if made_with["Kind"] == "node" else "",
            "ssh_user": SSH_USER, "ssh_port": 22,
            "ssh_key_path": os.path.join(mdir, "id_rsa"), "cert_path": mdir, "storage_path": store,
            "container": container_name(name),
        },
    }


def engine_params(record: dict) -> dict:
    """Connection options (docker_api names) for a machine's engine: what the inventory gives the modules."""
    hostvars = store_lib.machine_hostvars(record)
    return {"docker_host": hostvars["docker_host"], "validate_certs": hostvars["docker_tls_verify"],
            **{key: hostvars[key] for key in ("ca_path", "client_cert", "client_key")}}


def load_images(source, targets: dict, wanted: dict[str, str], check_mode: bool = False) -> dict[str, list[str]]:
    """Copy each image of `wanted` (name -> its id on the `source` engine) into the target engines (name -> client)
    that lack that id, the engines side by side; returns, per image, the machines it was (or would be) loaded into."""
    images = list(wanted)
    names = sorted(targets)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(names), 8))) as pool:
        held = dict(zip(names, pool.map(lambda name: {i["Id"] for i in targets[name].api.images()}, names)))
    missing = {image: [name for name in names if wanted[image] not in held[name]] for image in images}
    if check_mode or not any(missing.values()):
        return missing
    with tempfile.TemporaryDirectory(prefix="swarmops-images-") as folder:
        archives = {}
        for index, image in enumerate(image for image in images if missing[image]):
            archives[image] = os.path.join(folder, f"{index}.tar")
            with open(archives[image], "wb") as archive:
                for chunk in source.api.get_image(image):
                    archive.write(chunk)

        # One load at a time per engine: side-by-side loads into one engine only contend for its disk.
        queues = {name: [image for image in archives if name in missing[image]] for name in names}
        queues = {name: queue for name, queue in queues.items() if queue}

        def load_queue(name: str) -> None:
            for image in queues[name]:
                with open(archives[image], "rb") as handle:
                    targets[name].api.load_image(handle)
                if image_id(targets[name], image) != wanted[image]:
                    raise SwarmopsError(f"machine {name}: loading {image} did not produce image {wanted[image][:19]}")

        with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(queues), 8)) as pool:
            list(pool.map(load_queue, queues))
    return missing
