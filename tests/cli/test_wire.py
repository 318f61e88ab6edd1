"""The CLI's JSON and sockets without the json and socket modules: same text, values and errors as json."""
import json
import math
import os
import socket
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.cli import wire

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.tuples(children, children),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)
# every way the CLI calls json.dumps: requests, filters, `inspect`, templates' `json`, `js`, `printf %q`
DUMPS_OPTIONS = [{}, {"separators": (",", ":")}, {"ensure_ascii": False, "separators": (",", ":")},
                 {"ensure_ascii": False}, {"indent": 4, "ensure_ascii": False}, {"indent": 2}]


def same(left: object, right: object) -> bool:
    """Equal, with NaN equal to NaN (json decodes "NaN" and writes nan as NaN)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    return type(left) is type(right) and left == right


EXAMPLES = [
    None, True, False, 0, -1, 2**70, 1.5, -0.0, 1e300, float("inf"), float("-inf"), float("nan"), "", "plain",
    "é ü 中文 🐳", "quote \" backslash \\ controls \n\t\x00\x1f", "\ud800 lone surrogate", [], {}, [[]], {"": {}},
    {"Id": "abc", "State": {"Running": True, "ExitCode": 0, "Pid": 42}, "Env": ["A=1", "PATH=/bin"],
     "Labels": {"com.example": "ü"}, "Size": None, "Ratio": 0.25},
    [1, "two", [3.0, {"four": [None]}]], (1, 2), {"t": (3, [4])},
]


@pytest.mark.parametrize("options", DUMPS_OPTIONS)
@pytest.mark.parametrize("value", EXAMPLES, ids=repr)
def test_dumps_writes_what_json_writes(value: object, options: dict) -> None:
    assert wire.dumps(value, **options) == json.dumps(value, **options)


@pytest.mark.parametrize("options", DUMPS_OPTIONS)
def test_non_string_keys_are_written_as_json_writes_them(options: dict) -> None:
    value = {7: "int", 2.5: "float", True: "bool", None: "null", float("inf"): "inf", "s": [{0: {}}]}
    assert wire.dumps(value, **options) == json.dumps(value, **options)


@pytest.mark.parametrize("options", DUMPS_OPTIONS)
@pytest.mark.parametrize("value", [object(), {"a": {1, 2}}, [b"bytes"], {(1, 2): "tuple key"}], ids=repr)
def test_what_json_cannot_write_is_a_type_error_as_with_json(value: object, options: dict) -> None:
    with pytest.raises(TypeError) as expected:
        json.dumps(value, **options)
    with pytest.raises(TypeError) as got:
        wire.dumps(value, **options)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("value", EXAMPLES, ids=repr)
def test_loads_reads_what_json_reads(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False), json.dumps(value, indent=2)):
        assert same(wire.loads(text), json.loads(text))
        data = text.encode("utf-8", "surrogatepass")
        assert same(wire.loads(data), json.loads(data))
        assert same(wire.loads(bytearray(data)), json.loads(data))


@pytest.mark.parametrize("text", [
    ' \t\r\n{"a": 1}\n ',  # whitespace around the value
    '"\\u00e9\\ud83d\\udc33"', "[1e3, -0, 0.5E-2, 10000000000000000000000]", "NaN", "[-Infinity]",
    '{"dup": 1, "dup": 2}',
])
def test_loads_accepts_what_json_accepts(text: str) -> None:
    assert same(wire.loads(text), json.loads(text))


@pytest.mark.parametrize("data", [
    "\ufeff[1]".encode(), "[1]".encode("utf-16"), '{"a": "é"}'.encode("utf-16-le"), "[1]".encode("utf-32-be"),
    '"\ud800"'.encode("utf-8", "surrogatepass"),
])
def test_bytes_json_reads_in_other_encodings_decode_too(data: bytes) -> None:
    assert same(wire.loads(data), json.loads(data))


@pytest.mark.parametrize("text", [
    "", "   ", "[1,", '{"a" 1}', '"open', "x", "[1 2]", "[1] [2]", "{'a': 1}", "[1,]", '"\x01"', "\ufeff[1]",
    "1\x0b", "\x0c1", "01", "nan", '{"a": 1}}', b"\xff[1]",
])
def test_invalid_json_is_the_value_error_json_raises(text: str | bytes) -> None:
    with pytest.raises(ValueError) as expected:  # JSONDecodeError; UnicodeDecodeError for bad UTF-8
        json.loads(text)
    with pytest.raises(ValueError) as got:
        wire.loads(text)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


def test_not_text_is_a_type_error_as_with_json() -> None:
    with pytest.raises(TypeError):
        wire.loads(42)  # type: ignore[arg-type]


def test_raw_decode_reads_one_value_and_says_where_it_ends() -> None:
    assert wire.raw_decode('{"a": [1]}{"b": 2}') == ({"a": [1]}, 10)
    assert wire.raw_decode('xx[1, 2] rest', 2) == ([1, 2], 8)
    for incomplete in ('{"status": "Pulling', "[1, 2", ""):
        with pytest.raises(ValueError):
            wire.raw_decode(incomplete)


@settings(max_examples=400, deadline=None)
@given(value=VALUES, options=st.sampled_from(DUMPS_OPTIONS))
def test_any_json_value_round_trips_exactly_as_with_json(value: object, options: dict) -> None:
    text = wire.dumps(value, **options)
    assert text == json.dumps(value, **options)
    assert same(wire.loads(text), json.loads(text))


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(), st.text(alphabet=' \t\n\r[]{}",:0123456789.eE+-truefalsnul\\')))
def test_any_text_decodes_or_fails_exactly_as_with_json(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError as err:
        with pytest.raises(ValueError) as got:
            wire.loads(text)
        assert str(got.value) == str(err)
    else:
        assert same(wire.loads(text), expected)


def test_unix_socket_connects_and_reports_a_missing_socket_as_socket_does(tmp_path) -> None:
    path = str(tmp_path / "s.sock")
    with pytest.raises(FileNotFoundError):
        wire.unix_socket(path)
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        sock = wire.unix_socket(path)
        peer, _ = listener.accept()
        with peer:
            sock.sendall(b"ping")
            assert peer.recv(4) == b"ping"
            sock.shutdown(wire.SHUT_WR)
            assert peer.recv(4) == b""
            peer.sendall(b"pong")
            assert sock.recv(4) == b"pong"
        sock.close()
    os.unlink(path)
    with open(path, "w"):
        pass
    with pytest.raises(ConnectionRefusedError):  # a file that is no socket
        wire.unix_socket(path)


def test_without_the_c_accelerator_json_does_the_work(monkeypatch) -> None:
    """Interpreters without `_json` (not CPython) get json itself."""
    import importlib.util

    monkeypatch.setitem(sys.modules, "_json", None)  # `import _json` now fails
    spec = importlib.util.spec_from_file_location("wire_without_json_c", wire.__file__)
    fallback = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fallback)
    assert fallback._json is None
    for value in EXAMPLES:
        for options in DUMPS_OPTIONS:
            assert fallback.dumps(value, **options) == json.dumps(value, **options)
        assert same(fallback.loads(json.dumps(value)), json.loads(json.dumps(value)))
    assert fallback.raw_decode("[1] [2]") == ([1], 3)
    with pytest.raises(json.JSONDecodeError):
        fallback.loads("[1,")
