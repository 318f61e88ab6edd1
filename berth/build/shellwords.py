"""Shell-word expansion as BuildKit does it for ENV, ARG, WORKDIR, COPY, USER, LABEL, EXPOSE...: quotes
(single: as written; double: `$` expands, the escape character escapes only `"`, `$` and itself),
the escape character (`\\` or the directive's backtick) and `$NAME`, `${NAME}`, `${NAME:-word}`,
`${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME?message}`. No command
substitution, no globbing: this is not a shell, only its quoting.

`process_word` gives one string; `process_words` splits it into words at unquoted whitespace, the
whitespace of an unquoted expansion included (as EXPOSE, VOLUME and the like take their arguments).
"""
from __future__ import annotations

from collections.abc import Mapping

from berth.errdefs import InvalidArgument

SPECIAL_PARAMETERS = "@*#?-$!0"  # never set in a Dockerfile, like positional ones ($1, ${10})


class ExpansionError(InvalidArgument):
    pass


def process_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    return _Lexer(text, env, escape).process()[0]


def process_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    return _Lexer(text, env, escape).process()[1]


class _Words:
    """Words as they are built: unquoted whitespace ends one."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def add(self, char: str) -> None:
        if char.isspace():
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.add_raw(char)

    def add_text(self, text: str) -> None:
        for char in text:
            self.add(char)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def done(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.text = text
        self.position = 0
        self.env = env
        self.escape = escape

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def next(self) -> str:
        char = self.peek()
        self.position += 1 if char else 0
        return char

    def process(self, stop: str = "") -> tuple[str, list[str]]:
        """Up to `stop` (consumed; "" for the end): the expanded text and its words."""
        result: list[str] = []
        words = _Words()
        while (char := self.peek()) != "":
            if stop and char == stop:
                self.next()
                return "".join(result), words.done()
            if char in "'\"$":
                expanded = {"'": self._single_quoted, '"': self._double_quoted, "$": self._dollar}[char]()
                result.append(expanded)
                if char == "$":
                    words.add_text(expanded)
                else:
                    words.add_raw(expanded)
                continue
            char = self.next()
            if char == self.escape:
                char = self.next()
                if not char:  # an escape character at the end is dropped
                    break
                words.add_raw(char)
            else:
                words.add(char)
            result.append(char)
        if stop:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.done()

    def _single_quoted(self) -> str:
        self.next()
        result = []
        while (char := self.next()) != "'":
            if not char:
                raise ExpansionError("unexpected end of statement while looking for matching single-quote")
            result.append(char)
        return "".join(result)

    def _double_quoted(self) -> str:
        self.next()
        result: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self.next()
                return "".join(result)
            if char == "$":
                result.append(self._dollar())
                continue
            char = self.next()
            if char == self.escape and self.peek() in ('"', "$", self.escape) and self.peek():
                char = self.next()
            result.append(char)

    def _dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.next()
        name = self._name()
        if not name:
            raise ExpansionError(f"bad substitution: {self.text}")
        value = self.env.get(name)
        char = self.next()
        if char == "}":
            return value or ""
        if char in ("-", "+", "?"):
            word = self.process("}")[0]
            if char == "-":
                return word if value is None else value
            if char == "+":
                return word if value is not None else ""
            if value is None:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
            return value
        if char == ":":
            modifier = self.next()
            word = self.process("}")[0]
            if modifier == "-":
                return value or word
            if modifier == "+":
                return word if value else ""
            if modifier == "?":
                if not value:
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            raise ExpansionError(f"unsupported modifier ({modifier}) in substitution: {self.text}")
        raise ExpansionError(f"missing ':' in substitution: {self.text}")

    def _name(self) -> str:
        """A variable's name: letters, digits and _, or digits only (positional), or one special character."""
        char = self.peek()
        if char.isdigit():
            start = self.position
            while self.peek().isdigit():
                self.next()
            return self.text[start:self.position]
        if char and char in SPECIAL_PARAMETERS:
            return self.next()
        start = self.position
        while (char := self.peek()) and (char.isalnum() or char == "_"):
            self.next()
        return self.text[start:self.position]
