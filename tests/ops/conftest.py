# The engine tests' sandbox stack and world (emulators over TLS, a connected Relay user).
from tests.syncengine.engine.conftest import sandbox  # noqa: F401
