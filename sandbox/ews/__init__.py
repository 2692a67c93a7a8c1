"""Exchange Web Services emulator (Exchange Server 2016 on-premises)."""

from .app import EwsEmulator

__all__ = ["EwsEmulator"]
