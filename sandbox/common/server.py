"""Runs an emulator's WSGI app on a loopback port in a background thread."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from .app import Emulator
    from .tls import SandboxCA


class EmulatorServer:
    """`with EmulatorServer(app, ca) as srv: srv.base_url` — HTTPS when a CA is given."""

    def __init__(
        self, app: Emulator, ca: SandboxCA | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app = app
        self.ca = ca
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            app,
            threaded=True,
            ssl_context=ca.server_context() if ca else None,
        )
        self.host = host
        self.port = self._server.server_port
        scheme = "https" if ca else "http"
        self.base_url = f"{scheme}://{host}:{self.port}"
        # Emulators build absolute links (Graph delta links, OAuth redirects) from this.
        app.base_url = self.base_url
        self._thread: threading.Thread | None = None

    @property
    def ca_bundle(self) -> str | None:
        return str(self.ca.ca_bundle) if self.ca else None

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox-{self.app.name}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
