"""--pid, --ipc, --uts, --device, --sysctl, --dns-search and the other per-container kernel settings."""
from __future__ import annotations

import os
import socket


def run(daemon, *args: str, check: bool = True):
    return daemon.berth("run", "--rm", *args, check=check)


def test_a_container_can_share_the_hosts_pid_uts_and_ipc_namespaces(daemon):
    assert run(daemon, "busybox", "sh", "-c", "echo $$").stdout == "1\n"
    assert int(run(daemon, "--pid", "host", "busybox", "sh", "-c", "echo $$").stdout) > 1
    assert run(daemon, "--uts", "host", "busybox", "hostname").stdout == socket.gethostname() + "\n"
    host_ipc = os.readlink("/proc/self/ns/ipc")
    assert run(daemon, "--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc").stdout == host_ipc + "\n"


def test_a_container_joins_the_pid_and_shareable_ipc_namespaces_of_a_running_one(daemon):
    daemon.berth("run", "-d", "--name", "donor", "--ipc", "shareable", "busybox", "sh", "-c",
                 "echo from-donor > /dev/shm/note; sleep 100")
    daemon.berth("run", "-d", "--name", "private", "busybox", "sleep", "100")
    daemon.berth("create", "--name", "stopped", "busybox", "true")
    assert "sleep 100" in run(daemon, "--pid", "container:donor", "busybox", "ps", "-o", "args").stdout
    assert run(daemon, "--ipc", "container:donor", "busybox", "cat", "/dev/shm/note").stdout == "from-donor\n"
    refused = {
        ("--ipc", "container:private"): "non-shareable IPC (hint: use IpcMode:shareable for the donor container)",
        ("--pid", "container:stopped"): "is not running",
        ("--pid", "container:nosuch"): "No such container: nosuch",
        ("--pid", "bogus"): "--pid: invalid PID mode",
        ("--ipc", "bogus"): "Invalid IPC mode: bogus",
    }
    for flags, message in refused.items():
        assert message in daemon.run_refused(*flags), flags


def test_a_host_device_is_made_in_the_container(daemon):
    host = os.stat("/dev/null")
    listing = run(daemon, "--device", "/dev/null:/dev/mine:rw", "busybox", "stat", "-c", "%t:%T %F", "/dev/mine").stdout
    assert listing == f"{os.major(host.st_rdev):x}:{os.minor(host.st_rdev):x} character special file\n"
    for device, message in {"/dev/nosuch": 'adding custom device "/dev/nosuch": no such file or directory',
                            "/dev/null:relative": "relative is not an absolute path",
                            "/dev/null:/dev/n:xyz": "bad mode specified: xyz"}.items():
        assert message in daemon.run_refused("--device", device), device


def test_kernel_settings_of_the_containers_own_namespaces(daemon):
    out = run(daemon, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1000000", "--domainname",
              "example.org", "--oom-score-adj", "500", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward",
              "/proc/sys/kernel/shmmax", "/proc/sys/kernel/domainname", "/proc/self/oom_score_adj").stdout
    assert out.split() == ["1", "1000000", "example.org", "500"]
    refused = {
        ("--sysctl", "vm.swappiness=1"): "sysctl 'vm.swappiness=1' is not allowed",
        ("--network", "host", "--sysctl", "net.ipv4.ip_forward=1"): "not allowed in the host's network namespace",
        ("--oom-score-adj", "2000"): "Invalid value 2000, range for oom score adj is [-1000, 1000]",
    }
    for flags, message in refused.items():
        assert message in daemon.run_refused(*flags), flags


def test_group_add_and_dns_search_and_options(daemon):
    assert run(daemon, "-u", "nobody", "--group-add", "wheel", "--group-add", "1234", "busybox", "id", "-G").stdout \
        == "65534 10 1234\n"
    missing = run(daemon, "--group-add", "nosuch", "busybox", "true", check=False)
    assert "Unable to find group nosuch: no matching entries in group file" in missing.stderr
    resolv = run(daemon, "--dns", "192.0.2.53", "--dns-search", "example.org", "--dns-option", "ndots:2",
                 "busybox", "cat", "/etc/resolv.conf").stdout
    assert resolv == "search example.org\nnameserver 192.0.2.53\noptions ndots:2\n"
    bad = run(daemon, "--dns-search", "bad..name", "busybox", "true", check=False)
    assert 'invalid argument "bad..name" for "--dns-search" flag: bad..name is not a valid domain' in bad.stderr


def test_volumes_from_copies_another_containers_binds(daemon, tmp_path):
    (tmp_path / "note").write_text("shared\n")
    daemon.berth("create", "--name", "source", "-v", f"{tmp_path}:/data", "busybox", "true")
    assert run(daemon, "--volumes-from", "source", "busybox", "cat", "/data/note").stdout == "shared\n"
    read_only = run(daemon, "--volumes-from", "source:ro", "busybox", "touch", "/data/new", check=False)
    assert "Read-only file system" in read_only.stderr
    for value, message in {"nosuch": "No such container: nosuch", "source:xx": "invalid mode: xx"}.items():
        assert message in daemon.run_refused("--volumes-from", value), value


def test_cgroup_parent_oom_kill_disable_and_device_rules(daemon):
    parent = f"{daemon.cgroup_parent}/chosen"  # under the test daemon's own, which the suite removes
    out = run(daemon, "--cgroup-parent", parent, "-m", "64m", "--oom-kill-disable", "--device-cgroup-rule",
              "c 42:* rm", "busybox", "sh", "-c", "grep :memory: /proc/1/cgroup; "
              "head -1 /sys/fs/cgroup/memory/memory.oom_control; grep 'c 42' /sys/fs/cgroup/devices/devices.list").stdout
    memory_line, oom_control, device_rule = out.splitlines()
    assert f"/{parent}/" in memory_line
    assert (oom_control, device_rule) == ("oom_kill_disable 1", "c 42:* rm")
    unlimited = run(daemon, "--oom-kill-disable", "busybox", "true")
    assert "WARNING: OOM killer is disabled for the container, but no memory limit is set" in unlimited.stderr
    refused = {
        ("--device-cgroup-rule", "c 1:3 rwz"): "invalid device cgroup format 'c 1:3 rwz'",
        ("--cgroup-parent", "../elsewhere"): "invalid cgroup parent: ../elsewhere",
    }
    for flags, message in refused.items():
        assert message in daemon.run_refused(*flags), flags


def test_block_io_throttles_reach_the_blkio_cgroup(daemon):
    disk = next(f"/dev/{name}" for name in sorted(os.listdir("/sys/block")) if os.path.exists(f"/dev/{name}"))
    numbers = f"{os.major(os.stat(disk).st_rdev)}:{os.minor(os.stat(disk).st_rdev)}"
    out = run(daemon, "--device-read-bps", f"{disk}:1mb", "--device-write-iops", f"{disk}:100", "busybox", "cat",
              "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device",
              "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device").stdout
    assert out == f"{numbers} 1048576\n{numbers} 100\n"
    missing = run(daemon, "--device-read-bps", "/dev/nosuch:1mb", "busybox", "true", check=False)
    assert "stat /dev/nosuch: no such file or directory" in missing.stderr
    bad = run(daemon, "--device-read-bps", f"{disk}:fast", "busybox", "true", check=False)
    assert f'invalid argument "{disk}:fast" for "--device-read-bps" flag: invalid rate for device' in bad.stderr


def test_a_container_can_join_the_network_of_a_running_one(daemon):
    daemon.berth("run", "-d", "--name", "net-owner", "--hostname", "owner", "--add-host", "db:192.0.2.7",
                 "busybox", "sleep", "100")
    daemon.berth("create", "--name", "net-stopped", "busybox", "true")
    owner_net = daemon.berth("exec", "net-owner", "readlink", "/proc/self/ns/net").stdout
    joined = run(daemon, "--network", "container:net-owner", "busybox", "sh", "-c",
                 "readlink /proc/self/ns/net; hostname; grep db /etc/hosts").stdout
    assert joined == f"{owner_net}owner\n192.0.2.7\tdb\n"
    created = daemon.berth("create", "--network", "container:net-owner", "busybox", "true").stdout.strip()
    owner_id = daemon.berth("inspect", "-f", "{{.Id}}", "net-owner").stdout.strip()
    assert daemon.berth("inspect", "-f", "{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks}}",
                        created).stdout == f"container:{owner_id} {{}}\n"
    refused = {
        ("--network", "container:net-stopped"): "cannot join network of a non running container: ",
        ("--network", "container:nosuch"): "No such container: nosuch",
        ("--network", "container:net-owner", "--hostname", "x"): "conflicting options: hostname and the network mode",
        ("--network", "container:net-owner", "--dns", "192.0.2.1"): "conflicting options: dns and the network mode",
    }
    for flags, message in refused.items():
        assert message in daemon.run_refused(*flags), flags
