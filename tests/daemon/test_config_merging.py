"""How a container's configuration is put together from the request and the image (pure parts)."""
from __future__ import annotations

import json
import re

import pytest

from berth.daemon.config import ConfigError, load_config
from berth.daemon.create_config import bind_mounts, merge_config, normalize_host_config
from berth.daemon.spec import DEFAULT_PATH, SpecError, capabilities, create_env, parse_signal, process_env
from berth.daemon.users import UserError, resolve_user
from berth.errdefs import InvalidArgument

IMAGE = {"Entrypoint": ["/entry"], "Cmd": ["--default"], "Env": ["PATH=/image/bin", "A=1"],
         "WorkingDir": "/srv", "User": "app", "Labels": {"from": "image"}}


def merge(body: dict, image: dict = IMAGE) -> dict:
    return merge_config({"Image": "x", **body}, image, "0123456789abcdef")


@pytest.mark.parametrize("body, expected", [
    ({}, (["/entry"], ["--default"])),
    ({"Cmd": ["other"]}, (["/entry"], ["other"])),
    ({"Entrypoint": ["/new"]}, (["/new"], None)),
    ({"Entrypoint": ["/new"], "Cmd": ["arg"]}, (["/new"], ["arg"])),
    ({"Entrypoint": [""], "Cmd": ["sh"]}, (None, ["sh"])),
])
def test_entrypoint_and_cmd_combine_as_docker_does(body, expected):
    config = merge(body)
    assert (config["Entrypoint"], config["Cmd"]) == expected


def test_the_requests_env_comes_first_then_what_it_leaves_of_the_images():
    assert merge({"Env": ["B=3", "A=2"]})["Env"] == ["B=3", "A=2", "PATH=/image/bin"]
    assert merge({})["Env"] == ["PATH=/image/bin", "A=1"]
    assert create_env(None, ["X=1"]) == ["X=1"]
    assert create_env([], []) is None  # dockerd shows null


def test_a_process_gets_path_hostname_and_term_under_the_containers_env():
    config = {"Hostname": "box", "Env": ["B=2", "PATH=/usr/bin", "C=3"]}
    assert process_env(config, tty=True) == ["PATH=/usr/bin", "HOSTNAME=box", "TERM=xterm", "B=2", "C=3"]
    assert process_env({"Hostname": "box"}, tty=False, extra=["X=1", "HOSTNAME"]) == [DEFAULT_PATH, "X=1"]


def test_image_defaults_fill_what_the_request_leaves_out():
    config = merge({"Labels": {"mine": "yes"}})
    assert config["WorkingDir"] == "/srv" and config["User"] == "app"
    assert config["Labels"] == {"from": "image", "mine": "yes"}
    assert config["Hostname"] == "0123456789ab"


def test_restart_policy_is_validated():
    with pytest.raises(Exception, match="maximum retry count cannot be used with restart policy 'always'"):
        normalize_host_config({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 2}})
    with pytest.raises(Exception, match="invalid restart policy 'sometimes'"):
        normalize_host_config({"RestartPolicy": {"Name": "sometimes"}})
    assert normalize_host_config({})["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0}  # as dockerd


def test_host_config_has_every_field_dockerd_shows_in_its_order():
    host_config = normalize_host_config({"NetworkMode": "none", "Memory": 8 << 20, "Tmpfs": {}})
    assert list(host_config)[:6] == ["Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings",
                                     "RestartPolicy"]
    assert (host_config["Memory"], host_config["ShmSize"], host_config["IpcMode"]) == (8 << 20, 64 << 20, "private")
    assert "/proc/kcore" in host_config["MaskedPaths"] and "/proc/sys" in host_config["ReadonlyPaths"]
    assert "Tmpfs" not in host_config  # left out while empty, as dockerd does
    assert normalize_host_config({"Privileged": True})["MaskedPaths"] is None
    # the docker CLI sends "" where dockerd then shows its defaults
    sent = normalize_host_config({"IpcMode": "", "CgroupnsMode": "", "PidMode": "host"})
    assert (sent["IpcMode"], sent["CgroupnsMode"] in ("host", "private")) == ("private", True)
    assert sent["SecurityOpt"] == ["label=disable"]


def test_capabilities_add_and_drop_as_docker_does():
    caps = capabilities({"CapAdd": ["NET_ADMIN"], "CapDrop": ["chown"]})
    assert "CAP_NET_ADMIN" in caps and "CAP_CHOWN" not in caps
    assert capabilities({"CapDrop": ["ALL"], "CapAdd": ["KILL"]}) == ["CAP_KILL"]
    assert capabilities({"CapDrop": ["ALL"]}) == []
    everything_but = capabilities({"CapAdd": ["ALL"], "CapDrop": ["SYS_ADMIN"]})
    assert "CAP_SYS_ADMIN" not in everything_but and "CAP_NET_ADMIN" in everything_but
    assert "CAP_SYS_ADMIN" in capabilities({"Privileged": True})


def test_signals_by_name_or_number():
    assert parse_signal("TERM") == parse_signal("SIGTERM") == parse_signal("15")
    with pytest.raises(SpecError, match="Invalid signal: NOPE"):
        parse_signal("NOPE")


def test_users_resolve_against_the_images_files(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\napp:x:1000:\nwheel:x:10:root,app\nstaff:x:50:\n")
    app = resolve_user(tmp_path, "app")
    assert (app.uid, app.gid, app.additional_gids, app.home) == (1000, 1000, [1000, 10], "/home/app")
    assert resolve_user(tmp_path, "app:staff").gid == 50
    assert resolve_user(tmp_path, "4242:4343").uid == 4242
    group_only = resolve_user(tmp_path, ":10")  # as runc: uid 0, home from passwd, no memberships
    assert (group_only.uid, group_only.gid, group_only.additional_gids, group_only.home) == (0, 10, [10], "/root")
    with pytest.raises(UserError, match="unable to find user ghost: no matching entries in passwd file"):
        resolve_user(tmp_path, "ghost")


def test_daemon_json_is_read_and_flags_win(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"data-root": "/from/file", "runtimes": {"runc": {"path": "/usr/sbin/runc"}},
                                "insecure-registries": ["10.0.0.1:5000"]}))
    config = load_config(path, {"data-root": "/from/flag"})
    assert str(config.data_root) == "/from/flag"
    assert config.runtime("runc").path == "/usr/sbin/runc"
    assert config.runtime(None).name == "berth"
    path.write_text('{"no-such-option": 1}')
    with pytest.raises(ConfigError, match="don't match any configuration option: no-such-option"):
        load_config(path, {})


def test_the_course_s_misspelt_key_is_refused_with_the_file_and_the_right_spelling(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"insecure-registeries": ["192.168.12.45:5000"]}')  # as the course writes it
    with pytest.raises(ConfigError) as refused:
        load_config(path, {})
    assert str(refused.value) == (f"unable to configure the berth daemon with file {path}: the following directives "
                                  "don't match any configuration option: insecure-registeries; did you mean "
                                  "insecure-registries for insecure-registeries?")


def test_a_seccomp_profile_in_daemon_json_is_read_and_checked_at_start(tmp_path):
    path, profile = tmp_path / "daemon.json", tmp_path / "profile.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    path.write_text(json.dumps({"seccomp-profile": str(profile)}))
    assert load_config(path, {}).seccomp_profile_json == '{"defaultAction": "SCMP_ACT_ALLOW"}'
    profile.write_text('{"defaultAction": "SCMP_ACT_SOMETIMES"}')
    with pytest.raises(ConfigError, match="'SCMP_ACT_SOMETIMES' is not a valid action"):
        load_config(path, {})
    with pytest.raises(ConfigError, match=f"opening seccomp profile \\({tmp_path}/missing.json\\) failed"):
        load_config(path, {"seccomp-profile": str(tmp_path / "missing.json")})


@pytest.mark.parametrize("mode", ["ro", "rw,z", "Z", "ro,rslave", "shared"])
def test_a_bind_mode_is_checked_as_dockerd_checks_it(tmp_path, mode):
    [mount] = bind_mounts({"Binds": [f"{tmp_path}:/c:{mode}"]})
    assert (mount["RW"], mount["Propagation"]) == ("ro" not in mode, mode.split(",")[-1] if "s" in mode else "rprivate")


@pytest.mark.parametrize("mode", [",", "r o", "ro1", "é", "ro,,shared", "ro,rw", "shared,slave"])
def test_other_bind_modes_are_refused(tmp_path, mode):
    with pytest.raises(InvalidArgument, match=f"invalid mode: {re.escape(mode)}"):
        bind_mounts({"Binds": [f"{tmp_path}:/c:{mode}"]})


def test_insecure_registries_and_mirrors_are_checked_at_start(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"insecure-registries": ["http://192.168.12.45:5000"]}))
    with pytest.raises(ConfigError, match="insecure registry http://192.168.12.45:5000 should not contain '://'"):
        load_config(path, {})
    path.write_text(json.dumps({"registry-mirrors": ["mirror.example"]}))
    with pytest.raises(ConfigError, match="invalid mirror"):
        load_config(path, {})
    path.write_text(json.dumps({"insecure-registries": ["192.168.12.45:5000"], "registry-mirrors": ["https://m.example"]}))
    config = load_config(path, {})
    assert (config.insecure_registries, config.registry_mirrors) == (["192.168.12.45:5000"], ["https://m.example"])
    assert config.certs_dir == tmp_path / "certs.d"
