"""berth's Go types of the request bodies against the Engine API's own description of them, the
swagger spec of dockerd 20.10 (Debian's golang-github-docker-docker-dev): every field the spec
names is known, with a type of the same kind, down to the innermost struct. Where the spec and the
Go types dockerd decodes with differ, the Go types win; those few places are listed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from berth.api import bodies
from berth.api.gojson import Bool, EmptyStruct, GoType, Integer, Map, Slice, String, StrSlice, Struct

SWAGGER = Path("/usr/share/gocode/src/github.com/docker/docker/api/swagger.yaml")
KINDS: dict[str, tuple[type, ...]] = {
    "integer": (Integer,), "string": (String,), "boolean": (Bool,), "array": (Slice, StrSlice),
    "object": (Struct, Map, EmptyStruct),
}
# (body, field path): why the spec's word is not dockerd's
GO_DIFFERS = {
    ("update", "Init"): "the spec puts Init in Resources; Go's HostConfig has it, so an update ignores it",
}
BODIES = {  # the request, and the struct berth reads its body into
    ("post", "/containers/create"): ("create", bodies.CONTAINER_CREATE),
    ("post", "/containers/{id}/update"): ("update", bodies.CONTAINER_UPDATE),
    ("post", "/containers/{id}/exec"): ("exec", bodies.EXEC_CONFIG),
    ("post", "/exec/{id}/start"): ("exec start", bodies.EXEC_START),
    ("post", "/networks/create"): ("network create", bodies.NETWORK_CREATE),
    ("post", "/networks/{id}/connect"): ("connect", bodies.NETWORK_CONNECT),
    ("post", "/networks/{id}/disconnect"): ("disconnect", bodies.NETWORK_DISCONNECT),
    ("post", "/volumes/create"): ("volume create", bodies.VOLUME_CREATE),
    ("post", "/auth"): ("auth", bodies.AUTH_CONFIG),
    ("post", "/commit"): ("commit", bodies.COMMIT_CONFIG),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SWAGGER.read_text())


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed and its allOf parts merged into one."""
    if "$ref" in schema:
        return resolve(spec, spec["definitions"][schema["$ref"].rpartition("/")[2]])
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema.get("allOf", []):
        part = resolve(spec, part)
        merged["type"] = part.get("type", merged.get("type"))
        merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
    return merged


def mismatches(spec: dict[str, Any], body: str, schema: dict[str, Any], go: GoType, path: str = "") -> list[str]:
    """Where the spec and the Go type disagree: unknown fields, other kinds, recursively."""
    schema = resolve(spec, schema)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind is not None and not isinstance(go, KINDS[kind]):
        return [f"{path}: the spec says {kind}, berth has {go.name}"]
    if isinstance(go, Slice) and "items" in schema:
        return mismatches(spec, body, schema["items"], go.element, path)
    if isinstance(go, Map) and isinstance(schema.get("additionalProperties"), dict):
        return mismatches(spec, body, schema["additionalProperties"], go.element, path)
    if not isinstance(go, Struct):
        return []
    found = []
    for name, field_schema in schema.get("properties", {}).items():
        where = f"{path}.{name}".lstrip(".")
        if (body, where) in GO_DIFFERS:
            continue
        if name not in go.fields:
            found.append(f"{where}: not in {go.name}")
        else:
            found += mismatches(spec, body, field_schema, go.fields[name], where)
    return found


@pytest.mark.parametrize(("method", "path"), list(BODIES), ids=[body for body, _ in BODIES.values()])
def test_berths_types_know_every_field_the_spec_names_with_its_kind(spec, method, path):
    [parameter] = [p for p in spec["paths"][path][method]["parameters"] if p["in"] == "body"]
    body, struct = BODIES[(method, path)]
    assert mismatches(spec, body, parameter["schema"], struct) == []
