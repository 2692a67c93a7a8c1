"""An HTTPS emulator of the Salesforce REST API (one org per instance) for Relay's tests."""

from .app import SalesforceEmulator
from .demo import seed_demo_org

__all__ = ["SalesforceEmulator", "seed_demo_org"]
