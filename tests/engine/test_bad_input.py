"""What a careless or hostile client sends: bodies of the wrong types, broken HTTP, API versions the
daemon does not speak. Each gets a 4xx in dockerd's words, never a 500, and the daemon goes on
serving everyone else."""
from __future__ import annotations

import json

import pytest

from tests.engine_api import client, exchange

BAD_CREATES = [  # (body, what dockerd 20.10 answers: the same words, with 500 where berth says 400)
    ({"Image": "busybox", "Cmd": [1, 2]},
     "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type string"),
    ({"Image": "busybox", "Labels": {"a": 1}},
     "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string"),
    ({"Image": "busybox", "StopTimeout": "abc"},
     "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.StopTimeout of type int"),
    ({"Image": "busybox", "HostConfig": {"Memory": 1e400}},
     "json: cannot unmarshal number 1e400 into Go struct field HostConfig.HostConfig.Memory of type int64"),
    ({"Image": "busybox", "HostConfig": {"BlkioWeight": 70000}},
     "json: cannot unmarshal number 70000 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16"),
    ({"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 80}]}}},
     "json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string"),
    ({"Image": "busybox", "Healthcheck": {"Interval": "1s"}},
     "json: cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration"),
    ([], "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper"),
]


def raw_json(value: object) -> bytes:
    """JSON as a client may write it, 1e400 included (Python would write inf as Infinity)."""
    return json.dumps(value).replace("Infinity", "1e400").encode()


@pytest.mark.parametrize(("body", "message"), BAD_CREATES, ids=[message.split(" field ")[-1] for _, message in BAD_CREATES])
def test_a_create_of_the_wrong_types_is_refused_in_dockerds_words(daemon, body, message):
    with client(daemon) as api:
        answer = api.post("/containers/create", content=raw_json(body), headers={"Content-Type": "application/json"})
        assert (answer.status_code, answer.json()) == (400, {"message": message})
        assert api.get("/containers/json", params={"all": 1}).json() == []


def test_field_names_match_in_any_case_and_unknown_fields_are_left_out(daemon):
    with client(daemon) as api:
        made = api.post("/containers/create", json={"image": "busybox", "CMD": ["true"], "NoSuchField": 1e300,
                                                    "hostconfig": {"memory": 8 << 20}}).json()["Id"]
        record = api.get(f"/containers/{made}/json").json()
    assert (record["Config"]["Cmd"], record["HostConfig"]["Memory"]) == (["true"], 8 << 20)
    assert "NoSuchField" not in record["Config"]


def test_an_api_version_above_the_daemons_is_refused_as_dockerd_refuses_it(daemon):
    with client(daemon) as api:
        too_new = api.get("http://berth/v9.99/_ping")
        too_old = api.get("http://berth/v1.11/version")
        assert api.get("http://berth/v1.24/_ping").status_code == 200
    assert (too_new.status_code, too_new.json()) == (
        400, {"message": "client version 9.99 is too new. Maximum supported API version is 1.41"})
    assert (too_old.status_code, too_old.json()) == (
        400, {"message": "client version 1.11 is too old. Minimum supported API version is 1.24, "
                         "please upgrade your client to a newer version"})


GO_BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
                  b"400 Bad Request")


@pytest.mark.parametrize("request_bytes", [
    b"garbage\r\n\r\n",
    b"\x00\x01\x02\xff\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"GET /_ping HTTP/1.1\r\na header without a colon\r\n\r\n",
    b"POST /containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}",  # then the client stops
], ids=["request line", "binary", "content length", "two lengths", "header", "chunk", "short body"])
def test_malformed_http_is_answered_400_as_gos_server_answers_it(daemon, request_bytes):
    assert exchange(daemon, request_bytes) == GO_BAD_REQUEST
    with client(daemon) as api:
        assert api.get("/_ping").text == "OK"


def test_an_http_version_other_than_1_is_answered_505(daemon):
    assert exchange(daemon, b"GET /_ping HTTP/9.9\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")


@pytest.mark.parametrize(("path", "filters", "message"), [
    ("/containers/json", {"label": 5}, "json: cannot unmarshal number into Go value of type map[string]bool"),
    ("/containers/json", [], "json: cannot unmarshal array into Go value of type map[string]map[string]bool"),
    ("/containers/json", {"label": {"a": 5}}, "json: cannot unmarshal number into Go value of type bool"),
    ("/images/json", {"label": [5]}, "json: cannot unmarshal array into Go value of type map[string]bool"),
    ("/networks", {"label": [5]}, "json: cannot unmarshal array into Go value of type map[string]bool"),
    ("/volumes", {"label": [5]}, "json: cannot unmarshal array into Go value of type map[string]bool"),
], ids=["number", "list", "map of numbers", "images", "networks", "volumes"])
def test_filters_of_the_wrong_types_are_refused_in_dockerds_words(daemon, path, filters, message):
    with client(daemon) as api:
        answer = api.get(path, params={"filters": json.dumps(filters)})
        assert (answer.status_code, answer.json()) == (400, {"message": message})
        for either_form in ('{"label": ["a=b"], "status": ["exited"]}', '{"label": {"a=b": true}}'):
            assert api.get("/containers/json", params={"filters": either_form}).status_code == 200


def test_a_prune_with_filters_of_the_wrong_types_is_refused(daemon):
    with client(daemon) as api:
        answer = api.post("/containers/prune", params={"filters": '{"until": [5]}'})
    assert (answer.status_code, answer.json()) == (
        400, {"message": "json: cannot unmarshal array into Go value of type map[string]bool"})
