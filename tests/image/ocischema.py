"""Validation against the OCI image-spec JSON schemas installed with the Go sources."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path("/usr/share/gocode/src/github.com/opencontainers/image-spec/schema")


def _retrieve(uri: str) -> Resource:
    return DRAFT4.create_resource(json.loads((SCHEMAS / uri.rsplit("/", 1)[-1]).read_text()))


def validate(document: object, schema_file: str) -> None:
    """Raise jsonschema.ValidationError unless `document` satisfies the named schema."""
    schema = json.loads((SCHEMAS / schema_file).read_text())
    registry = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    jsonschema.Draft4Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker()).validate(document)
