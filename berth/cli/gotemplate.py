"""A Go text/template engine, the part of it that docker users write in `--format`.

Supported: text and `{{ }}` actions with `{{-`/`-}}` trimming, comments, fields (`.A.B`) on dicts
and objects (methods are called, with arguments: `{{.Label "k"}}`), variables (`$`, `$x := ...`,
`$x = ...`), pipelines (`|`), parenthesised expressions, `if`/`else if`/`else`, `range` (with
`$i, $v :=`, `else`, `break`, `continue`), `with`, and the functions docker offers (`json`, `join`,
`split`, `lower`, `upper`, `title`, `truncate`, `pad`) plus Go's builtins (`and`, `or`, `not`,
`eq`, `ne`, `lt`, `le`, `gt`, `ge`, `index`, `slice`, `len`, `print`, `printf`, `println`,
`html`, `js`, `urlquery`). Values print as Go's `fmt` prints them (`<no value>`, `map[k:v]`, `[a b]`).
"""
from __future__ import annotations

import re

from berth.cli import wire

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any


class TemplateError(Exception):
    """A template that does not parse or cannot be executed."""


class _Missing:
    """Go's invalid reflect.Value: what a missing map key yields; prints as `<no value>`."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()

# ---------------------------------------------------------------------------------------------
# Lexing

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<dot>\.)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[|(),])
""", re.VERBOSE)

_KEYWORDS = {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"}


class _Token:
    __slots__ = ('kind', 'text')

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text


def _lex_action(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise TemplateError(f"unexpected {source[pos]!r} in command")
        kind = match.lastgroup or ""
        text = match.group()
        pos = match.end()
        # spaces are kept between tokens: a field right after ')' chains, after a space it is an operand
        if kind != "space":
            tokens.append(_Token(kind, text))
        elif tokens:
            tokens.append(_Token("space", text))
    while tokens and tokens[-1].kind == "space":
        tokens.pop()
    return tokens


def _split_source(source: str) -> Iterator[tuple[str, str]]:
    """Yield ("text", s) and ("action", s) pieces, applying `{{-` / `-}}` whitespace trimming."""
    pos = 0
    pending_trim = False
    while True:
        start = source.find("{{", pos)
        text = source[pos:] if start < 0 else source[pos:start]
        if start >= 0 and source[start + 2:start + 4] in ("- ", "-\t", "-\n", "-\r"):
            text = text.rstrip(" \t\r\n")
        if pending_trim:
            text = text.lstrip(" \t\r\n")
        if text:
            yield "text", text
        if start < 0:
            return
        inner_start = start + 2
        if source[inner_start:inner_start + 2] in ("- ", "-\t", "-\n", "-\r"):
            inner_start += 1
        end = _find_action_end(source, inner_start)
        inner = source[inner_start:end]
        pending_trim = False
        if inner.endswith((" -", "\t-", "\n-", "\r-")):
            inner = inner[:-1]
            pending_trim = True
        yield "action", inner
        pos = end + 2


def _find_action_end(source: str, pos: int) -> int:
    """Index of the `}}` closing the action starting at pos (quotes and comments respected)."""
    quote = ""
    i = pos
    while i < len(source):
        ch = source[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif source.startswith("/*", i):
            close = source.find("*/", i + 2)
            if close < 0:
                raise TemplateError("unclosed comment")
            i = close + 2
            continue
        elif ch in "\"'`":
            quote = ch
        elif source.startswith("}}", i):
            return i
        i += 1
    raise TemplateError("unclosed action")


# ---------------------------------------------------------------------------------------------
# Parse tree


class _Field:
    """A chain of field names applied to a receiver (None means dot)."""
    __slots__ = ('receiver', 'names')

    def __init__(self, receiver: Any, names: list[str]) -> None:
        self.receiver = receiver
        self.names = names


class _Var:
    __slots__ = ('name', 'names')

    def __init__(self, name: str, names: list[str] | None = None) -> None:
        self.name = name
        self.names = names if names is not None else []


class _Const:
    __slots__ = ('value',)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Func:
    __slots__ = ('name',)

    def __init__(self, name: str) -> None:
        self.name = name


class _Dot:
    __slots__ = ()


class _Pipe:
    __slots__ = ('decl', 'commands', 'assign')

    def __init__(self, decl: list[str], commands: list[list[Any]], assign: bool = False) -> None:
        self.decl = decl
        self.commands = commands
        self.assign = assign


class _Action:
    __slots__ = ('pipe',)

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe


class _Text:
    __slots__ = ('text',)

    def __init__(self, text: str) -> None:
        self.text = text


class _Branch:
    __slots__ = ('kind', 'pipe', 'body', 'orelse')

    def __init__(self, kind: str, pipe: _Pipe, body: list[Any], orelse: list[Any]) -> None:
        self.kind = kind
        self.pipe = pipe
        self.body = body
        self.orelse = orelse


class _Loop:
    __slots__ = ('kind',)

    def __init__(self, kind: str) -> None:
        self.kind = kind


class _Parser:
    def __init__(self, source: str) -> None:
        self.pieces = list(_split_source(source))
        self.pos = 0

    def parse(self) -> list[Any]:
        nodes, stop = self._list()
        if stop is not None:
            raise TemplateError(f"unexpected {{{{{stop[0]}}}}}")
        return nodes

    def _list(self) -> tuple[list[Any], tuple[str, list[_Token]] | None]:
        """Parse nodes until {{end}} / {{else}}; returns them and the stopping keyword."""
        nodes: list[Any] = []
        while self.pos < len(self.pieces):
            kind, text = self.pieces[self.pos]
            self.pos += 1
            if kind == "text":
                nodes.append(_Text(text))
                continue
            if text.strip().startswith("/*"):
                continue
            tokens = _lex_action(text)
            if not tokens:
                raise TemplateError("missing value for command")
            head = tokens[0]
            rest = tokens[1:]
            if head.kind == "ident" and head.text in ("end", "else"):
                return nodes, (head.text, rest)
            if head.kind == "ident" and head.text in ("if", "range", "with"):
                nodes.append(self._branch(head.text, rest))
            elif head.kind == "ident" and head.text in ("break", "continue"):
                nodes.append(_Loop(head.text))
            elif head.kind == "ident" and head.text in ("define", "template", "block"):
                raise TemplateError(f"{{{{{head.text}}}}} is not supported")
            else:
                nodes.append(_Action(_parse_pipe(tokens)))
        return nodes, None

    def _branch(self, kind: str, tokens: list[_Token]) -> _Branch:
        pipe = _parse_pipe(tokens)
        body, stop = self._list()
        orelse: list[Any] = []
        if stop is None:
            raise TemplateError(f"unexpected EOF in {kind}")
        if stop[0] == "else":
            rest = [t for t in stop[1] if t.kind != "space"]
            if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with") and kind == rest[0].text:
                orelse = [self._branch(rest[0].text, _strip_space(stop[1])[1:])]
                return _Branch(kind, pipe, body, orelse)
            orelse, stop = self._list()
            if stop is None or stop[0] != "end":
                raise TemplateError(f"expected end; found {stop[0] if stop else 'EOF'}")
        return _Branch(kind, pipe, body, orelse)


def _strip_space(tokens: list[_Token]) -> list[_Token]:
    while tokens and tokens[0].kind == "space":
        tokens = tokens[1:]
    return tokens


def _parse_pipe(tokens: list[_Token]) -> _Pipe:
    tokens = _strip_space(tokens)
    decl: list[str] = []
    assign = False
    # $x := / $i, $v := / $x =
    significant = [t for t in tokens if t.kind != "space"]
    for i, tok in enumerate(significant):
        if tok.kind in ("declare", "assign"):
            names = significant[:i]
            if all(t.kind == "variable" or t.text == "," for t in names) and names:
                decl = [t.text for t in names if t.kind == "variable"]
                assign = tok.kind == "assign"
                idx = tokens.index(tok)
                tokens = tokens[idx + 1:]
            break
    commands: list[list[Any]] = [[]]
    stream = _TokenStream(tokens)
    while not stream.done():
        tok = stream.peek()
        if tok.kind == "space":
            stream.next()
            continue
        if tok.kind == "punct" and tok.text == "|":
            stream.next()
            if not commands[-1]:
                raise TemplateError("missing command before |")
            commands.append([])
            continue
        commands[-1].append(_parse_operand(stream))
    if not commands[-1]:
        raise TemplateError("missing value for command")
    return _Pipe(decl, commands, assign)


class _TokenStream:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok


def _parse_operand(stream: _TokenStream) -> Any:
    tok = stream.next()
    node: Any
    if tok.kind == "field":
        node = _Field(None, tok.text.split(".")[1:])
    elif tok.kind == "variable":
        name, *names = tok.text.split(".")
        node = _Var(name, names)
    elif tok.kind == "dot":
        node = _Dot()
    elif tok.kind == "string":
        node = _Const(_unquote(tok.text))
    elif tok.kind == "raw":
        node = _Const(tok.text[1:-1])
    elif tok.kind == "char":
        node = _Const(ord(_unquote('"' + tok.text[1:-1] + '"')))
    elif tok.kind == "number":
        node = _Const(_number(tok.text))
    elif tok.kind == "ident":
        if tok.text in ("true", "false"):
            node = _Const(tok.text == "true")
        elif tok.text == "nil":
            node = _Const(None)
        elif tok.text in _KEYWORDS:
            raise TemplateError(f"unexpected keyword {tok.text}")
        else:
            name, *names = tok.text.split(".")
            node = _Func(name) if not names else _Field(_Func(name), names)
    elif tok.kind == "punct" and tok.text == "(":
        inner: list[_Token] = []
        depth = 1
        while not stream.done():
            t = stream.next()
            if t.kind == "punct" and t.text == "(":
                depth += 1
            elif t.kind == "punct" and t.text == ")":
                depth -= 1
                if depth == 0:
                    break
            inner.append(t)
        else:
            raise TemplateError("unclosed left paren")
        node = _parse_pipe(inner)
    else:
        raise TemplateError(f"unexpected {tok.text!r} in operand")
    # chained fields: (expr).Field
    while not stream.done() and stream.peek().kind == "field":
        node = _Field(node, stream.next().text.split(".")[1:])
    return node


def _unquote(text: str) -> str:
    try:
        return wire.loads(text)
    except ValueError:
        return text[1:-1].encode().decode("unicode_escape")


def _number(text: str) -> int | float:
    text = text.replace("_", "")
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


# ---------------------------------------------------------------------------------------------
# Printing values the way Go's fmt %v does


def go_str(value: Any) -> str:
    """Format a value as Go's fmt.Sprint would."""
    if isinstance(value, str):
        return value
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{go_str(k)}:{go_str(value[k])}" for k in sorted(value, key=str)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def _go_float(value: float) -> str:
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text


def truthy(value: Any) -> bool:
    """Go template truth: false, 0, nil, empty strings/lists/maps and missing values are false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


# ---------------------------------------------------------------------------------------------
# Functions


def _json(value: Any) -> str:
    to_json = getattr(value, "to_json", None)
    if callable(to_json):  # a format context: docker marshals these with Go's HTML escaping
        text = wire.dumps(to_json(), ensure_ascii=False, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if value is MISSING:
        value = None
    return wire.dumps(_marshal_order(value), ensure_ascii=False, separators=(",", ":"))


def _marshal_order(value: Any) -> Any:
    """Go's json.Marshal writes a map's keys sorted and a struct's fields in their order. Here a map
    is an object whose values are all strings and whose keys are not field names (labels, event
    attributes); anything else keeps the order the API gave."""
    if isinstance(value, list):
        return [_marshal_order(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value and all(isinstance(item, str) for item in value.values()) and not _struct_like(value):
        return dict(sorted(value.items()))
    return {key: _marshal_order(item) for key, item in value.items()}


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, dict):
            item = item.get(key, MISSING)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(key, int) or not 0 <= key < len(item):
                raise TemplateError(f"error calling index: index out of range: {key}")
            item = item[key]
        elif item is None or item is MISSING:
            raise TemplateError("error calling index: index of untyped nil")
        else:
            raise TemplateError(f"error calling index: can't index item of type {type(item).__name__}")
    return item


def _slice(item: Any, *bounds: int) -> Any:
    if len(bounds) > 2:
        return item[bounds[0]:bounds[1]]
    return item[slice(*bounds)] if bounds else item


def _printf(fmt: str, *args: Any) -> str:
    out: list[str] = []
    arg_iter = iter(args)
    pos = 0
    for match in re.finditer(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])", fmt):
        out.append(fmt[pos:match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        try:
            arg = next(arg_iter)
        except StopIteration:
            out.append(f"%!{verb}(MISSING)")
            continue
        if verb == "q":
            text = wire.dumps(go_str(arg), ensure_ascii=False)
        elif verb in "dxXob" and isinstance(arg, (int, float)) and not isinstance(arg, bool):
            text = format(int(arg), {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb])
        elif verb in "feEgG" and isinstance(arg, (int, float)):
            text = format(float(arg), f".{precision or 6}{verb}") if verb != "g" or precision else _go_float(arg)
            precision = None
        else:
            text = go_str(arg)
        if precision is not None and verb == "s":
            text = text[:int(precision)]
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), "0" if "0" in flags else " ")
        out.append(text)
    out.append(fmt[pos:])
    return "".join(out)


def _sprint(*args: Any) -> str:
    """Go's fmt.Sprint: a space between operands when neither side is a string."""
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_str(arg)
    return out


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            return op(a, b)
        except TypeError:
            raise TemplateError("incompatible types for comparison") from None
    return compare


def _truncate(text: str, length: int) -> str:
    return text[:length]


def _pad(text: str, left: int, right: int) -> str:
    return " " * left + text + " " * right


def _and(*args: Any) -> Any:
    for arg in args:
        if not truthy(arg):
            return arg
    return args[-1]


def _or(*args: Any) -> Any:
    for arg in args:
        if truthy(arg):
            return arg
    return args[-1]


def _length(item: Any) -> int:
    try:
        return len(item)
    except TypeError:
        raise TemplateError(f"error calling len: len of type {type(item).__name__}") from None


def _html(*args: Any) -> str:
    import html
    return html.escape(_sprint(*args)).replace("&#x27;", "&#39;")


def _urlquery(*args: Any) -> str:
    from urllib.parse import quote_plus
    return quote_plus(_sprint(*args))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "join": lambda items, sep: sep.join(go_str(i) for i in items or []),
    "split": lambda text, sep: text.split(sep),
    "lower": lambda text: go_str(text).lower(),
    "upper": lambda text: go_str(text).upper(),
    "title": lambda text: re.sub(r"(?<![^\W\d_])[^\W\d_]", lambda m: m.group().upper(), go_str(text)),
    "truncate": _truncate,
    "pad": _pad,
    "and": _and,
    "or": _or,
    "not": lambda value: not truthy(value),
    "eq": lambda a, *others: any(a == b for b in others),
    "ne": _compare(lambda a, b: a != b),
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
    "index": _index,
    "slice": _slice,
    "len": _length,
    "print": _sprint,
    "printf": _printf,
    "println": lambda *args: " ".join(go_str(a) for a in args) + "\n",
    "html": _html,
    "js": lambda *args: wire.dumps(_sprint(*args))[1:-1],
    "urlquery": _urlquery,
}


# ---------------------------------------------------------------------------------------------
# Execution


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Template:
    """A parsed template; `execute(data)` renders it."""

    def __init__(self, source: str, functions: dict[str, Callable[..., Any]] | None = None, *,
                 missing_key_error: bool = False) -> None:
        """`missing_key_error`: a field that an object of the API lacks is an error, as docker
        inspect reports it, instead of `<no value>`. An object is a map whose keys are all
        capitalised (a Go struct's fields); other maps (labels, for one) still give `<no value>`."""
        self.source = source
        self.missing_key_error = missing_key_error
        self.functions = {**FUNCTIONS, **(functions or {})}
        try:
            self.nodes = _Parser(source).parse()
        except TemplateError as err:
            raise TemplateError(f"template: :1: {err}") from None
        self._check_functions(self.nodes)

    def _check_functions(self, nodes: list[Any]) -> None:
        for node in nodes:
            if isinstance(node, _Action):
                self._check_pipe(node.pipe)
            elif isinstance(node, _Branch):
                self._check_pipe(node.pipe)
                self._check_functions(node.body)
                self._check_functions(node.orelse)

    def _check_pipe(self, pipe: _Pipe) -> None:
        for command in pipe.commands:
            for operand in command:
                target = operand.receiver if isinstance(operand, _Field) else operand
                if isinstance(target, _Func) and target.name not in self.functions:
                    raise TemplateError(f'template: :1: function "{target.name}" not defined')
                if isinstance(target, _Pipe):
                    self._check_pipe(target)

    def execute(self, data: Any) -> str:
        out: list[str] = []
        scope: list[dict[str, Any]] = [{"$": data}]
        try:
            self._run(self.nodes, data, scope, out)
        except TemplateError as err:
            raise TemplateError(f"template: :1: executing \"\" {err}") from None
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: list[dict[str, Any]], out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                out.append(node.text)
            elif isinstance(node, _Action):
                value = self._pipe(node.pipe, dot, scope)
                if not node.pipe.decl:
                    out.append(go_str(value))
            elif isinstance(node, _Branch):
                self._branch(node, dot, scope, out)
            elif isinstance(node, _Loop):
                raise _Break() if node.kind == "break" else _Continue()

    def _branch(self, node: _Branch, dot: Any, scope: list[dict[str, Any]], out: list[str]) -> None:
        scope.append({})
        try:
            if node.kind == "range":
                self._range(node, dot, scope, out)
                return
            value = self._pipe(node.pipe, dot, scope)
            if truthy(value):
                self._run(node.body, value if node.kind == "with" else dot, scope, out)
            else:
                self._run(node.orelse, dot, scope, out)
        finally:
            scope.pop()

    def _range(self, node: _Branch, dot: Any, scope: list[dict[str, Any]], out: list[str]) -> None:
        pipe = node.pipe
        value = self._pipe(_Pipe([], pipe.commands), dot, scope)
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value, key=str)]
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or value is MISSING:
            items = []
        else:
            raise TemplateError(f"range can't iterate over {go_str(value)}")
        if not items:
            self._run(node.orelse, dot, scope, out)
            return
        for key, item in items:
            if len(pipe.decl) == 1:
                scope[-1][pipe.decl[0]] = item
            elif len(pipe.decl) == 2:
                scope[-1][pipe.decl[0]] = key
                scope[-1][pipe.decl[1]] = item
            try:
                self._run(node.body, item, scope, out)
            except _Break:
                break
            except _Continue:
                continue

    def _pipe(self, pipe: _Pipe, dot: Any, scope: list[dict[str, Any]]) -> Any:
        value: Any = MISSING
        for i, command in enumerate(pipe.commands):
            value = self._command(command, dot, scope, value if i else None, i > 0)
        if pipe.decl:
            if pipe.assign:
                for frame in reversed(scope):
                    if pipe.decl[0] in frame:
                        frame[pipe.decl[0]] = value
                        break
                else:
                    raise TemplateError(f"undefined variable: {pipe.decl[0]}")
            else:
                scope[-1][pipe.decl[-1]] = value
        return value

    def _command(self, command: list[Any], dot: Any, scope: list[dict[str, Any]], piped: Any,
                 has_piped: bool) -> Any:
        head, *rest = command
        args = [self._eval(arg, dot, scope) for arg in rest]
        if has_piped:
            args.append(piped)
        if isinstance(head, _Func):
            func = self.functions[head.name]
            if head.name in ("and", "or") and not args:
                raise TemplateError(f"wrong number of args for {head.name}")
            try:
                return func(*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, AttributeError) as err:
                raise TemplateError(f"error calling {head.name}: {err}") from None
        if isinstance(head, _Field):
            return self._field(head, dot, scope, args)
        if args:
            raise TemplateError(f"can't give argument to non-function {head}")
        return self._eval(head, dot, scope)

    def _eval(self, node: Any, dot: Any, scope: list[dict[str, Any]]) -> Any:
        if isinstance(node, _Const):
            return node.value
        if isinstance(node, _Dot):
            return dot
        if isinstance(node, _Var):
            return _walk(self._variable(node.name, scope), node.names, [], self.missing_key_error)
        if isinstance(node, _Field):
            return self._field(node, dot, scope, [])
        if isinstance(node, _Pipe):
            return self._pipe(node, dot, scope)
        if isinstance(node, _Func):
            return self._command([node], dot, scope, None, False)
        raise TemplateError(f"can't evaluate {node}")

    def _field(self, node: _Field, dot: Any, scope: list[dict[str, Any]], args: list[Any]) -> Any:
        receiver = dot if node.receiver is None else self._eval(node.receiver, dot, scope)
        return _walk(receiver, node.names, args, self.missing_key_error)

    @staticmethod
    def _variable(name: str, scope: list[dict[str, Any]]) -> Any:
        for frame in reversed(scope):
            if name in frame:
                return frame[name]
        raise TemplateError(f"undefined variable: {name}")


# Fields of Docker's API types that their JSON leaves out while empty (omitempty): `inspect -f`
# reads them as nil, where a field the type does not have is an error.
OMITTED_WHEN_EMPTY = frozenset({
    "Health", "Healthcheck", "ExposedPorts", "StopSignal", "StopTimeout", "ArgsEscaped", "NetworkDisabled",
    "MacAddress", "Shell", "Mounts", "Tmpfs", "Sysctls", "StorageOpt", "Init", "SizeRw", "SizeRootFs", "Node",
})


def _walk(value: Any, names: list[str], args: list[Any], missing_key_error: bool = False) -> Any:
    """Follow .A.B.C from value; the last name receives args if it is a method."""
    for i, name in enumerate(names):
        last = i == len(names) - 1
        if isinstance(value, dict):
            if name not in value and _struct_like(value):
                name = _go_field(value, name)
                if missing_key_error and name not in value and name not in OMITTED_WHEN_EMPTY:
                    raise TemplateError(f'at <.{name}>: map has no entry for key "{name}"')
            value = value.get(name, None if missing_key_error and name in OMITTED_WHEN_EMPTY else MISSING)
        elif value is None or value is MISSING:
            raise TemplateError(f"at <.{name}>: nil pointer evaluating interface {{}}.{name}")
        elif isinstance(value, (str, int, float, bool, list, tuple)):
            raise TemplateError(f"at <.{name}>: can't evaluate field {name} in type {_go_type(value)}")
        else:
            attr = getattr(value, name, MISSING) if not name.startswith("_") else MISSING
            if attr is MISSING:
                go_type = getattr(value, "GO_TYPE", type(value).__name__)
                raise TemplateError(f"at <.{name}>: can't evaluate field {name} in type {go_type}")
            value = attr(*(args if last else [])) if callable(attr) else attr
            if last:
                return value
    if args:
        raise TemplateError(f"can't give argument to non-function {names[-1] if names else '.'}")
    return value


def _go_field(mapping: dict, name: str) -> str:
    """The key of an API object that Go's field `name` stands for: docker's templates see Go field
    names (`APIVersion`), the API's JSON may spell them otherwise (`ApiVersion`)."""
    folded = name.lower()
    return next((key for key in mapping if key.lower() == folded), name)


def _struct_like(mapping: dict) -> bool:
    return bool(mapping) and all(isinstance(key, str) and key[:1].isupper() for key in mapping)


def _go_type(value: Any) -> str:
    return {str: "string", int: "int", float: "float64", bool: "bool"}.get(type(value), "[]interface {}")


def render(source: str, data: Any) -> str:
    """Parse and execute in one step."""
    return Template(source).execute(data)
