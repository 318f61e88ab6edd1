"""`berth run`: what a user sees on the terminal and in the exit code."""
from __future__ import annotations

import json
import os
import socket


def test_run_prints_the_output_and_removes_the_container(daemon):
    result = daemon.berth("run", "--rm", "busybox", "echo", "hello from berth")
    assert result.stdout == "hello from berth\n"
    assert daemon.berth("ps", "-aq").stdout == ""


def test_run_uses_the_image_cmd_when_none_is_given(daemon):
    result = daemon.berth("run", "--rm", "-i", "busybox", input="echo from the image sh\n")
    assert result.stdout == "from the image sh\n"


def test_the_exit_code_is_the_process_exit_code(daemon):
    assert daemon.berth("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False).returncode == 3


def test_a_process_killed_by_a_signal_exits_128_plus_the_signal(daemon):
    # With --init the shell is not PID 1, which the kernel would shield from its own SIGKILL.
    result = daemon.berth("run", "--rm", "--init", "busybox", "sh", "-c", "kill -9 $$", check=False)
    assert result.returncode == 137


def test_a_missing_command_exits_127_with_dockers_words(daemon):
    result = daemon.berth("run", "--rm", "busybox", "nosuchcommand", check=False)
    assert result.returncode == 127
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in result.stderr


def test_a_file_that_is_not_executable_exits_126(daemon):
    result = daemon.berth("run", "--rm", "busybox", "/etc/passwd", check=False)
    assert result.returncode == 126
    assert "permission denied" in result.stderr


def test_stdout_and_stderr_both_reach_the_terminal(daemon):
    result = daemon.berth("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_stdin_is_passed_with_dash_i(daemon):
    result = daemon.berth("run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z", input="shout\n")
    assert result.stdout == "SHOUT\n"


# Any bytes, Ctrl-P Ctrl-Q among them: without a terminal that is no detach sequence, only input.
UNTYPED_INPUT = bytes(range(256)) * 64 + b"\x10\x11 and on to the end\n"


def test_stdin_from_a_file_is_sent_whole_and_then_ends(daemon, tmp_path):
    source = tmp_path / "input"
    source.write_bytes(UNTYPED_INPUT)
    with source.open("rb") as stdin:
        result = daemon.berth("run", "--rm", "-i", "busybox", "cat", stdin=stdin, timeout=30)
    assert result.stdout == UNTYPED_INPUT


def test_stdin_from_a_pipe_is_sent_whole_and_then_ends(daemon):
    result = daemon.berth("run", "-i", "busybox", "cat", input=UNTYPED_INPUT, timeout=30)
    assert result.stdout == UNTYPED_INPUT


def test_environment_workdir_user_and_hostname_apply(daemon, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("FROM_FILE=yes\n# a comment\n")
    result = daemon.berth(
        "run", "--rm", "-e", "GREETING=hi", "--env-file", str(env_file), "-w", "/tmp", "-u", "nobody",
        "--hostname", "box", "busybox", "sh", "-c", 'echo $GREETING $FROM_FILE; pwd; id -u; hostname')
    assert result.stdout.split("\n")[:4] == ["hi yes", "/tmp", "65534", "box"]


def test_the_environment_is_built_in_dockerds_order(daemon):
    daemon.berth("create", "--name", "env-source", "busybox", "true")
    daemon.berth("commit", "-c", "ENV PATH=/usr/bin:/bin A=1 C=5", "env-source", "env-image")
    created = daemon.berth("create", "-e", "B=2", "-e", "A=3", "env-image", "env").stdout.strip()
    assert json.loads(daemon.berth("inspect", "-f", "{{json .Config.Env}}", created).stdout) == \
        ["B=2", "A=3", "PATH=/usr/bin:/bin", "C=5"]
    assert daemon.berth("inspect", "-f", "{{json .Config.Env}}", "env-source").stdout == "null\n"
    names = [line.split("=")[0] for line in daemon.berth("start", "-a", created).stdout.splitlines()]
    assert names == ["PATH", "HOSTNAME", "B", "A", "C", "HOME"]
    running = daemon.berth("run", "-d", "-e", "B=2", "busybox", "sleep", "100").stdout.strip()
    exec_env = daemon.berth("exec", "-e", "X=1", running, "env").stdout.splitlines()
    assert [line.split("=")[0] for line in exec_env] == ["PATH", "HOSTNAME", "B", "X", "HOME"]


def test_a_bare_variable_unset_in_the_client_is_unset_in_the_container(daemon):
    result = daemon.berth("run", "--rm", "-e", "NOT_IN_CLIENT_ENV", "busybox", "sh", "-c",
                          "echo ${NOT_IN_CLIENT_ENV-unset}")
    assert result.stdout == "unset\n"


def test_a_relative_working_directory_is_refused_as_dockerd_does(daemon):
    result = daemon.berth("run", "--rm", "-w", "relative", "busybox", "true", check=False)
    assert result.returncode == 125
    assert "the working directory 'relative' is invalid, it needs to be an absolute path" in result.stderr


def test_entrypoint_replaces_the_image_entrypoint(daemon):
    result = daemon.berth("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert result.stdout == "via entrypoint\n"


def test_unknown_image_is_reported(daemon):
    result = daemon.berth("run", "--rm", "nosuchimage", "true", check=False)
    assert result.returncode == 125
    assert "Unable to find image 'nosuchimage:latest' locally" in result.stderr


def test_detached_run_prints_the_full_id(daemon):
    container_id = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    assert len(container_id) == 64
    inspect = daemon.berth("inspect", "-f", "{{.State.Status}} {{.State.Running}}", container_id)
    assert inspect.stdout.strip() == "running true"


def test_name_conflicts_are_refused_in_dockers_words(daemon):
    first = daemon.berth("run", "-d", "--name", "taken", "busybox", "sleep", "100").stdout.strip()
    result = daemon.berth("run", "-d", "--name", "taken", "busybox", "true", check=False)
    assert result.returncode == 125
    assert f'Conflict. The container name "/taken" is already in use by container "{first}"' in result.stderr


def test_requests_dockerd_refuses_are_refused_before_a_container_exists(daemon):
    cases = {
        ("--cap-add", "BOGUS"): 'invalid CapAdd: unknown capability: "CAP_BOGUS"',
        ("--cap-drop", "nope"): 'invalid CapDrop: unknown capability: "CAP_NOPE"',
        # as with dockerd: an image of another platform is not there, so the CLI goes to pull it
        ("--platform", "linux/arm64"): "Unable to find image 'busybox:latest' locally",
        ("--network", "bogus"): "network bogus not found",
        ("-v", "/tmp:relative"): "invalid volume specification: '/tmp:relative': invalid mount config for type "
                                 "\"bind\": invalid mount path: 'relative' mount path must be absolute",
    }
    for flags, message in cases.items():
        assert message in daemon.run_refused(*flags), flags
    assert daemon.berth("ps", "-aq").stdout == ""
    assert daemon.berth("run", "--rm", "--platform", "linux", "busybox", "true").returncode == 0


def test_a_group_without_a_user_runs_as_root_with_only_that_group(daemon):
    assert daemon.berth("run", "--rm", "-u", ":10", "busybox", "id").stdout == "uid=0(root) gid=10(wheel) groups=10(wheel)\n"


def test_bind_mounts_read_write_and_read_only(daemon, tmp_path):
    (tmp_path / "in.txt").write_text("from the host\n")
    result = daemon.berth("run", "--rm", "-v", f"{tmp_path}:/data", "busybox", "sh", "-c",
                          "cat /data/in.txt; echo from the container > /data/out.txt")
    assert result.stdout == "from the host\n"
    assert (tmp_path / "out.txt").read_text() == "from the container\n"
    result = daemon.berth("run", "--rm", "-v", f"{tmp_path}:/data:ro", "busybox", "sh", "-c",
                          "touch /data/nope", check=False)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


def test_mount_flag_binds_and_tmpfs(daemon, tmp_path):
    (tmp_path / "in.txt").write_text("mounted\n")
    result = daemon.berth("run", "--rm", "--mount", f"type=bind,src={tmp_path},dst=/data,readonly",
                          "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", "busybox", "sh", "-c",
                          "cat /data/in.txt; touch /data/x 2>&1; df -k /scratch | tail -1", check=False)
    lines = result.stdout.splitlines()
    assert lines[0] == "mounted" and "Read-only file system" in lines[1] and lines[2].split()[1] == "1024"
    missing = daemon.berth("run", "--rm", "--mount", f"type=bind,src={tmp_path}/nope,dst=/x", "busybox", "true",
                           check=False)
    assert f"bind source path does not exist: {tmp_path}/nope" in missing.stderr


def test_init_runs_as_pid_1_and_reaps(daemon):
    result = daemon.berth("run", "--rm", "--init", "busybox", "ps", "-o", "pid,args")
    first = result.stdout.splitlines()[1].split(None, 1)
    assert first[0] == "1" and "docker-init" in first[1]


def test_network_none_is_a_namespace_of_its_own_and_host_shares_the_hosts(daemon):
    ours = os.readlink(f"/proc/{daemon.process.pid}/ns/net")  # the daemon's host's
    none = daemon.berth("run", "--rm", "--network", "none", "busybox", "readlink", "/proc/self/ns/net")
    host = daemon.berth("run", "--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net")
    assert none.stdout.strip() != ours
    assert host.stdout.strip() == ours
    interfaces = daemon.berth("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in interfaces.splitlines()] == ["lo"]


def test_host_network_containers_take_the_hosts_name(daemon):
    out = daemon.berth("run", "--rm", "--network", "host", "busybox", "hostname").stdout.strip()
    assert out == socket.gethostname()
