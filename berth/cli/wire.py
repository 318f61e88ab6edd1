"""JSON for the CLI without importing the `json` module (start-up time).

`json` imports re, enum, functools and collections: 5-6 ms of every command. So JSON is read and written here, by a small codec of berth's own that
gives json's text and values for the JSON types, and leaves the rest to json itself: text the codec
does not take (invalid JSON, whose error and message are json's; bytes in UTF-16 or UTF-32, or with a
BOM) and long text (LARGE), where json's C parser pays for json's import. No private API is used for
JSON (before, this module set up json's C half, `_json`, whose signatures are CPython's business).
The CLI's unix socket is berth.cli.unixstream's.
"""
from __future__ import annotations

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LARGE", "dumps", "loads", "raw_decode"]

# Above this many characters (or bytes) loads leaves the text to json: the codec here reads about
# 15 KiB a millisecond, json's C parser some 200, and json's import costs 5-6 ms.
LARGE = 64 * 1024

_WHITESPACE = " \t\n\r"  # JSON's whitespace (str.strip() would take more)


class _NotHere(Exception):
    """What the codec here does not read (invalid JSON among it): json reads it, or says what is wrong."""


# How the codec fails over to json: _NotHere; ValueError (bytes that are not UTF-8, an integer longer
# than int() takes); RecursionError (nesting deeper than the codec's recursion goes).
_FAILOVER = (_NotHere, ValueError, RecursionError)


def loads(data: str | bytes | bytearray) -> Any:
    """json.loads(data): the same values, and the same errors (ValueError subclasses, TypeError)."""
    if isinstance(data, (str, bytes, bytearray)) and len(data) <= LARGE:
        try:
            text = data if isinstance(data, str) else data.decode()
            value, end = _scan(text, len(text) - len(text.lstrip(_WHITESPACE)))
        except _FAILOVER:
            pass
        else:
            if not text[end:].strip(_WHITESPACE):  # else: "Extra data", worded by json
                return value
    import json

    return json.loads(data)


def raw_decode(text: str, start: int = 0) -> tuple[Any, int]:
    """The JSON value that begins at text[start] and the index after it, as
    json.JSONDecoder().raw_decode; ValueError (json.JSONDecodeError) when no complete value is there."""
    try:
        return _scan(text, start)
    except _FAILOVER:
        pass
    import json

    return json.JSONDecoder().raw_decode(text, start)


_UNESCAPED = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_NUMBER_START = frozenset("-0123456789")
_NUMBER_CHARACTERS = frozenset("-+0123456789.eE")
# json.loads' defaults: NaN, Infinity and -Infinity are read as floats (parse_constant)
_LITERALS = (("true", True), ("false", False), ("null", None), ("NaN", float("nan")), ("Infinity", float("inf")),
             ("-Infinity", float("-inf")))


def _scan(text: str, start: int) -> tuple[Any, int]:
    """The JSON value at text[start] and the index after it, as json's scanner reads it with json.loads'
    defaults (strict strings; a repeated name's last value); _NotHere where the text is not JSON."""
    find = text.find
    length = len(text)

    def skip(i: int) -> int:
        while i < length and text[i] in _WHITESPACE:
            i += 1
        return i

    def string(i: int) -> tuple[str, int]:  # i: just after the opening quote
        end = find('"', i)
        if end < 0:
            raise _NotHere
        chunk = text[i:end]
        if "\\" not in chunk:
            if chunk and min(chunk) < " ":  # a control character, which strict JSON escapes
                raise _NotHere
            return chunk, end + 1
        parts = []
        while True:
            end = find('"', i)
            if end < 0:
                raise _NotHere
            escape = find("\\", i, end)
            chunk = text[i:end if escape < 0 else escape]
            if chunk:
                if min(chunk) < " ":
                    raise _NotHere
                parts.append(chunk)
            if escape < 0:
                return "".join(parts), end + 1
            kind = text[escape + 1:escape + 2]
            if kind != "u":
                if kind not in _UNESCAPED:
                    raise _NotHere
                parts.append(_UNESCAPED[kind])
                i = escape + 2
                continue
            code = _hex4(text, escape + 2)
            i = escape + 6
            if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", i):  # a surrogate pair is one character
                low = _hex4(text, i + 2)
                if 0xDC00 <= low <= 0xDFFF:
                    code = 0x10000 + ((code - 0xD800) << 10 | (low - 0xDC00))
                    i += 6
            parts.append(chr(code))

    def value(i: int) -> tuple[Any, int]:
        first = text[i:i + 1]
        if first == '"':
            return string(i + 1)
        if first == "{":
            members: dict[str, Any] = {}
            i = skip(i + 1)
            if text[i:i + 1] == "}":
                return members, i + 1
            while True:
                if text[i:i + 1] != '"':
                    raise _NotHere
                name, i = string(i + 1)
                i = skip(i)
                if text[i:i + 1] != ":":
                    raise _NotHere
                members[name], i = value(skip(i + 1))
                i = skip(i)
                if text[i:i + 1] == "}":
                    return members, i + 1
                if text[i:i + 1] != ",":
                    raise _NotHere
                i = skip(i + 1)
        if first == "[":
            items: list[Any] = []
            i = skip(i + 1)
            if text[i:i + 1] == "]":
                return items, i + 1
            while True:
                item, i = value(i)
                items.append(item)
                i = skip(i)
                if text[i:i + 1] == "]":
                    return items, i + 1
                if text[i:i + 1] != ",":
                    raise _NotHere
                i = skip(i + 1)
        if first in _NUMBER_START and not text.startswith("-I", i):
            end = i + 1
            while end < length and text[end] in _NUMBER_CHARACTERS:
                end += 1
            return _number(text[i:end]), end
        for word, constant in _LITERALS:
            if text.startswith(word, i):
                return constant, i + len(word)
        raise _NotHere

    return value(start)


def _hex4(text: str, i: int) -> int:
    digits = text[i:i + 4]
    if len(digits) != 4 or not _HEX_DIGITS.issuperset(digits):
        raise _NotHere
    return int(digits, 16)


def _number(text: str) -> int | float:
    """A JSON number (-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?) as json reads it: int() of an
    integer, float() of anything else; _NotHere for anything that is not one. `text` holds only
    characters of numbers, so isdigit() sees only ASCII digits."""
    digits = text[1:] if text.startswith("-") else text
    mantissa, exponent_mark, exponent = digits.replace("E", "e").partition("e")
    whole, point, fraction = mantissa.partition(".")
    if not whole.isdigit() or (whole.startswith("0") and len(whole) > 1):
        raise _NotHere
    if not point and not exponent_mark:
        return int(text)
    if point and not fraction.isdigit():
        raise _NotHere
    if exponent_mark and not (exponent[1:] if exponent[:1] in ("+", "-") else exponent).isdigit():
        raise _NotHere
    return float(text)


def dumps(value: Any, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = None,
          indent: int | None = None) -> str:
    """json.dumps(value, ensure_ascii=..., separators=..., indent=...) for the JSON types (dict, list,
    tuple, str, int, float, bool, None, and their subclasses); TypeError for anything else, and
    ValueError for a value that contains itself, as json raises them."""
    item_separator, key_separator = separators or ((", " if indent is None else ","), ": ")
    quote = _quote_ascii if ensure_ascii else _quote
    step = None if indent is None else " " * indent
    parts: list[str] = []
    write = parts.append
    open_containers: set[int] = set()  # json's check_circular

    def enter(container: object) -> None:
        if id(container) in open_containers:
            raise ValueError("Circular reference detected")
        open_containers.add(id(container))

    def encode(item: Any, margin: str) -> None:  # margin: a newline and the indentation of item's line
        if isinstance(item, str):
            write(quote(item))
        elif item is None:
            write("null")
        elif item is True:
            write("true")
        elif item is False:
            write("false")
        elif isinstance(item, int):
            write(int.__repr__(item))
        elif isinstance(item, float):
            write(_float_text(item))
        elif isinstance(item, (list, tuple)):
            if not item:
                write("[]")
                return
            enter(item)
            inner = margin if step is None else margin + step
            separator = item_separator + inner
            write("[" + inner)
            for index, member in enumerate(item):
                if index:
                    write(separator)
                encode(member, inner)
            write(margin + "]")
            open_containers.discard(id(item))
        elif isinstance(item, dict):
            if not item:
                write("{}")
                return
            enter(item)
            inner = margin if step is None else margin + step
            separator = item_separator + inner
            write("{" + inner)
            for index, (key, member) in enumerate(item.items()):
                if index:
                    write(separator)
                write(quote(_key_text(key)) + key_separator)
                encode(member, inner)
            write(margin + "}")
            open_containers.discard(id(item))
        else:
            raise TypeError(f"Object of type {item.__class__.__name__} is not JSON serializable")

    # without indent, no line breaks: the margins are empty
    encode(value, "" if step is None else "\n")
    return "".join(parts)


def _float_text(number: float) -> str:
    """A float as json writes it (allow_nan: NaN and the infinities as JavaScript spells them)."""
    if number != number:
        return "NaN"
    if number == float("inf"):
        return "Infinity"
    if number == -float("inf"):
        return "-Infinity"
    return float.__repr__(number)


def _key_text(key: object) -> str:
    """A member name as json writes it: a string as it is; a number, boolean or null as its JSON text."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float_text(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


# json's escapes: quotation mark, backslash, and the control characters (short forms where JSON has them)
_ESCAPES: dict[int, str] = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\b"): "\\b", ord("\f"): "\\f",
                            ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_ESCAPES.update((code, f"\\u{code:04x}") for code in range(0x20) if code not in _ESCAPES)


class _AsciiEscapes(dict[int, "str | int"]):
    """json's escapes with ensure_ascii: also DEL and every character beyond ASCII, as \\uXXXX (a
    surrogate pair beyond the BMP), each worked out the first time str.translate asks for it."""

    def __missing__(self, code: int) -> str:
        if code > 0xFFFF:
            offset = code - 0x10000
            escape = f"\\u{0xD800 | offset >> 10:04x}\\u{0xDC00 | offset & 0x3FF:04x}"
        else:
            escape = f"\\u{code:04x}"
        self[code] = escape
        return escape


# printable ASCII as it is (mapped to itself, so translate never asks __missing__ about it)
_ASCII_ESCAPES = _AsciiEscapes({code: code for code in range(0x20, 0x7F)})
_ASCII_ESCAPES.update(_ESCAPES)


def _quote(text: str) -> str:
    """json's encode_basestring: a JSON string that keeps characters beyond ASCII as they are."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + text.translate(_ESCAPES) + '"'


def _quote_ascii(text: str) -> str:
    """json's encode_basestring_ascii: a JSON string in ASCII."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + text.translate(_ASCII_ESCAPES) + '"'
