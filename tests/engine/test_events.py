"""`events`: what happened to containers, as `docker events` shows it."""
from __future__ import annotations

import json
import shutil
import subprocess
import time


def test_a_containers_life_shows_up_in_the_event_stream(daemon):
    since = f"{time.time():.3f}"
    daemon.berth("run", "--name", "eventful", "busybox", "sh", "-c", "exit 2", check=False)
    daemon.berth("rm", "eventful")
    until = f"{time.time() + 0.5:.3f}"
    lines = daemon.berth("events", "--since", since, "--until", until, "--format", "{{json .}}",
                         "--filter", "container=eventful").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["Action"] for e in events] == ["create", "start", "die", "destroy"]
    die = events[2]
    assert die["Actor"]["Attributes"]["exitCode"] == "2"
    assert die["Actor"]["Attributes"]["name"] == "eventful"


def test_docker_cli_reads_the_same_events(daemon):
    since = f"{time.time():.3f}"
    daemon.berth("run", "--rm", "--name", "seen", "busybox", "true")
    until = f"{time.time() + 0.5:.3f}"
    out = subprocess.run([shutil.which("docker"), "events", "--since", since, "--until", until,
                          "--filter", "event=die", "--format", "{{.Actor.Attributes.name}} {{.Action}}"],
                         capture_output=True, text=True, env=daemon.env, timeout=30).stdout
    assert out.strip() == "seen die"


def test_image_work_shows_up_in_the_event_stream(daemon):
    since = f"{time.time():.3f}"
    daemon.berth("tag", "busybox", "evented:1")
    daemon.berth("rmi", "evented:1")
    until = f"{time.time() + 0.5:.3f}"
    out = daemon.berth("events", "--since", since, "--until", until, "--filter", "type=image",
                       "--format", "{{.Action}} {{.Actor.Attributes.name}}").stdout.splitlines()
    assert out == ["tag evented:1", "untag evented:1"]
