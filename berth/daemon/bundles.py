"""A container's files for its runtime: the layer directories made when it is created; at each start
its overlay root, its /etc files and its OCI bundle (the spec, and the seccomp program compiled
beside it), with the monitor request that runs it; and their release at its exit and removal.
Where each of them lives is said here too.
"""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from functools import lru_cache
from pathlib import Path

from berth import trash
from berth.daemon import links, ports
from berth.daemon import rootfs as fs
from berth.daemon.config import DaemonConfig, RuntimeEntry
from berth.daemon.container import HAS_PROCESS, Container, endpoint_got
from berth.daemon.create_config import log_rotation
from berth.daemon.namespaces import joined_container
from berth.daemon.networks import DEFAULT_NETWORK, PREDEFINED, NetworkService
from berth.daemon.records import ContainerRecords
from berth.daemon.spec import DEFAULT_SHM_SIZE, INIT_IN_CONTAINER, build_spec
from berth.daemon.tasks import Task, task_for
from berth.errdefs import BerthError, InvalidArgument
from berth.image.service import ImageService
from berth.monitor.request import RunRequest
from berth.network.dns import EmbeddedDns, upstream_servers
from berth.network.drivers import Sandbox
from berth.runtime.mounts import resolve_in_root
from berth.runtime.ocispec import Spec
from berth.runtime.seccomp import PROGRAM_ANNOTATION, compile_program, program_name
from berth.volume.fill import fill

log = logging.getLogger("berth.daemon")


class Bundles:
    def __init__(self, config: DaemonConfig, images: ImageService, records: ContainerRecords,
                 networks: NetworkService) -> None:
        self.config = config
        self.images = images
        self.records = records
        self.networks = networks
        self.dns = EmbeddedDns(networks.names)
        self._filesystem_users: dict[str, int] = {}
        (config.data_root / "containers").mkdir(parents=True, exist_ok=True)
        (config.exec_root / "containers").mkdir(parents=True, exist_ok=True)

    # --- where things are ----------------------------------------------------------------------
    def directory(self, container: Container) -> Path:
        return Container.directory(self.config.data_root, container.id)

    def state_dir(self, container: Container) -> Path:
        return self.config.exec_root / "containers" / container.id

    def cgroup(self, container: Container) -> str:
        """The container's cgroup: under its own `--cgroup-parent`, or the daemon's."""
        parent = (container.host_config.get("CgroupParent") or self.config.cgroup_parent).strip("/")
        return f"/{parent}/{container.id}"

    def log_path(self, container: Container) -> Path:
        return self.directory(container) / f"{container.id}-json.log"

    def runtime_root(self, runtime: RuntimeEntry) -> Path:
        """Where a runc-compatible runtime keeps its state (its `--root`)."""
        return self.config.exec_root / "runtime" / runtime.name

    def task(self, container: Container) -> Task:
        """The started container's process, as its runtime handles it (berth.daemon.tasks)."""
        runtime = self.config.runtime(container.runtime)
        return task_for(runtime, str(self.runtime_root(runtime)), container.id, self.cgroup(container),
                        container.state.pid)

    # --- a container's life ----------------------------------------------------------------------
    async def create(self, container: Container) -> None:
        """The container's layer directories (init, diff, work), and a hold on its image's layers."""
        init_binary = INIT_IN_CONTAINER if container.host_config.get("Init") else None
        await asyncio.to_thread(fs.prepare_layer_dirs, self.directory(container), init_binary)
        await asyncio.to_thread(self.images.hold_layers, container.id, container.image_id)

    async def prepare(self, container: Container) -> RunRequest:
        """Mount the root filesystem, write the /etc files and the OCI bundle; the monitor's request.

        Raises InvalidArgument (with nothing left mounted) when the container cannot be set up."""
        directory = self.directory(container)
        state_dir = self.state_dir(container)
        state_dir.mkdir(parents=True, exist_ok=True)
        sandbox = self.networks.sandbox(container.host_config.get("NetworkMode") or "")
        try:
            if sandbox is Sandbox.PREPARED:
                await self._attach_networks(container)
            linked = links.resolve(container, self.records.get)
            lower_dirs = await asyncio.to_thread(self.images.layer_dirs, container.image_id)
            rootfs = fs.mount_rootfs(directory, lower_dirs)
            await asyncio.to_thread(_fill_volumes, container, rootfs)
            etc_dir = self._etc_files(container, links.hosts_lines(linked))
            spec = build_spec(container, rootfs, etc_dir, self.cgroup(container), self._init_to_join, sandbox,
                              self._shm_to_share(container),
                              self.config.seccomp_profile_json or self.config.seccomp_profile,
                              netns_path=container.sandbox_key, linked_env=links.environment(container, linked))
        except (OSError, BerthError) as exc:  # SpecError, UserError, ImageNotFound and the like
            fs.unmount_rootfs(directory)
            await self.stop_dns(container)
            await asyncio.to_thread(self.networks.unpublish, ports.as_rules(container.published))
            await asyncio.to_thread(self.networks.leave, container.id)
            container.forget_endpoints()
            raise InvalidArgument(str(exc)) from None
        _add_seccomp_program(spec, state_dir)
        (state_dir / "config.json").write_text(json.dumps(spec))
        runtime = self.config.runtime(container.runtime)
        request: RunRequest = {
            "op": "run", "id": container.id, "bundle": str(state_dir), "state_dir": str(state_dir),
            "log_path": str(self.log_path(container)) if container.keeps_logs else None,
            "tty": bool(container.config.get("Tty")),
            "stdin": bool(container.config.get("OpenStdin")), "runtime": runtime.path,
            "runtime_args": runtime.args, "runtime_root": str(self.runtime_root(runtime)),
        }
        if rotation := log_rotation((container.host_config.get("LogConfig") or {}).get("Config") or {}):
            request["log_max_size"], request["log_max_file"] = rotation
        return request

    async def _attach_networks(self, container: Container) -> None:
        """Make the container's network namespace and its endpoints, and note what it got."""
        mac = container.config.get("MacAddress") or ""
        requests = {name: {**settings, "MacAddress": settings.get("MacAddress") or (mac if index == 0 else "")}
                    for index, (name, settings) in enumerate(container.networks.items())}
        path, endpoints = await asyncio.to_thread(self.networks.attach, container.id, container.name, requests)
        sandbox = self.networks.sandbox_of(container.id) or {}
        container.sandbox_id, container.sandbox_key = sandbox.get("Id", ""), path
        for name, endpoint in endpoints.items():
            container.networks[name].update(endpoint_got(endpoint))
        rules = await asyncio.to_thread(self.networks.publish, container.id,
                                        ports.requested(container.config, container.host_config))
        container.published = ports.as_records(rules)
        await self.serve_dns(container)

    def resolves_names(self, container: Container) -> bool:
        """Whether the container is on a user-defined network, whose containers it finds by name."""
        return any(name not in PREDEFINED for name in container.networks)

    async def serve_dns(self, container: Container) -> None:
        """The embedded DNS server in a running container on a user-defined network (at its start, or
        again after a daemon restart)."""
        if self.resolves_names(container) and container.sandbox_key and not self.dns.serving(container.id):
            try:
                host = fs.HOST_RESOLV_CONF.read_text()
            except OSError:
                host = ""
            upstream = upstream_servers(host, container.host_config.get("Dns") or [])
            await self.dns.serve(container.id, container.sandbox_key, upstream)

    async def resolve_names_now(self, container: Container) -> None:
        """A running container joined its first user-defined network: the embedded server, and its
        resolv.conf rewritten in place (a new file would not be the one bind-mounted in)."""
        host_config = container.host_config
        text = fs.resolv_conf(host_config.get("Dns") or [], host_config.get("DnsSearch") or [],
                              host_config.get("DnsOptions") or [], embedded_dns=True)
        await asyncio.to_thread((self.directory(container) / "resolv.conf").write_text, text)
        await self.serve_dns(container)

    async def stop_dns(self, container: Container) -> None:
        await self.dns.stop(container.id)

    def release(self, container: Container) -> None:
        """After the process: unmount the root (and a shareable /dev/shm), have the runtime delete the
        task (ending what the init left behind, removing the cgroup), drop the runtime state, leave the
        networks. Blocking; the caller then has the container forget its endpoints."""
        self.networks.unpublish(ports.as_rules(container.published))
        self.networks.leave(container.id)
        fs.unmount_rootfs(self.directory(container))
        fs.unmount_shm(self.directory(container))
        try:
            self.task(container).delete()
        finally:
            shutil.rmtree(self.state_dir(container), ignore_errors=True)

    def delete(self, container: Container) -> None:
        """A removed container's files, and its hold on its image's layers. Blocking."""
        directory = self.directory(container)
        # The record goes first: a crash part-way leaves no container pointing at half-deleted files.
        (directory / "config.json").unlink(missing_ok=True)
        # The files go in the background, under a name no container has (restore() deletes what
        # a crash leaves of them): `run --rm` and `rm` need not wait for that.
        trash.discard(directory)
        try:
            self.images.release_layers(container.id)
        except sqlite3.Error as exc:  # a full disk, say: the removal stands, the next start drops the hold
            log.warning("the layers of %s stay held until the daemon restarts: %s", container.id[:12], exc)

    # --- its files from outside ------------------------------------------------------------------
    async def mount_filesystem(self, container: Container) -> Path:
        """The container's merged filesystem, mounted until `release_filesystem` (for cp and export)."""
        lower_dirs = await asyncio.to_thread(self.images.layer_dirs, container.image_id)
        self._filesystem_users[container.id] = self._filesystem_users.get(container.id, 0) + 1
        return fs.mount_rootfs(self.directory(container), lower_dirs)

    def release_filesystem(self, container: Container) -> None:
        users = self._filesystem_users.get(container.id, 1) - 1
        self._filesystem_users[container.id] = users
        if users <= 0 and container.state.status not in HAS_PROCESS:
            fs.unmount_rootfs(self.directory(container))

    def binds(self, container: Container) -> list[tuple[str, str]]:
        """(destination, source) of what is bind-mounted into the container: its /etc files and
        the user's binds, for a view of its files as the container sees them."""
        return fs.etc_binds(self.directory(container)) + [(m["Destination"], m["Source"]) for m in container.mounts]

    # --- what a start needs of other containers --------------------------------------------------
    def _init_to_join(self, namespace: str, ref: str) -> int:
        """The init of the running container whose `namespace` a container joins."""
        other = self.records.get(ref)
        if other.state.status not in HAS_PROCESS or not other.state.pid:
            reasons = {"network": f"cannot join network of a non running container: {other.id}",
                       "ipc": f"can't join IPC of container {other.id}: container {other.id} is not running"}
            raise InvalidArgument(reasons.get(namespace, f"container {other.id} is not running"))
        if namespace == "ipc" and other.host_config.get("IpcMode") not in ("shareable", "host"):
            raise InvalidArgument(f"can't join IPC of container {other.id}: non-shareable IPC "
                                  "(hint: use IpcMode:shareable for the donor container)")
        return other.state.pid

    def _etc_files(self, container: Container, link_lines: list[str]) -> Path:
        """The directory of the hostname, hosts and resolv.conf the container binds: its own, freshly
        written, or (`--network container:NAME`) those of the container whose network it joins,
        whose hostname it takes, as dockerd does."""
        host_config = container.host_config
        mode = host_config.get("NetworkMode") or ""
        if network_owner := joined_container(mode):
            other = self.records.get(network_owner)
            container.config["Hostname"] = other.config.get("Hostname", "")
            return self.directory(other)
        directory = self.directory(container)
        extra_hosts = [entry.replace(":host-gateway", f":{self.networks.gateway_of(DEFAULT_NETWORK)}")
                       if entry.endswith(":host-gateway") else entry for entry in host_config.get("ExtraHosts") or []]
        fs.write_etc_files(directory, container.config["Hostname"], mode == "host", extra_hosts,
                           host_config.get("Dns") or [], host_config.get("DnsSearch") or [],
                           host_config.get("DnsOptions") or [],
                           addresses=[s[key] for s in container.networks.values()
                                      for key in ("IPAddress", "GlobalIPv6Address") if s.get(key)],
                           link_lines=link_lines, embedded_dns=self.resolves_names(container))
        return directory

    def _shm_to_share(self, container: Container) -> str | None:
        """The /dev/shm of an IPC namespace shared with the host or other containers, as dockerd has it."""
        mode = container.host_config.get("IpcMode") or ""
        if mode == "host":
            return "/dev/shm"
        if mode == "shareable":
            size = container.host_config.get("ShmSize") or DEFAULT_SHM_SIZE
            return str(fs.mount_shm(self.directory(container), size))
        if donor := joined_container(mode):
            return str(self.directory(self.records.get(donor)) / "shm")
        return None


def _add_seccomp_program(spec: Spec, state_dir: Path) -> None:
    """Save linux.seccomp compiled, for berth's runtime to install instead of compiling it again;
    a profile libseccomp refuses is left for the runtime to report."""
    seccomp = spec["linux"].get("seccomp")
    if not seccomp:
        return
    try:
        program = _compiled_program(json.dumps(seccomp))
    except (OSError, ValueError):
        return
    path = state_dir / program_name(seccomp)
    path.write_bytes(program)
    spec["annotations"][PROGRAM_ANNOTATION] = str(path)


@lru_cache(maxsize=16)
def _compiled_program(seccomp_json: str) -> bytes:
    """linux.seccomp compiled to BPF; the same profile and capabilities give the same program."""
    return compile_program(json.loads(seccomp_json))


def _fill_volumes(container: Container, rootfs: Path) -> None:
    """At a container's first start, its new volumes take what the image has at their paths."""
    for mount in container.mounts:
        if mount.get("Type") == "volume" and mount.get("Name") in container.fill_volumes:
            try:
                source = Path(resolve_in_root(str(rootfs), mount["Destination"]))
            except OSError:
                continue
            fill(source, Path(mount["Source"]))
    container.fill_volumes = []
