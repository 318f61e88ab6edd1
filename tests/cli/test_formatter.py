"""Tables and --format output shaped like docker's."""
import pytest

from berth.cli.commands.images import DEFAULT_FORMAT as IMAGES_FORMAT
from berth.cli.commands.ps import DEFAULT_FORMAT as PS_FORMAT
from berth.cli.contexts import ContainerContext, ImageContext, image_rows
from berth.cli.errors import CLIError
from berth.cli.formatter import render, resolve_format, tabwrite

NOW = 1_700_000_000.0
CONTAINER = {
    "Id": "e74188e053c0bc3679cc17d45f709f99bb5eca1e4851bc66740947212c80cf96", "Names": ["/bg"],
    "Image": "busybox", "ImageID": "sha256:936851e6b64d", "Command": "sh -c 'echo hi; exit 3'",
    "Created": NOW - 120, "State": "running", "Status": "Up 2 minutes", "Ports": [],
    "Labels": {"a": "b"}, "Mounts": [], "NetworkSettings": {"Networks": {"bridge": {}}},
}
IMAGE = {"Id": "sha256:936851e6b64d076c7af3a8a1715bac663ddd7972ee1d5c385d33a29887573ddf",
         "RepoTags": ["busybox:latest"], "RepoDigests": [], "Created": NOW - 300, "Size": 1_986_000}


def test_tabwriter_pads_columns_to_widest_cell_plus_three_with_minimum_ten() -> None:
    text = "A\tLONGER HEADER\tZ\nvalue\tx\tlast column is not padded\n"
    assert tabwrite(text) == (
        "A         LONGER HEADER   Z\n"
        "value     x               last column is not padded\n")


def test_tabwriter_aligns_per_block_of_lines_with_the_column() -> None:
    assert tabwrite("a\tb\nno tabs here\nlonger cell\tc\n") == "a         b\nno tabs here\nlonger cell   c\n"


def test_ps_table_looks_like_dockers() -> None:
    out = render(PS_FORMAT, [ContainerContext(CONTAINER, now=NOW)], ContainerContext.TITLES)
    assert out == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n"
        "e74188e053c0   busybox   \"sh -c 'echo hi; exi…\"   2 minutes ago   Up 2 minutes             bg\n")


def test_custom_table_format_gets_titles_and_label_columns() -> None:
    out = render('table {{.ID}}\\t{{.Label "a"}}\\t{{.Names}}', [ContainerContext(CONTAINER, now=NOW)],
                 ContainerContext.TITLES)
    assert out == "CONTAINER ID   a         NAMES\ne74188e053c0   b         bg\n"


def test_plain_format_prints_one_line_per_row_without_header() -> None:
    rows = [ContainerContext(CONTAINER, now=NOW), ContainerContext({**CONTAINER, "Names": ["/two"]}, now=NOW)]
    assert render("{{.Names}}: {{.Status}}", rows, ContainerContext.TITLES) == "bg: Up 2 minutes\ntwo: Up 2 minutes\n"


def test_json_format_shows_every_field_as_a_string() -> None:
    out = render(resolve_format("json", PS_FORMAT), [ContainerContext(CONTAINER, now=NOW)], {})
    assert out.startswith('{"Command":"\\"sh -c \'echo hi; exi…\\"","CreatedAt":')
    assert '"Labels":"a=b","LocalVolumes":"0","Mounts":"","Names":"bg","Networks":"bridge"' in out


def test_quiet_uses_ids_and_no_format_uses_the_default() -> None:
    assert resolve_format(None, "DEFAULT", "{{.ID}}", quiet=True) == "{{.ID}}"
    assert resolve_format("table", "DEFAULT") == "DEFAULT"
    assert resolve_format("{{.Names}}", "DEFAULT", "{{.ID}}", quiet=True) == "{{.Names}}"


def test_images_table_looks_like_dockers() -> None:
    out = render(IMAGES_FORMAT, image_rows([IMAGE], digests=False, trunc=True, now=NOW), ImageContext.TITLES)
    assert out == ("REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n"
                   "busybox      latest    936851e6b64d   5 minutes ago   1.99MB\n")


def test_image_rows_one_per_tag_and_none_for_dangling() -> None:
    tagged = {**IMAGE, "RepoTags": ["busybox:latest", "busybox:1", "docker.io/library/other:x"],
              "RepoDigests": ["busybox@sha256:aaa"]}
    dangling = {**IMAGE, "RepoTags": [], "RepoDigests": []}
    rows = image_rows([tagged, dangling], digests=True, trunc=True, now=NOW)
    assert [(r.Repository(), r.Tag(), r.Digest()) for r in rows] == [
        ("busybox", "latest", "sha256:aaa"), ("busybox", "1", "sha256:aaa"), ("other", "x", "<none>"),
        ("<none>", "<none>", "<none>")]


def test_container_context_details() -> None:
    row = ContainerContext({**CONTAINER, "Names": ["/bg", "/other/link"], "SizeRw": 12, "SizeRootFs": 2_000_000,
                            "Ports": [{"PrivatePort": 80, "PublicPort": 8080, "IP": "0.0.0.0", "Type": "tcp"},
                                      {"PrivatePort": 53, "Type": "udp"}],
                            "Image": "sha256:936851e6b64d0000"}, now=NOW)
    assert row.Names() == "bg"
    assert row.Size() == "12B (virtual 2MB)"
    assert row.Ports() == "0.0.0.0:8080->80/tcp, 53/udp"
    assert row.Image() == "936851e6b64d"
    assert ContainerContext(CONTAINER, trunc=False).Command() == "\"sh -c 'echo hi; exit 3'\""


def test_an_unknown_field_is_docker_s_template_error_not_a_crash() -> None:
    with pytest.raises(CLIError) as failed:
        render("{{.Bogus}}", [ContainerContext(CONTAINER, now=NOW)], ContainerContext.TITLES)
    assert failed.value.message == ('failed to execute template: template: :1: executing "" at <.Bogus>: '
                                    "can't evaluate field Bogus in type *formatter.ContainerContext")
    with pytest.raises(CLIError) as unparsable:
        render("{{.ID", [ContainerContext(CONTAINER, now=NOW)], ContainerContext.TITLES)
    assert unparsable.value.message == "failed to parse template: template: :1: unclosed action"
