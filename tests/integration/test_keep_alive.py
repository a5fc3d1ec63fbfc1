"""The local servers keep connections alive as the real services do, over TLS too, so a client's second
call does not pay a new TCP and TLS handshake (local figures measure the connector, not the stand-ins)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from local.host.http_server import HttpTriggerApp, make_http_server
from local.host.invoker import Invoker
from local.sandbox.common import ServerThread
from local.sandbox.dataverse.tls import make_certificate

TWO_REQUESTS = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def echo_port(environ: dict[str, object], start_response: object) -> list[bytes]:
    body = f"{environ['PATH_INFO']} from port {environ['REMOTE_PORT']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])  # type: ignore[operator]
    return [body]


def _answers(sock: socket.socket, count: int) -> list[bytes]:
    """Read `count` HTTP answers (each with a Content-Length) from one connection."""
    buffer, answers = b"", list[bytes]()
    sock.settimeout(10)
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection after {len(answers)} answer(s)"
            buffer += chunk
        head, rest = buffer.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection in the middle of an answer"
            rest += chunk
        answers.append(head.split(b"\r\n", 1)[0] + b" " + rest[:length])
        buffer = rest[length:]
    return answers


def test_a_sandbox_answers_two_requests_on_one_tls_connection(tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path)
    server = ServerThread(echo_port, ssl_context=certificate.ssl_context()).start()
    try:
        context = ssl.create_default_context(cafile=str(certificate.ca_path))
        with (
            socket.create_connection(("127.0.0.1", server.port)) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(TWO_REQUESTS)
            first, second = _answers(tls, 2)
            port = tls.getsockname()[1]
        assert first == f"HTTP/1.1 200 OK /a from port {port}".encode()
        assert second == f"HTTP/1.1 200 OK /b from port {port}".encode()
    finally:
        server.stop()


def test_the_local_host_answers_two_requests_on_one_connection() -> None:
    server = make_http_server(HttpTriggerApp([], Invoker()), 0).start()  # no functions: 404 for each
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            connection.sendall(TWO_REQUESTS)
            assert [a.split(b" ")[1] for a in _answers(connection, 2)] == [b"404", b"404"]
    finally:
        server.stop()
