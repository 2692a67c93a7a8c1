"""Pieces every emulator shares: TLS, the threaded server, tokens, call log, faults."""

from .app import Emulator, HttpError, route
from .server import EmulatorServer
from .tls import SandboxCA
from .tokens import TokenStore

__all__ = ["Emulator", "EmulatorServer", "HttpError", "SandboxCA", "TokenStore", "route"]
