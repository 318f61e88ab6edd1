"""Choosing the daemon, and the byte-level pieces of attached I/O."""
import pytest

from berth.cli.errors import CLIError
from berth.cli.hosts import parse_host, resolve_host
from berth.cli.streams import FrameDecoder, encode_frame, parse_detach_keys
from berth.detachkeys import DetachScanner


def test_host_flag_wins_then_environment_then_default() -> None:
    assert resolve_host("unix:///flag.sock", {"BERTH_HOST": "unix:///env.sock"}) == "unix:///flag.sock"
    assert resolve_host(None, {"BERTH_HOST": "unix:///env.sock"}) == "unix:///env.sock"
    assert resolve_host(None, {}) == "unix:///run/berth/berth.sock"


def test_host_urls() -> None:
    assert parse_host("unix:///run/x.sock").path == "/run/x.sock"
    assert parse_host("tcp://127.0.0.1:2375").tcp == ("127.0.0.1", 2375)
    for bad in ("/run/x.sock", "tcp://nohostport", "unix://", "ssh://me@host"):
        with pytest.raises(CLIError, match="invalid host"):
            parse_host(bad)


def test_multiplexed_frames_split_across_reads() -> None:
    data = encode_frame(1, b"out\n") + encode_frame(2, b"err\n") + encode_frame(1, b"")
    decoder = FrameDecoder()
    frames = []
    for i in range(len(data)):
        frames.extend(decoder.feed(data[i:i + 1]))
    assert frames == [(1, b"out\n"), (2, b"err\n"), (1, b"")]


def test_detach_keys() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("a,ctrl-@") == b"a\x00"
    with pytest.raises(CLIError, match="Invalid detach keys"):
        parse_detach_keys("ctrl-pp")


def test_detach_sequence_is_held_back_and_then_reported() -> None:
    detach = DetachScanner(b"\x10\x11")
    assert detach.feed(b"ab\x10") == (b"ab", False)
    assert detach.feed(b"x") == (b"\x10x", False)
    assert detach.feed(b"\x10") == (b"", False)
    assert detach.feed(b"\x11rest") == (b"", True)
