"""What a process started by launch_container sees, and what its parent gets back."""
from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from berth.runtime.launch import LaunchError, launch_container
from berth.runtime.seccomp import PROGRAM_ANNOTATION, compile_program, program_name
from tests.runtime.conftest import make_spec, run_container


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def test_the_process_is_pid_1_and_sees_no_host_process(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("echo $$; ps -o pid,comm; true")), reap)
    own_pid, header, *rows = out.splitlines()
    assert (code, own_pid) == (0, "1")
    assert sorted(row.split()[1] for row in rows) == ["ps", "sh"]


def test_hostname_is_the_specs(bundle, reap):
    assert run_container(bundle, make_spec(["hostname"], hostname="web-1"), reap) == (0, "web-1\n")
    assert socket.gethostname() != "web-1"


def test_proc_is_mounted_and_sys_is_read_only(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                                                   "touch /sys/x 2>&1; mount | grep ' /sys '")), reap)
    first, error, sysfs = out.splitlines()
    assert first.strip() == "sh -c " + "cat /proc/1/cmdline | tr '\\0' ' '; echo; touch /sys/x 2>&1; mount | grep ' /sys '"
    assert "Read-only file system" in error
    assert sysfs.startswith("sysfs on /sys type sysfs (ro,")


def test_host_files_are_invisible(bundle, reap, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("x")
    code, out = run_container(bundle, make_spec(sh(f"cat {secret} 2>&1; ls /")), reap)
    error, *names = out.splitlines()
    assert "No such file or directory" in error
    assert names == sorted(os.listdir(bundle.rootfs))  # / is exactly the bundle's rootfs


def test_sysctls_apply_inside_the_container_only(bundle, reap):
    spec = make_spec(["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"])
    spec["linux"]["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "0"}
    assert run_container(bundle, spec, reap) == (0, "0\n")
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as host:
        assert host.read() == "1024\n"


def test_dev_has_the_usual_devices_and_mounts(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("ls /dev; echo; mount | cut -d' ' -f3,5")), reap)
    names, mounts = out.split("\n\n")
    for name in ("null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue",
                 "fd", "stdin", "stdout", "stderr"):
        assert name in names.split()
    for line in ("/dev tmpfs", "/dev/pts devpts", "/dev/shm tmpfs", "/dev/mqueue mqueue", "/proc proc"):
        assert line in mounts.splitlines()


def test_dev_null_and_zero_work(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("echo gone > /dev/null; head -c 3 /dev/zero | od -An -tx1")), reap)
    assert (code, out.split()) == (0, ["00", "00", "00"])


def test_masked_and_read_only_paths(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("wc -c < /proc/keys; echo 1 > /proc/sys/kernel/ostype 2>&1")),
                              reap)
    size, error = out.splitlines()
    assert size.strip() == "0"
    assert "Read-only file system" in error


def test_env_cwd_and_user_apply(bundle, reap):
    spec = make_spec(sh("echo $GREETING $HOME; pwd; id"))
    spec["process"].update(env=spec["process"]["env"] + ["GREETING=hello"], cwd="/srv/app",
                           user={"uid": 33, "gid": 33, "additionalGids": [100]})
    code, out = run_container(bundle, spec, reap)
    assert out.splitlines() == ["hello /var/www", "/srv/app", "uid=33(www-data) gid=33(www-data) groups=100(users)"]


def test_capabilities_are_the_specs(bundle, reap):
    spec = make_spec(sh("grep -E '^Cap(Eff|Bnd)' /proc/self/status"))
    spec["process"]["capabilities"] = {key: ["CAP_KILL", "CAP_CHOWN"] for key in ("bounding", "effective", "permitted")}
    code, out = run_container(bundle, spec, reap)
    assert out.split() == ["CapEff:", "0000000000000021", "CapBnd:", "0000000000000021"]


def test_read_only_root(bundle, reap):
    code, out = run_container(bundle, make_spec(sh("touch /x 2>&1; touch /dev/shm/ok && echo shm-ok"),
                                                root={"path": "rootfs", "readonly": True}), reap)
    assert "Read-only file system" in out and "shm-ok" in out


def test_bind_mounts_with_options(bundle, reap, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data").write_text("from host\n")
    spec = make_spec(sh("cat /data/data; touch /data/new 2>&1; cat /conf; echo out > /rw/written"))
    (tmp_path / "rw").mkdir()
    (tmp_path / "conf.txt").write_text("a file\n")
    spec["mounts"] += [
        {"destination": "/data", "type": "bind", "source": str(shared), "options": ["rbind", "ro"]},
        {"destination": "/conf", "type": "bind", "source": str(tmp_path / "conf.txt"), "options": ["bind"]},
        {"destination": "/rw", "type": "bind", "source": str(tmp_path / "rw"), "options": ["rbind", "rprivate"]},
    ]
    code, out = run_container(bundle, spec, reap)
    lines = out.splitlines()
    assert lines[0] == "from host" and "Read-only file system" in lines[1] and lines[2] == "a file"
    assert (tmp_path / "rw" / "written").read_text() == "out\n"


def test_exit_codes_propagate(bundle, reap):
    assert run_container(bundle, make_spec(sh("exit 42")), reap)[0] == 42


def test_the_parent_sees_a_kill_by_signal(bundle, reap):
    launched = launch_container(bundle.path, bundle.write(make_spec(["sleep", "100"])), None)
    reap.append(launched.pid)
    os.kill(launched.pid, signal.SIGKILL)
    _, status = os.waitpid(launched.pid, 0)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL


def test_rlimits_apply(bundle, reap):
    assert run_container(bundle, make_spec(sh("ulimit -n")), reap) == (0, "1024\n")


def test_no_signal_is_ignored_though_python_ignores_sigpipe(bundle, reap):
    code, out = run_container(bundle, make_spec(["grep", "SigIgn", "/proc/self/status"]), reap)
    assert out.split() == ["SigIgn:", "0000000000000000"]


def test_missing_binary_is_127(bundle):
    with pytest.raises(LaunchError) as raised:
        launch_container(bundle.path, bundle.write(make_spec(["nosuch"])), None)
    assert raised.value.exit_code == 127
    assert raised.value.message == 'exec: "nosuch": executable file not found in $PATH'


def test_missing_absolute_path_is_127(bundle):
    with pytest.raises(LaunchError) as raised:
        launch_container(bundle.path, bundle.write(make_spec(["/no/such"])), None)
    assert (raised.value.exit_code, raised.value.message) == (
        127, 'exec: "/no/such": stat /no/such: no such file or directory')


def test_file_that_is_not_executable_is_126(bundle):
    with pytest.raises(LaunchError) as raised:
        launch_container(bundle.path, bundle.write(make_spec(["/etc/passwd"])), None)
    assert (raised.value.exit_code, raised.value.message) == (126, 'exec: "/etc/passwd": permission denied')


def zombie_children() -> list[int]:
    """Children of this process that exited and were never waited for."""
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(stat.parent.name))
    return zombies


def test_a_failed_launch_leaves_no_zombie(bundle):
    before = zombie_children()
    with pytest.raises(LaunchError):
        launch_container(bundle.path, bundle.write(make_spec(["nosuch"])), None)
    assert zombie_children() == before


def test_a_bad_mount_is_a_launch_error(bundle):
    spec = make_spec(["true"])
    spec["mounts"].append({"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]})
    with pytest.raises(LaunchError) as raised:
        launch_container(bundle.path, bundle.write(spec), None)
    assert raised.value.exit_code == 125
    assert "No such file or directory" in raised.value.message


def test_host_network_means_no_network_namespace(bundle, reap):
    spec = make_spec(["cat", "/proc/self/net/dev"])
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
    code, out = run_container(bundle, spec, reap)
    with open("/proc/self/net/dev") as host:
        assert [line.split(":")[0].strip() for line in out.splitlines()[2:]] == \
            [line.split(":")[0].strip() for line in host.read().splitlines()[2:]]


def test_seccomp_profile_applies(bundle, reap):
    spec = make_spec(sh("mkdir /tmp/d 2>&1; echo still-running"))
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    code, out = run_container(bundle, spec, reap)
    assert "Operation not permitted" in out and "still-running" in out


def test_a_seccomp_profile_applies_to_a_process_without_no_new_privileges_or_capabilities(bundle, reap):
    # Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: it must happen before the drop.
    spec = make_spec(sh("mkdir /tmp/d 2>&1; grep -e ^Seccomp: -e ^NoNewPrivs: -e ^CapEff: /proc/self/status"))
    spec["process"].update(noNewPrivileges=False, user={"uid": 1000, "gid": 1000},
                           capabilities={key: [] for key in ("bounding", "effective", "permitted")})
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    code, out = run_container(bundle, spec, reap)
    assert "Operation not permitted" in out
    assert "NoNewPrivs:\t0\nSeccomp:\t2\n" in out and "CapEff:\t0000000000000000" in out


def test_a_precompiled_seccomp_program_is_installed_only_when_named_for_the_specs_profile(bundle, reap):
    def refusing(call: str) -> dict:
        return {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": [call, f"{call}at"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}

    spec = make_spec(sh("mkdir /tmp/d 2>&1; mknod /tmp/p p 2>&1; echo done"))
    spec["linux"]["seccomp"] = refusing("mkdir")
    # a program under the profile's name is what the runtime installs (here, one refusing mknod)
    named = bundle.path / program_name(spec["linux"]["seccomp"])
    named.write_bytes(compile_program(refusing("mknod")))
    spec["annotations"] = {PROGRAM_ANNOTATION: str(named)}
    _, out = run_container(bundle, spec, reap)
    assert "mkdir" not in out and "mknod: /tmp/p: Operation not permitted" in out
    # one named for another profile is ignored: the spec's own profile is compiled
    other = bundle.path / program_name(refusing("mknod"))
    other.write_bytes(compile_program(refusing("mknod")))
    spec["annotations"] = {PROGRAM_ANNOTATION: str(other)}
    _, out = run_container(bundle, spec, reap)
    assert "mkdir: can't create directory '/tmp/d': Operation not permitted" in out and "mknod" not in out


def test_a_fast_failure_is_always_reported_with_its_own_message(bundle):
    # The child may fail before it reads the parent's "go" (sent at once when there is no cgroup to
    # join); its report must still arrive intact.
    spec = make_spec(["nosuch"])
    spec["linux"].pop("cgroupsPath", None)
    spec = bundle.write(spec)
    for _ in range(30):
        with pytest.raises(LaunchError) as raised:
            launch_container(bundle.path, spec, None)
        assert raised.value.message == 'exec: "nosuch": executable file not found in $PATH'
