"""json-file logs rotated by `--log-opt max-size/max-file` (or daemon.json log-opts), read back whole."""
from __future__ import annotations

import os
from pathlib import Path

from tests.daemon_harness import running_daemon

WRITE_40_LINES = "i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); done"


def lines(text: str) -> list[str]:
    return text.split()


def test_a_full_log_moves_aside_and_logs_reads_what_is_kept(daemon):
    container = daemon.berth("run", "-d", "--log-opt", "max-size=200", "--log-opt", "max-file=3", "busybox", "sh",
                             "-c", WRITE_40_LINES).stdout.strip()
    daemon.berth("wait", container)
    log = Path(daemon.berth("inspect", "-f", "{{.LogPath}}", container).stdout.strip())
    assert sorted(p.name.removeprefix(log.name) for p in log.parent.glob(log.name + "*")) == ["", ".1", ".2"]
    assert all(os.path.getsize(f"{log}.{n}") >= 200 for n in (1, 2))
    kept = lines(daemon.berth("logs", container).stdout)
    assert kept == [f"line{n}" for n in range(40 - len(kept), 40)] and 3 <= len(kept) < 40
    assert lines(daemon.berth("logs", "--tail", "2", container).stdout) == ["line38", "line39"]


def test_one_file_is_emptied_in_place(daemon):
    container = daemon.berth("run", "-d", "--log-opt", "max-size=100", "--log-opt", "max-file=1", "busybox", "sh",
                             "-c", WRITE_40_LINES).stdout.strip()
    daemon.berth("wait", container)
    kept = lines(daemon.berth("logs", container).stdout)
    assert kept[-1] == "line39" and len(kept) < 3


def test_follow_goes_on_across_a_rotation(daemon):
    container = daemon.berth("run", "-d", "--log-opt", "max-size=1k", "--log-opt", "max-file=50", "busybox", "sh",
                             "-c", "sleep 0.5; i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done").stdout.strip()
    followed = lines(daemon.berth("logs", "-f", container).stdout)
    assert followed == [f"line{n}" for n in range(300)]


def test_bad_log_options_are_refused_in_dockers_words(daemon):
    cases = {
        "max-size=abc": "failed to initialize logging driver: invalid size: 'abc'",
        "max-file=0": "failed to initialize logging driver: max-file cannot be less than 1",
        "compress=true": "compress cannot be true when max-file is less than 2 or max-size is not set",
        "labels=a": "the json-file log opt 'labels' is not supported by berth yet",
    }
    for option, message in cases.items():
        result = daemon.berth("create", "--log-opt", option, "busybox", "true", check=False)
        assert result.returncode != 0 and message in result.stderr, (option, result.stderr)


def test_daemon_json_log_opts_apply_to_containers_that_set_none(busybox_tar):
    with running_daemon(busybox_tar, {"log-opts": {"max-size": "200", "max-file": "2"}}) as daemon:
        container = daemon.berth("run", "-d", "busybox", "sh", "-c", WRITE_40_LINES).stdout.strip()
        daemon.berth("wait", container)
        assert daemon.berth("inspect", "-f", "{{json .HostConfig.LogConfig.Config}}", container).stdout == \
            '{"max-file":"2","max-size":"200"}\n'
        assert len(lines(daemon.berth("logs", container).stdout)) < 40
