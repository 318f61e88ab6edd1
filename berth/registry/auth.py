"""HTTP Basic authentication against an htpasswd file (`user:hash` lines).

A hash is checked by the system's crypt(3) (libxcrypt), so every hash it knows is accepted: bcrypt
(`$2y$`, `$2b$`, `$2a$`, what `htpasswd -B` writes and what the CNCF registry requires), sha512-crypt
(`$6$`), sha256-crypt (`$5$`) and yescrypt (`$y$`). Apache's own MD5 (`$apr1$`) and `{SHA}` are not
accepted. bcrypt is slow on purpose, so a checked password is remembered (as a hash) for as long as its
line stays the same. The file is read again when it changes.
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import functools
import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from pathlib import Path

from berth.registry.errors import UNAUTHORIZED, RegistryError

_CRYPT_DATA_SIZE = 1 << 16  # at least sizeof(struct crypt_data), 32 KiB in libxcrypt


@functools.cache
def _crypt_rn() -> Callable[[bytes, bytes, ctypes.Array[ctypes.c_char], int], bytes | None]:
    function = ctypes.CDLL("libcrypt.so.1").crypt_rn  # by soname, as berth.linux loads libc
    function.restype = ctypes.c_char_p
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    return function  # type: ignore[no-any-return]


def crypt_matches(password: str, hashed: str) -> bool:
    """Whether crypt(3) of `password` with the setting in `hashed` gives `hashed`."""
    data = ctypes.create_string_buffer(_CRYPT_DATA_SIZE)
    result = _crypt_rn()(password.encode(), hashed.encode(), data, _CRYPT_DATA_SIZE)
    return result is not None and not result.startswith(b"*") and hmac.compare_digest(result, hashed.encode())


class Htpasswd:
    """The users of an htpasswd file and their hashes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._users: dict[str, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked: set[tuple[str, str, bytes]] = set()
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        stat = os.stat(self.path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        users = {}
        for line in self.path.read_text().splitlines():
            user, colon, hashed = line.strip().partition(":")
            if colon and user and not user.startswith("#"):
                users[user] = hashed
        self._users, self._stamp = users, stamp

    def check(self, user: str, password: str) -> bool:
        with self._lock:
            self._load()
            hashed = self._users.get(user)
        if hashed is None:
            return False
        remembered = (user, hashed, hashlib.sha256(password.encode()).digest())
        if remembered in self._checked:
            return True
        if not crypt_matches(password, hashed):
            return False
        with self._lock:
            self._checked.add(remembered)
        return True


class BasicAuth:
    """Checks a request's Authorization header; UNAUTHORIZED with a Basic challenge otherwise."""

    def __init__(self, htpasswd: Htpasswd, realm: str = "berth-registry") -> None:
        self.htpasswd = htpasswd
        self.realm = realm

    def check(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, colon, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                colon = ""
            if colon and self.htpasswd.check(user, password):
                return
        raise RegistryError(UNAUTHORIZED, headers=[("WWW-Authenticate", f'Basic realm="{self.realm}"')])
