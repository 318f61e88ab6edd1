"""The Go template subset docker users write in --format and inspect -f."""
import pytest

from berth.cli.gotemplate import Template, TemplateError, go_str, render

INSPECT = {
    "Id": "abc",
    "State": {"Status": "running", "Running": True, "Pid": 42, "ExitCode": 0},
    "Config": {"Labels": {"k": "v", "a": "b"}, "Env": ["A=1", "B=2"], "Cmd": ["sh", "-c", "true"]},
    "Mounts": [{"Source": "/h", "Destination": "/c"}, {"Source": "/x", "Destination": "/y"}],
    "Empty": [],
}


@pytest.mark.parametrize("source, expected", [
    ("{{.Id}}", "abc"),
    ("{{.State.Status}}", "running"),
    ("{{.State.Pid}}", "42"),
    ("{{.State.Running}}", "true"),
    ('{{index .Config.Labels "k"}}', "v"),
    ("{{json .Config.Cmd}}", '["sh","-c","true"]'),
    ("{{json .State}}", '{"Status":"running","Running":true,"Pid":42,"ExitCode":0}'),
    ("{{.Config.Env}}", "[A=1 B=2]"),
    ("{{.Config.Labels}}", "map[a:b k:v]"),
    ("{{.Nope}}", "<no value>"),
    ("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/h:/c /x:/y "),
    ("{{range $i, $m := .Mounts}}{{$i}}={{$m.Source}};{{end}}", "0=/h;1=/x;"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "a=b,k=v,"),
    ("{{range .Empty}}x{{else}}none{{end}}", "none"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if eq .State.Status \"exited\"}}E{{else if eq .State.Status \"running\"}}R{{else}}?{{end}}", "R"),
    ("{{if and .State.Running (not .State.ExitCode)}}ok{{end}}", "ok"),
    ("{{with .State}}{{.Status}}{{end}}", "running"),
    ("{{.State.Status | upper}}", "RUNNING"),
    ("{{lower \"ABC\"}}", "abc"),
    ("{{join .Config.Cmd \",\"}}", "sh,-c,true"),
    ("{{split \"a:b\" \":\"}}", "[a b]"),
    ("{{len .Mounts}}", "2"),
    ("{{println .Id}}", "abc\n"),
    ("{{printf \"%s-%d\" .Id .State.Pid}}", "abc-42"),
    ("{{$x := .Id}}{{$x}}{{$x}}", "abcabc"),
    ("{{/* a comment */}}x", "x"),
    ("a  {{- .Id -}}  b", "aabcb"),
    ("{{title \"hello world\"}}", "Hello World"),
    ("{{(index .Mounts 1).Source}}", "/x"),
    ("{{truncate .Id 2}}", "ab"),
    ("{{range .Mounts}}{{if eq .Source \"/h\"}}{{continue}}{{end}}{{.Source}}{{end}}", "/x"),
])
def test_templates_render_like_go(source: str, expected: str) -> None:
    assert render(source, INSPECT) == expected


def test_methods_are_called_with_arguments() -> None:
    class Row:
        def Label(self, name: str) -> str:
            return {"k": "v"}.get(name, "")

        def ID(self) -> str:
            return "123"

    assert render('{{.ID}} {{.Label "k"}}', Row()) == "123 v"


def test_json_of_a_format_context_uses_its_fields() -> None:
    class Row:
        def to_json(self) -> dict:
            return {"Digest": "<none>"}

    assert render("{{json .}}", Row()) == '{"Digest":"\\u003cnone\\u003e"}'


@pytest.mark.parametrize("source", ["{{.Id", "{{if .Id}}x", "{{end}}", "{{nosuchfunc .Id}}", "{{else}}"])
def test_bad_templates_are_refused_at_parse_time(source: str) -> None:
    with pytest.raises(TemplateError):
        Template(source)


def test_field_of_missing_value_is_an_execution_error() -> None:
    with pytest.raises(TemplateError, match="nil pointer"):
        render("{{.Nope.Deeper}}", INSPECT)


@pytest.mark.parametrize("value, text", [(None, "<nil>"), (1.5, "1.5"), (3.0, "3"), (False, "false"),
                                         ([1, "a"], "[1 a]"), ({"b": 1, "a": [2]}, "map[a:[2] b:1]")])
def test_values_print_as_go_fmt_does(value: object, text: str) -> None:
    assert go_str(value) == text


def test_inspect_style_templates_refuse_fields_an_api_object_lacks_but_not_missing_labels() -> None:
    record = {"State": {"Status": "running"}, "Config": {"Labels": {"a": "b"}}}
    strict = Template("{{.State.Bogus}}", missing_key_error=True)
    with pytest.raises(TemplateError, match='map has no entry for key "Bogus"'):
        strict.execute(record)
    assert Template("{{.Config.Labels.zz}}", missing_key_error=True).execute(record) == "<no value>"
    assert Template("{{.State.Bogus}}").execute(record) == "<no value>"
    # a field Docker's types have but leave out of the JSON while empty reads as nil
    assert Template("{{.State.Health}} {{json .Config.Healthcheck}}", missing_key_error=True).execute(record) == \
        "<nil> null"


def test_go_field_names_find_the_api_s_json_names() -> None:
    version = {"Server": {"ApiVersion": "1.41", "MinAPIVersion": "1.24"}}
    assert Template("{{.Server.APIVersion}} {{.Server.MinAPIVersion}}").execute(version) == "1.41 1.24"
