"""run/create flags turned into the create request, as docker parses them."""
import pytest

from berth.cli.errors import CLIError, FlagError
from berth.cli.runconfig import (
    build_create_body,
    parse_device,
    parse_dns_search,
    parse_env,
    parse_labels,
    parse_mounts,
    parse_ports,
    parse_restart_policy,
    parse_ulimit,
    parse_volumes,
)


def test_env_files_come_first_then_e_flags(tmp_path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nFROM_FILE=1\n  SPACED=a b \nPASSED\nUNSET_IN_FILE\n")
    env = parse_env(["A=b", "PASSED", "UNSET"], [str(env_file)], environ={"PASSED": "yes"})
    assert env == ["FROM_FILE=1", "SPACED=a b ", "PASSED=yes", "A=b", "PASSED=yes", "UNSET"]


def test_env_file_errors_are_clear(tmp_path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("MY VAR=1\n")
    with pytest.raises(CLIError, match="variable 'MY VAR' contains whitespaces"):
        parse_env([], [str(bad)], environ={})
    with pytest.raises(CLIError, match="no such file"):
        parse_env([], [str(tmp_path / "missing")], environ={})
    with pytest.raises(CLIError, match="invalid environment variable: =x"):
        parse_env(["=x"], environ={})


def test_labels_from_flags_and_files(tmp_path) -> None:
    labels = tmp_path / "labels"
    labels.write_text("team=core\n")
    assert parse_labels(["a=b", "flag"], [str(labels)]) == {"team": "core", "a": "b", "flag": ""}


@pytest.mark.parametrize("text, policy", [
    ("no", {"Name": "no", "MaximumRetryCount": 0}),
    ("always", {"Name": "always", "MaximumRetryCount": 0}),
    ("unless-stopped", {"Name": "unless-stopped", "MaximumRetryCount": 0}),
    ("on-failure", {"Name": "on-failure", "MaximumRetryCount": 0}),
    ("on-failure:5", {"Name": "on-failure", "MaximumRetryCount": 5}),
])
def test_restart_policies(text: str, policy: dict) -> None:
    assert parse_restart_policy(text) == policy


@pytest.mark.parametrize("text, message", [("sometimes", "unknown policy 'sometimes'"),
                                           ("on-failure:x", "must be an integer"),
                                           ("always:3", "only be used with 'on-failure'")])
def test_bad_restart_policies(text: str, message: str) -> None:
    with pytest.raises(CLIError, match=message):
        parse_restart_policy(text)


def test_volumes_split_into_binds_and_anonymous_volumes() -> None:
    assert parse_volumes(["/host:/ctr", "/h2:/c2:ro", "/anon"]) == (["/host:/ctr", "/h2:/c2:ro"], {"/anon": {}})
    for spec in ("/h:", ":/c", "/h::ro"):
        with pytest.raises(CLIError, match=f"invalid spec: {spec}: empty section between colons"):
            parse_volumes([spec])
    with pytest.raises(CLIError, match="absolute"):
        parse_volumes(["relative"])


@pytest.mark.parametrize("name", ["MY\tVAR", "MY\u00a0VAR", "VAR\u2003"])
def test_any_whitespace_in_an_env_file_name_is_refused(tmp_path, name: str) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(f"{name}=1\n")
    with pytest.raises(CLIError, match="contains whitespaces"):
        parse_env([], [str(env_file)], environ={})


def test_ports_become_exposed_ports_and_bindings() -> None:
    exposed, bindings = parse_ports(["8080:80", "127.0.0.1:53:53/udp", "9000-9001:7000-7001", "443"])
    assert exposed == {"80/tcp": {}, "53/udp": {}, "7000/tcp": {}, "7001/tcp": {}, "443/tcp": {}}
    assert bindings["80/tcp"] == [{"HostIp": "", "HostPort": "8080"}]
    assert bindings["53/udp"] == [{"HostIp": "127.0.0.1", "HostPort": "53"}]
    assert bindings["7001/tcp"] == [{"HostIp": "", "HostPort": "9001"}]
    assert bindings["443/tcp"] == [{"HostIp": "", "HostPort": ""}]


def test_ulimits() -> None:
    assert parse_ulimit("nofile=1024:2048") == {"Name": "nofile", "Soft": 1024, "Hard": 2048}
    assert parse_ulimit("nproc=10") == {"Name": "nproc", "Soft": 10, "Hard": 10}
    with pytest.raises(CLIError):
        parse_ulimit("nofile=2:1")


def test_create_body_for_an_interactive_run() -> None:
    body = build_create_body("busybox", ["sh", "-c", "echo hi"], {
        "interactive": True, "tty": True, "rm": True, "env": ("A=b",), "memory": "64m", "cpus": "1.5",
        "name": "x", "volume": ("/h:/c:ro",), "label": ("k=v",), "entrypoint": "", "init": True,
        "restart": "no", "workdir": "/tmp", "user": "1000:1000", "hostname": "box", "pids_limit": 10,
    })
    assert body["Image"] == "busybox" and body["Cmd"] == ["sh", "-c", "echo hi"]
    assert (body["AttachStdin"], body["AttachStdout"], body["OpenStdin"], body["StdinOnce"], body["Tty"]) == \
        (True, True, True, True, True)
    assert body["Env"][-1] == "A=b" and body["Labels"] == {"k": "v"} and body["Entrypoint"] == [""]
    assert (body["WorkingDir"], body["User"], body["Hostname"]) == ("/tmp", "1000:1000", "box")
    host = body["HostConfig"]
    assert host["AutoRemove"] and host["Init"] and host["Binds"] == ["/h:/c:ro"]
    assert host["Memory"] == 64 * 1024 * 1024 and host["NanoCpus"] == 1_500_000_000 and host["PidsLimit"] == 10


def test_detached_create_attaches_nothing_and_rm_conflicts_with_restart() -> None:
    body = build_create_body("busybox", [], {"detach": True})
    assert (body["AttachStdin"], body["AttachStdout"], body["AttachStderr"], body["Cmd"]) == (False, False, False, None)
    with pytest.raises(CLIError, match="conflicting options: cannot specify both --restart and --rm"):
        build_create_body("busybox", [], {"rm": True, "restart": "always"})


def test_mount_flags_become_host_config_mounts_as_docker_parses_them() -> None:
    assert parse_mounts(["type=bind,src=/a,dst=/b,readonly", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
                         "source=v,target=/v"]) == [
        {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True},
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1770}},
        {"Type": "volume", "Source": "v", "Target": "/v"},  # the type docker assumes
    ]


@pytest.mark.parametrize(("value", "reason"), [
    ("src=/tmp", "target is required"),
    ("type=bind,dst=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
    ("type=tmpfs,dst=/t,tmpfs-size=abc", "invalid value for tmpfs-size: abc"),
    ("type=bind,dst", "invalid field 'dst' must be a key=value pair"),
])
def test_bad_mount_flags_are_refused_in_docker_s_words(value: str, reason: str) -> None:
    with pytest.raises(FlagError) as refused:
        parse_mounts([value])
    assert refused.value.message == f'invalid argument "{value}" for "--mount" flag: {reason}'


@pytest.mark.parametrize(("value", "device"), [
    ("/dev/fuse", ("/dev/fuse", "/dev/fuse", "rwm")),
    ("/dev/fuse:r", ("/dev/fuse", "/dev/fuse", "r")),
    ("/dev/fuse:/dev/f", ("/dev/fuse", "/dev/f", "rwm")),
    ("/dev/fuse:/dev/f:rw", ("/dev/fuse", "/dev/f", "rw")),
])
def test_a_device_is_read_as_docker_reads_it(value: str, device: tuple[str, str, str]) -> None:
    parsed = parse_device(value)
    assert (parsed["PathOnHost"], parsed["PathInContainer"], parsed["CgroupPermissions"]) == device


@pytest.mark.parametrize(("value", "message"), [
    ("/dev/fuse:relative", "relative is not an absolute path"),
    ("/dev/fuse:/dev/f:x", "bad mode specified: x"),
    ("/a:/b:r:w", "bad format for path: /a:/b:r:w"),
])
def test_a_bad_device_is_refused_in_dockers_words(value: str, message: str) -> None:
    with pytest.raises(CLIError, match=message):
        parse_device(value)


def test_search_domains_are_checked() -> None:
    assert [parse_dns_search(d) for d in (".", "example.org", "a-b.example.org.")] == [".", "example.org", "a-b.example.org."]
    for bad in ("bad..name", "-a.org", "a_b.org", ""):
        with pytest.raises(CLIError, match="is not a valid domain"):
            parse_dns_search(bad)
