"""`EwsEmulator`: Exchange Server 2016 Web Services at /EWS/Exchange.asmx.

app = EwsEmulator()
app.add_service_account("CORP\\\\svc-relay", "…", can_impersonate=True)
app.add_mailbox("ann@corp.example", "Ann Smith", time_zone="W. Europe Standard Time")
with EmulatorServer(app, SandboxCA()) as srv:
    ...  # exchangelib Configuration(service_endpoint=srv.base_url + "/EWS/Exchange.asmx")
"""

from __future__ import annotations

from .finding import FindingMixin


class EwsEmulator(FindingMixin):
    """All of the emulated EWS surface; see the mixins for each area."""
