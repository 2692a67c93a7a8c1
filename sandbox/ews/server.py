"""An HTTPS server that keeps connections alive, as IIS does in front of /EWS.

Werkzeug's development server closes every connection (`Connection: close`). NTLM logs a
*connection* on, and exchangelib reads `Connection: close` on a refusal as "server busy",
so the EWS emulator runs on this small HTTP/1.1 server instead: one thread per connection,
requests read by Content-Length, responses written with Content-Length, the connection
kept until the client closes it. The WSGI environ carries `werkzeug.socket` like
Werkzeug's, so the app can tie an NTLM logon to its connection.
"""

from __future__ import annotations

import http.server
import io
import socket
import socketserver
import ssl
import sys
import traceback
from typing import Any

from sandbox.common import EmulatorServer


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the emulator's call log records every request."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.tls else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = f"{environ[name]},{value}" if name in environ else value
        status_line: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info=None):
            status_line[:] = [status]
            headers[:] = response_headers
            return lambda data: None

        try:
            chunks = self.server.app(environ, start_response)
            try:
                payload = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except Exception:  # an emulator bug: answer 500 (and say why) instead of hanging up
            traceback.print_exc()
            status_line[:] = ["500 Internal Server Error"]
            headers[:] = [("Content-Type", "text/plain")]
            payload = b"The emulator failed on this request; see its log."
        code, _, reason = status_line[0].partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Any, context: ssl.SSLContext | None):
        self.app = app
        self.tls = context
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        if self.tls is None:
            return sock, addr
        # The TLS handshake happens in the connection's own thread (first read), so a
        # client that refuses the certificate does not hold up the accept loop.
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops the connection or refuses the certificate is not an error."""


class KeepAliveServer(EmulatorServer):
    """`EmulatorServer` with keep-alive connections (same interface: start/stop/base_url)."""

    def __init__(self, app: Any, ca: Any = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.ca = ca
        self._server = _Server((host, port), app, ca.server_context() if ca else None)  # type: ignore[assignment]
        self.host = host
        self.port = self._server.server_address[1]
        self.base_url = f"{'https' if ca else 'http'}://{host}:{self.port}"
        app.base_url = self.base_url
        self._thread = None
