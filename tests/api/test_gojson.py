"""Request bodies read as Go's encoding/json reads them into dockerd's types."""
from __future__ import annotations

import pytest

from berth.api import bodies
from berth.api.gojson import DecodeError, decode


def refusal(body: bytes, into=bodies.CONTAINER_CREATE) -> str:
    with pytest.raises(DecodeError) as raised:
        decode(body, into)
    return str(raised.value)


def test_a_number_out_of_an_integers_range_is_named_by_its_text():
    assert refusal(b'{"HostConfig": {"Memory": 1e400}}') == \
        "json: cannot unmarshal number 1e400 into Go struct field HostConfig.HostConfig.Memory of type int64"
    assert refusal(b'{"StopTimeout": 1.0}') == \
        "json: cannot unmarshal number 1.0 into Go struct field ContainerConfigWrapper.StopTimeout of type int"
    assert refusal(b'{"HostConfig": {"IOMaximumIOps": -1}}').startswith("json: cannot unmarshal number -1 into")


def test_nan_and_infinity_are_no_json():
    assert refusal(b'{"HostConfig": {"Memory": NaN}}').startswith("invalid JSON body:")
    assert refusal(b'{"StopTimeout": -Infinity}').startswith("invalid JSON body:")


def test_booleans_are_no_numbers_and_numbers_no_booleans():
    assert refusal(b'{"StopTimeout": true}') == \
        "json: cannot unmarshal bool into Go struct field ContainerConfigWrapper.StopTimeout of type int"
    assert refusal(b'{"Tty": 1}') == \
        "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Tty of type bool"


def test_a_strslice_is_a_string_or_a_list_of_strings():
    assert decode(b'{"Cmd": "sh", "Entrypoint": ["a", null]}', bodies.CONTAINER_CREATE) == \
        {"Cmd": ["sh"], "Entrypoint": ["a", ""]}
    assert refusal(b'{"Cmd": {}}') == \
        "json: cannot unmarshal object into Go struct field ContainerConfigWrapper.Cmd of type string"


def test_names_match_in_any_case_unknown_and_null_fields_are_left_out():
    body = b'{"image": "busybox", "Cmd": null, "Whatever": [1e400], "hostCONFIG": {"binds": ["/a:/b"]}}'
    assert decode(body, bodies.CONTAINER_CREATE) == {"Image": "busybox", "HostConfig": {"Binds": ["/a:/b"]}}


def test_null_inside_lists_and_maps_is_the_zero_value():
    body = b'{"Env": [null], "Labels": {"a": null}, "ExposedPorts": {"80/tcp": null}}'
    assert decode(body, bodies.CONTAINER_CREATE) == {"Env": [""], "Labels": {"a": ""}, "ExposedPorts": {"80/tcp": {}}}


def test_an_empty_body_or_null_is_the_empty_struct_and_other_values_are_refused():
    assert decode(b"", bodies.EXEC_CONFIG) == decode(b"null", bodies.EXEC_CONFIG) == {}
    assert refusal(b'"x"', bodies.VOLUME_CREATE) == \
        "json: cannot unmarshal string into Go value of type volume.VolumeCreateBody"
    assert refusal(b"{", bodies.VOLUME_CREATE).startswith("invalid JSON body:")
    assert refusal(b'{"Name": "\xff"}', bodies.VOLUME_CREATE).startswith("invalid JSON body:")


def test_the_error_names_the_innermost_struct_and_the_path_from_the_top():
    assert refusal(b'{"NetworkingConfig": {"EndpointsConfig": {"n": {"IPAMConfig": {"LinkLocalIPs": "x"}}}}}') == \
        ("json: cannot unmarshal string into Go struct field "
         "EndpointIPAMConfig.NetworkingConfig.EndpointsConfig.IPAMConfig.LinkLocalIPs of type []string")
    assert refusal(b'{"Memory": "1g"}', bodies.CONTAINER_UPDATE) == \
        "json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64"
