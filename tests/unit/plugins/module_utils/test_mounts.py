import copy

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.swarmops.ha.plugins.doc_fragments.mount import ModuleDocFragment
from ansible_collections.swarmops.ha.plugins.module_utils import mounts as m
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

MIB = 1024 ** 2

CANONICAL = [
    {"target": "/data", "type": "volume", "source": "data", "read_only": False},
    {"target": "/cache", "type": "volume", "read_only": False},
    {"target": "/data", "type": "volume", "source": "db", "read_only": True, "no_copy": True,
     "labels": {"app": "db"}, "driver": "rexray", "driver_opts": {"size": "10"}},
    {"target": "/opts", "type": "volume", "source": "nfs", "read_only": False,
     "driver_opts": {"type": "nfs", "device": ":/export"}},
    {"target": "/srv", "type": "bind", "source": "/srv/app", "read_only": True},
    {"target": "/srv", "type": "bind", "source": "/srv/app", "read_only": False, "propagation": "rshared"},
    {"target": "/run/app", "type": "tmpfs", "read_only": False},
    {"target": "/run/app", "type": "tmpfs", "read_only": False, "tmpfs_size": 64 * MIB, "tmpfs_mode": "700"},
]


def ansible_params(entries):
    """The mounts as AnsibleModule hands them to a module: every option present, defaults filled in."""
    validator = ArgumentSpecValidator({"mounts": dict(type="list", elements="dict", options=m.MOUNT_OPTIONS)})
    result = validator.validate({"mounts": entries})
    assert result.error_messages == []
    return result.validated_parameters["mounts"]


def failure(entries, option="mounts"):
    with pytest.raises(m.MountError) as caught:
        m.normalise(entries, option)
    return str(caught.value)


def test_doc_fragment_documents_mount_options_exactly():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["mounts"]
    assert (documented["type"], documented["elements"]) == ("list", "dict")
    suboptions = documented["suboptions"]
    assert list(suboptions) == list(m.MOUNT_OPTIONS)
    for name, spec in m.MOUNT_OPTIONS.items():
        doc = suboptions[name]
        assert doc["description"], name
        assert doc["type"] == spec["type"], name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("required", False) == spec.get("required", False), name


def test_mount_error_is_a_value_error_that_module_errors_reports():
    assert issubclass(m.MountError, ValueError)
    assert issubclass(m.MountError, SwarmopsError)


def test_normalise_keeps_the_users_order_and_fills_defaults():
    assert m.normalise([{"target": "/z", "source": "zeta"}, {"target": "/a", "type": "tmpfs"}]) == [
        {"target": "/z", "type": "volume", "source": "zeta", "read_only": False},
        {"target": "/a", "type": "tmpfs", "read_only": False},
    ]


def test_normalise_of_nothing_is_no_mounts():
    assert m.normalise(None) == []
    assert m.normalise([]) == []


def test_normalise_reads_what_ansible_module_passes_like_plain_dicts():
    entries = [
        {"target": "/data", "source": "db", "read_only": True, "labels": {"app": "db"}},
        {"target": "/srv", "type": "bind", "source": "/srv/app", "propagation": "rslave"},
        {"target": "/run/app", "type": "tmpfs", "tmpfs_size": "64M", "tmpfs_mode": "0700"},
    ]
    validated = ansible_params(copy.deepcopy(entries))
    assert validated[0]["propagation"] is None and validated[1]["read_only"] is False
    assert m.normalise(validated) == m.normalise(entries) == [
        {"target": "/data", "type": "volume", "source": "db", "read_only": True, "labels": {"app": "db"}},
        {"target": "/srv", "type": "bind", "source": "/srv/app", "read_only": False, "propagation": "rslave"},
        {"target": "/run/app", "type": "tmpfs", "read_only": False, "tmpfs_size": 64 * MIB, "tmpfs_mode": "700"},
    ]


def test_ansible_module_refuses_a_mount_without_target_or_with_an_unknown_type():
    validator = ArgumentSpecValidator({"mounts": dict(type="list", elements="dict", options=m.MOUNT_OPTIONS)})
    [missing] = validator.validate({"mounts": [{"source": "data"}]}).error_messages
    [unknown] = validator.validate({"mounts": [{"target": "/x", "type": "npipe"}]}).error_messages
    assert "target" in missing and "mounts" in missing
    assert "npipe" in unknown and "bind, volume, tmpfs" in unknown


@pytest.mark.parametrize("said", [
    {"read_only": False},
    {"driver": "local"},
    {"driver_opts": {}},
    {"labels": {}},
    {"no_copy": False},
    {"read_only": False, "driver": "local", "driver_opts": {}, "labels": {}, "no_copy": False},
])
def test_a_volume_that_says_what_docker_does_anyway_equals_one_that_does_not(said):
    assert m.normalise([{"target": "/data", "source": "data", **said}]) == m.normalise(
        [{"target": "/data", "source": "data"}])


@pytest.mark.parametrize("said", [{"propagation": "rprivate"}, {"read_only": False}])
def test_a_bind_that_says_what_docker_does_anyway_equals_one_that_does_not(said):
    plain = {"target": "/srv", "type": "bind", "source": "/srv/app"}
    assert m.normalise([{**plain, **said}]) == m.normalise([plain])


@pytest.mark.parametrize("said", [{"tmpfs_mode": 1777}, {"tmpfs_mode": "1777"}, {"tmpfs_mode": "01777"},
                                  {"tmpfs_mode": "0o1777"}, {"tmpfs_mode": 0}, {"tmpfs_size": 0},
                                  {"tmpfs_size": "0"}])
def test_a_tmpfs_that_says_what_docker_does_anyway_equals_one_that_does_not(said):
    assert m.normalise([{"target": "/run/app", "type": "tmpfs", **said}]) == [
        {"target": "/run/app", "type": "tmpfs", "read_only": False}]


@pytest.mark.parametrize("mode, canonical", [
    (700, "700"), ("700", "700"), ("0700", "700"), ("0o700", "700"), ("0O755", "755"), (" 1770 ", "1770"),
    (7777, "7777"), (1, "1"),
])
def test_tmpfs_mode_digits_are_octal_as_the_docker_cli_reads_them(mode, canonical):
    [mount] = m.normalise([{"target": "/t", "type": "tmpfs", "tmpfs_mode": mode}])
    assert mount["tmpfs_mode"] == canonical
    assert m.to_api(mount)["TmpfsOptions"]["Mode"] == int(canonical, 8)


def test_tmpfs_size_takes_bytes_or_docker_sizes():
    [a, b] = m.normalise([{"target": "/a", "type": "tmpfs", "tmpfs_size": "1.5k"},
                          {"target": "/b", "type": "tmpfs", "tmpfs_size": 4096}])
    assert (a["tmpfs_size"], b["tmpfs_size"]) == (1536, 4096)


def test_paths_are_cleaned_as_docker_cleans_them():
    assert m.normalise([{"target": "/data/", "type": "bind", "source": "/srv//app/./"}]) == [
        {"target": "/data", "type": "bind", "source": "/srv/app", "read_only": False}]


def test_labels_and_driver_opts_are_strings_as_the_engine_wants():
    [mount] = m.normalise([{"target": "/d", "source": "data", "labels": {"tier": 1, "backup": True},
                            "driver_opts": {"size": 10}}])
    assert mount["labels"] == {"tier": "1", "backup": "True"}
    assert mount["driver_opts"] == {"size": "10"}


def test_a_volume_name_may_be_any_text_for_another_driver():
    [mount] = m.normalise([{"target": "/d", "source": "pool/vol:1", "driver": "rexray"}])
    assert mount["source"] == "pool/vol:1" and mount["driver"] == "rexray"


@pytest.mark.parametrize("entry, message", [
    ({"target": "/data", "type": "bind", "source": "data"},
     "mounts[0].source: 'data' must be an absolute path on the node for type bind"),
    ({"target": "/data", "type": "bind"},
     "mounts[0].source: missing; type bind needs an absolute path on the node"),
    ({"target": "/data", "type": "bind", "source": ""},
     "mounts[0].source: missing; type bind needs an absolute path on the node"),
    ({"target": "/data", "type": "npipe"},
     "mounts[0].type: 'npipe' is not one of bind, volume, tmpfs"),
    ({"target": "/run", "type": "tmpfs", "source": "tmp"},
     "mounts[0].source: 'tmp' is not allowed for type tmpfs, which has no source"),
    ({"target": "data", "source": "data"},
     "mounts[0].target: 'data' must be an absolute path in the container"),
    ({"target": "/", "source": "data"},
     "mounts[0].target: '/' is the container's root; mount below it"),
    ({"source": "data"},
     "mounts[0].target: missing; give the absolute path in the container"),
    ({"target": "", "source": "data"},
     "mounts[0].target: missing; give the absolute path in the container"),
    ({"target": "/data", "source": "data", "propagation": "shared"},
     "mounts[0].propagation: 'shared' applies to type bind only, not volume"),
    ({"target": "/data", "type": "tmpfs", "propagation": "rprivate"},
     "mounts[0].propagation: 'rprivate' applies to type bind only, not tmpfs"),
    ({"target": "/data", "type": "bind", "source": "/srv", "driver": "local"},
     "mounts[0].driver: 'local' applies to type volume only, not bind"),
    ({"target": "/data", "type": "bind", "source": "/srv", "no_copy": False},
     "mounts[0].no_copy: False applies to type volume only, not bind"),
    ({"target": "/data", "type": "tmpfs", "labels": {"a": "b"}},
     "mounts[0].labels: {'a': 'b'} applies to type volume only, not tmpfs"),
    ({"target": "/data", "type": "bind", "source": "/srv", "driver_opts": {"o": "x"}},
     "mounts[0].driver_opts: {'o': 'x'} applies to type volume only, not bind"),
    ({"target": "/data", "source": "data", "tmpfs_size": "1g"},
     "mounts[0].tmpfs_size: '1g' applies to type tmpfs only, not volume"),
    ({"target": "/data", "type": "bind", "source": "/srv", "tmpfs_mode": 700},
     "mounts[0].tmpfs_mode: 700 applies to type tmpfs only, not bind"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_size": "12XB"},
     "mounts[0].tmpfs_size: '12XB' is not a size (examples: 512M, 1g, 1073741824)"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_size": -1},
     "mounts[0].tmpfs_size: -1 is not a size (examples: 512M, 1g, 1073741824)"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": "999"},
     "mounts[0].tmpfs_mode: '999' is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": 448},
     "mounts[0].tmpfs_mode: 448 is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": "rwx"},
     "mounts[0].tmpfs_mode: 'rwx' is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": -700},
     "mounts[0].tmpfs_mode: -700 is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": 17777},
     "mounts[0].tmpfs_mode: 17777 is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": True},
     "mounts[0].tmpfs_mode: True is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/run", "type": "tmpfs", "tmpfs_mode": 7.5},
     "mounts[0].tmpfs_mode: 7.5 is not an octal file mode (examples: 1777, '0700')"),
    ({"target": "/data", "source": "/srv/data"},
     "mounts[0].source: '/srv/data' is not a local volume name (examples: data, app_db.1); "
     "for a path on the node set type: bind"),
    ({"target": "/data", "source": "x", "driver": "local"},
     "mounts[0].source: 'x' is not a local volume name (examples: data, app_db.1); "
     "for a path on the node set type: bind"),
    ({"target": "/data", "read_only": True},
     "mounts[0].read_only: true needs a source; an anonymous volume cannot be read-only"),
    ({"target": "/data", "source": "data", "readonly": True},
     "mounts[0]: unknown option 'readonly' (options: target, source, type, read_only, propagation, no_copy, "
     "labels, driver, driver_opts, tmpfs_size, tmpfs_mode)"),
    ("/srv:/data", "mounts[0]: '/srv:/data' is not a mount (a dict with at least target)"),
    ({"target": "/data", "source": "data", "read_only": "yes"},
     "mounts[0].read_only: 'yes' is not true or false"),
    ({"target": 5, "source": "data"}, "mounts[0].target: 5 is not a string"),
    ({"target": "/data", "source": "data", "labels": "a=b"}, "mounts[0].labels: 'a=b' is not a dict"),
    ({"target": "/data", "type": "bind", "source": "/srv", "propagation": "private-ish"},
     "mounts[0].propagation: 'private-ish' is not one of private, rprivate, shared, rshared, slave, rslave"),
])
def test_normalise_refuses_a_bad_mount_naming_entry_field_value_and_form(entry, message):
    assert failure([entry]) == message


def test_errors_name_the_entry_by_its_index_and_the_modules_option():
    entries = [{"target": "/a", "source": "aa"}, {"target": "/b", "source": "bb"},
               {"target": "/c", "type": "bind", "source": "c"}]
    assert failure(entries) == "mounts[2].source: 'c' must be an absolute path on the node for type bind"
    assert failure(entries, "volumes") == "volumes[2].source: 'c' must be an absolute path on the node for type bind"


def test_two_mounts_on_one_target_are_refused_after_cleaning():
    entries = [{"target": "/data", "source": "data"}, {"target": "/logs", "source": "logs"},
               {"target": "/data/", "type": "tmpfs"}]
    assert failure(entries) == "mounts[2].target: '/data' is already the target of mounts[0]"


def test_normalise_does_not_change_its_input():
    entries = [{"target": "/data/", "source": "data", "labels": {"n": 1}}]
    before = copy.deepcopy(entries)
    m.normalise(entries)
    assert entries == before


def test_to_api_writes_each_type_in_engine_shape():
    assert [m.to_api(mount) for mount in CANONICAL[1:8:2]] == [
        {"Type": "volume", "Target": "/cache", "ReadOnly": False},
        {"Type": "volume", "Target": "/opts", "Source": "nfs", "ReadOnly": False,
         "VolumeOptions": {"DriverConfig": {"Options": {"type": "nfs", "device": ":/export"}}}},
        {"Type": "bind", "Target": "/srv", "Source": "/srv/app", "ReadOnly": False,
         "BindOptions": {"Propagation": "rshared"}},
        {"Type": "tmpfs", "Target": "/run/app", "ReadOnly": False,
         "TmpfsOptions": {"SizeBytes": 64 * MIB, "Mode": 0o700}},
    ]
    assert m.to_api(CANONICAL[2]) == {
        "Type": "volume", "Target": "/data", "Source": "db", "ReadOnly": True,
        "VolumeOptions": {"NoCopy": True, "Labels": {"app": "db"},
                          "DriverConfig": {"Name": "rexray", "Options": {"size": "10"}}}}


def test_to_api_does_not_share_dicts_with_the_canonical_mount():
    api = m.to_api(CANONICAL[2])
    api["VolumeOptions"]["Labels"]["extra"] = "x"
    assert CANONICAL[2]["labels"] == {"app": "db"}


@pytest.mark.parametrize("mount", CANONICAL)
def test_from_api_reads_back_what_to_api_wrote(mount):
    assert m.from_api(m.to_api(mount)) == mount


@pytest.mark.parametrize("mount", CANONICAL)
def test_a_canonical_mount_is_already_normal(mount):
    assert m.normalise([mount]) == [mount]


@pytest.mark.parametrize("api, canonical", [
    ({"Type": "bind", "Source": "/srv/app", "Target": "/srv"},
     {"target": "/srv", "type": "bind", "source": "/srv/app", "read_only": False}),
    ({"Type": "bind", "Source": "/srv/app/", "Target": "/srv/", "ReadOnly": False,
      "BindOptions": {"Propagation": "rprivate", "NonRecursive": True}},
     {"target": "/srv", "type": "bind", "source": "/srv/app", "read_only": False}),
    ({"Type": "volume", "Source": "", "Target": "/cache", "VolumeOptions": {}},
     {"target": "/cache", "type": "volume", "read_only": False}),
    ({"Source": "data", "Target": "/data",
      "VolumeOptions": {"NoCopy": False, "Labels": {}, "Subpath": "sub", "DriverConfig": {"Name": "local"}}},
     {"target": "/data", "type": "volume", "source": "data", "read_only": False}),
    ({"Type": "volume", "Source": "data", "Target": "/data", "VolumeOptions": {"DriverConfig": None}},
     {"target": "/data", "type": "volume", "source": "data", "read_only": False}),
    ({"Type": "tmpfs", "Source": "", "Target": "/run/app", "ReadOnly": True,
      "TmpfsOptions": {"SizeBytes": 0, "Mode": 0o1777}},
     {"target": "/run/app", "type": "tmpfs", "read_only": True}),
    ({"Type": "tmpfs", "Target": "/run/app", "TmpfsOptions": {"Mode": 448, "Options": [["exec"]]}},
     {"target": "/run/app", "type": "tmpfs", "read_only": False, "tmpfs_mode": "700"}),
    ({"Type": "tmpfs", "Target": "/run/app", "TmpfsOptions": None},
     {"target": "/run/app", "type": "tmpfs", "read_only": False}),
    ({"Type": "npipe", "Source": r"\\.\pipe\docker_engine", "Target": r"\\.\pipe\docker_engine"},
     {"target": r"\\.\pipe\docker_engine", "type": "npipe", "source": r"\\.\pipe\docker_engine",
      "read_only": False}),
])
def test_from_api_tolerates_what_an_engine_leaves_out_or_sends_empty(api, canonical):
    assert m.from_api(api) == canonical


def test_from_api_reads_only_the_options_of_its_type():
    api = {"Type": "bind", "Source": "/srv", "Target": "/srv", "VolumeOptions": {"NoCopy": True},
           "TmpfsOptions": {"SizeBytes": 1024}}
    assert m.from_api(api) == {"target": "/srv", "type": "bind", "source": "/srv", "read_only": False}


def test_what_a_user_wrote_equals_what_the_engine_holds_after_a_round_trip():
    wanted = m.normalise([{"target": "/data/", "source": "data", "driver": "local", "read_only": False},
                          {"target": "/run", "type": "tmpfs", "tmpfs_mode": "01777", "tmpfs_size": "1M"}])
    engine = [m.to_api(mount) | {"Consistency": "default"} for mount in wanted]
    assert [m.from_api(entry) for entry in engine] == wanted
    assert m.diff([m.from_api(entry) for entry in engine], wanted) == {"added": [], "removed": [], "changed": []}


def test_to_api_list_keeps_the_engines_entries_for_mounts_that_do_not_change():
    engine = [{"Type": "volume", "Source": "data", "Target": "/data", "VolumeOptions": {"Subpath": "app"}},
              {"Type": "bind", "Source": "/srv", "Target": "/srv", "ReadOnly": True}]
    current = [m.from_api(entry) for entry in engine]
    wanted = m.merge(current, m.normalise([{"target": "/srv", "type": "bind", "source": "/srv"},
                                           {"target": "/logs", "source": "logs"}]), "present")
    assert m.to_api_list(wanted, engine) == [
        {"Type": "volume", "Source": "data", "Target": "/data", "VolumeOptions": {"Subpath": "app"}},
        {"Type": "bind", "Target": "/srv", "Source": "/srv", "ReadOnly": False},
        {"Type": "volume", "Target": "/logs", "Source": "logs", "ReadOnly": False},
    ]
    assert m.to_api_list(wanted) == [m.to_api(mount) for mount in wanted]


A = {"target": "/a", "type": "volume", "source": "a", "read_only": False}
B = {"target": "/b", "type": "volume", "source": "b", "read_only": False}
B_READ_ONLY = {**B, "read_only": True}
C = {"target": "/c", "type": "tmpfs", "read_only": False}
D = {"target": "/d", "type": "bind", "source": "/srv/d", "read_only": False}


@pytest.mark.parametrize("current, wanted, state, result", [
    ([A, B, C], [B_READ_ONLY, D], "present", [A, B_READ_ONLY, C, D]),
    ([A, B], [A, B], "present", [A, B]),
    ([], [D, A], "present", [D, A]),
    ([A, B, C], [{"target": "/b"}], "absent", [A, C]),
    ([A, B, C], [{"target": "/c"}, C, {"target": "/a"}], "absent", [B]),
    ([A, B], [{"target": "/z"}], "absent", [A, B]),
    ([A, B, C], [D, A], "exact", [D, A]),
    ([A, B, C], [], "exact", []),
])
def test_merge_by_target(current, wanted, state, result):
    assert m.merge(current, wanted, state) == result


def test_merge_does_not_change_its_inputs():
    current, wanted = [dict(A), dict(B)], [dict(B_READ_ONLY)]
    merged = m.merge(current, wanted, "present")
    merged.append(D)
    assert current == [A, B] and wanted == [B_READ_ONLY]
    exact = m.merge(current, wanted, "exact")
    exact.append(D)
    assert wanted == [B_READ_ONLY]


def test_merge_refuses_an_unknown_state():
    with pytest.raises(m.MountError) as caught:
        m.merge([A], [B], "replace")
    assert str(caught.value) == "state: 'replace' is not one of present, absent, exact"


@pytest.mark.parametrize("current, wanted, changes", [
    ([A, B], [A, B], {"added": [], "removed": [], "changed": []}),
    ([A, B], [B, A], {"added": [], "removed": [], "changed": []}),
    ([], [A, C], {"added": ["/a", "/c"], "removed": [], "changed": []}),
    ([A, C], [], {"added": [], "removed": ["/a", "/c"], "changed": []}),
    ([A, B, C], [D, B_READ_ONLY, A], {"added": ["/d"], "removed": ["/c"], "changed": ["/b"]}),
    ([A], [{**A, "type": "tmpfs", "source": None}], {"added": [], "removed": [], "changed": ["/a"]}),
])
def test_diff_by_target(current, wanted, changes):
    assert m.diff(current, wanted) == changes


def test_diff_sees_the_change_that_merge_makes():
    current = [A, B, C]
    assert m.diff(current, m.merge(current, [B_READ_ONLY, D], "present")) == {
        "added": ["/d"], "removed": [], "changed": ["/b"]}
    assert m.diff(current, m.merge(current, [{"target": "/a"}], "absent")) == {
        "added": [], "removed": ["/a"], "changed": []}
