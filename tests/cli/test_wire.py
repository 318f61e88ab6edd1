"""The CLI's JSON and sockets without the json and socket modules: same text, values and errors as json."""
import json
import math
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


@pytest.mark.parametrize("text", [
    "-", "-0", "-0.0", "1.", ".5", "1e", "1e+", "1E-2", "1e+2", "1e-+2", "1.5e3", "2e400", "-2e400", "00", "-01", "0.0e0",
    "1_000", "+1", "0x10", "1.2.3", "1e2e3", "--1", "-Infinity", "-Inf", "Infinityx", "tru", "nul", "[1,2,]", "[1 ,2 ]",
    '"\\u12"', '"\\u00e9"', '"\\U00e9"', '"\\u+0e9"', '"\\u 0e9"', '"\\ud83d\\u0041"', '"\\ud83d\\ud83d"', '"\\udc33"',
    '"\\ud83d\\udc3"', '"\\ud83d\\"', '"\\x41"', '"\\/\\b\\f\\n\\r\\t\\\\\\""', '"\x7f\u2028"', '"tab\tinside"', '{"a":1,}',
    '{"a" : [ ] , "b" :{ }}', "{1: 2}", '{"a"}', "[" * 50 + "]" * 50, "1" * 5000, "[1]" + " " * 3, "\u00a0[1]",
])
def test_edges_of_the_grammar_read_as_with_json(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError as err:
        with pytest.raises(ValueError) as got:
            wire.loads(text)
        assert (type(got.value), str(got.value)) == (type(err), str(err))
    else:
        assert same(wire.loads(text), expected)


@pytest.mark.parametrize("value", EXAMPLES, ids=repr)
def test_the_codec_reads_and_writes_json_without_the_json_module(monkeypatch, value: object) -> None:
    texts = [json.dumps(value, **options) for options in DUMPS_OPTIONS]
    monkeypatch.setitem(sys.modules, "json", None)  # `import json` now fails
    for text, options in zip(texts, DUMPS_OPTIONS, strict=True):
        assert wire.dumps(value, **options) == text
        assert wire.raw_decode(text + " [2]") == (wire.loads(text), len(text))


def test_long_text_is_read_by_json_with_the_same_values() -> None:
    value = [{"Id": str(index) * 64, "Names": ["/é"], "Size": index / 3} for index in range(wire.LARGE // 64)]
    text = json.dumps(value)
    assert len(text) > wire.LARGE
    assert wire.loads(text) == wire.loads(text.encode()) == value


def test_a_value_that_contains_itself_is_the_value_error_json_raises() -> None:
    looped: list = [1]
    looped.append({"a": looped})
    for options in DUMPS_OPTIONS:
        with pytest.raises(ValueError, match="^Circular reference detected$"):
            json.dumps(looped, **options)
        with pytest.raises(ValueError, match="^Circular reference detected$"):
            wire.dumps(looped, **options)


def test_the_same_value_twice_is_no_loop() -> None:
    shared = {"a": [1]}
    assert wire.dumps([shared, shared, [shared]]) == json.dumps([shared, shared, [shared]])


def test_characters_beyond_the_bmp_are_escaped_as_json_escapes_them_every_time() -> None:
    # U+1F433 is U+F433 above 0x10000: the two escapes must not be confused, in either order
    for text in (["\U0001f433", "\uf433", "\U0001f433"], ["\uf433", "\U0001f433", "\uf433"], ["\U0010ffff", "\uffff"]):
        assert wire.dumps(text) == json.dumps(text)
        assert wire.loads(wire.dumps(text)) == text
