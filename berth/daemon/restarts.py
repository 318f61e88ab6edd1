"""Restart policies as dockerd applies them: whether a container that exited starts again, after how
long, and which containers come back when the daemon starts."""
from __future__ import annotations

from berth.daemon.container import Container, Status

FIRST_DELAY = 0.1  # seconds before the first restart
MAX_DELAY = 60.0  # the delay doubles at each restart, up to this
RESET_AFTER = 10.0  # a run at least this long starts the doubling again from FIRST_DELAY


def restarts_after_exit(container: Container) -> bool:
    """`always` and `unless-stopped` restart unless stopped by hand; `on-failure[:N]` after a non-zero
    exit, at most N times (no limit when N is 0)."""
    if container.manually_stopped:
        return False
    policy = container.host_config["RestartPolicy"]
    name = policy.get("Name")
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure" and container.state.exit_code != 0:
        limit = policy.get("MaximumRetryCount") or 0
        return limit == 0 or container.restart_count < limit
    return False


def next_delay(previous: float | None, ran_for: float) -> float:
    """The wait before the next restart, given the last wait (None before the first) and how long
    the container ran this time."""
    if previous is None or ran_for >= RESET_AFTER:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


def restarts_with_daemon(container: Container) -> bool:
    """At daemon start: `always` comes back even if it was stopped by hand, `unless-stopped` unless it
    was, and a container caught between restarts resumes them."""
    if not container.has_been_started:
        return False
    policy = container.host_config["RestartPolicy"].get("Name")
    if policy == "always":
        return True
    if policy == "unless-stopped":
        return not container.manually_stopped
    return container.state.status == Status.RESTARTING and policy == "on-failure"
