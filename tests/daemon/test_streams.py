"""Pure parts of attaching: detach keys, and Docker's wording of durations."""
from __future__ import annotations

import pytest

from berth.detachkeys import DetachScanner
from berth.detachkeys import parse as parse_detach_keys
from berth.durations import human_duration
from berth.timestamps import parse_seconds, rfc3339_nano


def test_ctrl_p_ctrl_q_detaches_and_nothing_else_is_lost():
    scanner = DetachScanner(parse_detach_keys("ctrl-p,ctrl-q"))
    assert scanner.feed(b"ls\r") == (b"ls\r", False)
    assert scanner.feed(b"a\x10") == (b"a", False)
    assert scanner.feed(b"x") == (b"\x10x", False)  # a lone Ctrl-P is passed on
    assert scanner.feed(b"\x10\x11rest") == (b"", True)


def test_detach_keys_can_be_chosen():
    assert parse_detach_keys("ctrl-a,x") == b"\x01x"
    assert DetachScanner(parse_detach_keys("ctrl-a,x")).feed(b"hi\x01x") == (b"hi", True)
    with pytest.raises(ValueError, match="Invalid escape keys"):
        parse_detach_keys("ctrl-?,nonsense", noun="escape")


@pytest.mark.parametrize("seconds, words", [
    (0.2, "Less than a second"), (1, "1 second"), (42, "42 seconds"), (61, "About a minute"),
    (600, "10 minutes"), (3600, "About an hour"), (5 * 3600, "5 hours"), (3 * 86400, "3 days"),
])
def test_durations_read_like_dockers(seconds, words):
    assert human_duration(seconds) == words


def test_rfc3339_times_round_trip_with_nanoseconds():
    stamp = rfc3339_nano(1_700_000_000_123_456_789)
    assert stamp == "2023-11-14T22:13:20.123456789Z"
    assert parse_seconds(stamp) == pytest.approx(1_700_000_000.123456789)
    assert parse_seconds("2023-11-14T23:13:20+01:00") == 1_700_000_000
