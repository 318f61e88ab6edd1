"""Health checks: `--health-*` and an image's HEALTHCHECK, State.Health, ps and events, as with dockerd."""
from __future__ import annotations

import json

from tests.waiting import eventually


def health(daemon, container: str) -> dict:
    return json.loads(daemon.berth("inspect", "-f", "{{json .State.Health}}", container).stdout)


def wait_for(daemon, container: str, status: str) -> dict:
    return eventually(lambda: (current := health(daemon, container))["Status"] == status and current,
                      f"the health of {container} to be {status}", timeout=20)


def test_a_passing_check_makes_the_container_healthy(daemon):
    container = daemon.berth("run", "-d", "--health-cmd", "echo fine", "--health-interval", "100ms",
                             "busybox", "sleep", "100").stdout.strip()
    assert health(daemon, container)["Status"] in ("starting", "healthy")
    state = wait_for(daemon, container, "healthy")
    assert state["FailingStreak"] == 0 and state["Log"][-1]["ExitCode"] == 0 and state["Log"][-1]["Output"] == "fine\n"
    assert daemon.berth("ps", "--format", "{{.Status}}").stdout.endswith("(healthy)\n")
    assert daemon.berth("ps", "-q", "--no-trunc", "--filter", "health=healthy").stdout.split() == [container]
    wait_for(daemon, container, "healthy")
    probes_kept = json.loads(daemon.berth("inspect", "-f", "{{json .ExecIDs}}", container).stdout) or []
    assert len(probes_kept) <= 1  # a probe leaves no exec behind (one may be running right now)
    events = daemon.berth("events", "--since", "1m", "--until", "0s", "--filter", "event=health_status",
                          "--format", "{{.Action}}").stdout
    assert events == "health_status: healthy\n"
    daemon.berth("stop", "-t", "0", container)
    assert health(daemon, container)["Status"] == "unhealthy"  # as dockerd leaves it


def test_failures_in_a_row_make_it_unhealthy_and_the_log_keeps_the_last_five(daemon):
    container = daemon.berth("run", "-d", "--health-cmd", "echo broken; exit 1", "--health-interval", "50ms",
                             "--health-retries", "2", "busybox", "sleep", "100").stdout.strip()
    state = wait_for(daemon, container, "unhealthy")
    assert state["FailingStreak"] >= 2 and state["Log"][-1] == {**state["Log"][-1], "ExitCode": 1, "Output": "broken\n"}
    eventually(lambda: len(health(daemon, container)["Log"]) == 5, "five results in the health log")


def test_a_probe_that_runs_past_its_timeout_fails(daemon):
    container = daemon.berth("run", "-d", "--health-cmd", "sleep 10", "--health-interval", "50ms",
                             "--health-timeout", "200ms", "--health-retries", "1", "busybox", "sleep", "100").stdout.strip()
    entry = wait_for(daemon, container, "unhealthy")["Log"][-1]
    assert (entry["ExitCode"], entry["Output"]) == (-1, "Health check exceeded timeout (200ms)")


def test_an_images_healthcheck_applies_unless_the_run_says_otherwise(daemon):
    daemon.berth("create", "--name", "checked-source", "busybox", "true")
    daemon.berth("commit", "-c", "HEALTHCHECK --interval=100ms CMD true", "checked-source", "checked")
    container = daemon.berth("run", "-d", "checked", "sleep", "100").stdout.strip()
    wait_for(daemon, container, "healthy")
    unchecked = daemon.berth("run", "-d", "--no-healthcheck", "checked", "sleep", "100").stdout.strip()
    assert daemon.berth("inspect", "-f", "{{json .State.Health}}", unchecked).stdout == "null\n"
    assert daemon.berth("ps", "-q", "--no-trunc", "--filter", "health=none").stdout.split() == [unchecked]


def test_bad_health_options_are_refused_in_dockers_words(daemon):
    cases = {
        ("--no-healthcheck", "--health-cmd", "true"): "--no-healthcheck conflicts with --health-* options",
        ("--health-interval", "soon"): 'invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"',
        ("--health-retries", "-1"): "--health-retries cannot be negative",
        ("--health-cmd", "true", "--health-interval", "500us"): "Interval in Healthcheck cannot be less than 1ms",
    }
    for flags, message in cases.items():
        assert message in daemon.run_refused(*flags), flags
