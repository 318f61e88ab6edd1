#!/usr/bin/env python3
"""Write a busybox root filesystem, as a tar stream, from Debian's busybox-static.

The tar is reproducible (fixed owners and times), so importing it twice gives the same layer.
Usage: busybox_rootfs.py [OUTPUT.tar]   (standard output when no file is given)
"""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from typing import BinaryIO

BUSYBOX = "/bin/busybox"
MTIME = 1_700_000_000

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
"""
DIRECTORIES = {
    "bin": 0o755, "sbin": 0o755, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
    "etc": 0o755, "root": 0o700, "home": 0o755, "tmp": 0o1777, "var": 0o755,
    "var/spool": 0o755, "var/spool/mail": 0o755, "var/www": 0o755,
    "proc": 0o555, "sys": 0o555, "dev": 0o755,
}


def _entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = MTIME
    info.uname = info.gname = "root"
    return info


def applet_paths() -> list[str]:
    """Every applet's install path, as busybox itself lists them (e.g. 'bin/sh')."""
    out = subprocess.run([BUSYBOX, "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip()} - {"bin/busybox"})


def write_rootfs(out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in DIRECTORIES.items():
            tar.addfile(_entry(name, tarfile.DIRTYPE, mode))
        with open(BUSYBOX, "rb") as binary:
            data = binary.read()
        info = _entry("bin/busybox", tarfile.REGTYPE, 0o755)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for path in applet_paths():
            link = _entry(path, tarfile.SYMTYPE, 0o777)
            link.linkname = "/bin/busybox"
            tar.addfile(link)
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            body = text.encode()
            info = _entry(name, tarfile.REGTYPE, 0o644)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def main() -> None:
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as out:
            write_rootfs(out)
    else:
        write_rootfs(sys.stdout.buffer)


if __name__ == "__main__":
    main()
