"""Property: whatever JSON a client sends in a request body, the daemon answers 2xx or a 4xx with
{"message": ...}, never a 500 or a traceback, and every client can still list and inspect what
there is afterwards. The bodies are drawn from the Go types berth reads them into: mostly of the
right shape with odd contents, sometimes any JSON in any place."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from berth.api import bodies
from berth.api.gojson import Bool, EmptyStruct, GoType, Integer, Map, Slice, String, StrSlice, Struct
from tests.engine_api import client

# Texts a parser may trip on: separators of Docker's mini-languages, paths, a NUL, non-ASCII.
TEXT = st.one_of(st.text(alphabet="/:=,.-_@ aZ09\x00é", max_size=12),
                 st.sampled_from(["", "busybox", "/", "/tmp", "host", "none", "bridge", "container:x",
                                  "80/tcp", "1g", "-1", "0", "ro", "rw", "tmpfs", "volume", "bind"]))
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])


def of_type(go: GoType, odd: bool) -> st.SearchStrategy:
    """Values of a Go type's shape with contents as odd as they come; with `odd`, one time in four
    any JSON instead, at any depth."""
    right: st.SearchStrategy
    if isinstance(go, Struct):  # a few fields at a time, so that one's check does not hide the others'
        right = st.lists(st.sampled_from(sorted(go.fields)), max_size=4, unique=True).flatmap(
            lambda names: st.fixed_dictionaries({name: of_type(go.fields[name], odd) for name in names}))
    elif isinstance(go, Slice):
        right = st.lists(of_type(go.element, odd), max_size=3)
    elif isinstance(go, Map):
        right = st.dictionaries(TEXT, of_type(go.element, odd), max_size=3)
    elif isinstance(go, StrSlice):
        right = TEXT | st.lists(TEXT, max_size=3)
    elif isinstance(go, EmptyStruct):
        right = st.just({})
    elif isinstance(go, Integer):
        right = st.integers(-3, 3) | st.integers(-(1 << 64), 1 << 64)
    elif isinstance(go, Bool):
        right = st.booleans()
    else:
        assert isinstance(go, String)
        right = TEXT
    return st.one_of(right, right, right, ANY_JSON) if odd else right


def bodies_of(go: GoType) -> st.SearchStrategy:
    """Bodies of the type's shape (which reach the daemon's own checks), and bodies with any JSON anywhere."""
    return of_type(go, odd=False) | of_type(go, odd=True)


def with_image(body: st.SearchStrategy) -> st.SearchStrategy:
    """Bodies that mostly name the image there is, so that checks past the image's are reached."""
    return st.tuples(body, st.booleans()).map(
        lambda drawn: {**drawn[0], "Image": "busybox"} if drawn[1] and isinstance(drawn[0], dict) else drawn[0])


@pytest.fixture
def api(daemon) -> Iterator[httpx.Client]:
    """The daemon's API; what the bodies made (containers, networks, volumes) goes afterwards."""
    with client(daemon) as api:
        yield api
        for container in api.get("/containers/json", params={"all": 1}).json():
            api.delete(f"/containers/{container['Id']}", params={"force": 1, "v": 1})
        for network in api.get("/networks").json():
            if network["Name"] not in ("bridge", "host", "none"):
                api.delete(f"/networks/{network['Id']}")
        for volume in api.get("/volumes").json()["Volumes"] or []:
            api.delete(f"/volumes/{volume['Name']}")


def throw(api: httpx.Client, path: str, body: object) -> None:
    answer = api.post(path, json=body)
    assert answer.status_code < 500, (answer.status_code, answer.text)
    if answer.status_code >= 400:
        message = answer.json()["message"]
        assert isinstance(message, str) and "Traceback" not in message
    listing = api.get("/containers/json", params={"all": 1})
    assert listing.status_code == 200, listing.text
    for container in listing.json():
        assert api.get(f"/containers/{container['Id']}/json").status_code == 200


def made(api: httpx.Client, *cmd: str, start: bool = False) -> str:
    container = api.post("/containers/create", json={"Image": "busybox", "Cmd": list(cmd)}).json()["Id"]
    if start:
        api.post(f"/containers/{container}/start").raise_for_status()
    return container


@given(body=with_image(bodies_of(bodies.CONTAINER_CREATE)))
@EXAMPLES
def test_any_create_body_is_answered_without_a_server_error(api, body):
    throw(api, "/containers/create", body)


@given(body=bodies_of(bodies.CONTAINER_UPDATE))
@EXAMPLES
def test_any_update_body_is_answered_without_a_server_error(api, body):
    throw(api, f"/containers/{made(api, 'true')}/update", body)


@given(body=bodies_of(bodies.EXEC_CONFIG))
@EXAMPLES
def test_any_exec_body_is_answered_without_a_server_error(api, body):
    running = api.get("/containers/json", params={"filters": '{"name": ["exec-target"]}'}).json()
    target = running[0]["Id"] if running else made(api, "sleep", "1000", start=True)
    api.post(f"/containers/{target}/rename", params={"name": "exec-target"})
    throw(api, f"/containers/{target}/exec", body)


@given(body=bodies_of(bodies.NETWORK_CREATE), connect=bodies_of(bodies.NETWORK_CONNECT),
       disconnect=bodies_of(bodies.NETWORK_DISCONNECT))
@EXAMPLES
def test_any_network_body_is_answered_without_a_server_error(api, body, connect, disconnect):
    throw(api, "/networks/create", body)
    throw(api, "/networks/bridge/connect", connect)
    throw(api, "/networks/bridge/disconnect", disconnect)


@given(body=bodies_of(bodies.VOLUME_CREATE))
@EXAMPLES
def test_any_volume_body_is_answered_without_a_server_error(api, body):
    throw(api, "/volumes/create", body)

