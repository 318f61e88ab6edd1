"""--security-opt: every container runs under berth's default seccomp filter unless told otherwise."""
from __future__ import annotations

import json

from tests.daemon_harness import running_daemon

STATUS = "grep -e ^Seccomp: -e ^NoNewPrivs: /proc/self/status"


def sh(daemon, *options: str, script: str, check: bool = True):
    return daemon.berth("run", "--rm", *options, "busybox", "sh", "-c", script, check=check)


def status(text: str) -> dict[str, str]:
    return dict(line.split(":\t") for line in text.splitlines() if ":\t" in line)


def test_a_container_is_filtered_and_cannot_make_a_user_namespace(daemon):
    result = sh(daemon, script=f"{STATUS}; unshare -U true; echo user=$?; unshare -n true; echo net=$?")
    assert status(result.stdout)["Seccomp"] == "2"
    assert "user=1\n" in result.stdout and "net=1\n" in result.stdout
    assert "unshare(0x10000000): Operation not permitted" in result.stderr


def test_an_exec_runs_under_the_containers_filter(daemon):
    container = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    result = daemon.berth("exec", container, "sh", "-c", f"{STATUS}; unshare -U true; echo user=$?")
    assert status(result.stdout)["Seccomp"] == "2"
    assert "user=1\n" in result.stdout


def test_cap_add_sys_admin_lifts_the_rules_that_capability_guards(daemon):
    result = sh(daemon, "--cap-add", "SYS_ADMIN", script=f"{STATUS}; unshare -U true; echo user=$?")
    assert status(result.stdout)["Seccomp"] == "2"
    assert "user=0\n" in result.stdout


def test_seccomp_unconfined_runs_without_a_filter(daemon):
    result = sh(daemon, "--security-opt", "seccomp=unconfined", script=f"{STATUS}; unshare -U true; echo user=$?")
    assert status(result.stdout)["Seccomp"] == "0"
    assert "user=0\n" in result.stdout


def test_no_new_privileges_sets_the_flag_and_keeps_the_filter(daemon):
    result = sh(daemon, "--security-opt", "no-new-privileges", script=STATUS)
    assert status(result.stdout) == {"NoNewPrivs": "1", "Seccomp": "2"}
    assert status(sh(daemon, script=STATUS).stdout)["NoNewPrivs"] == "0"


def test_a_profile_file_replaces_the_default(daemon, tmp_path):
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }, indent=2))
    result = sh(daemon, "--security-opt", f"seccomp={profile}", script="mkdir /made; echo mkdir=$?; unshare -U true; echo user=$?")
    assert "mkdir=1\n" in result.stdout and "Operation not permitted" in result.stderr
    assert "user=0\n" in result.stdout  # only the profile's rules apply


def test_bad_security_options_are_refused_with_dockers_words(daemon, tmp_path):
    (tmp_path / "broken.json").write_text("{broken")
    (tmp_path / "bogus.json").write_text('{"defaultAction": "SCMP_ACT_BOGUS"}')
    cases = {
        "bogus": 'Invalid --security-opt: "bogus"',
        "bogus=1": 'Error response from daemon: invalid --security-opt 2: "bogus=1"',
        f"seccomp={tmp_path}/missing.json":
            f"opening seccomp profile ({tmp_path}/missing.json) failed: open {tmp_path}/missing.json: "
            "no such file or directory",
        f"seccomp={tmp_path}/broken.json": f"compacting json for seccomp profile ({tmp_path}/broken.json) failed",
        f"seccomp={tmp_path}/bogus.json": "'SCMP_ACT_BOGUS' is not a valid action",
    }
    for option, message in cases.items():
        assert message in daemon.run_refused("--security-opt", option), option
    assert daemon.berth("ps", "-aq").stdout == ""


def test_systempaths_unconfined_unmasks_proc(daemon):
    mounted_over = "grep -c ' /proc/keys ' /proc/self/mountinfo"
    assert sh(daemon, script=mounted_over).stdout == "1\n"
    result = sh(daemon, "--security-opt", "systempaths=unconfined", script=mounted_over, check=False)
    assert result.stdout == "0\n"


def test_info_names_the_default_profile(daemon):
    assert "Security Options:\n  seccomp\n   Profile: default\n" in daemon.berth("info").stdout


def test_daemon_json_seccomp_profile_is_every_containers_default(busybox_tar, tmp_path):
    profile = tmp_path / "no-mkdir.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], '
                       '"action": "SCMP_ACT_ERRNO"}]}')
    with running_daemon(busybox_tar, {"seccomp-profile": str(profile)}) as daemon:
        result = sh(daemon, script="mkdir /made; echo mkdir=$?; unshare -U true; echo user=$?")
        assert "mkdir=1\n" in result.stdout and "user=0\n" in result.stdout
        own = sh(daemon, "--security-opt", "seccomp=unconfined", script="mkdir /made; echo mkdir=$?")
        assert own.stdout == "mkdir=0\n"  # a container's own option wins
        assert f"Security Options:\n  seccomp\n   Profile: {profile}\n" in daemon.berth("info").stdout
    with running_daemon(busybox_tar, {"seccomp-profile": "unconfined"}) as daemon:
        assert status(sh(daemon, script=STATUS).stdout)["Seccomp"] == "0"


def test_an_ordinary_workload_runs_under_the_default_filter(daemon):
    steps = {
        "wget": "httpd -p 8080 -h /etc && wget -q -O - http://127.0.0.1:8080/passwd | grep -q ^root:",
        "ls": "ls -lR /etc /proc/self >/dev/null",
        "ps": "ps -o pid,user,comm | grep -q ps",
        "top": "top -b -n 1 | grep -q Mem:",
        "tar": "tar -czf /tmp/etc.tgz /etc 2>/dev/null && tar -tzf /tmp/etc.tgz | grep -q passwd",
        "pipes": "sort -r /etc/passwd | sha256sum | grep -q -",
        "jobs": "sleep 0.1 & wait $!",
        "fifo": "mkfifo /tmp/f && (echo hi > /tmp/f &) && read line < /tmp/f && [ \"$line\" = hi ]",
        "chroot": "chroot / true",
        "user": "su -s /bin/sh nobody -c 'id -u' | grep -q 65534",
        "linux32": "linux32 uname -m | grep -q i686",
        "time": "timeout 1 sleep 0.05 && date +%s >/dev/null",
    }
    script = "; ".join(f"if {command}; then echo {name}=ok; else echo {name}=failed; fi" for name, command in steps.items())
    out = daemon.berth("run", "--rm", "busybox", "sh", "-c", script).stdout
    assert out.split() == [f"{name}=ok" for name in steps], out
