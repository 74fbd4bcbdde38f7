"""An HTTP proxy on loopback that adds a fixed delay to every request it forwards.

Real DynamoDB is a network round trip away (a few milliseconds inside a region); moto
server on loopback answers in well under one. Putting this proxy between a client and the
emulator restores the round trip, so that a benchmark shows what it costs to make
requests one after another rather than at once::

    with LatencyProxy("http://127.0.0.1:5000", delay_s=0.005) as proxy:
        client = boto3.client("dynamodb", endpoint_url=proxy.endpoint, ...)

Each request waits ``delay_s`` before it is forwarded, on its own thread, so concurrent
requests overlap their delays as they would on a network. ``delay_s`` may be changed
while the proxy runs.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection"})


def _no_delay(sock: socket.socket) -> None:
    """No Nagle: small requests and responses would otherwise wait for delayed ACKs
    (tens of milliseconds), which is latency that no network of ours adds."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class LatencyProxy:
    """Forwards HTTP requests to ``upstream`` after ``delay_s``; use as a context manager."""

    def __init__(self, upstream: str, delay_s: float) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.delay_s = delay_s
        self.requests = 0
        self._target = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _connection(self) -> http.client.HTTPConnection:
        """One keep-alive connection to the upstream per proxy thread."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(*self._target, timeout=30)
            connection.connect()
            _no_delay(connection.sock)
            self._local.connection = connection
        return connection

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        time.sleep(self.delay_s)
        with self._lock:
            self.requests += 1
        for attempt in range(2):  # a kept-alive connection may have been closed upstream
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                _no_delay(self.connection)

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                status, response_headers, payload = proxy._forward(
                    self.command, self.path, headers, body
                )
                self.send_response(status)
                for name, value in response_headers:
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a benchmark prints its own report."""

        return Handler

    def start(self) -> LatencyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
