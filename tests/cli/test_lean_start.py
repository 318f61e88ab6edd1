"""The `berth` command's start-up is part of every command's latency (see DESIGN.md, "Process model"):
the hot commands do their whole job, against a daemon that answers, without importing the modules
that cost the most to import and that they do not need."""
import ast
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.cli.streams import encode_frame

ROOT = Path(__file__).resolve().parents[2]

# json, socket and signal (and contextlib, typing, threading, importlib) and what they pull in
HEAVY = {"click", "h11", "json", "socket", "signal", "re", "enum", "functools", "collections", "contextlib",
         "typing", "threading", "importlib", "selectors", "tempfile", "datetime"}
CONTAINER = {"Id": "c0ffee" * 10 + "cafe", "Config": {"Tty": False, "OpenStdin": False},
             "State": {"Running": True}, "Name": "/web"}
# (method, path) -> (status, body): a JSON value, raw bytes, or for 101 the stream after the switch
ROUTES: dict[tuple[str, str], tuple[int, object]] = {
    ("POST", "/containers/web/exec"): (201, {"Id": "e1"}),
    ("POST", "/exec/e1/start"): (101, encode_frame(1, b"out\n") + encode_frame(2, b"err\n")),
    ("GET", "/exec/e1/json"): (200, {"ExitCode": 3, "Running": False}),
    ("POST", "/containers/create"): (201, {"Id": CONTAINER["Id"], "Warnings": []}),
    ("POST", f"/containers/{CONTAINER['Id']}/attach"): (101, encode_frame(1, b"hello\n")),
    ("POST", f"/containers/{CONTAINER['Id']}/wait"): (200, {"StatusCode": 0}),
    ("POST", f"/containers/{CONTAINER['Id']}/start"): (204, None),
    ("GET", "/containers/web/json"): (200, CONTAINER),
    ("GET", f"/containers/{CONTAINER['Id']}/logs"): (200, encode_frame(1, b"logged\n")),
    ("POST", "/containers/web/start"): (204, None),
    ("POST", "/containers/web/stop"): (204, None),
    ("DELETE", "/containers/web"): (204, None),
    ("GET", "/containers/json"): (200, []),
}
TEMPLATE_MODULES = {"re", "enum", "functools", "collections"}  # Go templates are parsed with re


def _serve(conn: socket.socket) -> None:
    """Requests on one connection, each answered from ROUTES, until the client closes it."""
    data = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            request_line, *header_lines = head.decode().split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in header_lines)
            length = int(headers.get("content-length", 0))
            while len(data) < length:
                data += conn.recv(65536)
            data = data[length:]
            method, target, _ = request_line.split(" ")
            path = target.split("?")[0].removeprefix("/v1.41")
            status, body = ROUTES.get((method, path), (404, {"message": f"no route {method} {path}"}))
            if status == 101:
                conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + body)
                return  # the stream ends when the connection does
            payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
            conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, len(payload), payload))


@pytest.fixture(scope="module")
def daemon_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scripted daemon: each connection served by a thread of its own (attach and exec hijack one)."""
    path = str(tmp_path_factory.mktemp("daemon") / "api.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"unix://{path}"
    listener.close()


def run_berth(host: str, *args: str) -> tuple[int, str, str, set[str]]:
    """`berth -H host ARGS` in a fresh interpreter started as the installed `berth` starts it (without
    `site`: scripts/cli_launcher.py): exit code, stdout, stderr, heavy modules imported."""
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from berth.cli.main import main\n"
        "try:\n"
        f"    main({['-H', host, *args]!r})\n"
        "except SystemExit as exit:\n"
        "    sys.stdout.flush()\n"
        f"    print('MODULES', sorted(set({sorted(HEAVY)!r}) & set(sys.modules)), file=sys.stderr)\n"
        "    raise\n"
    )
    result = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=60, check=False)
    err, _, modules = result.stderr.rpartition("MODULES ")
    return result.returncode, result.stdout, err, set(ast.literal_eval(modules))


@pytest.mark.parametrize(("args", "code", "out", "err"), [
    (["exec", "web", "true"], 3, "out\n", "err\n"),
    (["run", "-d", "busybox", "true"], 0, CONTAINER["Id"] + "\n", ""),
    (["logs", "web"], 0, "logged\n", ""),
    (["start", "web"], 0, "web\n", ""),
    (["stop", "web"], 0, "web\n", ""),
    (["rm", "web"], 0, "web\n", ""),
    (["inspect", "web"], 0, json.dumps([CONTAINER], indent=4) + "\n", ""),
])
def test_hot_commands_run_without_json_re_enum_socket_signal_or_click(daemon_host: str, args: list[str],
                                                                         code: int, out: str, err: str) -> None:
    assert run_berth(daemon_host, *args) == (code, out, err, set())


def test_an_attached_run_imports_signal_only_to_forward_signals(daemon_host: str) -> None:
    """`run` attached forwards the signals it gets to the container (docker's --sig-proxy), for which
    it needs the public `signal` module, and enum with it; without forwarding, neither."""
    assert run_berth(daemon_host, "run", "--rm", "busybox", "true") == \
        (0, "hello\n", "", {"signal", "enum", "functools", "collections"})
    assert run_berth(daemon_host, "run", "--rm", "--no-sig-proxy", "busybox", "true") == (0, "hello\n", "", set())


def test_ps_runs_without_click_json_socket_or_signal(daemon_host: str) -> None:
    exit_code, stdout, stderr, heavy = run_berth(daemon_host, "ps")
    assert (exit_code, stdout.split()) == (0, ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
                                               "NAMES"]), stderr
    assert heavy <= TEMPLATE_MODULES


@pytest.mark.parametrize(("args", "code", "allowed"), [
    (["exec", "web", "true"], 1, set()),
    (["run", "--rm", "busybox", "true"], 125, set()),
    (["ps"], 1, TEMPLATE_MODULES),
])
def test_an_absent_daemon_is_a_clear_error_and_costs_no_more_imports(tmp_path: Path, args: list[str], code: int,
                                                                     allowed: set[str]) -> None:
    exit_code, _, stderr, heavy = run_berth(f"unix://{tmp_path}/none.sock", *args)
    assert exit_code == code
    assert "Cannot connect to the berth daemon at unix://" in stderr and "Traceback" not in stderr
    assert heavy <= allowed


def test_a_daemon_error_is_reported_with_its_message(daemon_host: str) -> None:
    exit_code, _, stderr, heavy = run_berth(daemon_host, "exec", "nosuch", "true")
    assert exit_code == 1
    assert stderr.strip() == "Error response from daemon: no route POST /containers/nosuch/exec"
    assert heavy == set()
