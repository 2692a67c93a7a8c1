"""Who is calling: Basic or NTLM against the emulator's accounts, as IIS does for /EWS.

NTLM is connection-based: after the AUTHENTICATE message the TCP connection stays logged
on, so later requests on it carry no Authorization header. Connections are tracked by their
socket object (weakly, so a closed connection forgets its logon), and a CHALLENGE is only
answered on the connection it was issued on.
"""

from __future__ import annotations

import base64
import binascii
import threading
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

from . import ntlm


@dataclass
class ServiceAccount:
    username: str  # "CORP\\svc-relay" or "svc-relay@corp.example" both log on
    password: str
    smtp: str = ""  # its own mailbox, if any
    can_impersonate: bool = False  # holds the ApplicationImpersonation role


@dataclass
class AuthResult:
    account: ServiceAccount | None
    challenge: str | None = None  # a `WWW-Authenticate: NTLM …` value to answer with


def bare_name(username: str) -> str:
    name = username.rsplit("\\", 1)[-1]
    return name.split("@", 1)[0].lower()


class Authenticator:
    def __init__(self, domain: str = "CORP", host: str = "EXCH01") -> None:
        self.domain = domain
        self.host = host
        self.accounts: dict[str, ServiceAccount] = {}
        self.allow_basic = True
        self.allow_ntlm = True
        self._lock = threading.Lock()
        self._logged_on: weakref.WeakKeyDictionary[Any, ServiceAccount] = (
            weakref.WeakKeyDictionary()
        )
        self._challenges: OrderedDict[int, bytes] = OrderedDict()  # id(socket) -> challenge
        self.logons: Counter[str] = Counter()  # successful logons per scheme ("Basic", "NTLM")

    def add(self, account: ServiceAccount) -> ServiceAccount:
        self.accounts[bare_name(account.username)] = account
        return account

    def find(self, username: str) -> ServiceAccount | None:
        return self.accounts.get(bare_name(username))

    def offered(self) -> list[str]:
        offers = []
        if self.allow_ntlm:
            offers.append("NTLM")
        if self.allow_basic:
            offers.append(f'Basic realm="{self.host.lower()}"')
        return offers

    def forget_connections(self) -> None:
        with self._lock:
            self._logged_on = weakref.WeakKeyDictionary()
            self._challenges.clear()

    def authenticate(self, header: str, sock: Any) -> AuthResult:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if not header:
            with self._lock:
                account = self._logged_on.get(sock) if sock is not None else None
            return AuthResult(account)
        if scheme == "basic" and self.allow_basic:
            account = self._basic(value.strip())
            if account:
                self.logons["Basic"] += 1
            return AuthResult(account)
        if scheme in ("ntlm", "negotiate") and self.allow_ntlm:
            return self._ntlm(value.strip(), sock)
        return AuthResult(None)

    def _basic(self, value: str) -> ServiceAccount | None:
        try:
            user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        account = self.find(user)
        return account if account and account.password == password else None

    def _ntlm(self, value: str, sock: Any) -> AuthResult:
        try:
            token = base64.b64decode(value)
            kind = ntlm.message_type(token)
            if kind == ntlm.NEGOTIATE:
                server_challenge = ntlm.new_server_challenge()
                challenge = ntlm.challenge_message(token, server_challenge, self.domain, self.host)
                with self._lock:
                    self._challenges[id(sock)] = server_challenge
                    while len(self._challenges) > 256:
                        self._challenges.popitem(last=False)
                return AuthResult(None, "NTLM " + base64.b64encode(challenge).decode())
            if kind != ntlm.AUTHENTICATE:
                return AuthResult(None)
            auth = ntlm.parse_authenticate(token)
        except (binascii.Error, ntlm.NtlmError):
            return AuthResult(None)
        account = self.find(auth.user)
        if account is None:
            return AuthResult(None)
        with self._lock:
            server_challenge = self._challenges.pop(id(sock), None)
        if server_challenge and ntlm.verify_ntlmv2(auth, account.password, server_challenge):
            with self._lock:
                self.logons["NTLM"] += 1
                if sock is not None:
                    self._logged_on[sock] = account
            return AuthResult(account)
        return AuthResult(None)
