"""The images a build test makes go after it, tagged or not, so the shared daemon's image list is
what other tests expect (an untagged build's image is a dangling one)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def remove_built_images(request: pytest.FixtureRequest) -> Iterator[None]:
    if "daemon" not in request.fixturenames:
        yield
        return
    daemon = request.getfixturevalue("daemon")
    before = set(daemon.berth("images", "-aq", "--no-trunc").stdout.split())
    yield
    if leftover := daemon.berth("ps", "-aq").stdout.split():  # a failed RUN's container holds its image
        daemon.berth("rm", "-f", *leftover, check=False)
    made = [image for image in daemon.berth("images", "-aq", "--no-trunc").stdout.split() if image not in before]
    if made:  # newest first: children before the images they were built on
        daemon.berth("rmi", "-f", *dict.fromkeys(made), check=False)
