"""How berth expands words in a Dockerfile, for what BuildKit's conformance data leaves out.

Each expectation is what BuildKit itself gives for the same word.
"""
from __future__ import annotations

import pytest

from berth.build.shellwords import Lexer, ShellWordError, process_word, process_words
from berth.errdefs import InvalidArgument

ENV = {"P": "/usr/local/bin", "Y": "aXbXc", "EMPTY": "", "PORTS": "80 443"}


@pytest.mark.parametrize(("word", "expected"), [
    ("${P#*/}", "usr/local/bin"),  # shortest prefix
    ("${P##*/}", "bin"),  # longest prefix
    ("${P%/*}", "/usr/local"),  # shortest suffix
    ("${P%%/*}", ""),  # longest suffix
    ("${Y/X/-}", "a-bXc"),  # first match
    ("${Y//X/-}", "a-b-c"),  # every match
    ("${UNSET-default}", "default"),
    ("${EMPTY-default}", ""),  # set, though empty
    ("${EMPTY:-default}", "default"),  # the colon counts empty as unset
    ("${EMPTY?}", ""),
    ("'$P' \"$P\"", "$P /usr/local/bin"),
])
def test_modifiers_and_quotes(word: str, expected: str) -> None:
    assert process_word(word, ENV) == expected


def test_required_variable_fails_with_its_message() -> None:
    with pytest.raises(ShellWordError) as caught:
        process_word("${EMPTY:?EMPTY must be set}", ENV)
    assert str(caught.value) == 'failed to process "${EMPTY:?EMPTY must be set}": EMPTY: EMPTY must be set'
    assert isinstance(caught.value, InvalidArgument)


def test_pattern_modifiers_take_no_colon() -> None:
    with pytest.raises(ShellWordError, match=r"unsupported modifier \(:#\) in substitution"):
        process_word("${P:#x}", ENV)


def test_backtick_escape() -> None:
    assert process_word("a`$b ``", {"b": "x"}, escape="`") == "a$b `"
    assert process_word("c:\\dir", {}, escape="`") == "c:\\dir"


def test_words_split_at_spaces_a_variable_brings() -> None:
    assert process_words("8080 ${PORTS}", ENV) == ["8080", "80", "443"]
    assert process_words('8080 "${PORTS}"', ENV) == ["8080", "80 443"]


def test_words_drop_what_precedes_a_modified_reference_as_buildkit_does() -> None:
    # BuildKit's quirk, kept because it decides which heredocs its parser sees (see berth.build.shellwords)
    assert process_words("a${UNSET:-b}c d", ENV) == ["bc", "d"]
    assert process_word("a${UNSET:-b}c d", ENV) == "abc d"


def test_unset_variables_can_be_left_as_written() -> None:
    lexer = Lexer(skip_unset=True)
    assert lexer.process_word("$P $UNSET ${UNSET:-x}", ENV) == "/usr/local/bin $UNSET ${UNSET:-x}"
