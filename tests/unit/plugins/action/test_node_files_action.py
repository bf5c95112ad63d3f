"""node_files' action: its look runs for real (sh on this machine) over real files; unchanged() reads what it prints."""

import os
import subprocess

import pytest

from ansible_collections.swarmops.ha.plugins.action.node_files import look_command, unchanged


def look(files, prune):
    run = subprocess.run(look_command(files, prune), shell=True, capture_output=True, text=True, check=False)
    return run.returncode, run.stdout


@pytest.fixture
def node(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "swarmops.yml").write_text("groups: []\n")
    os.chmod(rules / "swarmops.yml", 0o644)
    (tmp_path / "prometheus.yml").write_text("global: {}\n")
    os.chmod(tmp_path / "prometheus.yml", 0o600)
    files = [{"path": str(rules / "swarmops.yml"), "content": "groups: []\n"},
             {"path": str(tmp_path / "prometheus.yml"), "content": "global: {}\n", "mode": "0600"}]
    prune = [{"path": str(rules), "patterns": ["*.yml"]}]
    return tmp_path, files, prune


def test_files_as_asked_and_nothing_to_prune_need_no_module(node):
    files, prune = node[1:]
    rc, out = look(files, prune)
    assert rc == 0 and unchanged(files, prune, out)


@pytest.mark.parametrize("change", ["content", "mode", "missing", "stale", "symlink"])
def test_any_difference_runs_the_module(node, change):
    folder, files, prune = node
    if change == "content":
        files[1]["content"] = "global: {scrape_interval: 5s}\n"
    elif change == "mode":
        files[1]["mode"] = "0644"
    elif change == "missing":
        os.unlink(files[0]["path"])
    elif change == "stale":
        (folder / "rules" / "old.yml").write_text("groups: []\n")
    else:  # a link to a file of another mode: the mode read is the target's, as the module reads it
        os.replace(files[1]["path"], folder / "target.yml")
        os.chmod(folder / "target.yml", 0o644)
        os.symlink(folder / "target.yml", files[1]["path"])
    rc, out = look(files, prune)
    assert rc == 0 and not unchanged(files, prune, out)


def test_files_the_patterns_do_not_match_and_a_missing_folder_are_left_alone(node):
    folder, files, prune = node
    (folder / "rules" / "README").write_text("kept\n")
    prune.append({"path": str(folder / "nowhere"), "patterns": ["*"]})
    rc, out = look(files, prune)
    assert rc == 0 and unchanged(files, prune, out)


@pytest.mark.parametrize("output", ["", "file none\nfile none\nfolder\n", "file 644 abc\nfile 600 abc\nfolder\n",
                                    "something else\n"])
def test_an_output_it_does_not_expect_runs_the_module(node, output):
    files, prune = node[1:]
    assert not unchanged(files, prune, output)


def test_a_look_whose_folder_listing_fails_runs_the_module(node, tmp_path):
    files, prune = node[1:]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "find").write_text("#!/bin/sh\necho 'find: unknown predicate -printf' >&2\nexit 1\n")
    os.chmod(bin_dir / "find", 0o755)
    run = subprocess.run(look_command(files, prune), shell=True, capture_output=True, text=True, check=False,
                         env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert run.returncode != 0


@pytest.mark.parametrize("files, prune", [
    ([{"path": "relative.yml", "content": ""}], []),
    ([{"path": "/etc/a.yml", "content": ""}, {"path": "/etc/a.yml", "content": ""}], []),
    ([{"path": "/etc/a.yml", "content": ""}], [{"path": "/etc", "patterns": "*.yml"}]),
    (["/etc/a.yml"], []),
])
def test_options_that_are_not_plainly_valid_go_to_the_module_which_names_them(files, prune):
    assert look_command(files, prune) is None
