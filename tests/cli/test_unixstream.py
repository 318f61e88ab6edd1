"""The CLI's connection to the daemon's socket: a unix stream that behaves as socket.socket does."""
import os
import socket
import threading

import pytest

from berth.cli import unixstream


def test_a_stream_carries_bytes_both_ways_and_half_closes(tmp_path) -> None:
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        stream = unixstream.connect(path)
        peer, _ = listener.accept()
        with peer:
            received = bytearray()

            def read() -> None:
                while len(received) < 400_000:
                    received.extend(peer.recv(65536))

            reader = threading.Thread(target=read)
            reader.start()
            stream.sendall(b"ping" * 100_000)  # more than the socket's buffer: several writes
            reader.join(10)
            assert received == b"ping" * 100_000
            stream.shutdown(unixstream.SHUT_WR)
            assert peer.recv(4) == b""  # the daemon sees the end of stdin
            peer.sendall(b"pong")
            assert stream.recv(4) == b"pong"
        assert stream.recv(4) == b""
        stream.close()
        stream.close()  # a second close is no error, as socket's


def test_errors_are_the_ones_socket_raises(tmp_path) -> None:
    path = str(tmp_path / "s.sock")
    with pytest.raises(FileNotFoundError):
        unixstream.connect(path)
    with open(path, "w"):
        pass
    with pytest.raises(ConnectionRefusedError):  # a file that is no socket
        unixstream.connect(path)
    os.unlink(path)
    with pytest.raises(OSError, match="AF_UNIX path too long"):
        unixstream.connect("/" + "x" * 200)
