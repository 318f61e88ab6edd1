"""berthd's configuration: command-line flags over `daemon.json`, as dockerd does it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from berth import paths
from berth.errdefs import InvalidArgument
from berth.network.ipam import DEFAULT_POOLS, AddressPool


class ConfigError(InvalidArgument):
    pass


@dataclass
class RuntimeEntry:
    """An OCI runtime the daemon may use: berth's own (path None) or a runc-compatible binary."""

    name: str
    path: str | None
    args: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DefaultBridge:
    """The default `bridge` network, as daemon.json describes it (bip, fixed-cidr, mtu, icc, ip-masq,
    and the daemon's address pools)."""

    interface: str = "berth0"
    bip: str = ""  # the bridge's address with the subnet's prefix, "172.17.0.1/16"; else from the pools
    fixed_cidr: str = ""  # the range containers' addresses come from
    mtu: int = 1500
    icc: bool = True
    masquerade: bool = True



@dataclass
class DaemonConfig:
    data_root: Path = Path(paths.DEFAULT_DATA_ROOT)
    exec_root: Path = Path(paths.DEFAULT_EXEC_ROOT)
    hosts: list[str] = field(default_factory=lambda: [paths.DEFAULT_HOST])
    debug: bool = False
    cgroup_parent: str = "berth"
    default_runtime: str = "berth"
    runtimes: dict[str, RuntimeEntry] = field(default_factory=dict)
    insecure_registries: list[str] = field(default_factory=list)
    registry_mirrors: list[str] = field(default_factory=list)
    certs_dir: Path = Path("/etc/berth/certs.d")  # registries' certificates: certs.d/HOST:PORT/ beside daemon.json
    live_restore: bool = True
    # containers' seccomp profile unless they name one: "" (berth's default), "unconfined", or a
    # file's path, whose JSON is read once, when the configuration is
    seccomp_profile: str = ""
    seccomp_profile_json: str = ""
    log_driver: str = "json-file"  # containers' LogConfig unless they name a driver
    log_opts: dict[str, str] = field(default_factory=dict)
    bridge: DefaultBridge | None = field(default_factory=DefaultBridge)  # None: no default bridge ("bridge": "none")
    address_pools: tuple[AddressPool, ...] = DEFAULT_POOLS  # where networks made without a subnet take theirs
    ip_forward: bool = True  # turn on the host's IPv4 forwarding for bridge networks
    iptables: bool = True  # berth writes firewall rules (NAT, published ports, isolation)

    def __post_init__(self) -> None:
        self.runtimes.setdefault("berth", RuntimeEntry("berth", None))

    @property
    def socket_paths(self) -> list[str]:
        sockets = []
        for host in self.hosts:
            if not host.startswith("unix://"):
                raise ConfigError(f"unsupported host {host!r}: berthd listens on unix:// sockets")
            sockets.append(host[len("unix://"):])
        return sockets

    def runtime(self, name: str | None) -> RuntimeEntry:
        chosen = name or self.default_runtime
        try:
            return self.runtimes[chosen]
        except KeyError:
            raise ConfigError(f"unknown or invalid runtime name: {chosen}") from None


_KNOWN_KEYS = {"data-root", "exec-root", "hosts", "debug", "cgroup-parent", "default-runtime",
               "runtimes", "insecure-registries", "registry-mirrors", "live-restore", "log-level", "seccomp-profile",
               "log-driver", "log-opts", "bridge", "bip", "fixed-cidr", "mtu", "icc", "ip-masq", "ip-forward",
               "iptables", "default-address-pools"}


def load_config(config_file: Path | None, overrides: dict[str, Any]) -> DaemonConfig:
    """Read daemon.json (if it exists), then apply command-line overrides (non-None values)."""
    settings: dict[str, Any] = {}
    if config_file is not None and config_file.exists():
        try:
            settings = json.loads(config_file.read_text() or "{}")
        except ValueError as exc:
            raise ConfigError(f"unable to configure the berth daemon with file {config_file}: {exc}") from None
        unknown = set(settings) - _KNOWN_KEYS
        if unknown:
            raise ConfigError(f"unable to configure the berth daemon with file {config_file}: the following "
                              f"directives don't match any configuration option: {', '.join(sorted(unknown))}"
                              + _suggestions(sorted(unknown)))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    runtimes = {
        name: RuntimeEntry(name, entry["path"], list(entry.get("runtimeArgs", [])))
        for name, entry in settings.get("runtimes", {}).items()
    }
    config = DaemonConfig(
        data_root=Path(settings.get("data-root", paths.DEFAULT_DATA_ROOT)),
        exec_root=Path(settings.get("exec-root", paths.DEFAULT_EXEC_ROOT)),
        hosts=list(settings.get("hosts") or [paths.DEFAULT_HOST]),
        debug=bool(settings.get("debug", False)) or settings.get("log-level") == "debug",
        cgroup_parent=settings.get("cgroup-parent", "berth").strip("/"),
        default_runtime=settings.get("default-runtime", "berth"),
        runtimes=runtimes,
        insecure_registries=list(settings.get("insecure-registries", [])),
        registry_mirrors=list(settings.get("registry-mirrors", [])),
        certs_dir=(config_file.parent if config_file is not None else Path("/etc/berth")) / "certs.d",
        live_restore=bool(settings.get("live-restore", True)),
        seccomp_profile=settings.get("seccomp-profile") or "",
        log_driver=settings.get("log-driver") or "json-file",
        log_opts={str(key): str(value) for key, value in (settings.get("log-opts") or {}).items()},
        bridge=_default_bridge(settings),
        address_pools=_address_pools(settings),
        ip_forward=bool(settings.get("ip-forward", True)),
        iptables=bool(settings.get("iptables", True)),
    )
    config.runtime(None)  # the default runtime must exist
    from berth.daemon.create_config import (
        log_config,  # checked now, as dockerd refuses to start with bad ones
    )
    from berth.errdefs import InvalidArgument

    try:
        log_config({"Type": config.log_driver, "Config": config.log_opts})
    except InvalidArgument as exc:
        raise ConfigError(str(exc)) from None
    from berth.distribution.policy import RegistryPolicy

    try:
        RegistryPolicy(config.insecure_registries, config.registry_mirrors)
    except InvalidArgument as exc:
        raise ConfigError(f"unable to configure the berth daemon with file {config_file}: {exc}") from None
    if config.seccomp_profile not in ("", "builtin", "unconfined"):
        config.seccomp_profile_json = _read_seccomp_profile(config.seccomp_profile)
    return config


def _default_bridge(settings: dict[str, Any]) -> DefaultBridge | None:
    """daemon.json's settings of the default bridge network; None for `"bridge": "none"`."""
    interface = settings.get("bridge") or "berth0"
    if interface == "none":
        return None
    try:
        return DefaultBridge(interface=interface, bip=str(settings.get("bip") or ""),
                             fixed_cidr=str(settings.get("fixed-cidr") or ""), mtu=int(settings.get("mtu") or 1500),
                             icc=bool(settings.get("icc", True)), masquerade=bool(settings.get("ip-masq", True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid bridge settings in daemon.json: {exc}") from None


def _address_pools(settings: dict[str, Any]) -> tuple[AddressPool, ...]:
    try:
        return tuple(AddressPool(str(pool["base"]), int(pool["size"]))
                     for pool in settings.get("default-address-pools") or []) or DEFAULT_POOLS
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid default-address-pools in daemon.json: {exc}") from None


def _read_seccomp_profile(path: str) -> str:
    from berth.daemon.seccomp_profile import ProfileError, load_profile

    try:
        text = Path(path).read_text()
        load_profile(text)
    except OSError as exc:
        raise ConfigError(f"opening seccomp profile ({path}) failed: {exc.strerror}") from None
    except ProfileError as exc:
        raise ConfigError(f"seccomp profile ({path}): {exc}") from None
    return text


def _suggestions(unknown: list[str]) -> str:
    """`; did you mean insecure-registries for insecure-registeries?` for keys one typo away from a known one (the course's own
    daemon.json has `insecure-registeries`)."""
    import difflib

    near = [f"{match[0]} for {key}" for key in unknown
            if (match := difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1, cutoff=0.8))]
    return f"; did you mean {', '.join(near)}?" if near else ""
