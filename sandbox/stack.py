"""All three emulators in one process, and the settings that point Relay at them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.common import EmulatorServer, SandboxCA
from sandbox.ews.app import EwsEmulator
from sandbox.ews.server import KeepAliveServer
from sandbox.google.app import GoogleEmulator
from sandbox.graph.app import GraphEmulator
from sandbox.salesforce.app import SalesforceEmulator

# OAuth client ids the demo uses; the emulators accept any client, so none is a secret.
SANDBOX_CLIENT = {"id": "relay-sandbox", "secret": "relay-sandbox-not-a-secret"}


@dataclass
class SandboxStack:
    ca: SandboxCA
    salesforce: EmulatorServer
    graph: EmulatorServer
    google: EmulatorServer
    # Exchange Server (EWS); on a keep-alive server because NTLM logs connections on.
    ews: EmulatorServer | None = None

    @property
    def salesforce_app(self) -> SalesforceEmulator:
        return self.salesforce.app  # type: ignore[return-value]

    @property
    def graph_app(self) -> GraphEmulator:
        return self.graph.app  # type: ignore[return-value]

    @property
    def google_app(self) -> GoogleEmulator:
        return self.google.app  # type: ignore[return-value]

    @property
    def ews_app(self) -> EwsEmulator:
        assert self.ews is not None
        return self.ews.app  # type: ignore[return-value]

    @property
    def servers(self) -> tuple[EmulatorServer, ...]:
        return tuple(s for s in (self.salesforce, self.graph, self.google, self.ews) if s)

    def settings(self) -> dict[str, str]:
        """Relay's provider settings (config/settings/providers.py) for this stack."""
        return provider_settings(
            self.salesforce.base_url,
            self.graph.base_url,
            self.google.base_url,
            str(self.ca.ca_bundle),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "salesforce": self.salesforce.base_url,
            "graph": self.graph.base_url,
            "google": self.google.base_url,
            **({"ews": f"{self.ews.base_url}/EWS/Exchange.asmx"} if self.ews else {}),
            "ca_bundle": str(self.ca.ca_bundle),
            "settings": self.settings(),
        }

    def start(self) -> SandboxStack:
        for server in self.servers:
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def build_stack(
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] = (0, 0, 0),
    ca_dir: Path | None = None,
    ews_port: int = 0,
) -> SandboxStack:
    """Create (not start) the servers sharing one CA; port 0 picks a free port."""
    ca = SandboxCA(ca_dir)
    return SandboxStack(
        ca=ca,
        salesforce=EmulatorServer(SalesforceEmulator(), ca, host, ports[0]),
        graph=EmulatorServer(GraphEmulator(), ca, host, ports[1]),
        google=EmulatorServer(GoogleEmulator(), ca, host, ports[2]),
        ews=KeepAliveServer(EwsEmulator(), ca, host, ews_port),
    )


def provider_settings(sf: str, graph: str, google: str, ca_bundle: str) -> dict[str, str]:
    """The environment that points Relay at emulators at these base URLs."""
    return {
        "SALESFORCE_CLIENT_ID": SANDBOX_CLIENT["id"],
        "SALESFORCE_CLIENT_SECRET": SANDBOX_CLIENT["secret"],
        "SALESFORCE_LOGIN_URL": sf,
        "SALESFORCE_SANDBOX_LOGIN_URL": sf,
        "SALESFORCE_CA_BUNDLE": ca_bundle,
        "MICROSOFT_CLIENT_ID": SANDBOX_CLIENT["id"],
        "MICROSOFT_CLIENT_SECRET": SANDBOX_CLIENT["secret"],
        "MICROSOFT_LOGIN_URL": graph,
        "MICROSOFT_GRAPH_URL": graph,
        "MICROSOFT_CA_BUNDLE": ca_bundle,
        "GOOGLE_CLIENT_ID": SANDBOX_CLIENT["id"],
        "GOOGLE_CLIENT_SECRET": SANDBOX_CLIENT["secret"],
        "GOOGLE_AUTH_URL": f"{google}/o/oauth2/v2/auth",
        "GOOGLE_TOKEN_URL": f"{google}/token",
        "GOOGLE_REVOKE_URL": f"{google}/revoke",
        "GOOGLE_USERINFO_URL": f"{google}/v1/userinfo",
        "GOOGLE_API_BASE_URL": google,
        "GOOGLE_CA_BUNDLE": ca_bundle,
    }
