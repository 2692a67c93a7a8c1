"""An HTTPS emulator of Microsoft Graph v1.0 (Outlook data + OAuth v2) for Relay's tests."""

from .app import GraphEmulator

__all__ = ["GraphEmulator"]
