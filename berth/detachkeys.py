"""Detach keys (default Ctrl-P Ctrl-Q): parsed from Docker's `ctrl-p,ctrl-q` form and found in a
stream of typed input. Shared by the CLI (its terminal) and the daemon (an attached client's stdin)."""
from __future__ import annotations

DEFAULT = "ctrl-p,ctrl-q"
_CONTROL_PUNCTUATION = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse(spec: str, noun: str = "detach") -> bytes:
    """`ctrl-p,ctrl-q` -> b'\\x10\\x11'; single characters stand for themselves; empty disables.

    An unknown key raises ValueError worded as Docker words it (`noun`: "detach" in the CLI,
    "escape" in the daemon)."""
    keys = bytearray()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part.lower().startswith("ctrl-") and len(part) == 6:
            char = part[5].lower()
            if "a" <= char <= "z":
                keys.append(ord(char) - ord("a") + 1)
            elif char in _CONTROL_PUNCTUATION:
                keys.append(_CONTROL_PUNCTUATION[char])
            else:
                raise ValueError(f"Invalid {noun} keys ({spec}) provided")
        elif len(part) == 1:
            keys.append(ord(part))
        else:
            raise ValueError(f"Invalid {noun} keys ({spec}) provided")
    return bytes(keys)


class DetachScanner:
    """Passes input on, holding back what may be the start of the sequence; reports when it is complete."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self._matched = 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Returns the bytes to pass on, and whether the whole sequence was typed."""
        if not self.keys:
            return data, False
        out = bytearray()
        for byte in data:
            if byte == self.keys[self._matched]:
                self._matched += 1
                if self._matched == len(self.keys):
                    self._matched = 0
                    return bytes(out), True
                continue
            if self._matched:
                out += self.keys[: self._matched]
                self._matched = 0
                if byte == self.keys[0]:
                    self._matched = 1
                    continue
            out.append(byte)
        return bytes(out), False
