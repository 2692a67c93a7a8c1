# The sandbox emulators and Relay's provider settings pointed at them, as in tests/connections.
from tests.connections.conftest import providers, stack  # noqa: F401
