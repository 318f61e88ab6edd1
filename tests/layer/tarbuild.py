"""Build layer tars in memory for tests, entry by entry."""
from __future__ import annotations

import io
import tarfile


class TarBuilder:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)

    def _add(self, name: str, kind: bytes, mode: int = 0o644, data: bytes = b"", **fields) -> TarBuilder:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.size, info.mtime = kind, mode, len(data), 1_600_000_000
        for field, value in fields.items():
            setattr(info, field, value)
        self.tar.addfile(info, io.BytesIO(data) if data else None)
        return self

    def file(self, name: str, data: bytes = b"", mode: int = 0o644, **fields) -> TarBuilder:
        return self._add(name, tarfile.REGTYPE, mode, data, **fields)

    def dir(self, name: str, mode: int = 0o755, **fields) -> TarBuilder:
        return self._add(name, tarfile.DIRTYPE, mode, **fields)

    def symlink(self, name: str, target: str) -> TarBuilder:
        return self._add(name, tarfile.SYMTYPE, 0o777, linkname=target)

    def hardlink(self, name: str, target: str) -> TarBuilder:
        return self._add(name, tarfile.LNKTYPE, 0o644, linkname=target)

    def device(self, name: str, kind: bytes, major: int, minor: int, mode: int = 0o666) -> TarBuilder:
        return self._add(name, kind, mode, devmajor=major, devminor=minor)

    def bytes(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.bytes())
