"""`run -it` is a real terminal: prompt, echo, Ctrl-C, resize, exit codes, detach and re-attach."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

from tests.daemon_harness import BIN
from tests.waiting import eventually


class Terminal:
    """The berth CLI running on a pseudo-terminal, as it does for a user at a shell."""

    def __init__(self, daemon, *args: str, rows: int = 24, cols: int = 80) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        self.process = subprocess.Popen([str(BIN / "berth"), *args], stdin=slave, stdout=slave, stderr=slave,
                                        env=daemon.env, start_new_session=True,
                                        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.seen = b""

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"did not see {text!r}; screen so far: {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    break
        if text.encode() not in self.seen:
            raise AssertionError(f"did not see {text!r}; screen so far: {self.seen!r}")
        return self.seen.decode(errors="replace")

    def wait(self, timeout: float = 10) -> int:
        code = self.process.wait(timeout)
        os.close(self.master)
        return code


def test_an_interactive_shell_has_a_prompt_echo_and_exit_code(daemon):
    term = Terminal(daemon, "run", "-it", "--rm", "busybox", "sh")
    term.expect("# ")
    term.type("echo $((6 * 7))\r")
    screen = term.expect("42\r\n")
    assert "echo $((6 * 7))" in screen  # the terminal echoed what was typed
    term.type("tty\r")
    term.expect("/dev/pts/")
    term.type("exit 3\r")
    assert term.wait() == 3


def test_ctrl_c_reaches_the_container_and_line_editing_works(daemon):
    term = Terminal(daemon, "run", "-it", "--rm", "busybox", "sh")
    term.expect("# ")
    term.type("sleep 100\r")
    container = daemon.berth("ps", "-q").stdout.split()[0]
    eventually(lambda: "sleep 100" in daemon.berth("top", container).stdout, "the shell to run sleep")
    term.type("\x03")
    term.expect("# ", timeout=5)
    term.type("echo abcX\x7f\r")  # a backspace erases the X
    term.expect("abc\r\n")
    term.type("exit\r")
    assert term.wait() == 0


def test_window_size_is_passed_and_follows_resizes(daemon):
    term = Terminal(daemon, "run", "-it", "--rm", "busybox", "sh", rows=30, cols=100)
    term.expect("# ")
    term.type("stty size\r")
    term.expect("30 100")
    term.resize(40, 120)
    term.process.send_signal(28)  # SIGWINCH, as the terminal emulator would send

    def shows_the_new_size() -> bool:
        term.type("stty size\r")
        try:
            term.expect("40 120", timeout=0.5)
        except AssertionError:
            return False
        return True

    eventually(shows_the_new_size, "the container's terminal to take the new size")
    term.type("exit\r")
    assert term.wait() == 0


def test_detach_with_ctrl_p_ctrl_q_and_attach_again(daemon):
    term = Terminal(daemon, "run", "-it", "--name", "detachable", "busybox", "sh")
    term.expect("# ")
    term.type("echo marker > /tmp/m\r")
    eventually(lambda: daemon.berth("exec", "detachable", "cat", "/tmp/m", check=False).stdout == "marker\n",
               "the shell to write the marker")
    term.type("\x10\x11")
    assert term.wait() == 0
    assert daemon.berth("inspect", "-f", "{{.State.Running}}", "detachable").stdout.strip() == "true"
    again = Terminal(daemon, "attach", "detachable")
    again.type("cat /tmp/m\r")
    again.expect("marker")
    again.type("exit 4\r")
    assert again.wait() == 4


def test_exec_it_is_a_terminal_too(daemon):
    container_id = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    term = Terminal(daemon, "exec", "-it", container_id, "sh", rows=33, cols=90)
    term.expect("# ")
    term.type("tty; stty size\r")
    term.expect("33 90")
    term.type("exit 6\r")
    assert term.wait() == 6
