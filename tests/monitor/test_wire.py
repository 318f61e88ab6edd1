"""The formats a monitor writes: frames to clients and Docker's json-file log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from berth.monitor.frames import MAX_PAYLOAD, FrameType, encode, split
from berth.monitor.jsonlog import MAX_LINE, JsonLog

pytestmark = pytest.mark.any_user  # no container, no kernel: see tests/conftest.py


def test_a_frame_is_type_three_zero_bytes_and_a_big_endian_length() -> None:
    assert encode(FrameType.STDERR, b"abc") == b"\x02\x00\x00\x00\x00\x00\x00\x03abc"


def test_split_takes_whole_frames_and_keeps_the_rest_for_later() -> None:
    buffer = bytearray(encode(FrameType.STDIN, b"hi") + encode(FrameType.CLOSE_STDIN) + encode(5, b"{}")[:9])
    assert split(buffer) == [(FrameType.STDIN, b"hi"), (FrameType.CLOSE_STDIN, b"")]
    assert bytes(buffer) == encode(5, b"{}")[:9]


def test_split_refuses_an_oversized_frame() -> None:
    with pytest.raises(ValueError):
        split(bytearray(b"\x00\x00\x00\x00" + (MAX_PAYLOAD + 1).to_bytes(4, "big")))


def read_log(path: Path) -> list[tuple[str, str]]:
    return [(e["stream"], e["log"]) for e in map(json.loads, path.read_text().splitlines())]


def test_log_has_one_entry_per_line_and_holds_a_line_until_its_newline(tmp_path: Path) -> None:
    log = JsonLog(str(tmp_path / "c-json.log"))
    log.write("stdout", b"one\ntw")
    log.write("stderr", b"err\r\n")
    log.write("stdout", b"o\nthree")
    log.close()
    assert read_log(tmp_path / "c-json.log") == [
        ("stdout", "one\n"), ("stderr", "err\r\n"), ("stdout", "two\n"), ("stdout", "three")]


def test_a_line_longer_than_the_limit_is_logged_in_pieces(tmp_path: Path) -> None:
    log = JsonLog(str(tmp_path / "c-json.log"))
    log.write("stdout", b"x" * (MAX_LINE + 1))
    log.write("stdout", b"y\n")
    log.close()
    assert read_log(tmp_path / "c-json.log") == [("stdout", "x" * (MAX_LINE + 1)), ("stdout", "y\n")]


def test_log_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    for word in (b"first\n", b"second\n"):
        log = JsonLog(str(path))
        log.write("stdout", word)
        log.close()
    assert read_log(path) == [("stdout", "first\n"), ("stdout", "second\n")]
