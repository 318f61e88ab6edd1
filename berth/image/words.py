"""Dockerfile word processing for `--change` lines: quotes, backslashes and `$VAR` expansion."""
from __future__ import annotations

from collections.abc import Mapping

from berth.image.errors import InvalidImage


class _Scanner:
    def __init__(self, text: str, env: Mapping[str, str]) -> None:
        self.text = text
        self.pos = 0
        self.env = env

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def words(self) -> list[str]:
        words: list[str] = []
        current: list[str] = []
        started = False
        while self.pos < len(self.text):
            char = self.take()
            if char in " \t\n":
                if started:
                    words.append("".join(current))
                    current, started = [], False
                continue
            started = True
            if char == "'":
                current.append(self._until("'"))
            elif char == '"':
                current.append(self._double_quoted())
            elif char == "\\":
                current.append(self.take())
            elif char == "$":
                current.append(self._variable())
            else:
                current.append(char)
        if started:
            words.append("".join(current))
        return words

    def _until(self, end: str) -> str:
        start = self.pos
        index = self.text.find(end, start)
        if index < 0:
            raise InvalidImage(f"unexpected end of statement while looking for matching {end}")
        self.pos = index + 1
        return self.text[start:index]

    def _double_quoted(self) -> str:
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise InvalidImage('unexpected end of statement while looking for matching "')
            char = self.take()
            if char == '"':
                return "".join(out)
            if char == "\\" and self.peek() in ('"', "\\", "$"):
                out.append(self.take())
            elif char == "$":
                out.append(self._variable())
            else:
                out.append(char)

    def _variable(self) -> str:
        if self.peek() == "{":
            self.take()
            body = self._until("}")
            for operator in (":-", ":+"):
                name, found, word = body.partition(operator)
                if found:
                    value = self.env.get(name, "")
                    if operator == ":-":
                        return value or word
                    return word if value else ""
            return self.env.get(body, "")
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        name = self.text[start:self.pos]
        return self.env.get(name, "") if name else "$"


def split_words(text: str, env: Mapping[str, str]) -> list[str]:
    """Split `text` into words as a Dockerfile does, removing quotes and expanding variables."""
    return _Scanner(text, env).words()
