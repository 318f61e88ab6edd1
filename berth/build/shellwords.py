"""Shell-word expansion as BuildKit's Dockerfile frontend does it (its `shell.Lex`).

A word goes through quotes ('…' literal, "…" with `$` expansion and escapes of `"`, `$` and the escape
character), the escape character (backslash, or backtick under `# escape=```) and variable references:
`$VAR`, `${VAR}`, `${VAR:-word}` `${VAR-word}` (default), `${VAR:+word}` `${VAR+word}` (alternative),
`${VAR:?msg}` `${VAR?msg}` (required), `${VAR#pat}` `${VAR##pat}` `${VAR%pat}` `${VAR%%pat}` (trim a
prefix or suffix matching a pattern of `*` and `?`), `${VAR/pat/repl}` `${VAR//pat/repl}` (replace).
Positional and special parameters (`$1`, `$@`, `$$`, …) are never set. `process_words` also splits the
result into words at unquoted spaces, as EXPOSE does.

As in BuildKit, the word being split shares its buffer with the word inside a `${VAR:-…}`-style
reference, so what precedes such a reference in the same word is dropped from the words (`a${X:-b}`
gives ["b"], though `process_word` gives "ab"). berth keeps this: it decides which heredocs the parser
sees, and so how a Dockerfile's lines are read.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from berth.errdefs import InvalidArgument
from berth.strconv import go_quote as quote

# Go's unicode.IsSpace: the Unicode White_Space property (Python's str.isspace adds \x1c-\x1f)
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                       "\u200a\u2028\u2029\u202f\u205f\u3000")
EOF = ""  # what the scanner reads past the end
_GO_EOF = "\ufffd"  # how Go prints the end of input read as a character (string(rune(-1)))
_SPECIAL_PARAMETERS = frozenset("@*#?-$!0")


class ShellWordError(InvalidArgument):
    """A word that cannot be expanded. The message is BuildKit's: `failed to process "WORD": REASON`."""


class _Fail(Exception):
    """Why processing stopped; becomes a ShellWordError naming the whole word."""


@dataclass(frozen=True)
class Lexer:
    """How words are read. The defaults are those of a Dockerfile instruction; the parser finds heredoc
    names with raw quotes and escapes kept and unset variables left as written."""

    escape: str = "\\"
    raw_quotes: bool = False  # keep the quote characters in the result
    raw_escapes: bool = False  # keep the escape characters in the result
    skip_unset: bool = False  # leave a reference to an unset variable as written (`$X`, `${X:-a}`)

    def process_word(self, text: str, env: Mapping[str, str]) -> str:
        """`text` with quotes removed and variables expanded, as one string."""
        return self._process(text, env)[0]

    def process_words(self, text: str, env: Mapping[str, str]) -> list[str]:
        """`text` expanded, then split into words at unquoted spaces (spaces from a variable split too)."""
        return self._process(text, env)[1]

    def _process(self, text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
        try:
            return _Scanner(self, text, env).until(EOF, self.raw_escapes)
        except _Fail as failure:
            raise ShellWordError(f"failed to process {quote(text)}: {failure}") from None


def process_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Expand `text` as one word, as ENV, LABEL, WORKDIR, COPY and most instructions do."""
    return Lexer(escape).process_word(text, env)


def process_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Expand `text` and split it into words, as EXPOSE does."""
    return Lexer(escape).process_words(text, env)


class _Words:
    """Collects the words of a result: unquoted spaces (also those a variable brings) end a word. The
    word in progress is kept in `current`, shared by every nested collector of one scan (see above)."""

    def __init__(self, current: list[str]) -> None:
        self.words: list[str] = []
        self.current = current
        self.current.clear()
        self.in_word = False

    def add_char(self, char: str) -> None:
        if not is_space(char):
            self.add_raw(char)
        elif self.in_word and any(self.current):
            self.words.append("".join(self.current))
            self.current.clear()
            self.in_word = False

    def add_raw(self, text: str) -> None:
        self.current.append(text)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for char in text:
            self.add_char(char)

    def finish(self) -> list[str]:
        if any(self.current):
            self.words.append("".join(self.current))
            self.current.clear()
        return self.words


class _Scanner:
    def __init__(self, lexer: Lexer, text: str, env: Mapping[str, str]) -> None:
        self.lexer = lexer
        self.text = text
        self.pos = 0
        self.env = env
        self.raw_escapes = lexer.raw_escapes
        self.word: list[str] = []  # the word in progress, shared by nested processing as in BuildKit

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        char = self.peek()
        self.pos += 1 if char else 0
        return char

    def until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to `stop` (consumed) or the end: the result and its words."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._until(stop)
        finally:
            self.raw_escapes = saved

    def _until(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words(self.word)
        special: dict[str, Callable[[], str]] = {"$": self.dollar, "<": self.possible_heredoc,
                                                 "'": self.single_quoted, '"': self.double_quoted}
        while (char := self.peek()) != EOF:
            if char == stop:
                self.next()
                return "".join(result), words.finish()
            if char in special:
                text = special[char]()
                result.append(text)
                if char == "$":
                    words.add_string(text)
                else:
                    words.add_raw(text)
                continue
            self.next()
            if char == self.lexer.escape:
                if self.raw_escapes:
                    words.add_raw(char)
                    result.append(char)
                char = self.next()  # the escape character escapes anything, and vanishes at the end
                if char == EOF:
                    break
                words.add_raw(char)
            else:
                words.add_char(char)
            result.append(char)
        if stop != EOF:
            raise _Fail(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def single_quoted(self) -> str:
        """Everything up to the next ' as is; nothing escapes inside."""
        keep = self.lexer.raw_quotes
        opening = self.next()
        out = [opening] if keep else []
        while True:
            char = self.next()
            if char == EOF:
                raise _Fail("unexpected end of statement while looking for matching single-quote")
            if char == "'":
                return "".join(out + ([char] if keep else []))
            out.append(char)

    def double_quoted(self) -> str:
        """Up to the next unescaped ": `$` expands; the escape character escapes `"`, `$` and itself only."""
        keep = self.lexer.raw_quotes
        opening = self.next()
        out = [opening] if keep else []
        while True:
            char = self.peek()
            if char == EOF:
                raise _Fail("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self.next()
                return "".join(out + ([char] if keep else []))
            if char == "$":
                out.append(self.dollar())
                continue
            self.next()
            if char == self.lexer.escape:
                if self.raw_escapes:
                    out.append(char)
                following = self.peek()
                if following == EOF:
                    continue  # the loop then fails: no closing quote
                if following in ('"', "$", self.lexer.escape):
                    char = self.next()
            out.append(char)

    def possible_heredoc(self) -> str:
        """`<<` keeps the blanks after it, so that `<< EOF` stays one word."""
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        start = self.pos
        while self.peek() in ("\t", "\r", " "):
            self.next()
        return "<<" + self.text[start:self.pos]

    def name(self) -> str:
        """A variable's name: letters, digits and _; or all the digits of a positional parameter; or one
        special parameter character."""
        start = self.pos
        first = self.peek()
        if first.isdecimal():
            while self.peek().isdecimal():
                self.next()
        elif first in _SPECIAL_PARAMETERS:
            self.next()
        else:
            while (char := self.peek()) != EOF and (char.isalpha() or char.isdecimal() or char == "_"):
                self.next()
        return self.text[start:self.pos]

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.env.get(name)
            if value is None and self.lexer.skip_unset:
                return "$" + name
            return value or ""
        self.next()
        if self.peek() == EOF:
            raise _Fail("syntax error: missing '}'")
        if self.peek() in ("{", "}", ":"):
            raise _Fail("syntax error: bad substitution")
        name = self.name()
        modifier = self.next()
        if modifier == "}":
            value = self.env.get(name)
            if value is None and self.lexer.skip_unset:
                return "${" + name + "}"
            return value or ""
        if modifier == "/":
            return self.replace(name)
        if modifier not in (":", "+", "-", "?", "#", "%"):
            raise _Fail(f"unsupported modifier ({modifier or _GO_EOF}) in substitution")
        written = modifier
        null_is_unset = modifier == ":"
        if null_is_unset:
            modifier = self.next()
            written += modifier or _GO_EOF
        pattern = modifier in ("#", "%")
        if null_is_unset and pattern:
            raise _Fail(f"unsupported modifier ({written}) in substitution")
        word = self.word_until("}", "syntax error: missing '}'", raw_escapes=pattern)
        value = self.env.get(name)
        if value is None and self.lexer.skip_unset:
            return "${" + name + written + word + "}"
        unset = value is None or (null_is_unset and value == "")
        if modifier == "-":
            return word if unset else value or ""
        if modifier == "+":
            return "" if unset else word
        if modifier == "?":
            if value is None:
                raise _Fail(f"{name}: {word or 'is not allowed to be unset'}")
            if unset:
                raise _Fail(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if modifier in ("#", "%"):
            greedy = word.startswith(modifier)
            if greedy:
                word = word[1:]
            trim = _trim_suffix if modifier == "%" else _trim_prefix
            return trim(word, value or "", greedy)
        raise _Fail(f"unsupported modifier ({written}) in substitution")

    def word_until(self, stop: str, missing: str, raw_escapes: bool) -> str:
        """The word inside `${…}` up to `stop`; `missing` is the error when the input ends first."""
        try:
            return self.until(stop, raw_escapes)[0]
        except _Fail:
            if self.peek() == EOF:
                raise _Fail(missing) from None
            raise

    def replace(self, name: str) -> str:
        """`${VAR/pattern/replacement}` (first match) or `${VAR//pattern/replacement}` (all)."""
        every = self.peek() == "/"
        if every:
            self.next()
        pattern = self.word_until("/", "syntax error: missing '/' in ${}", raw_escapes=True)
        replacement = self.word_until("}", "syntax error: missing '}'", raw_escapes=True)
        value = self.env.get(name)
        if value is None and self.lexer.skip_unset:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        value = value or ""
        if every:
            return _replace_all(regex, value, replacement)
        match = regex.search(value)
        return value if match is None else value[:match.start()] + replacement + value[match.end():]


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A shell pattern (`*` any string, shortest unless greedy; `?` one character; `\\` escapes `*`, `?`
    and `\\`, and drops before `}` and `/`) as a regular expression."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(star)
        elif char == "?":
            out.append(".")
        elif char == "\\":
            following = pattern[i] if i < len(pattern) else EOF
            if following in ("}", "/"):
                continue
            i += 1
            if following not in ("*", "?", "\\"):
                raise _Fail(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{following or _GO_EOF}'")
            out.append(re.escape(following))
        else:
            out.append(re.escape(char))
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy, anchored=True).match(value)
    return value if match is None else value[match.end():]


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    """The shortest (or longest) matching suffix, found as a prefix of the reversed value."""
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _reverse_pattern(pattern: str) -> str:
    """The pattern backwards, each escape kept before the character it escapes."""
    pieces = []
    i = 0
    while i < len(pattern):
        step = 2 if pattern[i] == "\\" and i + 1 < len(pattern) else 1
        pieces.append(pattern[i:i + step])
        i += step
    return "".join(reversed(pieces))


def _replace_all(regex: re.Pattern[str], value: str, replacement: str) -> str:
    """Go's Regexp.ReplaceAllString: no empty match right after a match, and `$…` in the replacement
    names a group (none exist here, so `$name` is empty, `$0` the match, `$$` a dollar)."""
    out = []
    last = 0
    previous_end = -1
    for match in regex.finditer(value):
        if match.start() == match.end() == previous_end:
            continue
        previous_end = match.end()
        out.append(value[last:match.start()])
        out.append(_expand_template(replacement, match.group(0)))
        last = match.end()
    out.append(value[last:])
    return "".join(out)


_TEMPLATE_NAME = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand_template(template: str, whole: str) -> str:
    out = []
    i = 0
    while i < len(template):
        if template[i] != "$":
            out.append(template[i])
            i += 1
        elif template.startswith("$$", i):
            out.append("$")
            i += 2
        elif match := _TEMPLATE_NAME.match(template, i):
            name = match.group(1) or match.group(2)
            out.append(whole if name.isdigit() and int(name) == 0 else "")
            i = match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def is_space(char: str) -> bool:
    """Go's unicode.IsSpace for one character ("", the end of the input, is no space)."""
    return char in _GO_SPACES
