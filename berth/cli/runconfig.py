"""`run`/`create` flags -> the body of POST /containers/create, parsed the way docker parses them.

`exec` parses its -e and --env-file here too. Neither command pays for importing `re` (start-up
time): this module does without it, and imports berth.cli.units (which uses it) only for a size."""
from __future__ import annotations

import os

from berth.cli.errors import CLIError, FlagError

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def read_kv_file(path: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Lines of an env/label file: `#` comments and blank lines skipped; `NAME` alone is taken
    from the environment (and dropped when unset); `NAME=value` is kept as written."""
    env = os.environ if environ is None else environ
    raw = _read(path)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CLIError(f"env file {path} contains invalid utf8 bytes") from None
    lines: list[str] = []
    for line in text.splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        name = name.lstrip()
        if not name:
            raise CLIError(f"no variable name on line '{line}'")
        if any(char.isspace() for char in name):
            raise CLIError(f"variable '{name}' contains whitespaces")
        if has_value:
            lines.append(f"{name}={value}")
        elif name in env:
            lines.append(f"{name}={env[name]}")
    return lines


def parse_env(values: Sequence[str], env_files: Sequence[str] = (),
              environ: Mapping[str, str] | None = None) -> list[str]:
    """Environment for the container: env files first, then `-e` values in order.

    `-e NAME` takes NAME's value from our environment, or is passed on bare when unset."""
    env = os.environ if environ is None else environ
    result: list[str] = []
    for path in env_files:
        result.extend(read_kv_file(path, env))
    for value in values:
        name, has_value, _ = value.partition("=")
        if not name:
            raise FlagError(f"invalid argument \"{value}\" for \"-e, --env\" flag: invalid environment variable: {value}")
        result.append(value if has_value or name not in env else f"{name}={env[name]}")
    return result


def parse_labels(values: Sequence[str], label_files: Sequence[str] = ()) -> dict[str, str]:
    """`-l k=v` / `--label-file` into a map; `-l k` means an empty value."""
    labels: dict[str, str] = {}
    entries = [line for path in label_files for line in read_kv_file(path, {})] + list(values)
    for entry in entries:
        key, _, value = entry.partition("=")
        if not key:
            raise CLIError(f"invalid label: {entry}")
        labels[key] = value
    return labels


def parse_restart_policy(text: str) -> dict[str, Any]:
    """`no`, `always`, `unless-stopped`, `on-failure[:max-retries]` -> RestartPolicy."""
    if not text:
        return {"Name": "", "MaximumRetryCount": 0}
    name, _, count = text.partition(":")
    if name not in RESTART_POLICIES:
        raise CLIError(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                       "'on-failure', or 'unless-stopped'")
    retries = 0
    if count:
        if not count.isdigit():
            raise CLIError("invalid restart policy format: maximum retry count must be an integer")
        if name != "on-failure":
            raise CLIError("invalid restart policy: maximum retry count can only be used with 'on-failure'")
        retries = int(count)
    return {"Name": name, "MaximumRetryCount": retries}


def parse_volumes(values: Sequence[str]) -> tuple[list[str], dict[str, dict]]:
    """`-v` values: `SRC:DST[:MODE]` are binds (HostConfig.Binds), a lone `DST` is an anonymous
    volume (Config.Volumes)."""
    binds: list[str] = []
    anonymous: dict[str, dict] = {}
    for value in values:
        parts = value.split(":")
        if len(parts) == 1:
            if not value.startswith("/"):
                raise CLIError(f"invalid volume specification: '{value}': destination must be an absolute path")
            anonymous[value] = {}
        elif not all(parts):
            raise CLIError(f"invalid spec: {value}: empty section between colons")
        else:
            binds.append(value)  # the daemon checks the rest, as dockerd does
    return binds, anonymous


def _port_range(text: str, what: str) -> list[int]:
    """`80` or `8000-8010`; `what` names the port as docker's errors do: containerPort, hostPort."""
    start, _, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) if end else first
    except ValueError:
        raise CLIError(f"invalid {what}: {text}") from None
    if not 0 <= first <= last <= 65535:
        raise CLIError(f"invalid {what}: {text}")
    return list(range(first, last + 1))


def parse_ports(values: Sequence[str], expose: Sequence[str] = ()) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """`-p [IP:][HOST:]CONTAINER[/PROTO]` (ranges allowed) -> ExposedPorts, PortBindings."""
    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict]] = {}
    for value in values:
        spec, _, proto = value.partition("/")
        proto = proto or "tcp"
        ip, host, container = "", "", spec
        if spec.count(":") == 1:
            host, container = spec.split(":")
        elif spec.count(":") >= 2:
            ip, host, container = spec.rsplit(":", 2)
            ip = ip.strip("[]")
        container_ports = _port_range(container, "containerPort")
        host_ports = _port_range(host, "hostPort") if host else []
        if host_ports and len(host_ports) != len(container_ports) and len(host_ports) != 1:
            raise CLIError(f"invalid ranges specified for container and host Ports: {container} and {host}")
        for i, port in enumerate(container_ports):
            key = f"{port}/{proto}"
            exposed[key] = {}
            if len(host_ports) == len(container_ports):
                host_port = str(host_ports[i])
            elif host_ports:
                host_port = f"{host_ports[0]}"
            else:
                host_port = ""
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": host_port})
    for value in expose:
        spec, _, proto = value.partition("/")
        try:
            ports = _port_range(spec, "containerPort")
        except CLIError:
            raise CLIError(f"invalid range format for --expose: {value}, error: "
                           f'strconv.ParseUint: parsing "{spec}": invalid syntax') from None
        for port in ports:
            exposed[f"{port}/{proto or 'tcp'}"] = {}
    return exposed, bindings


def parse_ulimit(text: str) -> dict[str, Any]:
    """`nofile=1024[:2048]` -> {"Name", "Soft", "Hard"}."""
    name, sep, limits = text.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        soft_value = int(soft)
        hard_value = int(hard) if hard else soft_value
    except ValueError:
        raise CLIError(f"invalid ulimit argument: {text}") from None
    if not sep or not name:
        raise CLIError(f"invalid ulimit argument: {text}")
    if soft_value > hard_value:
        raise CLIError(f"ulimit soft limit must be less than or equal to hard limit: {soft_value} > {hard_value}")
    return {"Name": name, "Soft": soft_value, "Hard": hard_value}


_MOUNT_TARGET_KEYS = ("target", "destination", "dst")
_MOUNT_SOURCE_KEYS = ("source", "src")


def parse_mounts(values: Sequence[str]) -> list[dict[str, Any]]:
    """`--mount type=bind,src=/a,dst=/b[,readonly]` (also tmpfs and volume) -> HostConfig.Mounts;
    the type defaults to volume, and a refused value is worded as docker's CLI words it."""
    return [_parse_mount(value) for value in values]


def _parse_mount(value: str) -> dict[str, Any]:
    def refuse(reason: str) -> FlagError:
        return FlagError(f'invalid argument "{value}" for "--mount" flag: {reason}')

    mount: dict[str, Any] = {"Type": "volume"}
    for field in value.split(","):
        key, equals, text = field.partition("=")
        key = key.strip().lower()
        if not equals and key not in ("readonly", "ro", "volume-nocopy"):
            raise refuse(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            mount["Type"] = text
        elif key in _MOUNT_SOURCE_KEYS:
            mount["Source"] = text
        elif key in _MOUNT_TARGET_KEYS:
            mount["Target"] = text
        elif key in ("readonly", "ro"):
            if text.lower() not in ("", "1", "true", "0", "false"):
                raise refuse(f"invalid value for {key}: {text}")
            mount["ReadOnly"] = text.lower() in ("", "1", "true")
        elif key == "bind-propagation":
            mount.setdefault("BindOptions", {})["Propagation"] = text
        elif key in ("tmpfs-size", "tmpfs-mode"):
            try:
                number = parse_size(text, "--mount") if key == "tmpfs-size" else int(text, 8)
            except (FlagError, ValueError):
                raise refuse(f"invalid value for {key}: {text}") from None
            mount.setdefault("TmpfsOptions", {})["SizeBytes" if key == "tmpfs-size" else "Mode"] = number
        elif key == "volume-nocopy":
            if text.lower() not in ("", "1", "true", "0", "false"):
                raise refuse(f"invalid value for {key}: {text}")
            mount.setdefault("VolumeOptions", {})["NoCopy"] = text.lower() in ("", "1", "true")
        elif key == "volume-label":
            name, _, label = text.partition("=")
            mount.setdefault("VolumeOptions", {}).setdefault("Labels", {})[name] = label
        elif key == "volume-opt":
            name, _, option = text.partition("=")
            driver = mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})
            driver.setdefault("Options", {})[name] = option
        elif key == "volume-driver":
            mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = text
        elif key != "consistency":
            raise refuse(f"unexpected key '{key}' in '{field}'")
    if not mount.get("Target"):
        raise refuse("target is required")
    return mount


def parse_tmpfs(values: Sequence[str]) -> dict[str, str]:
    """`--tmpfs /run[:opts]` -> {"/run": "opts"}."""
    result: dict[str, str] = {}
    for value in values:
        path, _, options = value.partition(":")
        if not path.startswith("/"):
            raise CLIError(f"invalid tmpfs mount: {value}: path must be absolute")
        result[path] = options
    return result


def parse_cpus(text: str) -> int:
    """`--cpus 1.5` -> NanoCpus."""
    try:
        value = float(text)
    except ValueError:
        raise FlagError(f"invalid argument \"{text}\" for \"--cpus\" flag: failed to parse {text} as a rational number") from None
    return int(round(value * 1e9))


def parse_size(text: str | None, flag: str) -> int | None:
    """A size flag's value in bytes; None when the flag was not given ('' is refused, as docker does)."""
    if text is None:
        return None
    from berth.cli.units import ram_in_bytes  # only with a size: it imports re

    try:
        return ram_in_bytes(text)
    except ValueError as err:
        raise FlagError(f"invalid argument \"{text}\" for \"{flag}\" flag: {err}") from None


def parse_swap(text: str | None) -> int:
    """`--memory-swap`: a size, or -1 for unlimited swap."""
    return -1 if text == "-1" else parse_size(text, "--memory-swap") or 0


def parse_add_host(value: str) -> str:
    """`--add-host name:ip` (docker also accepts `name=ip`) -> "name:ip"."""
    name, sep, address = value.partition("=") if "=" in value else value.partition(":")
    if not sep or not name or not address:
        raise FlagError(f"invalid argument \"{value}\" for \"--add-host\" flag: bad format for add-host: \"{value}\"")
    return f"{name}:{address}"


def parse_device(value: str) -> dict[str, str]:
    """`--device HOST[:CONTAINER][:PERMISSIONS]`, as docker's CLI reads it."""
    parts = value.split(":")
    if len(parts) > 3:
        raise CLIError(f"bad format for path: {value}")
    source, target, permissions = parts[0], parts[0], "rwm"
    if len(parts) == 2 and parts[1] and not set(parts[1]) - set("rwm"):
        permissions = parts[1]
    elif len(parts) >= 2:
        target = parts[1]
    if len(parts) == 3:
        permissions = parts[2]
        if not permissions or set(permissions) - set("rwm"):
            raise CLIError(f"bad mode specified: {permissions}")
    if not target.startswith("/"):
        raise CLIError(f"{target} is not an absolute path")
    return {"PathOnHost": source, "PathInContainer": target, "CgroupPermissions": permissions}


def parse_healthcheck(opts: Mapping[str, Any]) -> dict[str, Any] | None:
    """`--health-*` and `--no-healthcheck` -> Config.Healthcheck (None: the image's stands)."""
    durations = {}
    for flag, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
        text = opts.get(f"health_{flag}")
        if text is None:
            continue
        from berth.durations import parse_go_duration

        try:
            durations[field] = round(parse_go_duration(text) * 1_000_000_000)
        except ValueError as error:
            raise FlagError(f'invalid argument "{text}" for "--health-{flag.replace("_", "-")}" flag: {error}') from None
        if durations[field] < 0:
            raise CLIError(f"--health-{flag.replace('_', '-')} cannot be negative")
    retries = opts.get("health_retries") or 0
    wanted = bool(opts.get("health_cmd") or any(durations.values()) or retries)
    if opts.get("no_healthcheck"):
        if wanted:
            raise CLIError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not wanted:
        return None
    if retries < 0:
        raise CLIError("--health-retries cannot be negative")
    return {"Test": ["CMD-SHELL", opts["health_cmd"]] if opts.get("health_cmd") else None, **durations,
            "Retries": retries}


def parse_device_limit(value: str, flag: str, field: str = "Rate") -> dict[str, Any]:
    """`--device-read-bps /dev/sda:1mb` (bytes: kb, mb or gb), `--device-read-iops /dev/sda:100`,
    `--blkio-weight-device /dev/sda:300` -> {"Path", "Rate" or "Weight"}, as docker reads them."""
    path, _, amount = value.rpartition(":")
    by_bytes = flag.endswith("bps")
    number = amount.lower()
    multiplier = 1
    if by_bytes and number[-2:] in ("kb", "mb", "gb"):
        number, multiplier = number[:-2], 1024 ** ("kmg".index(number[-2]) + 1)
    if not path.startswith("/") or not number.isdigit():
        if field == "Weight":
            raise FlagError(f'invalid argument "{value}" for "{flag}" flag: invalid weight for device: {value}')
        unit = "[<unit>]" if by_bytes else ""
        units = ". Unit is optional and can be kb, mb, or gb" if by_bytes else ""
        raise FlagError(f'invalid argument "{value}" for "{flag}" flag: invalid rate for device: {value}. The correct '
                        f"format is <device-path>:<number>{unit}. Number must be a positive integer{units}")
    return {"Path": path, field: int(number) * multiplier}


def parse_device_cgroup_rule(rule: str) -> str:
    """`--device-cgroup-rule 'c 1:3 rwm'`: a type, major:minor (or *), and access, as docker checks it."""
    kind, _, rest = rule.partition(" ")
    numbers, _, access = rest.partition(" ")
    major, colon, minor = numbers.partition(":")
    valid = kind in ("a", "b", "c") and colon and access and not set(access) - set("rwm") and len(access) <= 3 \
        and all(part == "*" or part.isdigit() for part in (major, minor))
    if not valid:
        raise FlagError(f"invalid argument \"{rule}\" for \"--device-cgroup-rule\" flag: "
                        f"invalid device cgroup format '{rule}'")
    return rule


def parse_dns_search(domain: str) -> str:
    """A search domain: `.`, or dot-separated labels of letters, digits and inner hyphens."""
    labels = domain.removesuffix(".").split(".")
    valid = domain == "." or all(label and len(label) <= 63 and label[0] != "-" and label[-1] != "-"
                                 and label.replace("-", "").isalnum() and label.isascii() for label in labels)
    if not valid:
        raise FlagError(f'invalid argument "{domain}" for "--dns-search" flag: {domain} is not a valid domain')
    return domain


_NAMESPACED_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                       "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.domainname")


def parse_sysctl(value: str) -> tuple[str, str]:
    """`--sysctl KEY=VALUE`, for the kernel parameters a container's namespaces hold."""
    key, separator, setting = value.partition("=")
    if not separator or not (key in _NAMESPACED_SYSCTLS or key.startswith(("fs.mqueue.", "net."))):
        raise FlagError(f"invalid argument \"{value}\" for \"--sysctl\" flag: sysctl '{value}' is not allowed")
    return key, setting


def _namespace_mode(mode: str, flag: str, name: str, joins: bool = True) -> str:
    """`--pid` and `--uts`: the host's namespace, a new one (""), or (--pid) another container's."""
    if mode not in ("", "host") and not (joins and mode.startswith("container:") and mode != "container:"):
        raise CLIError(f"{flag}: invalid {name} mode")
    return mode


def _read(path: str) -> bytes:
    """A file's bytes, or a CLIError as Go words the failure: `open x: no such file or directory`."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        reason = error.strerror or str(error)
        raise CLIError(f"open {path}: {reason[:1].lower()}{reason[1:]}") from None


def parse_security_opts(values: Sequence[str]) -> tuple[list[str], bool]:
    """docker's --security-opt -> (HostConfig.SecurityOpt, whether /proc's paths are unmasked).

    `seccomp=FILE` is sent as `seccomp=` and the file's JSON, compacted; `systempaths=unconfined` is
    not sent but empties the masked and read-only path lists."""
    options: list[str] = []
    unmasked = False
    for value in values:
        if value == "systempaths=unconfined":
            unmasked = True
            continue
        key, separator, argument = value.partition("=")
        if not separator and value != "no-new-privileges":
            key, separator, argument = value.partition(":")
            if not separator:
                raise CLIError(f'Invalid --security-opt: "{value}"')
        if key == "seccomp" and argument != "unconfined":
            import json

            try:
                text = _read(argument)
            except CLIError as error:
                raise CLIError(f"opening seccomp profile ({argument}) failed: {error.message}") from None
            try:
                compacted = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
            except ValueError as error:
                raise CLIError(f"compacting json for seccomp profile ({argument}) failed: {error}") from None
            value = f"seccomp={compacted}"
        options.append(value)
    return options, unmasked


def build_create_body(image: str, command: Sequence[str], opts: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of POST /containers/create from parsed `run`/`create` options.

    `opts` holds click's parameter values (names as in berth.cli.commands.run)."""
    detach = bool(opts.get("detach"))
    interactive = bool(opts.get("interactive"))
    attach = list(opts.get("attach") or ())
    if attach:
        attach_stdin, attach_stdout, attach_stderr = ("stdin" in attach, "stdout" in attach, "stderr" in attach)
    else:
        attach_stdin, attach_stdout, attach_stderr = interactive and not detach, not detach, not detach
    exposed, bindings = parse_ports(opts.get("publish") or (), opts.get("expose") or ())
    binds, volumes = parse_volumes(opts.get("volume") or ())
    if opts.get("rm") and opts.get("restart") and opts["restart"] not in ("no", ""):
        raise CLIError("conflicting options: cannot specify both --restart and --rm")
    config: dict[str, Any] = {
        "Hostname": opts.get("hostname") or "",
        "Domainname": "",
        "User": opts.get("user") or "",
        "AttachStdin": attach_stdin,
        "AttachStdout": attach_stdout,
        "AttachStderr": attach_stderr,
        "Tty": bool(opts.get("tty")),
        "OpenStdin": interactive,
        "StdinOnce": interactive and attach_stdin,
        "Env": parse_env(opts.get("env") or (), opts.get("env_file") or ()),
        "Cmd": list(command) or None,
        "Image": image,
        "Labels": parse_labels(opts.get("label") or (), opts.get("label_file") or ()),
    }
    if opts.get("domainname"):
        config["Domainname"] = opts["domainname"]
    healthcheck = parse_healthcheck(opts)
    if healthcheck is not None:
        config["Healthcheck"] = healthcheck
    if exposed:
        config["ExposedPorts"] = exposed
    if volumes:
        config["Volumes"] = volumes
    if opts.get("workdir"):
        config["WorkingDir"] = opts["workdir"]
    entrypoint = opts.get("entrypoint")
    if entrypoint is not None:
        config["Entrypoint"] = [entrypoint]
    if opts.get("stop_signal"):
        config["StopSignal"] = opts["stop_signal"]
    if opts.get("stop_timeout") is not None:
        config["StopTimeout"] = opts["stop_timeout"]
    host_config: dict[str, Any] = {
        "Binds": binds or None,
        "NetworkMode": opts.get("network") or "default",
        "PortBindings": bindings or {},
        "PublishAllPorts": bool(opts.get("publish_all")),
        "RestartPolicy": parse_restart_policy(opts.get("restart") or "no"),
        "AutoRemove": bool(opts.get("rm")),
        "Privileged": bool(opts.get("privileged")),
        "ReadonlyRootfs": bool(opts.get("read_only")),
        "CapAdd": list(opts.get("cap_add") or ()) or None,
        "CapDrop": list(opts.get("cap_drop") or ()) or None,
        "Dns": list(opts.get("dns") or ()),
        "DnsOptions": list(opts.get("dns_option") or ()),
        "DnsSearch": [parse_dns_search(domain) for domain in opts.get("dns_search") or ()],
        "ExtraHosts": [parse_add_host(h) for h in opts.get("add_host") or ()] or None,
        "LogConfig": {"Type": opts.get("log_driver") or "",
                      "Config": dict(option.partition("=")[::2] for option in opts.get("log_opt") or ())},
        "Devices": [parse_device(device) for device in opts.get("device") or ()] or None,
        "DeviceCgroupRules": [parse_device_cgroup_rule(rule) for rule in opts.get("device_cgroup_rule") or ()] or None,
        "VolumesFrom": list(opts.get("volumes_from") or ()) or None,
        "CgroupParent": opts.get("cgroup_parent") or "",
        "BlkioWeight": opts.get("blkio_weight") or 0,
        "BlkioWeightDevice": [parse_device_limit(v, "--blkio-weight-device", "Weight") for v in
                              opts.get("blkio_weight_device") or ()] or None,
        "OomKillDisable": bool(opts.get("oom_kill_disable")),
        "GroupAdd": list(opts.get("group_add") or ()) or None,
        "OomScoreAdj": opts.get("oom_score_adj") or 0,
        "PidMode": _namespace_mode(opts.get("pid") or "", "--pid", "PID"),
        "IpcMode": opts.get("ipc") or "",
        "UTSMode": _namespace_mode(opts.get("uts") or "", "--uts", "UTS", joins=False),
        "Tmpfs": parse_tmpfs(opts.get("tmpfs") or ()) or None,
        "Mounts": parse_mounts(opts.get("mount") or ()) or None,
        "Ulimits": [parse_ulimit(u) for u in opts.get("ulimit") or ()] or None,
        "Memory": parse_size(opts.get("memory"), "-m, --memory") or 0,
        "MemoryReservation": parse_size(opts.get("memory_reservation"), "--memory-reservation") or 0,
        "MemorySwap": parse_swap(opts.get("memory_swap")),
        "MemorySwappiness": opts.get("memory_swappiness", -1),
        "NanoCpus": parse_cpus(opts["cpus"]) if opts.get("cpus") else 0,
        "CpuShares": opts.get("cpu_shares") or 0,
        "CpuPeriod": opts.get("cpu_period") or 0,
        "CpuQuota": opts.get("cpu_quota") or 0,
        "CpusetCpus": opts.get("cpuset_cpus") or "",
        "CpusetMems": opts.get("cpuset_mems") or "",
        "PidsLimit": opts.get("pids_limit"),
    }
    swappiness = host_config["MemorySwappiness"]
    if swappiness != -1 and not 0 <= swappiness <= 100:
        raise CLIError(f"invalid value: {swappiness}. Valid memory swappiness range is 0-100")
    for field, flag in (("BlkioDeviceReadBps", "read-bps"), ("BlkioDeviceWriteBps", "write-bps"),
                        ("BlkioDeviceReadIOps", "read-iops"), ("BlkioDeviceWriteIOps", "write-iops")):
        limits = opts.get("device_" + flag.replace("-", "_")) or ()
        host_config[field] = [parse_device_limit(value, f"--device-{flag}") for value in limits] or None
    security_opts, unmasked = parse_security_opts(opts.get("security_opt") or ())
    if security_opts:
        host_config["SecurityOpt"] = security_opts
    if unmasked:
        host_config["MaskedPaths"] = host_config["ReadonlyPaths"] = []
    sysctls = dict(parse_sysctl(value) for value in opts.get("sysctl") or ())
    if sysctls:
        host_config["Sysctls"] = sysctls
    if opts.get("init"):
        host_config["Init"] = True
    if opts.get("runtime"):
        host_config["Runtime"] = opts["runtime"]
    shm = parse_size(opts.get("shm_size"), "--shm-size")
    if shm:
        host_config["ShmSize"] = shm
    body: dict[str, Any] = {**config, "HostConfig": host_config}
    if opts.get("mac_address"):
        body["MacAddress"] = opts["mac_address"]
    if opts.get("link"):
        host_config["Links"] = list(opts["link"])
    addresses = {key: opts[flag] for key, flag in (("IPv4Address", "ip"), ("IPv6Address", "ip6")) if opts.get(flag)}
    aliases = list(opts.get("network_alias") or ())
    if addresses or aliases:  # as docker's CLI: the endpoint of the network NetworkMode names
        body["NetworkingConfig"] = {"EndpointsConfig": {host_config["NetworkMode"]: {
            "IPAMConfig": addresses or None, "Aliases": aliases or None}}}
    return body
