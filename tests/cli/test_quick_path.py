"""The quick path: common command lines of the hot commands run without click, with exactly the
parameters click would have given; everything else is left to click."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.cli.commands import inspect, io, lifecycle, ps, run
from berth.cli.lazy import spell_out_switches
from berth.cli.main import GLOBAL_OPTIONS
from berth.cli.options import Command, NotQuick, to_click

COMMANDS = {"run": run.run, "create": run.create, "exec": io.exec_, "logs": io.logs, "attach": io.attach,
            "start": lifecycle.start, "stop": lifecycle.stop, "restart": lifecycle.restart, "kill": lifecycle.kill,
            "rm": lifecycle.rm, "ps": ps.ps, "inspect": inspect.inspect, "container inspect": inspect.container_inspect,
            "image inspect": inspect.image_inspect}


def click_params(command: Command, args: list[str]) -> dict:
    """What click gives the command, after the spelling docker allows and click does not (berth.cli.lazy)."""
    parsed = to_click(command)
    return parsed.make_context(command.name, spell_out_switches(parsed, list(args))).params


@pytest.mark.parametrize(("name", "args"), [
    ("run", ["--rm", "--network", "none", "busybox", "true"]),
    ("run", ["-it", "--name=web", "-e", "A=1", "-eB=2", "--env", "C", "-p", "80:80", "busybox", "sh", "-c", "ls -l"]),
    ("run", ["-d", "--cpu-shares", "512", "-c", "7", "--pull", "never", "-a", "stdout", "--no-sig-proxy", "busybox"]),
    ("run", ["--", "busybox", "--rm"]),
    ("create", ["-v", "/a:/b", "--restart=always", "busybox", "top"]),
    ("exec", ["-it", "-u", "0", "c1", "sh", "-i"]),
    ("exec", ["c1", "true"]),
    ("logs", ["-f", "-n", "5", "c1"]),
    ("attach", ["--sig-proxy", "c1"]),
    ("start", ["-a", "c1"]),
    ("stop", ["-t", "3", "-s", "SIGINT", "c1", "c2"]),
    ("kill", ["--signal=HUP", "c1"]),
    ("rm", ["-fv", "c1"]),
    ("ps", ["-a", "-q", "--filter", "status=exited", "-f", "name=x", "-n", "2"]),
    ("ps", ["--format", "{{.ID}}", "--no-trunc"]),
    ("inspect", ["-f", "{{.Id}}", "--type", "image", "busybox"]),
    ("container inspect", ["-s", "c1", "c2"]),
])
def test_common_command_lines_parse_as_click_parses_them(name: str, args: list[str]) -> None:
    command = COMMANDS[name]
    assert command.parse(args) == click_params(command, args)


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("run", ["--rm=false", "--sig-proxy=false", "busybox"], {"rm": False, "sig_proxy": False}),
    ("run", ["--rm=1", "--no-sig-proxy=false", "--privileged=False", "busybox"], {"rm": True, "sig_proxy": True,
                                                                                 "privileged": False}),
    ("attach", ["--sig-proxy=f", "c1"], {"sig_proxy": False}),
])
def test_a_switch_takes_a_go_boolean_as_docker_s_do(name: str, args: list[str], expected: dict) -> None:
    command = COMMANDS[name]
    quick = command.parse(args)
    assert quick == click_params(command, args)
    assert {key: quick[key] for key in expected} == expected


def test_click_takes_the_rarer_spellings_of_a_switch_as_docker_does() -> None:
    assert spell_out_switches(to_click(run.run), ["-i=true", "-t=0", "--name", "--rm=x", "--no-sig-proxy=true",
                                                 "busybox", "ls", "--rm=true"]) == ["-i", "--name", "--rm=x",
                                                                                    "--no-sig-proxy", "busybox", "ls",
                                                                                    "--rm=true"]


@pytest.mark.parametrize(("name", "args"), [
    ("run", ["--help"]),
    ("run", ["--no-such-flag", "busybox"]),
    ("run", ["--rm=maybe", "busybox"]),
    ("run", ["-a", "STDOUT", "busybox"]),      # click matches this choice case-insensitively
    ("run", ["--cpu-shares", "many", "busybox"]),
    ("run", ["--name"]),
    ("run", []),
    ("exec", ["c1"]),
    ("logs", ["c1", "c2"]),
    ("stop", []),
    ("stop", ["-t", "soon", "c1"]),
    ("ps", ["extra"]),
    ("inspect", ["--type", "volume", "v"]),
])
def test_help_mistakes_and_rare_forms_are_left_to_click(name: str, args: list[str]) -> None:
    with pytest.raises(NotQuick):
        COMMANDS[name].parse(args)


def test_global_options_come_before_the_command() -> None:
    assert GLOBAL_OPTIONS.parse(["-H", "unix:///x.sock", "--debug", "run", "-d", "busybox"]) == {
        "host": "unix:///x.sock", "debug": True, "log_level": "info", "command": "run", "args": ("-d", "busybox")}
    with pytest.raises(NotQuick):
        GLOBAL_OPTIONS.parse(["--version"])


def _words(command: Command) -> st.SearchStrategy[list[str]]:
    flags = [flag for flags, _ in command.options for declaration in flags for flag in declaration.split("/")]
    values = st.sampled_from(["busybox", "1", "x=y", "stdout", "never", "-", "--", "-it", "", "-e=1", "--rm=1"])
    return st.lists(st.one_of(st.sampled_from(flags), values), max_size=8)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_whenever_the_quick_parser_answers_click_agrees(data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(list(COMMANDS.values())))
    args = data.draw(_words(command))
    try:
        quick = command.parse(args)
    except NotQuick:
        return
    assert quick == click_params(command, args)
