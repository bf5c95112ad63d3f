import json

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import storage

EXT4 = {"filesystems": {"overlay", "btrfs", "ext4"}, "backing": "ext2/ext3", "mount_options": ["rw", "relatime"],
        "root": "/var/lib/docker"}
BTRFS = {**EXT4, "backing": "btrfs"}
XFS_PQUOTA = {**EXT4, "backing": "xfs", "mount_options": ["rw", "prjquota"]}


def test_btrfs_on_btrfs_gives_per_container_size_limits():
    assert storage.preflight("btrfs", ["btrfs.min_space=1G"], BTRFS) == {
        "per_container_size": True, "options": {"btrfs.min_space": "1G"}}


def test_overlay2_size_on_xfs_with_project_quota_is_accepted():
    assert storage.preflight("overlay2", ["overlay2.size=20G"], XFS_PQUOTA)["per_container_size"] is True
    assert storage.preflight("overlay2", [], EXT4)["per_container_size"] is False


@pytest.mark.parametrize("driver, options, facts, message", [
    ("floppy", [], EXT4, "driver: 'floppy' is not a storage driver this module knows (btrfs, devicemapper"),
    ("btrfs", [], EXT4, "driver: btrfs needs the data root /var/lib/docker on btrfs; it is on ext2/ext3"),
    ("btrfs", [], {**BTRFS, "filesystems": {"ext4"}}, "needs the kernel's btrfs file system"),
    ("overlay2", [], {**EXT4, "backing": "overlayfs"}, "driver: overlay2 needs the data root /var/lib/docker not on "
                                                       "overlayfs"),
    ("overlay2", ["overlay2.size=20G"], EXT4,
     "options: overlay2.size needs the data root /var/lib/docker on xfs mounted with pquota; it is on ext2/ext3 "
     "(rw,relatime)"),
    ("overlay2", ["overlay2.size=20G"], {**XFS_PQUOTA, "mount_options": ["rw"]}, "mounted with pquota"),
    ("btrfs", ["overlay2.size=1G"], BTRFS, "options: overlay2.size is not an option of btrfs (its options start "
                                           "with btrfs.)"),
    ("btrfs", ["min_space"], BTRFS, "options: 'min_space' is not key=value"),
])
def test_preflight_says_what_the_node_lacks(driver, options, facts, message):
    with pytest.raises(storage.StorageError) as raised:
        storage.preflight(driver, options, facts)
    assert message in str(raised.value)


def test_daemon_json_keeps_everything_but_the_storage_settings():
    current = {"labels": ["zone=a"], "storage-driver": "overlay2", "storage-opts": ["overlay2.size=1G"], "tls": True}
    wanted = storage.daemon_json_wanted(current, "btrfs", [])
    assert wanted == {"labels": ["zone=a"], "storage-driver": "btrfs", "tls": True}
    assert json.loads(storage.render_daemon_json(wanted)) == wanted
    assert storage.daemon_json_wanted({}, "btrfs", ["btrfs.min_space=1G"]) == {
        "storage-driver": "btrfs", "storage-opts": ["btrfs.min_space=1G"]}
    assert storage.daemon_json_settings(None) == {} and storage.daemon_json_settings("  \n") == {}


def test_boot2docker_profile_sets_the_driver_and_replaces_only_storage_flags():
    profile = "EXTRA_ARGS='\n--label provider=virtualbox --storage-opt dm.basesize=10G\n'\nDOCKER_STORAGE=aufs\n"
    wanted = storage.profile_wanted(profile, "btrfs", ["btrfs.min_space=1G"])
    assert "\nDOCKER_STORAGE=btrfs\n" in wanted and "--storage-opt btrfs.min_space=1G" in wanted
    assert "--label provider=virtualbox" in wanted and "dm.basesize" not in wanted
    assert storage.profile_wanted(wanted, "btrfs", ["btrfs.min_space=1G"]) == wanted
    assert storage.profile_wanted(None, "overlay2", []) == "DOCKER_STORAGE=overlay2\n"
