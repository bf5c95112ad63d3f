# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volumes of one engine: what the volume module asks, in the form it compares (driver, driver_opts, labels)."""

from __future__ import annotations

from ansible_collections.swarmops.ha.plugins.module_utils.docker_api import inspect


def described(info: dict | None) -> dict:
    """A volume's inspect data as the module's options say it; {} for no volume."""
    if info is None:
        return {}
    return {"driver": info.get("Driver"), "driver_opts": info.get("Options") or {}, "labels": info.get("Labels") or {}}


class VolumeAPI:
    """The volume calls of one engine; takes a docker.DockerClient so tests can pass another."""

    def __init__(self, client):
        self.api = client.api

    def get(self, name: str) -> dict | None:
        """The volume's inspect data, None when there is none."""
        return inspect(self.api.inspect_volume, name)

    def create(self, name: str, wanted: dict) -> dict:
        self.api.create_volume(name, driver=wanted["driver"], driver_opts=wanted["driver_opts"],
                               labels=wanted["labels"])
        return self.get(name) or {}

    def remove(self, name: str) -> None:
        self.api.remove_volume(name)
