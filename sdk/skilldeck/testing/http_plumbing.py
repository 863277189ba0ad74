"""The HTTP side of the fake Responses server: sockets, keep-alive, request bodies, replies.

Kept apart from what the server answers, because this is where the transport's details live
(HTTP/1.1 keep-alive, chunked bodies, Nagle's algorithm, dropped connections) and none of them
depends on scripts: the server is given two functions, one per Responses route, that return a
`Reply`, and a third for any other path (the files and batches endpoints).
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from skilldeck.testing.wire import JSONDict, compact_json, error_body, new_id

__all__ = [
    "CreateResponse",
    "Reply",
    "ResponsesHTTPServer",
    "RetrieveResponse",
    "Route",
    "invalid_request",
    "json_reply",
    "no_certificates",
    "no_retry_error",
]

# Headers that carry credentials: a recorded request must never hold a secret, even a fake one,
# because recorded requests end up in test failure output and traces.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"}
)


@dataclass
class Reply:
    """What to send back: a status and a JSON body, or nothing at all (`drop`).

    `cut` sends the head, with the whole body's Content-Length, and half the body, then ends
    the connection: closed (`"truncate"`) or reset (`"reset"`, a TCP RST).
    """

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    content_type: str = "application/json"
    cut: Literal["truncate", "reset"] | None = None


def json_reply(status: int, payload: JSONDict, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, compact_json(payload).encode(), dict(headers or {}))


def invalid_request(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> Reply:
    """An `invalid_request_error` reply: how the service refuses a request it cannot serve."""
    return json_reply(status, error_body(message, "invalid_request_error", code=code, param=param))


def no_retry_error(message: str, code: str) -> Reply:
    """A 500 that tells the client not to retry: the fake's answer to a scripting mistake,
    which retrying would only repeat, slowly, hiding the message."""
    return json_reply(
        500, error_body(message, "server_error", code=code), {"x-should-retry": "false"}
    )


def no_certificates() -> ssl.SSLContext:
    """A TLS context that trusts no certificate at all, for the clients of the fake: it serves
    plain HTTP on 127.0.0.1, and the default context loads the system's certificate store,
    ~0.1 s for each client a test makes."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


#: `POST /v1/responses`: the parsed JSON body and the request's headers, lower-cased.
CreateResponse = Callable[[JSONDict, dict[str, str]], Reply]
#: `GET /v1/responses/{id}`: the id.
RetrieveResponse = Callable[[str], Reply]
#: Any other path: the method, the path with its query, the headers and the raw body; None
#: when the path is not served (the batches and files endpoints are one).
Route = Callable[[str, str, dict[str, str], bytes], Reply | None]


class ResponsesHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 (a free port) that hands each request to `create`
    (`POST /v1/responses`, the parsed body and the headers without secrets) or `retrieve`
    (`GET /v1/responses/{id}`), and sends back the `Reply` they return."""

    daemon_threads = True
    block_on_close = False  # stop() releases held handlers itself; never wait on a client
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self, create: CreateResponse, retrieve: RetrieveResponse, route: Route | None = None
    ) -> None:
        self.create = create
        self.retrieve = retrieve
        self.route = route
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-reply (a timeout, a cancelled call, a reset it was sent)
        is routine for a test server, not a traceback on stderr; anything else still is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections, so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as the client's pool expects; every reply then must
    # carry a Content-Length. A buffered writer sends head and body in one segment and
    # TCP_NODELAY sends it at once: two small writes would meet Nagle's algorithm and the
    # client's delayed ACK, adding 40 ms to every request.
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True
    server: ResponsesHTTPServer
    #: Set by a `Reply` cut with `"reset"`: end the connection with a TCP RST.
    reset_on_finish = False

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            if self.reset_on_finish:
                self._reset()
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is for the test."""

    def do_POST(self) -> None:
        raw = self._read_body()
        if self._path() != "/v1/responses":
            self._send(self._routed(raw))
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            body = exc
        if not isinstance(body, dict):
            self._send(invalid_request(400, "We could not parse the JSON body of your request."))
            return
        self._send(self.server.create(body, self._headers()))

    def do_GET(self) -> None:
        path = self._path()
        prefix = "/v1/responses/"
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            self._send(self.server.retrieve(path[len(prefix) :]))
        else:
            self._send(self._routed(b""))

    def _routed(self, raw: bytes) -> Reply:
        route = self.server.route
        reply = route(self.command, self.path, self._headers(), raw) if route else None
        return reply if reply is not None else self._not_found()

    def _headers(self) -> dict[str, str]:
        return {
            key.lower(): value
            for key, value in self.headers.items()
            if key.lower() not in _SECRET_HEADERS
        }

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _not_found(self) -> Reply:
        return invalid_request(
            404,
            f"Invalid URL ({self.command} {self._path()}): the fake Responses server "
            "serves /v1/responses, /v1/files and /v1/batches.",
        )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        body = reply.body if reply.cut is None else reply.body[: len(reply.body) // 2]
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("x-request-id", new_id("req"))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client gave up (its timeout) and closed the connection
            self.close_connection = True
            return
        if reply.cut is not None:
            self.close_connection = True
            self.reset_on_finish = reply.cut == "reset"

    def _reset(self) -> None:
        """Abort the connection: with a zero linger time, closing the last reference to the
        socket sends a TCP RST instead of a FIN. Done in `finish()`, once the handler has
        flushed: `finish()` then skips the closed files, and closing the socket again (by
        the server) is a no-op."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.wfile.close()
        self.rfile.close()
        self.connection.close()
