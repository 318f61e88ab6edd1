"""Sizes, durations and times printed and parsed as docker does."""
import pytest

from berth.cli.units import (api_timestamp, bytes_size, human_duration, human_size, parse_go_duration,
                             ram_in_bytes, since)


@pytest.mark.parametrize("size, text", [(0, "0B"), (999, "999B"), (1000, "1kB"), (1_990_000, "1.99MB"),
                                        (4_200_000, "4.2MB"), (1_234_567_890, "1.23GB"), (999_500, "1e+03kB")])
def test_human_size_is_decimal_with_three_significant_digits(size: int, text: str) -> None:
    assert human_size(size) == text


def test_bytes_size_is_binary() -> None:
    assert bytes_size(1024 * 1024) == "1MiB"
    assert bytes_size(1536) == "1.5KiB"


@pytest.mark.parametrize("seconds, text", [
    (0.2, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"), (3600, "About an hour"),
    (2 * 3600, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"), (15 * 86400, "2 weeks"),
    (70 * 86400, "2 months"), (800 * 86400, "2 years"),
])
def test_human_duration_matches_go_units(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_since_says_ago() -> None:
    assert since(1000, now=1120) == "2 minutes ago"


@pytest.mark.parametrize("text, size", [("512m", 512 * 1024 ** 2), ("1g", 1024 ** 3), ("1.5GB", int(1.5 * 1024 ** 3)),
                                        ("100", 100), ("64k", 65536), ("2MiB", 2 * 1024 ** 2)])
def test_memory_sizes_parse_with_binary_multiples(text: str, size: int) -> None:
    assert ram_in_bytes(text) == size


def test_bad_memory_size_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid size"):
        ram_in_bytes("lots")


def test_go_durations() -> None:
    assert parse_go_duration("1h30m") == 5400
    assert parse_go_duration("10s") == 10
    assert parse_go_duration("1.5m") == 90
    with pytest.raises(ValueError):
        parse_go_duration("10 minutes")


def test_since_and_until_values_become_api_timestamps() -> None:
    assert api_timestamp("1700000000") == "1700000000"
    assert api_timestamp("10m", now=1700000600.0) == "1700000000.000000000"
    assert api_timestamp("2023-11-14T22:13:20Z") == "1700000000.000000000"
    assert api_timestamp("2023-11-14T23:13:20+01:00") == "1700000000.000000000"
    with pytest.raises(ValueError):
        api_timestamp("yesterday")
