"""The command line itself: exit codes and messages for bad usage and an absent daemon."""
import pytest

from berth.cli.main import main


def run_main(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_unknown_flag_is_a_usage_error_with_exit_125(capsys) -> None:
    code, _, err = run_main(["run", "--no-such-flag", "busybox"], capsys)
    assert code == 125
    assert err.startswith("unknown flag: --no-such-flag\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]")
    assert err.endswith("Run 'berth run --help' for more information\n")


@pytest.mark.parametrize(("args", "complaint", "hint"), [
    (["rm"], "'berth rm' requires at least 1 argument", "See 'berth rm --help'"),
    (["exec", "web"], "'berth exec' requires at least 2 arguments", "See 'berth exec --help'"),
    (["logs"], "'berth logs' requires 1 argument", "Run 'berth logs --help'"),
    (["rename", "web"], "'berth rename' requires 2 arguments", "Run 'berth rename --help'"),
    (["ps", "extra"], "'berth ps' accepts no arguments", "Run 'berth ps --help'"),
])
def test_a_wrong_number_of_arguments_is_refused_as_docker_does_with_exit_1(capsys, args, complaint, hint) -> None:
    code, _, err = run_main(args, capsys)
    assert code == 1
    assert err.startswith(f"berth: {complaint}\n\nUsage:  berth {args[0]} ")
    assert err.endswith(f"{hint} for more information\n")


def test_rm_of_every_container_shows_docker_usage_when_there_are_none(capsys) -> None:
    code, _, err = run_main(["rm"], capsys)  # what `berth rm $(berth ps -aq)` runs with no containers
    assert code == 1
    assert "Usage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]" in err


@pytest.mark.parametrize("command", ["run", "create"])
def test_a_refused_flag_value_is_shown_with_the_usage_line_and_exit_125(capsys, tmp_path, command) -> None:
    code, _, err = run_main(["-H", f"unix://{tmp_path}/none.sock", command, "-m", "12q", "busybox"], capsys)
    assert code == 125
    assert err == (f'invalid argument "12q" for "-m, --memory" flag: invalid suffix: \'q\'\n\n'
                   f"Usage:  berth {command} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                   f"Run 'berth {command} --help' for more information\n")


@pytest.mark.parametrize(("args", "usage", "message"), [
    (["run", "-m", "", "busybox"], "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
     'invalid argument "" for "-m, --memory" flag: invalid size: \'\''),
    (["update", "-m", "1q", "web"], "update [OPTIONS] CONTAINER [CONTAINER...]",
     'invalid argument "1q" for "-m, --memory" flag: invalid suffix: \'q\''),
    (["update", "--memory-swap", "", "web"], "update [OPTIONS] CONTAINER [CONTAINER...]",
     'invalid argument "" for "--memory-swap" flag: invalid size: \'\''),
    (["update", "--cpus", "abc", "web"], "update [OPTIONS] CONTAINER [CONTAINER...]",
     'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number'),
])
def test_every_command_shows_a_refused_size_or_cpu_count_with_its_usage_line(capsys, tmp_path, args, usage,
                                                                              message) -> None:
    code, _, err = run_main(["-H", f"unix://{tmp_path}/none.sock", *args], capsys)
    assert code == 125
    assert err == (f"{message}\n\nUsage:  berth {usage}\n\nRun 'berth {args[0]} --help' for more information\n")


@pytest.mark.parametrize(("args", "code", "first_line"), [
    (["stop", "-t", "abc", "web"], 125,
     'invalid argument "abc" for "-t, --timeout" flag: strconv.ParseInt: parsing "abc": invalid syntax'),
    (["logs", "--since", "bad", "web"], 1, 'invalid value for "since": failed to parse value as time or duration: "bad"'),
    (["run", "-p", "abc", "busybox"], 125, "berth: invalid containerPort: abc"),
    (["run", "-p", "abc:80", "busybox"], 125, "berth: invalid hostPort: abc"),
])
def test_bad_flag_values_are_refused_in_docker_s_words_before_any_request(capsys, tmp_path, args, code,
                                                                            first_line) -> None:
    exit_code, _, err = run_main(["-H", f"unix://{tmp_path}/none.sock", *args], capsys)
    assert (exit_code, err.splitlines()[0]) == (code, first_line)


def test_flags_after_the_image_belong_to_the_command(capsys, tmp_path) -> None:
    code, _, err = run_main(["-H", f"unix://{tmp_path}/none.sock", "run", "busybox", "ls", "-l"], capsys)
    assert code == 125 and "Cannot connect to the berth daemon" in err


def test_absent_daemon_exits_1(capsys, tmp_path) -> None:
    code, _, err = run_main(["-H", f"unix://{tmp_path}/none.sock", "ps"], capsys)
    assert code == 1
    assert err.startswith(f"Cannot connect to the berth daemon at unix://{tmp_path}/none.sock. Is the daemon running?")


def test_management_commands_and_aliases_resolve(capsys) -> None:
    for args in (["container", "ls", "--help"], ["image", "ls", "--help"], ["ps", "--help"], ["images", "--help"],
                 ["system", "df", "--help"], ["rmi", "--help"], ["container", "inspect", "--help"]):
        code, out, _ = run_main(args, capsys)
        assert code == 0 and "Usage:" in out
