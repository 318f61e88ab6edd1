"""Dockerfile instructions applied to an image config (`docker commit/import --change`)."""
from __future__ import annotations

import json
import posixpath
from collections.abc import Callable

from berth.durations import parse_go_duration
from berth.image.errors import InvalidImage
from berth.image.words import split_words

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "STOPSIGNAL",
           "USER", "VOLUME", "WORKDIR")


def _json_array(text: str) -> list[str] | None:
    """The exec form `["a", "b"]`, or None when `text` is shell form."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _command(text: str) -> list[str]:
    exec_form = _json_array(text)
    return exec_form if exec_form is not None else ["/bin/sh", "-c", text]


def _env_map(config: dict) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in config.get("Env") or [])


def _pairs(instruction: str, text: str, config: dict) -> list[tuple[str, str]]:
    """`k=v k2="v 2"`, or the legacy `k v w` form (one pair, the rest of the line as value)."""
    words = split_words(text, _env_map(config))
    if not words:
        raise InvalidImage(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        if len(words) < 2:
            raise InvalidImage(f"{instruction} requires at least two arguments")
        return [(words[0], " ".join(words[1:]))]
    pairs = []
    for word in words:
        name, found, value = word.partition("=")
        if not found or not name:
            raise InvalidImage(f"{instruction} names can not be blank" if found else
                               f"Syntax error - can't find = in {word!r}. Must be of the form: name=value")
        pairs.append((name, value))
    return pairs


def _cmd(config: dict, text: str) -> None:
    config["Cmd"] = _command(text)


def _entrypoint(config: dict, text: str) -> None:
    config["Entrypoint"] = _command(text)
    config["Cmd"] = None


def _env(config: dict, text: str) -> None:
    env = [item for item in config.get("Env") or []]
    for name, value in _pairs("ENV", text, config):
        env = [item for item in env if item.partition("=")[0] != name] + [f"{name}={value}"]
    config["Env"] = env


def _label(config: dict, text: str) -> None:
    labels = dict(config.get("Labels") or {})
    labels.update(_pairs("LABEL", text, config))
    config["Labels"] = labels


def _expose(config: dict, text: str) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for word in split_words(text, _env_map(config)):
        port, _, protocol = word.partition("/")
        protocol = (protocol or "tcp").lower()
        start, _, end = port.partition("-")
        if not start.isdigit() or (end and not end.isdigit()) or protocol not in ("tcp", "udp", "sctp"):
            raise InvalidImage(f"Invalid containerPort: {word}")
        for number in range(int(start), int(end or start) + 1):
            ports[f"{number}/{protocol}"] = {}
    config["ExposedPorts"] = ports


def _volume(config: dict, text: str) -> None:
    paths = _json_array(text)
    if paths is None:
        paths = split_words(text, _env_map(config))
    if not paths:
        raise InvalidImage("VOLUME requires at least one argument")
    volumes = dict(config.get("Volumes") or {})
    for path in paths:
        if not path.strip():
            raise InvalidImage("VOLUME specified can not be an empty string")
        volumes[path] = {}
    config["Volumes"] = volumes


def _single_word(name: str) -> Callable[[dict, str], None]:
    def apply(config: dict, text: str) -> None:
        words = split_words(text, _env_map(config))
        if len(words) != 1:
            raise InvalidImage(f"{name.upper()} requires exactly one argument")
        config[name] = words[0]
    return apply


def _workdir(config: dict, text: str) -> None:
    words = split_words(text, _env_map(config))
    if len(words) != 1:
        raise InvalidImage("WORKDIR requires exactly one argument")
    config["WorkingDir"] = posixpath.normpath(posixpath.join("/", config.get("WorkingDir") or "/", words[0]))


def _onbuild(config: dict, text: str) -> None:
    keyword = text.split(None, 1)[0].upper() if text.strip() else ""
    if keyword in ("ONBUILD", "FROM", "MAINTAINER"):
        raise InvalidImage(f"{keyword} isn't allowed as an ONBUILD trigger" if keyword != "ONBUILD"
                           else "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    config["OnBuild"] = list(config.get("OnBuild") or []) + [text.strip()]


def parse_duration(text: str) -> int:
    """A Go duration ("1m30s") in nanoseconds."""
    try:
        return round(parse_go_duration(text) * 1_000_000_000)
    except ValueError as error:
        raise InvalidImage(str(error)) from None


def _healthcheck(config: dict, text: str) -> None:
    words = text.split()
    options: dict[str, str] = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        options[name] = value
    if not words:
        raise InvalidImage("HEALTHCHECK requires an argument")
    kind, rest = words[0].upper(), text.split(words[0], 1)[1].strip()
    if kind == "NONE":
        if options or rest:
            raise InvalidImage("HEALTHCHECK NONE takes no arguments")
        config["Healthcheck"] = {"Test": ["NONE"]}
        return
    if kind != "CMD":
        raise InvalidImage(f"Unknown type {kind!r} in HEALTHCHECK (try CMD)")
    exec_form = _json_array(rest)
    check: dict = {"Test": ["CMD", *exec_form] if exec_form is not None else ["CMD-SHELL", rest]}
    for option, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod")):
        if option in options:
            check[field] = parse_duration(options.pop(option))
    if "retries" in options:
        check["Retries"] = int(options.pop("retries"))
    if options:
        raise InvalidImage(f"Unknown flag: {next(iter(options))}")
    config["Healthcheck"] = check


_HANDLERS: dict[str, Callable[[dict, str], None]] = {
    "CMD": _cmd, "ENTRYPOINT": _entrypoint, "ENV": _env, "EXPOSE": _expose, "HEALTHCHECK": _healthcheck,
    "LABEL": _label, "ONBUILD": _onbuild, "STOPSIGNAL": _single_word("StopSignal"),
    "USER": _single_word("User"), "VOLUME": _volume, "WORKDIR": _workdir,
}


def apply_changes(config: dict, changes: list[str]) -> dict:
    """A copy of the container config `config` with each Dockerfile instruction in `changes` applied."""
    result = json.loads(json.dumps(config))
    for line in changes:
        line = line.strip()
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword not in _HANDLERS:
            raise InvalidImage(f"{keyword} is not a valid change command")
        _HANDLERS[keyword](result, rest.strip())
    return result
