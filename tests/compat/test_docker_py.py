"""docker-py, unchanged, against berthd."""
from __future__ import annotations

import docker
import pytest


@pytest.fixture
def client(daemon):
    client = docker.DockerClient(base_url=daemon.host, version="auto")
    yield client
    client.close()


def test_containers_run_returns_the_output(client):
    assert client.containers.run("busybox", ["echo", "from docker-py"], remove=True) == b"from docker-py\n"


def test_create_list_get_logs_exec_remove(client):
    container = client.containers.create("busybox", ["sh", "-c", "echo py-logged; sleep 100"], name="pyc")
    container.start()
    assert [c.name for c in client.containers.list()] == ["pyc"]
    fetched = client.containers.get("pyc")
    assert fetched.status == "running"
    exit_code, output = fetched.exec_run(["echo", "exec'd"])
    assert (exit_code, output) == (0, b"exec'd\n")
    fetched.stop(timeout=1)
    assert fetched.wait()["StatusCode"] == 137
    assert fetched.logs() == b"py-logged\n"
    fetched.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("pyc")


def test_errors_are_dockers(client):
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("nosuchimage:1", ["true"])
    client.containers.create("busybox", ["true"], name="dup")
    with pytest.raises(docker.errors.APIError) as conflict:
        client.containers.create("busybox", ["true"], name="dup")
    assert conflict.value.status_code == 409
    with pytest.raises(docker.errors.ImageNotFound) as other_platform:
        client.api.create_container("busybox", ["true"], platform="linux/arm64")
    assert "does not match the specified platform: wanted linux/arm64, actual: linux/" in str(other_platform.value)


def test_attach_with_logs_replays_the_output_so_far_then_streams(client):
    container = client.containers.run("busybox", ["sh", "-c", "echo before; read _; echo after"], detach=True,
                                      stdin_open=True)
    assert container.logs(stream=True, follow=True).__next__() == b"before\n"  # it has started writing
    stream = container.attach(stream=True, logs=True)
    assert next(stream) == b"before\n"
    socket = container.attach_socket(params={"stdin": 1, "stream": 1})
    socket._sock.sendall(b"go\n")
    assert next(stream) == b"after\n"
    assert container.attach(logs=True, stream=False) == b"before\nafter\n"
    socket.close()


def test_a_container_restarts_the_moment_wait_says_it_exited(client):
    container = client.containers.run("busybox", ["true"], detach=True)
    for _ in range(20):  # the exit's clean-up must be over before the container reads as exited
        assert container.wait()["StatusCode"] == 0
        container.restart(timeout=0)
    assert container.wait()["StatusCode"] == 0


def test_a_container_committed_as_it_ends_is_committed(client):
    """docker-py's test_commit: start a short command and commit at once, pausing by default. The
    process may have ended, its cgroup gone, before the daemon has seen its exit."""
    for attempt in range(5):
        container = client.containers.create("busybox", ["touch", f"/made-{attempt}"])
        container.start()
        image = container.commit(repository="committed-as-it-ends", tag=str(attempt))
        container.wait()
        assert image.id.startswith("sha256:")
        container.remove()
        client.images.remove(image.id)


def test_an_exec_made_with_a_tty_and_started_without_one_comes_as_frames(client):
    """As dockerd: the start request's Tty decides raw or multiplexed output, whatever the exec has."""
    container = client.containers.run("busybox", ["sleep", "100"], detach=True)
    try:
        made = client.api.exec_create(container.id, ["sh", "-c", "echo out; echo err >&2"], tty=True)
        assert client.api.exec_start(made) == b"out\r\nerr\r\n"
    finally:
        container.remove(force=True)


def test_an_exec_takes_its_fields_in_any_case_as_dockerd_does(client):
    """docker-py sends the detach keys of its config file as `detachKeys`; Go's JSON matches any case."""
    container = client.containers.run("busybox", ["sleep", "100"], detach=True)
    try:
        made = client.api.exec_create(container.id, ["true"], detach_keys="ctrl-p")
        assert client.api.exec_inspect(made)["DetachKeys"] == "ctrl-p"
    finally:
        container.remove(force=True)


def test_a_load_that_fails_reports_its_error_in_the_stream_as_dockerd_does(client):
    with pytest.raises(docker.errors.ImageLoadError, match="invalid archive"):
        client.images.load(b"not a tar archive")
