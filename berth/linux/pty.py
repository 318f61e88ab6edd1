"""Pseudo-terminal ioctls: open a ptmx, reach its peer, make a controlling tty, set the size."""
from __future__ import annotations

import fcntl
import os
import struct
import termios

TIOCSPTLCK = 0x40045431
TIOCGPTPEER = 0x5441
TIOCGPTN = 0x80045430


def open_master(ptmx: str = "/dev/ptmx") -> int:
    """Open a new pty master on `ptmx` and unlock its slave."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    return master


def open_peer(master: int) -> int:
    """Open the slave side of `master` without a path lookup (TIOCGPTPEER)."""
    return fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)


def make_controlling(tty: int) -> None:
    """Make `tty` the controlling terminal of this (session leader) process."""
    fcntl.ioctl(tty, termios.TIOCSCTTY, 0)


def set_size(tty: int, rows: int, columns: int) -> None:
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def number(master: int) -> int:
    """The N of /dev/pts/N for `master` (TIOCGPTN)."""
    return struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, struct.pack("I", 0)))[0]
