"""HTTPS emulator of Google People, Calendar v3, Tasks v1, Gmail v1 and Google OAuth."""

from .app import GoogleEmulator
from .demo import SALESFORCE_MARKER, seed_demo_account

__all__ = ["SALESFORCE_MARKER", "GoogleEmulator", "seed_demo_account"]
