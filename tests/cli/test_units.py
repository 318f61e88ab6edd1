"""Sizes, durations and times printed and parsed as docker does."""
import pytest

from berth.cli.units import (
    api_timestamp,
    bytes_size,
    human_duration,
    human_size,
    parse_go_duration,
    ram_in_bytes,
    since,
)


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
                                        ("100", 100), ("64k", 65536), ("2MiB", 2 * 1024 ** 2), ("12 m", 12 << 20),
                                        ("12b", 12), ("1e3k", 1024000), (".5m", 1 << 19), ("12.5k", 12800)])
def test_memory_sizes_parse_with_binary_multiples(text: str, size: int) -> None:
    assert ram_in_bytes(text) == size


# what the docker 28 CLI answers for these (`docker create -m TEXT`)
@pytest.mark.parametrize("text, error", [
    ("lots", "invalid size: 'lots'"), ("m", "invalid size: 'm'"), ("-1m", "invalid size: '-1m'"),
    ("12q", "invalid suffix: 'q'"), ("12mbb", "invalid suffix: 'mbb'"), ("12bb", "invalid suffix: 'bb'"),
    ("12QQQQ", "invalid suffix: 'QQQQ'"),
    ("1.2.3m", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    (" 12m", 'strconv.ParseFloat: parsing " 12": invalid syntax'),
    ("0x10", 'strconv.ParseFloat: parsing "0x10": invalid syntax'),
])
def test_bad_memory_sizes_are_refused_in_dockers_words(text: str, error: str) -> None:
    with pytest.raises(ValueError) as refused:
        ram_in_bytes(text)
    assert str(refused.value) == error


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
