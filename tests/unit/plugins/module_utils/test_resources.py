import re

import pytest

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError
from ansible_collections.swarmops.ha.plugins.module_utils.resources import (
    ResourceError,
    parse_cpu,
    parse_size,
    resources_spec,
)

GIB = 1024 ** 3
MIB = 1024 ** 2


@pytest.mark.parametrize("value, nano", [
    (2, 2_000_000_000),
    (0.5, 500_000_000),
    (0.1, 100_000_000),
    ("0.5", 500_000_000),
    ("2", 2_000_000_000),
    (" 1.25 ", 1_250_000_000),
    (".25", 250_000_000),
    ("0.000000001", 1),
    (1e-9, 1),
    ("0.5000000000", 500_000_000),
    (0, 0),
    ("0", 0),
    (64, 64_000_000_000),
])
def test_parse_cpu_gives_nano_cpus(value, nano):
    assert parse_cpu(value, "limit_cpu") == nano


@pytest.mark.parametrize("value", [
    "abc", "", " ", True, False, -1, -0.5, "-0.5", "+1", "1e3", "1,5", "1.", "nan", "inf",
    float("nan"), float("inf"), None, [1], "0x10", "1_000",
])
def test_parse_cpu_refuses_what_is_not_a_number_of_cpus(value):
    with pytest.raises(ResourceError) as caught:
        parse_cpu(value, "limit_cpu")
    assert str(caught.value) == f"limit_cpu: {value!r} is not a number of CPUs (examples: 0.5, 2)"


def test_parse_cpu_message_reads_as_the_guide_shows_it():
    with pytest.raises(ResourceError, match=re.escape("limit_cpu: 'abc' is not a number of CPUs (examples: 0.5, 2)")):
        parse_cpu("abc", "limit_cpu")


@pytest.mark.parametrize("value", ["0.0000000001", "1.0000000005", 1e-10])
def test_parse_cpu_refuses_more_than_nine_decimals_instead_of_rounding(value):
    with pytest.raises(ResourceError) as caught:
        parse_cpu(value, "reserve_cpu")
    assert str(caught.value) == f"reserve_cpu: {value!r} has more than 9 decimals (examples: 0.5, 2)"


@pytest.mark.parametrize("value, size", [
    ("512M", 512 * MIB),
    ("512m", 512 * MIB),
    ("1g", GIB),
    ("1G", GIB),
    ("1.5G", GIB + GIB // 2),
    ("64k", 64 * 1024),
    ("2t", 2 * 1024 ** 4),
    ("1p", 1024 ** 5),
    ("100", 100),
    ("100b", 100),
    ("100B", 100),
    ("512MB", 512 * MIB),
    ("1GiB", GIB),
    ("512MiB", 512 * MIB),
    ("64kib", 64 * 1024),
    ("1 G", GIB),
    (" 512M ", 512 * MIB),
    (1073741824, GIB),
    (0, 0),
    ("0", 0),
    ("0.3k", 307),
    ("1.5", 1),
    (1.5, 1),
    (".5k", 512),
])
def test_parse_size_reads_docker_sizes_in_binary_units_rounding_down(value, size):
    assert parse_size(value, "limit_memory") == size


@pytest.mark.parametrize("value", [
    "12XB", "-1G", "", "abc", True, False, -1, "1i", "G", "1.2.3G", "1e3", "1 2G", "1GB2", "1gg",
    float("nan"), float("inf"), -0.5, None, {"size": 1},
])
def test_parse_size_refuses_what_is_not_a_size(value):
    with pytest.raises(ResourceError) as caught:
        parse_size(value, "limit_memory")
    assert str(caught.value) == f"limit_memory: {value!r} is not a size (examples: 512M, 1g, 1073741824)"


def test_parse_size_message_reads_as_the_guide_shows_it():
    with pytest.raises(ResourceError) as caught:
        parse_size("12XB", "limit_memory")
    assert str(caught.value) == "limit_memory: '12XB' is not a size (examples: 512M, 1g, 1073741824)"


def test_resource_error_is_a_value_error_that_module_errors_reports():
    assert issubclass(ResourceError, ValueError)
    assert issubclass(ResourceError, SwarmopsError)


def test_resources_spec_has_the_engine_shape():
    assert resources_spec(limit_cpu="1.5", limit_memory="1g", reserve_cpu=0.5, reserve_memory="512M") == {
        "Limits": {"NanoCPUs": 1_500_000_000, "MemoryBytes": GIB},
        "Reservations": {"NanoCPUs": 500_000_000, "MemoryBytes": 512 * MIB},
    }


def test_resources_spec_holds_only_what_is_set():
    assert resources_spec() == {}
    assert resources_spec(limit_cpu=2) == {"Limits": {"NanoCPUs": 2_000_000_000}}
    assert resources_spec(reserve_memory="64M") == {"Reservations": {"MemoryBytes": 64 * MIB}}


def test_resources_spec_leaves_out_zero_which_docker_reads_as_no_limit():
    assert resources_spec(limit_cpu=0, limit_memory="0", reserve_cpu="0") == {}
    assert resources_spec(limit_cpu="0", reserve_cpu="4") == {"Reservations": {"NanoCPUs": 4_000_000_000}}


def test_resources_spec_allows_a_reservation_equal_to_its_limit():
    assert resources_spec(limit_memory="1g", reserve_memory=GIB) == {
        "Limits": {"MemoryBytes": GIB}, "Reservations": {"MemoryBytes": GIB}}


@pytest.mark.parametrize("kwargs, message", [
    ({"limit_memory": "512M", "reserve_memory": "1g"}, "reserve_memory: '1g' is above limit_memory '512M'"),
    ({"limit_cpu": "1", "reserve_cpu": "2"}, "reserve_cpu: '2' is above limit_cpu '1'"),
    ({"limit_cpu": 0.5, "reserve_cpu": "0.500000001"}, "reserve_cpu: '0.500000001' is above limit_cpu 0.5"),
])
def test_resources_spec_refuses_a_reservation_above_its_limit(kwargs, message):
    with pytest.raises(ResourceError) as caught:
        resources_spec(**kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("option, value, message", [
    ("limit_cpu", "abc", "limit_cpu: 'abc' is not a number of CPUs"),
    ("reserve_cpu", "x", "reserve_cpu: 'x' is not a number of CPUs"),
    ("limit_memory", "12XB", "limit_memory: '12XB' is not a size"),
    ("reserve_memory", "1q", "reserve_memory: '1q' is not a size"),
])
def test_resources_spec_names_the_option_in_errors(option, value, message):
    with pytest.raises(ResourceError, match="^" + re.escape(message)):
        resources_spec(**{option: value})
