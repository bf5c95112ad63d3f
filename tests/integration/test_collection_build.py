"""The checkout builds into a collection tarball that installs and whose plugins load from the install."""

import os
import subprocess
import sys

from labtools import ROOT

BIN = os.path.dirname(sys.executable)


def run(*args, cwd, env=None):
    return subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True, stdin=subprocess.DEVNULL).stdout


def test_built_tarball_installs_and_every_plugin_documents_itself(tmp_path):
    run("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), ROOT, cwd=tmp_path)
    tarball = next(tmp_path.glob("swarmops-ha-*.tar.gz"))
    # --force: a copy elsewhere on the collections path (e.g. ~/.ansible) must not stand in for this install.
    run("ansible-galaxy", "collection", "install", "--force", "-p", str(tmp_path / "installed"), str(tarball),
        cwd=tmp_path)
    installed = tmp_path / "installed" / "ansible_collections" / "swarmops" / "ha"
    assert not (installed / ".collections").exists() and not (installed / ".venv").exists()
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "installed")}
    modules = sorted(p.stem for p in (installed / "plugins" / "modules").glob("*.py"))
    assert {"machine", "lab_image"} <= set(modules)
    for module in modules:
        assert f"swarmops.ha.{module}" in run("ansible-doc", f"swarmops.ha.{module}", cwd=tmp_path, env=env)
    assert "docker_machine" in run("ansible-doc", "-t", "inventory", "swarmops.ha.docker_machine",
                                   cwd=tmp_path, env=env)
