"""Dockerfiles read as BuildKit's parser reads them: parser directives (`# escape=`, `# syntax=`), line
continuations with the escape character (comments and blank lines inside them dropped), an
instruction's leading `--flags`, and its arguments, split the way each instruction takes them (exec
form as a JSON array or shell form as written; `key=value` pairs; whitespace-separated words), and
heredocs (`RUN <<EOF`). Each instruction keeps the lines it spans, so errors can name them.

`dump` writes the parse in the form of BuildKit's own test data (`(copy ["--from=a"] "x" "/y")`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from berth.errdefs import InvalidArgument
from berth.strconv import go_quote

DIRECTIVES = ("escape", "syntax", "check")
HEREDOC_INSTRUCTIONS = ("run", "copy", "add")
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_COMMENT = re.compile(r"^[ \t]*#")
_WHITESPACE = re.compile(r"[ \t\r\n\v\f]+")
_SPLIT = re.compile(r"[\t\v\f\r ]+")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([a-zA-Z_][a-zA-Z0-9_]*)\2")


class DockerfileError(InvalidArgument):
    """A Dockerfile that cannot be read; `line` is where (1-based), 0 when it is the whole file."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"dockerfile parse error on line {line}: {message}" if line else message)
        self.line = line


@dataclass
class Heredoc:
    name: str
    content: str
    expand: bool  # an unquoted delimiter: the content is expanded like the instruction's words
    chomp: bool  # `<<-`: leading tabs were removed


@dataclass
class Instruction:
    """One instruction: `name` in lower case; `args` as parsed (for ENV and LABEL key, value, separator
    triples; for ONBUILD, none: its instruction is `child`); `json` for the exec form."""

    name: str
    original: str
    args: list[str]
    flags: list[str] = field(default_factory=list)
    json: bool = False
    child: Instruction | None = None
    heredocs: list[Heredoc] = field(default_factory=list)
    start_line: int = 0
    end_line: int = 0


@dataclass
class Dockerfile:
    instructions: list[Instruction]
    escape: str = "\\"
    syntax: str = ""


def parse(text: str | bytes) -> Dockerfile:
    """Parse a whole Dockerfile; DockerfileError for one that has no instruction or a bad line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="surrogateescape")
    lines = text.removeprefix("\ufeff").split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    directives, escape = _directives(lines)
    # the escape character ending a line, unless itself escaped (`C:\\` ends a line)
    continuation = re.compile("(^|[^" + re.escape(escape) + "])" + re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        start = index
        line = "" if _COMMENT.match(raw) else raw.lstrip(" \t")
        line, ended = _trim_continuation(line, continuation)
        if ended and not line.strip():
            continue
        while not ended and index < len(lines):
            raw = lines[index]
            index += 1
            if _COMMENT.match(raw) or not raw.strip(" \t"):
                continue
            more, ended = _trim_continuation(raw, continuation)
            line += more
        instruction = _instruction(line, escape, start)
        if instruction.name in HEREDOC_INSTRUCTIONS:
            index = _read_heredocs(instruction, lines, index)
        instruction.end_line = index
        instructions.append(instruction)
    if not instructions:
        raise DockerfileError("file with no instructions")
    return Dockerfile(instructions, escape=escape, syntax=directives.get("syntax", ""))


def _directives(lines: list[str]) -> tuple[dict[str, str], str]:
    """The parser directives at the top of the file: until the first line that is not one."""
    found: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in DIRECTIVES:
            break
        name = match.group(1).lower()
        if name in found:
            raise DockerfileError(f"only one {name} parser directive can be used", number)
        found[name] = match.group(2)
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"invalid escape token {escape} does not match ` or \\")
    return found, escape


def _trim_continuation(line: str, continuation: re.Pattern[str]) -> tuple[str, bool]:
    """The line without its trailing escape character, and whether the instruction ends here."""
    trimmed = continuation.sub(r"\1", line)
    return trimmed, trimmed == line


def _instruction(line: str, escape: str, start: int) -> Instruction:
    words = _WHITESPACE.split(line.strip(), maxsplit=1)
    name = words[0].lower()
    rest = words[1] if len(words) > 1 else ""
    rest, flags = _flags(rest)
    try:
        args, is_json, child = _arguments(name, rest, escape, start)
    except ValueError as error:
        raise DockerfileError(str(error), start) from None
    return Instruction(name, line.strip(), args, flags, is_json, child, start_line=start)


def _arguments(name: str, rest: str, escape: str, start: int) -> tuple[list[str], bool, Instruction | None]:
    """An instruction's arguments as BuildKit's parser splits them for that instruction."""
    if name in ("env", "label"):
        return _name_values(rest, name.upper(), escape), False, None
    if name == "arg":
        return _words(rest, escape), False, None
    if name in ("run", "cmd", "entrypoint", "shell"):
        return _maybe_json(rest)
    if name in ("add", "copy", "volume"):
        return _maybe_json_list(rest)
    if name in ("expose", "from"):
        return _whitespace_words(rest), False, None
    if name == "healthcheck":
        return _health(rest)
    if name == "onbuild":
        return [], False, (_instruction(rest, escape, start) if rest.strip() else None)
    return ([rest] if rest else []), False, None  # maintainer, stopsignal, user, workdir, and unknown ones


def _flags(rest: str) -> tuple[str, list[str]]:
    """The leading `--name=value` words of an instruction's arguments (up to `--`), and what follows."""
    flags: list[str] = []
    position = 0
    while True:
        while position < len(rest) and rest[position].isspace():
            position += 1
        if not rest.startswith("--", position):
            return rest[position:], flags
        word, quote, blank_ok = "", "", False
        while position < len(rest):
            char = rest[position]
            if quote:
                if char == quote:
                    quote = ""
                elif char == "\\" and position + 1 < len(rest):
                    position += 1
                    word += rest[position]
                elif char != "\\":
                    word += char
            elif char.isspace():
                break
            elif char in "'\"":
                quote, blank_ok = char, True
            elif char == "\\":
                if position + 1 < len(rest):
                    position += 1
                    word += rest[position]
            else:
                word += char
            position += 1
        if word == "--":
            return rest[position:].lstrip(), flags
        if word or blank_ok:
            flags.append(word)


def _json_array(rest: str) -> list[str] | None:
    """`rest` as a JSON array of strings; None when it is not JSON; ValueError for an array of other things."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        values = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    if not all(isinstance(value, str) for value in values):
        raise ValueError("only strings allowed in a JSON array")
    return values


def _maybe_json(rest: str) -> tuple[list[str], bool, None]:
    values = _json_array(rest)
    if values is not None:
        return values, True, None
    return ([rest] if rest else []), False, None


def _maybe_json_list(rest: str) -> tuple[list[str], bool, None]:
    values = _json_array(rest)
    if values is not None:
        return values, True, None
    return _whitespace_words(rest), False, None


def _whitespace_words(rest: str) -> list[str]:
    return _SPLIT.split(rest) if rest else []


def _health(rest: str) -> tuple[list[str], bool, None]:
    """HEALTHCHECK's type (`CMD`, `NONE`) and, after it, its command in either form."""
    parts = rest.split(None, 1)
    if not parts:
        return [], False, None
    args, is_json, _ = _maybe_json(parts[1] if len(parts) > 1 else "")
    return [parts[0], *args], is_json, None


def _words(rest: str, escape: str) -> list[str]:
    """Words split on unquoted whitespace, quotes and escape characters kept as written."""
    words: list[str] = []
    word, quote, blank_ok, in_word = "", "", False, False
    position = 0
    while position < len(rest):
        char = rest[position]
        position += 1
        if not quote and char.isspace():
            if in_word and (blank_ok or word):
                words.append(word)
            word, blank_ok, in_word = "", False, False
            continue
        in_word = True
        if quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote, blank_ok = char, True
        elif char == escape and quote != "'":  # escapes the next character, kept with it
            if position == len(rest):
                continue
            char += rest[position]
            position += 1
        word += char
    if in_word and (blank_ok or word):
        words.append(word)
    return words


def _name_values(rest: str, instruction: str, escape: str) -> list[str]:
    """ENV and LABEL: `key=value ...` pairs, or the older `key value`; as key, value, separator triples."""
    words = _words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest.strip(), maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{instruction} must have two arguments")
        return [parts[0], parts[1], ""]
    triples: list[str] = []
    for word in words:
        if "=" not in word:
            raise ValueError(f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value')
        key, _, value = word.partition("=")
        triples += [key, value, "="]
    return triples


def _read_heredocs(instruction: Instruction, lines: list[str], index: int) -> int:
    """Read the bodies of the heredocs the instruction's line opens (`<<EOF`, `<<-EOF`, `<<"EOF"`)."""
    for match in _HEREDOC.finditer(instruction.original):
        chomp, quote, name = match.group(1) == "-", match.group(2), match.group(3)
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise DockerfileError(f"unterminated heredoc {name}", instruction.start_line)
            line = lines[index]
            index += 1
            if (line.lstrip("\t") if chomp else line) == name:
                break
            body.append(line.lstrip("\t") if chomp else line)
        instruction.heredocs.append(Heredoc(name, "".join(f"{line}\n" for line in body), expand=not quote,
                                            chomp=chomp))
    return index


def dump(dockerfile: Dockerfile) -> str:
    """The parse as BuildKit's test data writes it: one `(instruction ...)` line each."""
    return "".join(f"({_dump(instruction)})\n" for instruction in dockerfile.instructions)


def _dump(instruction: Instruction) -> str:
    text = instruction.name
    if instruction.flags:
        text += " [" + " ".join(go_quote(flag) for flag in instruction.flags) + "]"
    if instruction.child is not None:
        text += f" ({_dump(instruction.child)})"
    for arg in instruction.args:
        text += " " + go_quote(arg)
    return text
