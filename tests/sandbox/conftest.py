import pytest

from sandbox.common import SandboxCA


@pytest.fixture(scope="session")
def sandbox_ca(tmp_path_factory):
    """One throw-away CA for the whole run; its PEM is the clients' CA bundle."""
    return SandboxCA(tmp_path_factory.mktemp("sandbox-ca"))
