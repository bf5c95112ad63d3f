"""How the docker_machine inventory grows with the store: `ansible-inventory --list` and the plugin alone.

Synthetic stores of mixed drivers (copies of the unit-test fixtures: virtualbox, generic, none, amazonec2, lab)
are made in a temp dir. For each size it prints the median wall time of `ansible-inventory --list` and of the
plugin's own parse (store read + populate) in this process, per machine, and as a ratio to the smallest store of
the same run; a Markdown copy goes to reports/bench/inventory_scale.md. It measures, it does not judge: no assertions.

    .venv/bin/python bench/inventory_scale.py [--sizes 10 100 1000 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TEMPLATES = os.path.join(REPO, "tests", "unit", "fixtures", "store", "machines")
DRIVERS = ("vbox1", "generic1", "none1", "aws1", "lab1")
NAME = "swarmops.ha.docker_machine"
os.environ["ANSIBLE_CONFIG"] = os.path.join(REPO, "ansible.cfg")
sys.path.insert(0, os.path.join(REPO, ".collections"))


def make_store(root: str, size: int) -> str:
    """`size` machines node1..node<size>, drivers in turn; returns the inventory source for it."""
    store = os.path.join(root, f"store{size}")
    templates = [open(os.path.join(TEMPLATES, t, "config.json"), encoding="utf-8").read() for t in DRIVERS]
    for i in range(1, size + 1):
        template, name = templates[i % len(DRIVERS)], f"node{i}"
        os.makedirs(os.path.join(store, "machines", name))
        with open(os.path.join(store, "machines", name, "config.json"), "w", encoding="utf-8") as handle:
            handle.write(template.replace("{{STORE}}", store).replace(DRIVERS[i % len(DRIVERS)], name))
    source = os.path.join(root, f"bench{size}.docker_machine.yml")
    with open(source, "w", encoding="utf-8") as handle:
        handle.write(f"plugin: {NAME}\nstorage_path: {store}\nlive_state: false\n")
    return source


def cli_seconds(source: str, runs: int) -> float:
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    times = []
    for dummy in range(runs):
        start = time.perf_counter()
        subprocess.run([binary, "-i", source, "--list"], cwd=REPO, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plugin_seconds(source: str, runs: int) -> tuple[float, float]:
    """Medians of the plugin's store read alone, and of its whole parse as InventoryManager runs it (read and
    populate, with the variable tagging Ansible adds to each set_variable)."""
    from ansible.inventory.data import InventoryData
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get(NAME)
    plugin.parse(InventoryData(), DataLoader(), source, cache=False)
    reads, parses = [], []
    for dummy in range(runs):
        start = time.perf_counter()
        plugin.read_store(plugin.get_option("storage_path"))
        middle = time.perf_counter()
        InventoryManager(DataLoader(), sources=[source], cache=False)
        reads.append(middle - start)
        parses.append(time.perf_counter() - middle)
    return statistics.median(reads), statistics.median(parses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([os.path.join(REPO, ".collections")])
    rows = []
    with tempfile.TemporaryDirectory(prefix="inventory-scale-") as root:
        for size in args.sizes:
            source = make_store(root, size)
            read, parse = plugin_seconds(source, args.runs)
            rows.append((size, cli_seconds(source, args.runs), read, parse))
    base_cli, base_plugin = rows[0][1], rows[0][3]
    header = ("machines", "cli s", "cli ms/machine", "cli x base", "read s", "populate s", "plugin s",
              "plugin us/machine", "plugin x base")
    table = [header] + [(
        str(n), f"{cli:.3f}", f"{cli / n * 1e3:.2f}", f"{cli / base_cli:.2f}", f"{read:.4f}", f"{parse - read:.4f}",
        f"{parse:.4f}", f"{parse / n * 1e6:.1f}", f"{parse / base_plugin:.1f}",
    ) for n, cli, read, parse in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    os.makedirs(os.path.join(REPO, "reports", "bench"), exist_ok=True)
    report = os.path.join(REPO, "reports", "bench", "inventory_scale.md")
    with open(report, "w", encoding="utf-8") as handle:
        handle.write(f"# docker_machine inventory scale, {datetime.datetime.now():%Y-%m-%d %H:%M}\n\n"
                     f"Median of {args.runs} runs; stores of mixed drivers; `live_state: false`. `cli` is "
                     f"`ansible-inventory --list` end to end (Ansible's start-up included); `plugin` is the "
                     f"plugin's parse as InventoryManager runs it in process (`read` the store alone, `populate` the "
                     f"rest). `x base` is the ratio to the {rows[0][0]}-machine store.\n\n")
        handle.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        handle.writelines("| " + " | ".join(row) + " |\n" for row in table[1:])
    print(f"\n{report}")


if __name__ == "__main__":
    main()
