"""JSON and unix sockets for the CLI without importing the `json` and `socket` modules (start-up time).

`json` imports re, enum, functools and collections; `socket` imports enum, selectors and array: a few
milliseconds of every command. The C accelerators those modules use themselves (`_json`, `_socket`)
do the work here, set up as json.dumps and json.loads set them up, so the results are json's. Their
signatures are CPython's own business and may change: at import a round trip checks that they still
work as set up here, and where they do not (or an interpreter lacks them), the public modules take
over, at the cost of their import.
"""
from __future__ import annotations

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from socket import socket as Socket
    from typing import Any

try:
    import _json as _json_c
except ImportError:  # an interpreter without json's C half: json does it all
    _json_c = None  # type: ignore[assignment]

try:
    from _socket import AF_UNIX, SHUT_WR, SOCK_STREAM
    from _socket import socket as _new_socket
except ImportError:
    from socket import AF_UNIX, SHUT_WR, SOCK_STREAM  # type: ignore[assignment]
    from socket import socket as _new_socket  # type: ignore[assignment]

__all__ = ["SHUT_WR", "dumps", "loads", "raw_decode", "unix_socket"]

_WHITESPACE = " \t\n\r"  # JSON's whitespace (str.strip() would take more)


class _DecoderSettings:
    """What the C scanner reads from a json.JSONDecoder: the settings of json.loads' default decoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__


def _accelerated(module: Any) -> tuple[Any, Any]:
    """(json's C module, its scanner) when they work as this module sets them up, else (None, None)."""
    probe = '{"a": [1, 2.5, "\\u00e9", true, null]}'
    try:
        scan = module.make_scanner(_DecoderSettings())
        encoder = module.make_encoder({}, _unserializable, module.encode_basestring_ascii, None, ": ", ", ",
                                      False, False, True)
        if scan(probe, 0) == ({"a": [1, 2.5, "\u00e9", True, None]}, len(probe)) \
                and "".join(encoder(scan(probe, 0)[0], 0)) == probe:
            return module, scan
    except Exception:  # noqa: BLE001 - a changed private signature, whatever it raises
        pass
    return None, None


def _unserializable(value: object) -> None:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_json, _scan = _accelerated(_json_c) if _json_c is not None else (None, None)

# How the fast path fails: StopIteration (no value where one should begin), ValueError (bytes that are
# not UTF-8; invalid JSON once json is imported), SystemError (invalid JSON before: the C scanner
# raises json.JSONDecodeError only when it finds json.decoder imported). Then json parses the text
# again: its exception, message and position are what callers see, and what the fast path does not
# take (UTF-16 and UTF-32 bytes, which json.loads reads too) still decodes.
_FAST_PATH_FAILURES = (StopIteration, ValueError, SystemError)


def raw_decode(text: str, start: int = 0) -> tuple[Any, int]:
    """The JSON value that begins at text[start] and the index after it, as
    json.JSONDecoder().raw_decode; ValueError (json.JSONDecodeError) when no complete value is there."""
    if _scan is not None:
        try:
            return _scan(text, start)
        except _FAST_PATH_FAILURES:
            pass
    import json

    return json.JSONDecoder().raw_decode(text, start)


def loads(data: str | bytes | bytearray) -> Any:
    """json.loads(data): the same values, and the same errors (ValueError subclasses, TypeError)."""
    if _scan is not None and isinstance(data, (str, bytes, bytearray)):
        try:
            text = data if isinstance(data, str) else data.decode()
            value, end = _scan(text, len(text) - len(text.lstrip(_WHITESPACE)))
        except _FAST_PATH_FAILURES:
            pass
        else:
            if not text[end:].strip(_WHITESPACE):  # else: "Extra data", worded by json
                return value
    import json

    return json.loads(data)


def dumps(value: Any, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = None,
          indent: int | None = None) -> str:
    """json.dumps(value, ensure_ascii=..., separators=..., indent=...) for the JSON types (dict, list,
    tuple, str, int, float, bool, None, and their subclasses); TypeError for anything else."""
    if _json is None:
        import json

        return json.dumps(value, ensure_ascii=ensure_ascii, separators=separators, indent=indent)
    item_separator, key_separator = separators or ((", " if indent is None else ","), ": ")
    quote = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    encoder = _json.make_encoder({}, _unserializable, quote, None, key_separator, item_separator,
                                 False, False, True)  # sort_keys, skipkeys, allow_nan: json's defaults

    def encode(item: object) -> str:
        return "".join(encoder(item, 0))

    if indent is None:
        return encode(value)
    return _indented(value, encode, quote, " " * indent, "", item_separator, key_separator)


def _indented(value: Any, encode: Callable[[object], str], quote: Callable[[str], str], step: str,
              margin: str, item_separator: str, key_separator: str) -> str:
    """json.dumps' layout with `indent`, which the C encoder lacks: one member per line, everything
    else (empty containers too) as the C encoder writes it. For values decoded from JSON, like the
    objects `inspect` prints: they cannot be circular."""
    if not isinstance(value, (dict, list, tuple)) or not value:
        return encode(value)
    inner = margin + step

    def member(item: Any) -> str:
        return _indented(item, encode, quote, step, inner, item_separator, key_separator)

    if isinstance(value, dict):
        members = [quote(_key_text(key, encode)) + key_separator + member(item) for key, item in value.items()]
        opening, closing = "{", "}"
    else:
        members = [member(item) for item in value]
        opening, closing = "[", "]"
    return f"{opening}\n{inner}" + f"{item_separator}\n{inner}".join(members) + f"\n{margin}{closing}"


def _key_text(key: object, encode: Callable[[object], str]) -> str:
    """A member name as json writes it: a string as it is; a number, boolean or null as its JSON text."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (int, float)):
        return encode(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def unix_socket(path: str) -> Socket:
    """A stream socket connected to the unix socket at `path` (OSError as socket.socket raises them)."""
    sock = _new_socket(AF_UNIX, SOCK_STREAM)
    try:
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock  # type: ignore[return-value]  # socket.socket's C base, without the socket module's import
