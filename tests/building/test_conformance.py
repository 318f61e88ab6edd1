"""BuildKit's own test data for its Dockerfile parser and its shell-word expansion (read from
../shared/conformance/buildkit, see its README): berth reads every case as BuildKit does."""
from __future__ import annotations

from pathlib import Path

import pytest

from berth.build.dockerfile import DockerfileError, dump, parse
from berth.build.shellwords import ShellWordError, process_word, process_words

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "buildkit"
if not DATA.is_dir():  # a missing data set fails the suite: it must not pass by running nothing
    raise FileNotFoundError(f"BuildKit's conformance data is not at {DATA}")
PARSER = DATA / "parser"
SHELL_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def cases(directory: Path) -> list[Path]:
    return sorted(path for path in directory.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", cases(PARSER / "testfiles"), ids=lambda path: path.name)
def test_a_dockerfile_parses_as_buildkit_dumps_it(case: Path) -> None:
    assert dump(parse((case / "Dockerfile").read_bytes())) == (case / "result").read_text()


@pytest.mark.parametrize("case", cases(PARSER / "testfiles-negative"), ids=lambda path: path.name)
def test_a_bad_dockerfile_is_refused(case: Path) -> None:
    with pytest.raises(DockerfileError):
        parse((case / "Dockerfile").read_bytes())


def test_instructions_know_the_lines_they_span() -> None:
    parsed = parse((PARSER / "testfile-line" / "Dockerfile").read_text())
    assert [(i.name, i.start_line, i.end_line) for i in parsed.instructions] == [("from", 5, 5), ("env", 11, 12),
                                                                                 ("run", 17, 31)]


def env_var_cases() -> list[tuple[str, str, str]]:
    found = []
    for number, line in enumerate((DATA / "shell" / "envVarTest").read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            platform, text, expected = (field.strip() for field in line.split("|"))
            if platform != "W":  # Windows' cases
                found.append((f"line{number}", text, expected))
    return found


@pytest.mark.parametrize(("line", "text", "expected"), env_var_cases(), ids=lambda value: value)
def test_a_word_expands_as_buildkit_expands_it(line: str, text: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(ShellWordError):
            process_word(text, SHELL_ENV)
    else:
        assert process_word(text, SHELL_ENV) == expected


def words_cases() -> list[tuple[str, dict[str, str], str, list[str] | None]]:
    found, env = [], {}
    for number, line in enumerate((DATA / "shell" / "wordsTest").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[4:].partition("=")
            env = {**env, key: value}
            continue
        text, _, expected = line.partition("|")
        words = None if expected.strip() == "error" else [word.lstrip() for word in expected.lstrip().split(",")]
        found.append((f"line{number}", env, text.strip(), words))
    return found


@pytest.mark.parametrize(("line", "env", "text", "expected"), words_cases(), ids=lambda value: str(value))
def test_words_split_as_buildkit_splits_them(line: str, env: dict[str, str], text: str,
                                             expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(ShellWordError):
            process_words(text, env)
    else:
        assert process_words(text, env) == expected
