"""`.dockerignore`, read as the docker CLI reads it: one pattern a line (`#` comments), Go's path
patterns (`*` and `?` within one path element, `[a-z]` classes, `\\` escapes) plus `**` for any
number of elements, `!` for exceptions; the last pattern that matches a path decides, and a pattern
that matches a directory excludes what is under it.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    text: str
    exception: bool
    regex: re.Pattern[str]
    depth: int  # path elements the pattern has


def read_patterns(text: str) -> list[Pattern]:
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        line = line.removeprefix("!").strip()
        cleaned = posixpath.normpath(line).lstrip("/") if line else line
        if cleaned in ("", "."):
            continue
        patterns.append(Pattern(cleaned, exception, re.compile(_regex(cleaned)), len(cleaned.split("/"))))
    return patterns


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether the context path `path` (relative, `/`-separated) is left out."""
    parts = path.split("/")
    result = False
    for pattern in patterns:
        match = bool(pattern.regex.match(path))
        if not match and len(parts) > pattern.depth:  # a parent directory the pattern names
            match = bool(pattern.regex.match("/".join(parts[:pattern.depth])))
        if match:
            result = not pattern.exception
    return result


def _regex(pattern: str) -> str:
    out = ["^"]
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            if pattern.startswith("**", index):
                index += 1
                if pattern.startswith("/", index + 1):  # `**/`: any number of directories, none too
                    index += 1
                    out.append("(.*/)?")
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1:end]
                out.append("[" + ("^" + body[1:] if body[:1] in ("^", "!") else body) + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    out.append("$")
    return "".join(out)
