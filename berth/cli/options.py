"""Commands declared once as data, parsed two ways: by click (help, usage errors, every rare form), or
by a quick parser that knows only the common forms and leaves everything else to click.

The quick parser lets the hot commands (`run`, `exec`, ...) skip importing click, which costs the
`berth` command about 16 ms of its start-up. Tables use click's vocabulary: an option is
`(flags, kwargs)` as for `click.option(*flags, **kwargs)`, except that `choices` (with an optional
`case_sensitive`) stands for `type=click.Choice(...)`; an argument is `(name, kwargs)` as for
`click.argument`, where `nargs=-1` arguments take the rest of the command line unprocessed.
"""
from __future__ import annotations

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import click

    Spec = tuple[tuple[str, ...], dict[str, Any]]  # an option: its flags, click's keywords
    ArgumentSpec = tuple[str, dict[str, Any]]  # an argument: its name, click's keywords


class NotQuick(Exception):
    """A command line the quick parser leaves to click."""


class Syntax:
    """The options and arguments of a command line, and the quick parser for it."""

    def __init__(self, options: list[Spec], arguments: list[ArgumentSpec], *, interspersed: bool = True) -> None:
        self.options = options
        self.arguments = arguments
        self.interspersed = interspersed
        self._flags: dict[str, tuple[str, Spec, bool | None]] | None = None

    def parse(self, args: list[str]) -> dict[str, Any]:
        """The params click would pass for `args`; NotQuick for anything but the common forms."""
        params = {param_name(flags): _default(kwargs) for flags, kwargs in self.options}
        positional: list[str] = []
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                break
            if arg[:1] == "-" and len(arg) > 1:
                self._take_option(arg, rest, params)
            elif self.interspersed:
                positional.append(arg)
            else:
                rest.insert(0, arg)
                break
        positional += rest
        for name, kwargs in self.arguments:
            if kwargs.get("nargs") == -1:
                if kwargs.get("required") and not positional:
                    raise NotQuick
                params[name], positional = tuple(positional), []
            elif positional:
                params[name] = positional.pop(0)
            else:
                raise NotQuick
        if positional:
            raise NotQuick
        return params

    def _take_option(self, arg: str, rest: list[str], params: dict[str, Any]) -> None:
        """Consume one option word (and its value) as click's parser does."""
        flags = self._flag_table()
        if arg.startswith("--"):
            name, equals, value = arg.partition("=")
            if name not in flags:
                raise NotQuick
            if equals:
                rest.insert(0, value)
            self._store(flags[name], rest, params, explicit=bool(equals))
            return
        for index, letter in enumerate(arg[1:], 2):  # -it, -eFOO, -e FOO
            if f"-{letter}" not in flags:
                raise NotQuick
            found = flags[f"-{letter}"]
            takes_value = found[2] is None
            if takes_value and index < len(arg):
                rest.insert(0, arg[index:])
            self._store(found, rest, params, explicit=False)
            if takes_value:
                return

    @staticmethod
    def _store(found: tuple[str, Spec, bool | None], rest: list[str], params: dict[str, Any],
               explicit: bool) -> None:
        name, (_, kwargs), flag_value = found
        if flag_value is not None:
            if explicit:  # `--rm=false`, `--sig-proxy=true`: Go's booleans
                from berth.strconv import parse_bool

                try:
                    params[name] = parse_bool(rest.pop(0)) == flag_value
                except ValueError:
                    raise NotQuick from None  # click's path words the error
                return
            params[name] = flag_value
            return
        if not rest:
            raise NotQuick
        value = _convert(rest.pop(0), kwargs)
        params[name] = (*params[name], value) if kwargs.get("multiple") else value

    def _flag_table(self) -> dict[str, tuple[str, Spec, bool | None]]:
        """Every flag -> (param name, option spec, the value a switch sets or None if it takes one)."""
        if self._flags is None:
            self._flags = {}
            for spec in self.options:
                flags, kwargs = spec
                name = param_name(flags)
                for declaration in flags:
                    if declaration.isidentifier():
                        continue  # the parameter's name, not a flag
                    on, _, off = declaration.partition("/")
                    is_switch = bool(off) or bool(kwargs.get("is_flag"))
                    self._flags[on] = (name, spec, True if is_switch else None)
                    if off:
                        self._flags[off] = (name, spec, False)
        return self._flags


class Command(Syntax):
    """A command: `run(session, **params)` with params named and typed as click would pass them."""

    def __init__(self, name: str, run: Callable[..., None], options: list[Spec], arguments: list[ArgumentSpec], *,
                 short_help: str, interspersed: bool = True) -> None:
        super().__init__(options, arguments, interspersed=interspersed)
        self.name = name
        self.run = run
        self.short_help = short_help

    def usage(self) -> str:
        """The usage line, as click writes it: `berth run [OPTIONS] IMAGE [COMMAND] [ARG...]`."""
        words = [kwargs.get("metavar") or name.upper() for name, kwargs in self.arguments]
        return " ".join([f"Usage:  berth {self.name}", *(["[OPTIONS]"] if self.options else []), *words])


def param_name(flags: tuple[str, ...]) -> str:
    """The parameter name click gives an option: the declaration that is a bare name (`"signal_"` in
    `("-s", "--signal", "signal_")`), else the first of the longest-prefixed flags, without dashes."""
    for declaration in flags:
        if declaration.isidentifier():
            return declaration
    names = [declaration.partition("/")[0] for declaration in flags]
    longest = max(len(name) - len(name.lstrip("-")) for name in names)
    first = next(name for name in names if len(name) - len(name.lstrip("-")) == longest)
    return first.lstrip("-").replace("-", "_").lower()


def _default(kwargs: dict[str, Any]) -> Any:
    if kwargs.get("multiple"):
        return tuple(kwargs.get("default") or ())
    if kwargs.get("is_flag"):
        return bool(kwargs.get("default", False))
    return kwargs.get("default")


def _convert(value: str, kwargs: dict[str, Any]) -> Any:
    choices = kwargs.get("choices")
    if choices is not None and value not in choices:
        raise NotQuick  # click matches case-insensitively where asked, and words the error
    if kwargs.get("type") is int:
        try:
            return int(value)
        except ValueError:
            raise NotQuick from None
    return value


def to_click(command: Command) -> click.Command:
    """The same command for click."""
    import click

    from berth.cli.session import Session

    def callback(**params: Any) -> None:
        command.run(click.get_current_context().find_object(Session), **params)

    params: list[click.Parameter] = [click.Argument([name], **kwargs, **_unprocessed(kwargs))
                                     for name, kwargs in command.arguments]
    params += [click_option(spec) for spec in command.options]
    return click.Command(
        command.name, callback=callback, params=params, help=command.run.__doc__, short_help=command.short_help,
        context_settings={"help_option_names": ["--help"], "allow_interspersed_args": command.interspersed},
    )


def click_option(spec: Spec) -> click.Option:
    import click

    flags, kwargs = spec
    kwargs = dict(kwargs)
    choices = kwargs.pop("choices", None)
    case_sensitive = kwargs.pop("case_sensitive", True)
    if choices is not None:
        kwargs["type"] = click.Choice(choices, case_sensitive=case_sensitive)
    if kwargs.get("type") is int:
        from berth.cli.clicktypes import GoInt

        kwargs["type"] = GoInt()
        kwargs.setdefault("metavar", "int")
    elif "type" not in kwargs and not kwargs.get("is_flag"):
        kwargs.setdefault("metavar", "string")  # docker's word for a value (click's is TEXT)
    return click.Option(flags, **kwargs)


def _unprocessed(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The rest of the command line is the container's command: click must leave it as it is."""
    import click

    return {"type": click.UNPROCESSED} if kwargs.get("nargs") == -1 else {}
