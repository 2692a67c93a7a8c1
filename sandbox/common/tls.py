"""A throw-away certificate authority (trustme) so clients speak real TLS to 127.0.0.1."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

import trustme


class SandboxCA:
    """One CA per process; its PEM is written to a file clients use as their CA bundle."""

    def __init__(self, directory: Path | None = None) -> None:
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        self.directory = Path(directory or tempfile.mkdtemp(prefix="relay-sandbox-ca-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = self.directory / "sandbox-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_bundle))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(ctx)
        return ctx
