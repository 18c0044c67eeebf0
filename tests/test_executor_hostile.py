"""Scheduler addresses: malformed, closed, silent or foreign servers fail within seconds."""
import socket
import threading
import time

import pytest

from autobuild.executor import PROBE_SECONDS, get_executor


@pytest.mark.parametrize("address, message", [
    ("bogus", "not of the form tcp://HOST:PORT"), ("http://127.0.0.1:8786", "not of the form"),
    ("tcp://127.0.0.1", "not of the form"), ("tcp://:8786", "not of the form"),
    ("tcp://host:99999", "malformed"), ("tcp://host:port", "malformed"),
    ("tcp://127.0.0.1:8786/path", "not of the form"), ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"),
])
def test_bad_addresses_fail_at_once(address, message):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        get_executor(address)
    assert time.perf_counter() - start < 2


def _server(greeting: bytes | None):
    """A TCP server on a free port that sends ``greeting`` (or nothing) to every connection."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held = []

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)
            if greeting:
                conn.sendall(greeting)
    threading.Thread(target=serve, daemon=True).start()
    return srv, f"tcp://127.0.0.1:{srv.getsockname()[1]}"


@pytest.mark.parametrize("greeting, message", [
    (None, f"did not greet within {PROBE_SECONDS} s"),  # e.g. an HTTP server: it waits for a request
    (b"SSH-2.0-OpenSSH_9.6\r\n", "is not a Dask scheduler"),
    (b"\xff" * 8, "is not a Dask scheduler"),  # the "3.07 EiB" frame count of the issue
])
def test_a_server_that_is_not_dask_fails_within_seconds(greeting, message):
    srv, address = _server(greeting)
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=message):
            get_executor(address)
    finally:
        srv.close()
    assert time.perf_counter() - start < PROBE_SECONDS + 3
