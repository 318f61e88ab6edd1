"""Docker's classic builder: a Dockerfile, instruction by instruction, into images.

Each step makes an image from the previous one: RUN runs its command in a temporary container whose
changes become a layer; COPY, ADD and WORKDIR add files; every other instruction changes only the
image's configuration. A step whose parent, instruction and inputs (the build args it sees, the
files it copies) match an earlier one's reuses that step's image (the cache). Stages (`FROM ... AS
name`) build one after the other; `--target` stops at one.

The builder knows no daemon: what it needs of images and containers is a `Backend` (berth.daemon
gives one), and what it has to say goes to `emit`, as the Engine API's build stream has it
(`{"stream": "Step 1/3 : FROM busybox\\n"}`).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from berth.build import copying
from berth.build.dockerfile import Dockerfile, DockerfileError, Instruction, parse
from berth.build.shellwords import ShellWordError, process_word, process_words
from berth.durations import parse_go_duration
from berth.errdefs import BerthError, InvalidArgument, NotFound

DEFAULT_SHELL = ["/bin/sh", "-c"]
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
CONFIG_ONLY = frozenset({"env", "label", "maintainer", "expose", "volume", "user", "cmd", "entrypoint", "shell",
                         "stopsignal", "healthcheck", "onbuild", "arg"})
Emit = Callable[[dict[str, Any]], Awaitable[None]]


class BuildError(InvalidArgument):
    """A build that stops: `code` is the failing RUN's exit code (0 for other failures)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class Backend(Protocol):
    """What the builder asks of the engine."""

    async def resolve_image(self, ref: str, pull: bool = False) -> str:
        """The ID of the image `ref` names, pulled if it is missing (or, with `pull`, in any case);
        NotFound if there is none."""

    def image_config(self, image_id: str) -> dict[str, Any]:
        """The image's config document: "config" (the container config), "author", "history"."""

    async def run(self, image_id: str | None, config: dict[str, Any], host_config: dict[str, Any],
                  output: Callable[[bytes], Awaitable[None]]) -> tuple[str, int, Path]:
        """Run a step's command in a new container (its output as it comes): the container's ID, the
        command's exit code, and the directory of the container's changes."""

    async def remove(self, container_id: str) -> None: ...

    def filesystem(self, image_id: str | None) -> AbstractAsyncContextManager[Path]:
        """The image's filesystem (empty for None: `scratch`), mounted while the context lasts."""

    async def commit(self, parent: str | None, config: dict[str, Any], created_by: str, author: str,
                     changes: Path | None, layer_tar: Path | None = None, epoch: int | None = None) -> str:
        """The step's image: `parent`, a layer of the changes in the directory `changes` or of the
        tar `layer_tar` (neither: a step that changes the configuration only), `config` and a
        history entry; with `epoch` (SOURCE_DATE_EPOCH) as its time and the latest of its files'."""

    async def tag(self, image_id: str, name: str) -> str:
        """Give the image the name; the name in full (`hello` -> `hello:latest`)."""

    def cached(self, key: str) -> str | None:
        """The image an earlier step with this cache key made, if it still exists."""

    def remember(self, key: str, image_id: str) -> None: ...

    def cached_child(self, sources: list[str], parent: str | None, created_by: str) -> str | None:
        """`--cache-from`: an image in the history of the images `sources` names (those that exist)
        whose parent is `parent` and whose last step is `created_by`."""


@dataclass
class BuildOptions:
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    remove: bool = True  # intermediate containers of steps that succeeded
    force_remove: bool = False  # ... and of those that failed
    network_mode: str = ""
    cache_from: list[str] = field(default_factory=list)  # images whose history is the only cache
    extra_hosts: list[str] = field(default_factory=list)
    pull: bool = False  # pull every FROM image, even one that is here


@dataclass
class Stage:
    """A stage as it is being built: the image so far and the configuration it carries."""

    name: str
    image_id: str | None
    config: dict[str, Any]
    author: str = ""
    args: dict[str, str] = field(default_factory=dict)  # ARGs declared in the stage, with their values
    cmd_set: bool = False  # a CMD of this stage (an ENTRYPOINT then keeps it)

    def env(self) -> dict[str, str]:
        values = dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in self.config.get("Env") or [])
        return {**self.args, **values}  # ENV wins over ARG

    def set_env(self, key: str, value: str) -> None:
        entries = [entry for entry in self.config.get("Env") or [] if entry.split("=", 1)[0] != key]
        self.config["Env"] = [*entries, f"{key}={value}"]


class Builder:
    def __init__(self, backend: Backend, context: Path, dockerfile: str | bytes, options: BuildOptions,
                 emit: Emit) -> None:
        self.backend = backend
        self.context = context
        self.options = options
        self.emit = emit
        self.parsed: Dockerfile = parse(dockerfile)
        self.stages: dict[str, Stage] = {}  # by name and by index
        self.used_args: set[str] = set()
        self.step = 0
        self.total = len(self.parsed.instructions)
        self.epoch = _epoch(options.build_args.get("SOURCE_DATE_EPOCH"))  # a reproducible build's time

    async def build(self) -> str:
        """Build up to the target stage (the last by default); the final image's ID."""
        instructions = self.parsed.instructions
        meta_args: dict[str, str] = {}
        index = 0
        while index < len(instructions) and instructions[index].name == "arg":
            await self._say_step(instructions[index])
            self._declare_args(instructions[index], meta_args, meta_args)
            index += 1
        if index == len(instructions) or instructions[index].name != "from":
            line = instructions[index].start_line if index < len(instructions) else 0
            raise DockerfileError("no build stage in current context" if index == len(instructions)
                                  else "Please provide a source image with `from` prior to commit", line)
        targets = [_stage_name(i) for i in instructions if i.name == "from"]
        if self.options.target and self.options.target.lower() not in targets:
            raise BuildError(f"failed to reach build target {self.options.target} in Dockerfile")
        stage: Stage | None = None
        stages_made = 0
        for instruction in instructions[index:]:
            if instruction.name == "from":
                if stage is not None and stage.name and stage.name == self.options.target.lower():
                    break
                stage = await self._from(instruction, meta_args, stages_made)
                stages_made += 1
                continue
            assert stage is not None
            await self._dispatch(stage, instruction)
        assert stage is not None
        if self.options.labels:
            stage.config["Labels"] = {**(stage.config.get("Labels") or {}), **self.options.labels}
            stage.image_id = await self.backend.commit(stage.image_id, stage.config, _nop("LABEL", _labels(
                self.options.labels)), stage.author, None, epoch=self.epoch)
        if stage.image_id is None:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        unused = sorted(set(self.options.build_args) - self.used_args - PROXY_ARGS - {"SOURCE_DATE_EPOCH"})
        if unused:
            await self._say(f"[Warning] One or more build-args {unused} were not consumed\n")
        await self.emit({"aux": {"ID": stage.image_id}})
        await self._say(f"Successfully built {_short(stage.image_id)}\n")
        for tag in self.options.tags:
            await self._say(f"Successfully tagged {await self.backend.tag(stage.image_id, tag)}\n")
        return stage.image_id

    # --- steps -----------------------------------------------------------------------------------
    async def _say(self, text: str) -> None:
        await self.emit({"stream": text})

    async def _say_step(self, instruction: Instruction) -> None:
        self.step += 1
        await self._say(f"Step {self.step}/{self.total} : {instruction.original}\n")

    async def _from(self, instruction: Instruction, meta_args: dict[str, str], index: int) -> Stage:
        await self._say_step(instruction)
        args = instruction.args
        if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
            raise DockerfileError("FROM requires either one or three arguments", instruction.start_line)
        name = _stage_name(instruction)
        ref = self._expand(process_word, args[0], meta_args, instruction)
        if ref.lower() in self.stages:
            parent = self.stages[ref.lower()]
            stage = Stage(name, parent.image_id, json.loads(json.dumps(parent.config)), parent.author)
        elif ref == "scratch":
            stage = Stage(name, None, {})
        else:
            try:
                image_id = await self.backend.resolve_image(ref, self.options.pull)
            except NotFound as error:
                raise BuildError(str(error)) from None
            document = self.backend.image_config(image_id)
            stage = Stage(name, image_id, dict(document.get("config") or {}), document.get("author", ""))
            await self._say(f" ---> {_short(image_id)}\n")
            triggers = stage.config.pop("OnBuild", None) or []
            if triggers:
                await self._say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}\n")
            for trigger in triggers:
                child = parse(trigger).instructions[0]
                if child.name in ("onbuild", "from", "maintainer"):
                    raise BuildError(f"{child.name.upper()} isn't allowed as an ONBUILD trigger")
                await self._dispatch(stage, child, counted=False)
        self.stages[str(index)] = stage
        if name:
            self.stages[name] = stage
        return stage

    async def _dispatch(self, stage: Stage, instruction: Instruction, counted: bool = True) -> None:
        if counted:
            await self._say_step(instruction)
        handler = getattr(self, f"_{instruction.name}", None)
        if handler is None or instruction.name == "from":
            raise DockerfileError(f"unknown instruction: {instruction.name.upper()}", instruction.start_line)
        try:
            await handler(stage, instruction)
        except ShellWordError as error:
            raise DockerfileError(str(error), instruction.start_line) from None

    def _expand(self, how: Callable[..., Any], text: str, env: dict[str, str], instruction: Instruction) -> Any:
        try:
            return how(text, env, self.parsed.escape)
        except ShellWordError as error:
            raise DockerfileError(str(error), instruction.start_line) from None

    async def _from_cache(self, stage: Stage, key: str, created_by: str) -> bool:
        """Take the step's image from the cache when it has one: the table of earlier steps, or with
        `--cache-from` only the images named there (a child of the stage's image made by the same
        step); say so as Docker does."""
        if self.options.no_cache:
            return False
        if self.options.cache_from:
            found = self.backend.cached_child(self.options.cache_from, stage.image_id, created_by)
        else:
            found = self.backend.cached(key)
        if found is None:
            return False
        stage.image_id = found
        await self._say(f" ---> Using cache\n ---> {_short(found)}\n")
        return True

    async def _config_step(self, stage: Stage, created_by: str) -> None:
        """A step that changes the configuration only: its image, from the cache when it can."""
        key = _cache_key(stage.image_id, created_by, stage.config, {})
        if await self._from_cache(stage, key, created_by):
            return
        stage.image_id = await self.backend.commit(stage.image_id, stage.config, created_by, stage.author, None,
                                                   epoch=self.epoch)
        self.backend.remember(key, stage.image_id)
        await self._say(f" ---> {_short(stage.image_id)}\n")

    # --- configuration ---------------------------------------------------------------------------
    async def _env(self, stage: Stage, instruction: Instruction) -> None:
        pairs = self._pairs(stage, instruction, "ENV")
        for key, value in pairs:
            stage.set_env(key, value)
        await self._config_step(stage, _nop("ENV", " ".join(f"{k}={v}" for k, v in pairs)))

    async def _label(self, stage: Stage, instruction: Instruction) -> None:
        pairs = self._pairs(stage, instruction, "LABEL")
        stage.config["Labels"] = {**(stage.config.get("Labels") or {}), **dict(pairs)}
        await self._config_step(stage, _nop("LABEL", _labels(dict(pairs))))

    def _pairs(self, stage: Stage, instruction: Instruction, what: str) -> list[tuple[str, str]]:
        args = instruction.args
        if not args:
            raise DockerfileError(f"{what} requires at least one argument", instruction.start_line)
        env = stage.env()
        pairs = []
        for key, value in zip(args[0::3], args[1::3], strict=True):
            key = self._expand(process_word, key, env, instruction)
            if not key:
                raise DockerfileError(f"{what} names can not be blank", instruction.start_line)
            pairs.append((key, self._expand(process_word, value, env, instruction)))
        return pairs

    async def _maintainer(self, stage: Stage, instruction: Instruction) -> None:
        stage.author = " ".join(instruction.args)
        await self._config_step(stage, _nop("MAINTAINER", stage.author))

    async def _arg(self, stage: Stage, instruction: Instruction) -> None:
        self._declare_args(instruction, stage.args, stage.env())
        await self._config_step(stage, _nop("ARG", " ".join(instruction.args)))

    def _declare_args(self, instruction: Instruction, into: dict[str, str], env: dict[str, str]) -> None:
        if not instruction.args:
            raise DockerfileError("ARG requires exactly one argument", instruction.start_line)
        for word in instruction.args:
            name, has_default, default = word.partition("=")
            if not name:
                raise DockerfileError("ARG names can not be blank", instruction.start_line)
            given = self.options.build_args.get(name)
            self.used_args.add(name)
            if given is not None:
                into[name] = given
            elif has_default:
                into[name] = self._expand(process_word, default, env, instruction)

    async def _expose(self, stage: Stage, instruction: Instruction) -> None:
        ports = stage.config.setdefault("ExposedPorts", {}) or {}
        added = []
        for word in instruction.args:
            for port in self._expand(process_words, word, stage.env(), instruction):
                number, _, proto = port.partition("/")
                added.append(f"{number}/{(proto or 'tcp').lower()}")
        stage.config["ExposedPorts"] = {**ports, **{port: {} for port in added}}
        await self._config_step(stage, _nop("EXPOSE", " ".join(added)))

    async def _volume(self, stage: Stage, instruction: Instruction) -> None:
        paths = [path for word in instruction.args
                 for path in (self._expand(process_words, word, stage.env(), instruction) if not instruction.json
                              else [self._expand(process_word, word, stage.env(), instruction)])]
        if not paths or any(not path.strip() for path in paths):
            raise DockerfileError("VOLUME specified can not be an empty string", instruction.start_line)
        stage.config["Volumes"] = {**(stage.config.get("Volumes") or {}), **{path: {} for path in paths}}
        await self._config_step(stage, _nop("VOLUME", json.dumps(paths) if instruction.json else " ".join(paths)))

    async def _user(self, stage: Stage, instruction: Instruction) -> None:
        stage.config["User"] = self._expand(process_word, " ".join(instruction.args), stage.env(), instruction)
        await self._config_step(stage, _nop("USER", stage.config["User"]))

    async def _stopsignal(self, stage: Stage, instruction: Instruction) -> None:
        stage.config["StopSignal"] = self._expand(process_word, " ".join(instruction.args), stage.env(), instruction)
        await self._config_step(stage, _nop("STOPSIGNAL", stage.config["StopSignal"]))

    async def _shell(self, stage: Stage, instruction: Instruction) -> None:
        if not instruction.json:
            raise DockerfileError("SHELL requires the arguments to be in JSON form", instruction.start_line)
        if not instruction.args:
            raise DockerfileError("SHELL requires at least one argument", instruction.start_line)
        stage.config["Shell"] = list(instruction.args)
        await self._config_step(stage, _nop("SHELL", json.dumps(instruction.args)))

    def _command(self, stage: Stage, instruction: Instruction) -> list[str]:
        """A CMD, ENTRYPOINT or RUN's command: the exec form as written, the shell form through SHELL."""
        if instruction.json:
            return list(instruction.args)
        if not instruction.args:
            return []
        return [*(stage.config.get("Shell") or DEFAULT_SHELL), instruction.args[0]]

    async def _cmd(self, stage: Stage, instruction: Instruction) -> None:
        stage.config["Cmd"] = self._command(stage, instruction)
        stage.cmd_set = True
        await self._config_step(stage, _nop("CMD", json.dumps(stage.config["Cmd"])))

    async def _entrypoint(self, stage: Stage, instruction: Instruction) -> None:
        stage.config["Entrypoint"] = self._command(stage, instruction)
        if not stage.cmd_set:
            stage.config["Cmd"] = None  # an inherited CMD does not outlive a new ENTRYPOINT
        await self._config_step(stage, _nop("ENTRYPOINT", json.dumps(stage.config["Entrypoint"])))

    async def _healthcheck(self, stage: Stage, instruction: Instruction) -> None:
        args = instruction.args
        if not args:
            raise DockerfileError("HEALTHCHECK requires an argument", instruction.start_line)
        kind = args[0].upper()
        if kind == "NONE":
            if len(args) > 1 or instruction.flags:
                raise DockerfileError("HEALTHCHECK NONE takes no arguments", instruction.start_line)
            stage.config["Healthcheck"] = {"Test": ["NONE"]}
        elif kind == "CMD":
            if len(args) < 2:
                raise DockerfileError("Missing command after HEALTHCHECK CMD", instruction.start_line)
            test = ["CMD", *args[1:]] if instruction.json else ["CMD-SHELL", args[1]]
            health: dict[str, Any] = {"Test": test}
            for flag in instruction.flags:
                name, _, value = flag.removeprefix("--").partition("=")
                key = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
                       "start-interval": "StartInterval", "retries": "Retries"}.get(name)
                if key is None:
                    raise DockerfileError(f"Unknown flag: {name}", instruction.start_line)
                health[key] = int(value) if key == "Retries" else _duration(value, flag, instruction)
            stage.config["Healthcheck"] = health
        else:
            raise DockerfileError(f"Unknown type {kind!r} in HEALTHCHECK (try CMD)", instruction.start_line)
        await self._config_step(stage, _nop("HEALTHCHECK", json.dumps(stage.config["Healthcheck"])))

    async def _onbuild(self, stage: Stage, instruction: Instruction) -> None:
        child = instruction.child
        if child is None:
            raise DockerfileError("ONBUILD requires at least one argument", instruction.start_line)
        if child.name in ("onbuild", "from", "maintainer"):
            raise DockerfileError(f"{child.name.upper()} isn't allowed as an ONBUILD trigger", instruction.start_line)
        trigger = instruction.original.split(None, 1)[1]
        stage.config["OnBuild"] = [*(stage.config.get("OnBuild") or []), trigger]
        await self._config_step(stage, _nop("ONBUILD", trigger))

    # --- steps with files ----------------------------------------------------------------------------
    async def _workdir(self, stage: Stage, instruction: Instruction) -> None:
        path = self._expand(process_word, " ".join(instruction.args), stage.env(), instruction)
        if not path:
            raise DockerfileError("WORKDIR requires exactly one argument", instruction.start_line)
        stage.config["WorkingDir"] = posixpath.normpath(posixpath.join(stage.config.get("WorkingDir") or "/", path))
        await self._file_step(stage, _nop("WORKDIR", stage.config["WorkingDir"]), {},
                              lambda root, out: _make_directory(root, stage.config["WorkingDir"], out))

    async def _copy(self, stage: Stage, instruction: Instruction) -> None:
        await self._add_files(stage, instruction, unpack=False)

    async def _add(self, stage: Stage, instruction: Instruction) -> None:
        await self._add_files(stage, instruction, unpack=True)

    async def _add_files(self, stage: Stage, instruction: Instruction, unpack: bool) -> None:
        what = instruction.name.upper()
        flags = dict(flag.removeprefix("--").partition("=")[::2] for flag in instruction.flags)
        for name in flags:
            if name not in ("from", "chown", "chmod", "link") or (name == "from" and unpack):
                raise DockerfileError(f"Unknown flag: {name}", instruction.start_line)
        env = stage.env()
        if instruction.heredocs:
            await self._copy_heredocs(stage, instruction, env, flags)
            return
        words = [self._expand(process_word, word, env, instruction) for word in instruction.args]
        if len(words) < 2:
            raise DockerfileError(f"{what} requires at least two arguments, but only one was provided. "
                                  "Destination could not be determined.", instruction.start_line)
        *patterns, destination = words
        urls = [pattern for pattern in patterns if pattern.startswith(("http://", "https://"))]
        if urls and not unpack:
            raise BuildError("source can't be a URL for COPY")
        local = [pattern for pattern in patterns if pattern not in urls]
        destination = self._destination(stage, destination)
        with tempfile.TemporaryDirectory(prefix="berth-add-") as fetched:
            downloaded = [await asyncio.to_thread(copying.download, url, Path(fetched)) for url in urls]
            async with self._source_root(flags.get("from", "")) as root:
                sources = [*(copying.find_sources(root, local, what) if local else []), *downloaded]
                several = len(sources) > 1 or any(copying.GLOB_CHARACTERS & set(p) for p in patterns)
                owner = await self._owner(stage, flags.get("chown", ""), instruction)
                mode = _mode(flags.get("chmod", ""), instruction)
                inputs = {"sources": _checksum(root, sources[:len(sources) - len(downloaded)]),
                          "urls": {url: _checksum(Path(fetched), [path]) for url, path in zip(urls, downloaded,
                                                                                                strict=True)},
                          "owner": [owner.uid, owner.gid], "mode": mode}
                kind = "multi" if several else "dir" if sources[0].is_dir() else "file"
                created_by = _nop(what, f"{kind}:{_cache_key(None, '', {}, inputs)} in {destination} ")

                def write(rootfs: Path, out: Any) -> None:
                    copying.copy_tar(sources, destination, is_dir=lambda path: _is_dir(rootfs, path),
                                     exists=lambda path: _exists(rootfs, path), owner=owner, mode=mode,
                                     unpack_archives=unpack, out=out, instruction=what, several=several,
                                     downloaded=frozenset(downloaded), clamp_mtime=self.epoch)

                await self._file_step(stage, created_by, inputs, write)

    async def _copy_heredocs(self, stage: Stage, instruction: Instruction, env: dict[str, str],
                             flags: dict[str, str]) -> None:
        """`COPY <<EOF /path`: each heredoc's content becomes a file."""
        destination = self._destination(stage, self._expand(process_word, instruction.args[-1], env, instruction))
        owner = await self._owner(stage, flags.get("chown", ""), instruction)
        mode = _mode(flags.get("chmod", ""), instruction) or 0o644
        with tempfile.TemporaryDirectory(prefix="berth-heredoc-") as scratch:
            sources = []
            for heredoc in instruction.heredocs:
                path = Path(scratch) / heredoc.name
                content = self._expand(process_word, heredoc.content, env, instruction) if heredoc.expand \
                    else heredoc.content
                path.write_text(content)
                sources.append(path)
            several = len(sources) > 1

            def write(rootfs: Path, out: Any) -> None:
                copying.copy_tar(sources, destination, is_dir=lambda path: _is_dir(rootfs, path),
                                 exists=lambda path: _exists(rootfs, path), owner=owner, mode=mode,
                                 unpack_archives=False, out=out, instruction="COPY", several=several,
                                 clamp_mtime=self.epoch)

            inputs = {"heredocs": [h.content for h in instruction.heredocs], "owner": [owner.uid, owner.gid]}
            await self._file_step(stage, _nop("COPY", f"<<heredoc in {destination} "), inputs, write)

    def _destination(self, stage: Stage, destination: str) -> str:
        """The absolute destination: a relative one starts at WORKDIR; one that names a directory
        (a trailing `/`, or `.`) keeps a trailing `/`."""
        absolute = posixpath.normpath(posixpath.join(stage.config.get("WorkingDir") or "/", destination))
        directory = destination.endswith(("/", "/.")) or destination == "."
        return absolute.rstrip("/") + "/" if directory else absolute

    def _source_root(self, source: str) -> AbstractAsyncContextManager[Path]:
        """Where COPY's sources are: the context, or another stage's (or an image's) filesystem."""
        if not source:
            return contextlib.nullcontext(self.context)
        stage = self.stages.get(source.lower())
        return _Root(self.backend, stage.image_id if stage else None, "" if stage else source)

    async def _owner(self, stage: Stage, chown: str, instruction: Instruction) -> copying.Ownership:
        """`--chown=user:group` in numbers, names read from the image's /etc/passwd and /etc/group."""
        if not chown:
            return copying.Ownership()
        chown = self._expand(process_word, chown, stage.env(), instruction)
        user, _, group = chown.partition(":")
        if user.isdigit() and (not group or group.isdigit()):
            return copying.Ownership(int(user), int(group or user))
        async with _Root(self.backend, stage.image_id) as root:
            if user.isdigit():
                uid, gid = int(user), int(user)
            else:
                account = _account(root / "etc/passwd", user, "user")
                uid, gid = int(account[2]), int(account[3] or 0)
            if group:
                gid = int(group) if group.isdigit() else int(_account(root / "etc/group", group, "group")[2])
        return copying.Ownership(uid, gid)

    async def _file_step(self, stage: Stage, created_by: str, inputs: dict[str, Any],
                         write: Callable[[Path, Any], None]) -> None:
        """A step that adds files: the tar `write` makes (it sees the image's filesystem, to know
        what is there already) is the step's layer."""
        key = _cache_key(stage.image_id, created_by, stage.config, inputs)
        if await self._from_cache(stage, key, created_by):
            return
        with tempfile.NamedTemporaryFile(prefix="berth-layer-", suffix=".tar") as tar:
            async with self.backend.filesystem(stage.image_id) as root:
                await asyncio.to_thread(write, root, tar)
            tar.flush()
            stage.image_id = await self.backend.commit(stage.image_id, stage.config, created_by, stage.author,
                                                       None, Path(tar.name), epoch=self.epoch)
        self.backend.remember(key, stage.image_id)
        await self._say(f" ---> {_short(stage.image_id)}\n")

    async def _run(self, stage: Stage, instruction: Instruction) -> None:
        if instruction.heredocs and not instruction.json and instruction.args[0].lstrip().startswith("<<"):
            script = instruction.heredocs[0].content
            command = [*(stage.config.get("Shell") or DEFAULT_SHELL), script]
        else:
            command = self._command(stage, instruction)
        if not command:
            raise DockerfileError("RUN requires at least one argument", instruction.start_line)
        set_by_env = {entry.split("=", 1)[0] for entry in stage.config.get("Env") or [] if "=" in entry}
        build_env = [f"{key}={value}" for key, value in sorted(stage.args.items()) if key not in set_by_env]
        shown = " ".join(command)
        created_by = f"|{len(build_env)} {' '.join(build_env)} {shown}" if build_env else shown
        key = _cache_key(stage.image_id, created_by, stage.config, {})
        if await self._from_cache(stage, key, created_by):
            return
        config = {**stage.config, "Cmd": command, "Entrypoint": None,
                  "Env": [*(stage.config.get("Env") or []), *build_env]}
        host_config = {"NetworkMode": self.options.network_mode or "default",
                       "ExtraHosts": self.options.extra_hosts or None}
        container, code, changes = await self.backend.run(stage.image_id, config, host_config,
                                                          lambda data: self._say(data.decode("utf-8", "replace")))
        keep = code != 0 and not self.options.force_remove or code == 0 and not self.options.remove
        try:
            if code != 0:
                raise BuildError(f"The command '{shown}' returned a non-zero code: {code}", code)
            stage.image_id = await self.backend.commit(stage.image_id, stage.config, created_by, stage.author,
                                                       changes, epoch=self.epoch)
        finally:
            if not keep:
                await self._say(f"Removing intermediate container {container[:12]}\n")
                await self.backend.remove(container)
        self.backend.remember(key, stage.image_id)
        await self._say(f" ---> {_short(stage.image_id)}\n")


class _Root:
    """An image's filesystem to read files from (a stage's, or the image `ref` names)."""

    def __init__(self, backend: Backend, image_id: str | None, ref: str = "") -> None:
        self.backend, self.image_id, self.ref = backend, image_id, ref

    async def __aenter__(self) -> Path:
        if self.ref:
            try:
                self.image_id = await self.backend.resolve_image(self.ref)
            except NotFound:
                raise BuildError(f"invalid from flag value {self.ref}: No such image: {self.ref}") from None
        self.mounted = self.backend.filesystem(self.image_id)
        return await self.mounted.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        await self.mounted.__aexit__(*exc)


def _nop(instruction: str, text: str) -> str:
    """The history's `created_by` for a step that runs nothing, as Docker's classic builder writes it
    (two spaces before a configuration change, one before files)."""
    space = "  " if instruction.lower() in CONFIG_ONLY else " "
    return f"/bin/sh -c #(nop){space}{instruction} {text}"


def _stage_name(instruction: Instruction) -> str:
    """The name of the stage a FROM starts (`FROM image AS name`), "" when it has none."""
    args = instruction.args
    return args[2].lower() if len(args) == 3 and args[1].lower() == "as" else ""


def _epoch(value: str | None) -> int | None:
    """SOURCE_DATE_EPOCH, seconds since 1970 (None when unset)."""
    if not value:
        return None
    if not value.isdigit():
        raise BuildError(f"invalid SOURCE_DATE_EPOCH: {value}")
    return int(value)


def _labels(labels: dict[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in labels.items())


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _duration(value: str, flag: str, instruction: Instruction) -> int:
    try:
        return int(parse_go_duration(value) * 1e9)
    except (ValueError, BerthError):
        raise DockerfileError(f"invalid duration in {flag}", instruction.start_line) from None


def _mode(chmod: str, instruction: Instruction) -> int | None:
    if not chmod:
        return None
    try:
        return int(chmod, 8)
    except ValueError:
        raise DockerfileError(f"invalid chmod parameter: {chmod}", instruction.start_line) from None


def _account(path: Path, name: str, what: str) -> list[str]:
    """The line of /etc/passwd or /etc/group that names `name`, split at its colons."""
    try:
        for line in path.read_text().splitlines():
            fields = line.split(":")
            if len(fields) > 3 and fields[0] == name and fields[2].isdigit():
                return fields
    except OSError:
        pass
    kind = "uid" if what == "user" else "gid"
    raise BuildError(f"unable to convert uid/gid chown string to host mapping: can't find {kind} for {what} "
                     f"{name}: no such {what}: {name}")


def _inside(rootfs: Path, path: str) -> str | None:
    from berth.runtime.mounts import resolve_in_root

    try:
        return resolve_in_root(str(rootfs), path)
    except OSError:
        return None


def _is_dir(rootfs: Path, path: str) -> bool:
    host = _inside(rootfs, path)
    return host is not None and os.path.isdir(host)


def _exists(rootfs: Path, path: str) -> bool:
    host = _inside(rootfs, path)
    return host is not None and os.path.lexists(host)


def _make_directory(rootfs: Path, path: str, out: Any) -> None:
    """A tar of the directories WORKDIR needs and the image lacks (empty when it has them)."""
    import tarfile

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        current = "/"
        for part in [p for p in path.split("/") if p]:
            current = posixpath.join(current, part)
            if not _exists(rootfs, current):
                tar.addfile(copying.directory_entry(current, copying.Ownership()))


def _checksum(root: Path, sources: list[Path]) -> str:
    """What a COPY's cache key holds of its sources: every file's name, mode, size and content."""
    digest = hashlib.sha256()
    for source in sources:
        paths = [source] if not source.is_dir() else [source, *sorted(p for p in source.rglob("*"))]
        for path in paths:
            info = path.lstat()
            digest.update(f"{path.relative_to(root)}\0{info.st_mode}\0{info.st_size}\0".encode())
            if path.is_file() and not path.is_symlink():
                with open(path, "rb") as content:
                    for chunk in iter(lambda: content.read(1 << 20), b""):
                        digest.update(chunk)
            elif path.is_symlink():
                digest.update(os.readlink(path).encode())
    return digest.hexdigest()


def _cache_key(parent: str | None, created_by: str, config: dict[str, Any], inputs: dict[str, Any]) -> str:
    text = json.dumps([parent, created_by, config, inputs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
