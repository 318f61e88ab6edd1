"""Registries run in a daemon's network namespace, so the daemon reaches them as a course student reaches
theirs: berth's registry server, Debian's docker-registry, and a second "host" to put one on. The
publishing tests and bench/distribution.py use them."""
from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from berth.linux import syscalls
from berth.network import netns
from tests.daemon_harness import BIN, Daemon
from tests.waiting import eventually


def free_port(namespace: Path) -> int:
    with netns.entered(str(namespace)), socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(namespace: Path, host: str, port: int) -> bool:
    with netns.entered(str(namespace)):
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            return False


@contextmanager
def serving(namespace: Path, command: list[str], host: str, port: int, log: Path) -> Iterator[None]:
    """Run `command` (a registry listening on host:port) in the network namespace `namespace`."""
    fd = os.open(namespace, os.O_RDONLY)
    try:
        with open(log, "ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, pass_fds=(fd,),
                                       preexec_fn=lambda: syscalls.setns(fd, syscalls.CLONE_NEWNET))
    finally:
        os.close(fd)
    try:
        eventually(lambda: process.poll() is None and answers(namespace, host, port),
                   f"the registry on {host}:{port} to answer", timeout=20, interval=0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def berth_registry(namespace: Path, root: Path, host: str = "127.0.0.1", *flags: str) -> Iterator[str]:
    """berth's registry in `namespace`; yields its `host:port`."""
    port = free_port(namespace) if host == "127.0.0.1" else 5000
    command = [str(BIN / "berth"), "registry", "serve", "-a", f"{host}:{port}", "--root", str(root), *flags]
    with serving(namespace, command, host, port, root.parent / f"{root.name}.log"):
        yield f"{host}:{port}"


REMOTE_SUBNET = "192.0.2"  # TEST-NET-1: the daemon's host is .1, the registry's host .2


@contextmanager
def remote_host(daemon: Daemon) -> Iterator[Path]:
    """A second machine for the daemon's host to reach: a network namespace joined to the daemon's by a
    veth pair, 192.0.2.1 on the daemon's side, 192.0.2.2 on its own."""
    from pyroute2 import IPRoute

    path = daemon.base / "registry-host-netns"
    netns.create(path)
    try:
        with netns.entered(str(daemon.netns)), IPRoute() as ipr:
            ipr.link("add", ifname="to-registry", kind="veth", peer={"ifname": "eth0"})
            peer = ipr.link_lookup(ifname="eth0")[0]
            fd = os.open(path, os.O_RDONLY)
            try:
                ipr.link("set", index=peer, net_ns_fd=fd)
            finally:
                os.close(fd)
            local = ipr.link_lookup(ifname="to-registry")[0]
            ipr.addr("add", index=local, address=f"{REMOTE_SUBNET}.1", prefixlen=24)
            ipr.link("set", index=local, state="up")
        with netns.entered(str(path)), IPRoute() as ipr:
            for name in ("lo", "eth0"):
                ipr.link("set", index=ipr.link_lookup(ifname=name)[0], state="up")
            ipr.addr("add", index=ipr.link_lookup(ifname="eth0")[0], address=f"{REMOTE_SUBNET}.2", prefixlen=24)
        yield path
    finally:
        netns.remove(path)


@contextmanager
def docker_registry(namespace: Path, root: Path) -> Iterator[str]:
    """Debian's docker-registry (the CNCF Distribution registry) on 127.0.0.1 in `namespace`: `host:port`."""
    port = free_port(namespace)
    root.mkdir(parents=True)
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n"
                      f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
    with serving(namespace, ["docker-registry", "serve", str(config)], "127.0.0.1", port, root / "log"):
        yield f"127.0.0.1:{port}"
