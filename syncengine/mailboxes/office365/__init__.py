"""The office365 mailbox kind: adapter (I/O), codec (JSON <-> canonical), kind (entry point)."""

from ..registry import register
from .kind import KIND

register(KIND)
