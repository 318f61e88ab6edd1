"""Request bodies read as dockerd reads them: Go's encoding/json decoding into the Engine API's Go
types. A value of the wrong type is refused in Go's words ("json: cannot unmarshal string into Go
struct field HostConfig.HostConfig.Memory of type int64"); what passes is the body as the daemon's
services may trust it: field names spelt as the type spells them (Go matches them in any case),
fields the type does not have left out, a null field left out (Go leaves it unset), a null inside a
list or map made the element type's zero value, and every number of an integer type an int in range.

Only the types the bodies use are here: strings, booleans, integers, slices, maps with string keys,
structs, Docker's StrSlice (a string or a list of strings) and the empty struct of port and volume
sets. The types themselves are in berth.api.bodies.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class DecodeError(ValueError):
    """The body is not JSON, or not of the type's shape; the message is what the client sees."""


class _Literal(float):
    """A JSON number with a fraction or exponent, which keeps its text for Go's error messages."""

    text: str

    def __new__(cls, text: str) -> _Literal:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def loads(data: bytes) -> Any:
    """JSON as Go reads it: NaN and Infinity are no JSON; a number keeps the text it was written as."""
    try:
        return json.loads(data, parse_float=_Literal, parse_constant=_no_constant)
    except ValueError as exc:  # UnicodeDecodeError too
        raise DecodeError(f"invalid JSON body: {exc}") from None


@dataclass(frozen=True)
class Where:
    """Where a value sits, as Go's errors name it: the innermost struct and the field names from the top."""

    struct: str | None = None
    fields: tuple[str, ...] = ()

    def refuse(self, value: Any, type_name: str, with_literal: bool = False) -> DecodeError:
        kind = _json_kind(value)
        if with_literal:
            kind += f" {value.text if isinstance(value, _Literal) else value}"
        place = f"Go struct field {self.struct}.{'.'.join(self.fields)}" if self.struct else "Go value"
        return DecodeError(f"json: cannot unmarshal {kind} into {place} of type {type_name}")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class GoType(Protocol):
    """A Go type as the decoder sees it: its name in messages, its zero value, how a value is read."""

    @property
    def name(self) -> str: ...

    def zero(self) -> Any: ...

    def decode(self, value: Any, where: Where) -> Any:
        """The value checked and normalised (never null: the caller deals with that)."""
        ...


@dataclass(frozen=True)
class String:
    name: str = "string"

    def zero(self) -> str:
        return ""

    def decode(self, value: Any, where: Where) -> str:
        if not isinstance(value, str):
            raise where.refuse(value, self.name)
        return value


@dataclass(frozen=True)
class Bool:
    name: str = "bool"

    def zero(self) -> bool:
        return False

    def decode(self, value: Any, where: Where) -> bool:
        if not isinstance(value, bool):
            raise where.refuse(value, self.name)
        return value


@dataclass(frozen=True)
class Integer:
    """Go's signed and unsigned integers: a number with no fraction or exponent, in range."""

    name: str
    bits: int
    signed: bool = True

    def zero(self) -> int:
        return 0

    def decode(self, value: Any, where: Where) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise where.refuse(value, self.name)
        low, high = (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) if self.signed else (0, (1 << self.bits) - 1)
        if isinstance(value, float) or not low <= value <= high:
            raise where.refuse(value, self.name, with_literal=True)
        return value


@dataclass(frozen=True)
class Slice:
    element: GoType
    type_name: str = ""  # a named slice type's name

    @property
    def name(self) -> str:
        return self.type_name or f"[]{self.element.name}"

    def zero(self) -> list[Any]:
        return []

    def decode(self, value: Any, where: Where) -> list[Any]:
        if not isinstance(value, list):
            raise where.refuse(value, self.name)
        return [self.element.zero() if item is None else self.element.decode(item, where) for item in value]


@dataclass(frozen=True)
class Map(GoType):
    """A map with string keys."""

    element: GoType
    type_name: str = ""  # a named map type's name

    @property
    def name(self) -> str:
        return self.type_name or f"map[string]{self.element.name}"

    def zero(self) -> dict[str, Any]:
        return {}

    def decode(self, value: Any, where: Where) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise where.refuse(value, self.name)
        return {key: self.element.zero() if item is None else self.element.decode(item, where)
                for key, item in value.items()}


@dataclass(frozen=True)
class EmptyStruct:
    """`struct {}`, the values of Docker's port and volume sets: any object, read as {}."""

    name: str = "struct {}"

    def zero(self) -> dict[str, Any]:
        return {}

    def decode(self, value: Any, where: Where) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise where.refuse(value, self.name)
        return {}


@dataclass(frozen=True)
class StrSlice:
    """Docker's strslice.StrSlice: a list of strings, or one string standing for a list of it. Go
    reports any other value as one that is no string."""

    name: str = "string"

    def zero(self) -> list[str]:
        return []

    def decode(self, value: Any, where: Where) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(item, str) or item is None for item in value):
            raise where.refuse(value, self.name)
        return ["" if item is None else item for item in value]


@dataclass(frozen=True)
class Struct:
    """A struct: `name` is Go's qualified type name (`container.HostConfig`), `fields` its JSON
    fields, embedded structs' fields among them as Go promotes them."""

    name: str
    fields: Mapping[str, GoType] = field(default_factory=dict)

    def zero(self) -> dict[str, Any]:
        return {}

    def decode(self, value: Any, where: Where) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise where.refuse(value, self.name)
        folded = {name.casefold(): name for name in self.fields}
        decoded: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in self.fields else folded.get(key.casefold())
            if name is None or item is None:
                continue
            inner = Where(self.name.rpartition(".")[2], (*where.fields, name))
            decoded[name] = self.fields[name].decode(item, inner)
        return decoded


def decode(body: bytes, into: Struct) -> dict[str, Any]:
    """A request body read into a struct type; an empty body or null is the empty struct."""
    value = loads(body) if body.strip() else None
    return {} if value is None else into.decode(value, Where())
