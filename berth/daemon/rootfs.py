"""A container's filesystem: the overlay over its image's layers, and the /etc files berth writes.

Layout under `containers/<id>/`: `init` (a read-only layer holding the mountpoints berth mounts
over, so they never show in `diff` or `commit`, as Docker's init layer), `diff` (the writable layer),
`work` (overlay's scratch), `rootfs` (the merged mount, present only while the container runs),
`hostname`, `hosts`, `resolv.conf`.
"""
from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

from berth.atomicfile import write_atomic
from berth.linux import syscalls

HOST_RESOLV_CONF = Path("/etc/resolv.conf")
EMBEDDED_DNS = "127.0.0.11"  # berth.network.dns's address in a container on a user-defined network
FALLBACK_RESOLV_CONF = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


# The init layer, as dockerd's: mountpoints, the files berth binds over, /.dockerenv (which tools
# read to learn they run in a container) and /etc/mtab.
INIT_DIRECTORIES = {"dev": 0o755, "dev/pts": 0o755, "dev/shm": 0o755, "proc": 0o555, "sys": 0o555, "etc": 0o755}
INIT_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf")
INIT_MARKERS = (".dockerenv", "dev/console")


def etc_binds(directory: Path) -> list[tuple[str, str]]:
    """(destination in the container, source) of the /etc files write_etc_files() writes."""
    return [("/" + path, str(directory / Path(path).name)) for path in INIT_FILES]


def prepare_layer_dirs(directory: Path, init_binary: str | None = None) -> None:
    """Make the container's layer directories; `init_binary` is the mountpoint `--init` needs."""
    for name in ("diff", "work", "rootfs"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    init = directory / "init"
    if not init.exists():
        staging = directory / "init.tmp"
        shutil.rmtree(staging, ignore_errors=True)  # left by a crash
        files = [*INIT_MARKERS, *INIT_FILES, *([init_binary.lstrip("/")] if init_binary else [])]
        for name in {os.path.dirname(f) for f in files} - {""}:
            (staging / name).mkdir(parents=True, exist_ok=True)
        for name, mode in INIT_DIRECTORIES.items():
            (staging / name).mkdir(parents=True, exist_ok=True)
            os.chmod(staging / name, mode)
        for name in files:
            (staging / name).touch(mode=0o755)
        os.symlink("/proc/mounts", staging / "etc/mtab")
        os.replace(staging, init)


def is_mounted(path: Path) -> bool:
    """Whether something is mounted at `path` (an overlay or a tmpfs: another file system than its
    directory's). Asked of the inodes, not of /proc/self/mountinfo, which the kernel writes out whole
    for each reader: with 150 containers' mounts, 3 ms of every start."""
    return os.path.ismount(path)


def mount_rootfs(directory: Path, lower_dirs: list[Path]) -> Path:
    """Mount the overlay at `directory/rootfs`: image layers read-only, `diff` writable on top."""
    rootfs = directory / "rootfs"
    prepare_layer_dirs(directory)
    if is_mounted(rootfs):
        return rootfs
    lower_dirs = [directory / "init", *lower_dirs]
    options = (f"lowerdir={':'.join(str(d) for d in lower_dirs)},"
               f"upperdir={directory / 'diff'},workdir={directory / 'work'}")
    syscalls.mount("overlay", str(rootfs), "overlay", 0, options)
    return rootfs


def mount_shm(directory: Path, size: int) -> Path:
    """A /dev/shm other containers can share (`--ipc shareable`): a tmpfs at `directory/shm`, on the host."""
    shm = directory / "shm"
    shm.mkdir(exist_ok=True)
    if not is_mounted(shm):
        syscalls.mount("shm", str(shm), "tmpfs", syscalls.MS_NOSUID | syscalls.MS_NODEV | syscalls.MS_NOEXEC,
                       f"mode=1777,size={size}")
    return shm


def unmount_shm(directory: Path) -> None:
    try:
        syscalls.umount2(str(directory / "shm"), syscalls.MNT_DETACH)
    except OSError:
        pass  # not shareable, or not mounted


def unmount_rootfs(directory: Path) -> None:
    rootfs = directory / "rootfs"
    try:
        syscalls.umount2(str(rootfs), syscalls.MNT_DETACH)
    except OSError:
        pass  # not mounted


def write_etc_files(directory: Path, hostname: str, host_network: bool, extra_hosts: list[str],
                    dns: list[str], dns_search: Sequence[str] = (), dns_options: Sequence[str] = (),
                    addresses: Sequence[str] = (), link_lines: Sequence[str] = (),
                    embedded_dns: bool = False) -> None:
    """Write the container's /etc/hostname, /etc/hosts and /etc/resolv.conf (bind-mounted in);
    `addresses`, the container's own on its networks, name its hostname in /etc/hosts, after the
    lines of its links; with `embedded_dns` (a user-defined network) its only nameserver is the
    embedded server, which forwards to `dns` or the host's (dockerd's ndots:0 too)."""
    if host_network:
        hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else ""
    else:
        hosts = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                 "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                 "ff02::2\tip6-allrouters\n")
    for entry in extra_hosts:
        name, _, address = entry.partition(":")
        hosts += f"{address}\t{name}\n"
    hosts += "".join(f"{line}\n" for line in link_lines)
    hosts += "".join(f"{address}\t{hostname}\n" for address in addresses)
    write_atomic(directory / "hostname", (hostname + "\n").encode(), durable=False)
    write_atomic(directory / "hosts", hosts.encode(), durable=False)
    resolv = resolv_conf(dns, dns_search, dns_options, embedded_dns)
    write_atomic(directory / "resolv.conf", resolv.encode(), durable=False)


def resolv_conf(dns: Sequence[str], dns_search: Sequence[str], dns_options: Sequence[str], embedded_dns: bool) -> str:
    """A container's /etc/resolv.conf: the host's, with what the container asks instead; with
    `embedded_dns`, the embedded server (which forwards to `dns` or the host's) and dockerd's ndots:0."""
    try:
        resolv = HOST_RESOLV_CONF.read_text()
    except OSError:
        resolv = FALLBACK_RESOLV_CONF
    if embedded_dns:
        return _resolv_conf(resolv, [EMBEDDED_DNS], list(dns_search), ["ndots:0", *dns_options])
    if dns or dns_search or dns_options:
        return _resolv_conf(resolv, list(dns), list(dns_search), list(dns_options))
    return resolv


def _resolv_conf(host: str, servers: list[str], search: list[str], options: list[str]) -> str:
    """The host's resolv.conf with each of its nameservers, search domains and options replaced by
    the container's, where it has them (as dockerd builds it)."""
    lines = [line.split() for line in host.splitlines()]
    servers = servers or [words[1] for words in lines if len(words) > 1 and words[0] == "nameserver"]
    search = search or [domain for words in lines if words[:1] in (["search"], ["domain"]) for domain in words[1:]]
    options = options or [option for words in lines if words[:1] == ["options"] for option in words[1:]]
    text = f"search {' '.join(search)}\n" if search else ""
    text += "".join(f"nameserver {server}\n" for server in servers)
    return text + (f"options {' '.join(options)}\n" if options else "")


def directory_size(path: Path) -> int:
    """Bytes of the files and symlinks under `path`, each inode counted once (as Docker sizes a layer)."""
    seen: set[int] = set()
    total = 0
    for directory, dirs, files in os.walk(path):
        links_to_directories = [name for name in dirs if os.path.islink(os.path.join(directory, name))]
        for name in files + links_to_directories:
            try:
                stat = os.lstat(os.path.join(directory, name))
            except FileNotFoundError:
                continue
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_size
    return total


def host_hostname() -> str:
    return socket.gethostname()
