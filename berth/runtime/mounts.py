"""The container's filesystem view: spec mounts under the rootfs, pivot_root, masked and read-only paths."""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from berth.linux import syscalls as sc
from berth.runtime import cgroups, devices
from berth.runtime.ocispec import Mount, Spec

# option -> (flag, set?) ; "set" False means the option clears the flag
_FLAG_OPTIONS = {
    "ro": (sc.MS_RDONLY, True), "rw": (sc.MS_RDONLY, False),
    "nosuid": (sc.MS_NOSUID, True), "suid": (sc.MS_NOSUID, False),
    "nodev": (sc.MS_NODEV, True), "dev": (sc.MS_NODEV, False),
    "noexec": (sc.MS_NOEXEC, True), "exec": (sc.MS_NOEXEC, False),
    "sync": (sc.MS_SYNCHRONOUS, True), "async": (sc.MS_SYNCHRONOUS, False),
    "dirsync": (sc.MS_DIRSYNC, True), "remount": (sc.MS_REMOUNT, True),
    "mand": (sc.MS_MANDLOCK, True), "nomand": (sc.MS_MANDLOCK, False),
    "atime": (sc.MS_NOATIME, False), "noatime": (sc.MS_NOATIME, True),
    "diratime": (sc.MS_NODIRATIME, False), "nodiratime": (sc.MS_NODIRATIME, True),
    "relatime": (sc.MS_RELATIME, True), "norelatime": (sc.MS_RELATIME, False),
    "strictatime": (sc.MS_STRICTATIME, True), "nostrictatime": (sc.MS_STRICTATIME, False),
    "lazytime": (sc.MS_LAZYTIME, True), "nolazytime": (sc.MS_LAZYTIME, False),
    "nosymfollow": (sc.MS_NOSYMFOLLOW, True), "symfollow": (sc.MS_NOSYMFOLLOW, False),
    "bind": (sc.MS_BIND, True), "rbind": (sc.MS_BIND | sc.MS_REC, True),
}
_PROPAGATION = {
    "private": sc.MS_PRIVATE, "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "slave": sc.MS_SLAVE, "rslave": sc.MS_SLAVE | sc.MS_REC,
    "shared": sc.MS_SHARED, "rshared": sc.MS_SHARED | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE, "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}
# Options for the runtime or other tools, not for mount(2).
_IGNORED = {"defaults", "z", "Z", "tmpcopyup"}
# Mount flags that a remount must repeat (statvfs reports them with the same bits).
_KEPT_ON_REMOUNT = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


@dataclass
class MountOptions:
    flags: int = 0
    propagation: list[int] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    @property
    def bind(self) -> bool:
        return bool(self.flags & sc.MS_BIND)


def parse_options(options: list[str]) -> MountOptions:
    parsed = MountOptions()
    for option in options:
        if option in _FLAG_OPTIONS:
            flag, on = _FLAG_OPTIONS[option]
            parsed.flags = parsed.flags | flag if on else parsed.flags & ~flag
        elif option in _PROPAGATION:
            parsed.propagation.append(_PROPAGATION[option])
        elif option not in _IGNORED:
            parsed.data.append(option)
    return parsed


def resolve_in_root(root: str, path: str, max_links: int = 40) -> str:
    """`path` inside `root`, following symlinks as if `root` were "/", never leaving it."""
    pending = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        try:
            target = os.readlink(os.path.join(root, *resolved, part))
        except OSError:  # not a symlink, or not there yet
            resolved.append(part)
            continue
        links += 1
        if links > max_links:
            raise OSError(errno.ELOOP, f"too many symlinks resolving {path}")
        if target.startswith("/"):
            resolved = []
        pending = [p for p in target.split("/") if p not in ("", ".")] + pending
    return os.path.join(root, *resolved)


def _make_target(target: str, like: str | None) -> None:
    """Create a mount point: an empty file when binding a non-directory, else a directory."""
    if os.path.lexists(target):
        return
    if like is not None and os.path.exists(like) and not os.path.isdir(like):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
    else:
        os.makedirs(target, exist_ok=True)


def remount_readonly(path: str, extra: int = 0) -> None:
    kept = os.statvfs(path).f_flag & _KEPT_ON_REMOUNT
    sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | kept | extra)


def _bind(source: str, target: str, options: MountOptions) -> None:
    _make_target(target, source)
    sc.mount(source, target, None, options.flags & (sc.MS_BIND | sc.MS_REC))
    extra = options.flags & ~(sc.MS_BIND | sc.MS_REC)
    if extra:
        sc.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | extra)


def _mount_cgroups(target: str, options: MountOptions, cgroups_path: str | None) -> None:
    """A "cgroup" mount: the container's own cgroups, one bind per v1 hierarchy on a tmpfs (as runc,
    without the hybrid host's cgroup2 tree), or its cgroup2 directory.

    With the spec's `cgroups_path` these are known before the process has joined them (so the
    mounts need not wait for that); without one they are the cgroups the process is in.
    """
    found = cgroups.hierarchies()
    own = {}
    if cgroups_path:
        relative = os.path.normpath("/" + cgroups_path).lstrip("/")
        own = {controller: relative for controller in found.v1} or {"": relative}
    else:
        with open("/proc/self/cgroup") as lines:
            for line in lines:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                own[controllers] = path.lstrip("/")
    readonly = options.flags & sc.MS_RDONLY
    binds: list[tuple[str, str]] = []
    if found.v1:
        sc.mount("tmpfs", target, "tmpfs", (options.flags & _KEPT_ON_REMOUNT), "mode=755")
        for controllers, path in own.items():
            mount_point = next((found.v1[c] for c in controllers.split(",") if c in found.v1), None)
            if mount_point is None:
                continue
            bind = (os.path.join(mount_point, path), os.path.join(target, os.path.basename(mount_point)))
            if bind not in binds:
                binds.append(bind)
        for controller, mount_point in found.v1.items():
            name = os.path.basename(mount_point)
            if controller != name and not controller.startswith("name="):
                os.symlink(name, os.path.join(target, controller))
    elif found.v2:
        binds.append((os.path.join(found.v2, own.get("", "")), target))
    for source, bind_target in binds:
        os.makedirs(bind_target, exist_ok=True)
        sc.mount(source, bind_target, None, sc.MS_BIND | sc.MS_REC)
        if readonly:
            remount_readonly(bind_target, options.flags & _KEPT_ON_REMOUNT)
    if readonly and found.v1:
        remount_readonly(target)


def mount_entry(rootfs: str, entry: Mount, cgroups_path: str | None = None) -> None:
    """Mount one spec `mounts` entry under `rootfs` (`cgroups_path`: the spec's, for a cgroup mount)."""
    target = resolve_in_root(rootfs, entry["destination"])
    options = parse_options(entry.get("options") or [])
    kind = entry.get("type") or "none"
    if kind == "bind" or options.bind:
        if not options.bind:
            options.flags |= sc.MS_BIND
        _bind(entry["source"], target, options)
    elif kind == "cgroup":
        os.makedirs(target, exist_ok=True)
        _mount_cgroups(target, options, cgroups_path)
    else:
        os.makedirs(target, exist_ok=True)
        sc.mount(entry.get("source") or kind, target, kind, options.flags, ",".join(options.data) or None)
    for propagation in options.propagation:
        sc.mount(None, target, None, propagation)


def prepare_rootfs(rootfs: str, spec: Spec, before_cgroup_mounts: Callable[[], None] = lambda: None) -> None:
    """Before pivot_root: propagation, the rootfs bind, every spec mount, then /dev's contents.

    cgroup mounts come after the others, once `before_cgroup_mounts` has returned (the cgroups they
    show are being made meanwhile).
    """
    linux = spec.get("linux") or {}
    propagation = _PROPAGATION.get(linux.get("rootfsPropagation", ""), sc.MS_SLAVE | sc.MS_REC)
    sc.mount(None, "/", None, propagation)
    sc.mount(rootfs, rootfs, None, sc.MS_BIND | sc.MS_REC)
    dev_is_bind = False
    entries = spec.get("mounts") or []
    cgroup_entries = [entry for entry in entries if entry.get("type") == "cgroup"]
    for entry in entries:
        if entry.get("type") != "cgroup":
            mount_entry(rootfs, entry)
        if os.path.normpath(entry["destination"]) == "/dev":
            dev_is_bind = entry.get("type") == "bind" or parse_options(entry.get("options") or []).bind
    if cgroup_entries:
        before_cgroup_mounts()
        for entry in cgroup_entries:
            mount_entry(rootfs, entry, linux.get("cgroupsPath"))
    if not dev_is_bind:
        dev = resolve_in_root(rootfs, "/dev")
        if os.path.realpath(dev) == "/dev":  # before pivot_root, that is the host's own /dev
            raise OSError(f"refusing to create device nodes in the host's /dev (rootfs {rootfs})")
        devices.populate_dev(dev, linux.get("devices") or [])


def pivot_into(rootfs: str) -> None:
    """Make `rootfs` the root and detach the old one (pivot_root(".", ".") as runc and crun do)."""
    os.chdir(rootfs)
    sc.pivot_root(".", ".")
    sc.mount(None, ".", None, sc.MS_SLAVE | sc.MS_REC)
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def mask_paths(paths: list[str]) -> None:
    """Hide each path: /dev/null over a file, an empty read-only tmpfs over a directory."""
    for path in paths:
        try:
            if stat.S_ISDIR(os.stat(path).st_mode):
                sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
            else:
                sc.mount("/dev/null", path, None, sc.MS_BIND)
        except FileNotFoundError:
            continue


def readonly_paths(paths: list[str]) -> None:
    for path in paths:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except FileNotFoundError:
            continue
        remount_readonly(path, sc.MS_REC)


def finish_rootfs(spec: Spec) -> None:
    """After pivot_root: masked and read-only paths, then a read-only root if asked."""
    linux = spec.get("linux") or {}
    mask_paths(linux.get("maskedPaths") or [])
    readonly_paths(linux.get("readonlyPaths") or [])
    if (spec.get("root") or {}).get("readonly"):
        remount_readonly("/")
