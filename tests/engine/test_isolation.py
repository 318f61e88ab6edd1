"""What a process inside a container can and cannot see."""
from __future__ import annotations

import subprocess
import uuid


def run(daemon, *command: str) -> str:
    return daemon.berth("run", "--rm", "busybox", *command).stdout


def test_the_process_is_pid_1_and_sees_no_host_process(daemon):
    assert run(daemon, "sh", "-c", "echo $$") == "1\n"
    pids = [line.split()[0] for line in run(daemon, "ps", "-o", "pid").splitlines()[1:]]
    assert pids == ["1"]


def test_the_host_filesystem_is_invisible(daemon, tmp_path):
    marker = f"berth-marker-{uuid.uuid4().hex}"
    (tmp_path / marker).write_text("host secret")
    listing = run(daemon, "sh", "-c", f"find / -name {marker} 2>/dev/null; echo done")
    assert listing == "done\n"


def test_proc_sys_and_dev_are_set_up(daemon):
    out = run(daemon, "sh", "-c",
              "ls /dev; grep ' /sys ' /proc/mounts; grep ' /dev/pts ' /proc/mounts; "
              "grep ' /dev/shm ' /proc/mounts; grep ' /dev/mqueue ' /proc/mounts")
    devices = set(out.split())
    assert {"null", "zero", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue", "full"} <= devices
    assert "sysfs /sys sysfs ro" in out
    assert "devpts /dev/pts devpts" in out


def test_sys_is_read_only(daemon):
    result = daemon.berth("run", "--rm", "busybox", "touch", "/sys/x", check=False)
    assert result.returncode != 0


def test_etc_files_are_written_for_the_container(daemon):
    container_id = daemon.berth("run", "-d", "--hostname", "myhost", "busybox", "sleep", "100").stdout.strip()
    out = daemon.berth("exec", container_id, "cat", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf").stdout
    assert out.startswith("myhost\n")
    assert "127.0.0.1\tlocalhost" in out


def test_default_hostname_is_the_short_id(daemon):
    container_id = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    assert daemon.berth("exec", container_id, "hostname").stdout.strip() == container_id[:12]


def test_each_container_has_its_own_cgroup_with_its_limits(daemon):
    container_id = daemon.berth("run", "-d", "-m", "64m", "busybox", "sleep", "100").stdout.strip()
    pid = daemon.berth("inspect", "-f", "{{.State.Pid}}", container_id).stdout.strip()
    cgroups = open(f"/proc/{pid}/cgroup").read()
    assert container_id in cgroups
    memory_line = next(line for line in cgroups.splitlines() if ":memory:" in line)
    path = memory_line.split(":", 2)[2]
    limit = open(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").read().strip()
    assert int(limit) == 64 * 1024 * 1024
    unified = next(line for line in cgroups.splitlines() if line.startswith("0::"))
    assert unified.endswith(f"/{container_id}")  # the cgroup v2 tree has it too


def test_the_container_sees_its_own_cgroups_read_only_in_sys_fs_cgroup(daemon):
    # as with docker: tools in the container (a JVM, say) read their limits there
    out = daemon.berth("run", "--rm", "-m", "6m", "--pids-limit", "5", "busybox", "sh", "-c",
                       "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; "
                       "touch /sys/fs/cgroup/memory/x 2>&1", check=False).stdout.splitlines()
    assert out[:2] == ["6291456", "5"]
    assert "Read-only file system" in out[2]


def test_every_resource_flag_of_run_reaches_the_containers_cgroups(daemon):
    files = ["memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes", "memory/memory.soft_limit_in_bytes",
             "memory/memory.swappiness", "cpu/cpu.cfs_period_us", "cpu/cpu.cfs_quota_us", "cpu/cpu.shares",
             "cpuset/cpuset.cpus", "cpuset/cpuset.mems", "pids/pids.max"]
    out = daemon.berth("run", "--rm", "-m", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
                       "--memory-swappiness", "10", "--cpu-period", "50000", "--cpu-quota", "25000", "--cpu-shares",
                       "512", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "9", "busybox",
                       "cat", *[f"/sys/fs/cgroup/{name}" for name in files]).stdout.split()
    assert out == [str(64 << 20), str(128 << 20), str(32 << 20), "10", "50000", "25000", "512", "0", "0", "9"]


def test_a_memory_limit_alone_lets_memory_and_swap_take_twice_as_much(daemon):
    unlimited = "9223372036854771712"  # the kernel's "max", page-aligned
    cases = {("-m", "64m"): (128 << 20, str(128 << 20)), ("-m", "64m", "--memory-swap", "-1"): (-1, unlimited),
             ("-m", "64m", "--memory-swap", "100m"): (100 << 20, str(100 << 20))}
    for flags, (recorded, applied) in cases.items():  # as dockerd records and applies --memory-swap
        container = daemon.berth("run", "-d", *flags, "busybox", "sleep", "100").stdout.strip()
        assert daemon.berth("inspect", "-f", "{{.HostConfig.MemorySwap}}", container).stdout.strip() == str(recorded)
        memsw = daemon.berth("exec", container, "cat", "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").stdout
        assert memsw.strip() == applied, flags


def test_limits_dockerd_refuses_are_refused_with_its_words(daemon):
    cases = {
        ("-m", "1m"): "Minimum memory limit allowed is 6MB",
        ("-m", "64m", "--memory-swap", "32m"): "Minimum memoryswap limit should be larger than memory limit, see usage",
        ("--cpus", "0.5", "--cpu-quota", "50000"): "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ("--cpuset-cpus", "4096"): "Requested CPUs are not available - requested 4096, available: ",
        ("--memory-swappiness", "200"): "invalid value: 200. Valid memory swappiness range is 0-100",
    }
    for flags, message in cases.items():
        assert message in daemon.run_refused(*flags), flags
    assert daemon.berth("ps", "-aq").stdout == ""


def test_a_binds_propagation_mode_decides_whether_later_host_mounts_show_inside(daemon, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "berth-test-shared", str(shared)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(shared)], check=True)
        (shared / "later").mkdir()
        ids = {mode: daemon.berth("run", "-d", "-v", f"{shared}:/data:{mode}", "busybox", "sleep", "100").stdout.strip()
               for mode in ("rslave", "rprivate")}
        subprocess.run(["mount", "-t", "tmpfs", "berth-test-later", str(shared / "later")], check=True)
        seen = {mode: daemon.berth("exec", container, "grep", "-c", "/data/later", "/proc/mounts", check=False).stdout
                for mode, container in ids.items()}
        assert seen == {"rslave": "1\n", "rprivate": "0\n"}
        assert daemon.berth("inspect", "-f", "{{(index .Mounts 0).Propagation}}", ids["rslave"]).stdout == "rslave\n"
        refused = daemon.berth("run", "--rm", "-v", f"{shared}:/data:ro,rw", "busybox", "true", check=False)
        assert refused.stderr.startswith("berth: Error response from daemon: invalid mode: ro,rw")
    finally:
        for container in daemon.berth("ps", "-q").stdout.split():
            daemon.berth("rm", "-f", container)
        subprocess.run(["umount", "-R", str(shared)], check=False)


def test_users_are_resolved_from_the_images_passwd(daemon):
    assert run(daemon, "sh", "-c", "id").strip() == "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
    result = daemon.berth("run", "--rm", "-u", "www-data", "busybox", "id", "-u")
    assert result.stdout == "33\n"
    bad = daemon.berth("run", "--rm", "-u", "nosuchuser", "busybox", "true", check=False)
    assert bad.returncode == 125
    assert "unable to find user nosuchuser" in bad.stderr
