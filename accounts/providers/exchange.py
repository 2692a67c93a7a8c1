"""Exchange Server on-premises over EWS (exchangelib): connection building and error outcomes.

Staff configure one Exchange server per organisation: the EWS URL, a service account that
holds the ApplicationImpersonation role, NTLM or Basic (over TLS), and optionally a CA
bundle for a private certificate authority. Every user's mailbox is then opened by SMTP
address through impersonation; no user password is ever asked for.

exchangelib opens its HTTP sessions through one process-wide adapter class
(`BaseProtocol.HTTP_ADAPTER_CLS`). Relay installs `CaBundleAdapter` once; it verifies each
server against the CA bundle registered for that server's host:port (or the system store),
so organisations with different private CAs can share one worker process.

Throttling ends the session as "retry later" (`ExchangeServerBusy`): ErrorServerBusy under
the FailFast retry policy, and ErrorExceededConnectionCount (the mailbox's EWSMaxConcurrency,
charged per impersonated mailbox, 10 by default) raised at once — `keep_session_pool` stops
exchangelib from shrinking the worker's shared session pool and retrying instead. Relay's
own EXCHANGE_WRITE_CONCURRENCY / EXCHANGE_MAX_CONNECTIONS stay below the default limit.
No engine wiring lives here: the mailbox kind calls `open_mailbox` and `translate`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import requests
import requests.adapters
from django.conf import settings
from exchangelib import BASIC, DELEGATE, IMPERSONATION, NTLM, Account, Configuration, Credentials
from exchangelib import errors as ews_errors
from exchangelib.protocol import BaseProtocol, FailFast, Protocol

from .errors import ProviderError, ReconnectRequired, TemporaryProviderError

LABEL = "Exchange Server"
AuthType = Literal["NTLM", "Basic"]
_AUTH_TYPES = {"NTLM": NTLM, "Basic": BASIC}


# -- typed outcomes ---------------------------------------------------------------------


class ExchangeAuthFailed(ReconnectRequired):
    problem = "auth_failed"


class ExchangeImpersonationDenied(ReconnectRequired):
    problem = "impersonation_denied"


class ExchangeUnknownMailbox(ReconnectRequired):
    problem = "unknown_mailbox"


class ExchangeCertificateError(ProviderError):
    problem = "certificate"


class ExchangeUnreachable(TemporaryProviderError):
    problem = "unreachable"


class ExchangeServerBusy(TemporaryProviderError):
    problem = "server_busy"


# -- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeServer:
    """One organisation's Exchange server, as staff enter it in admin (password decrypted)."""

    ews_url: str
    username: str  # "CORP\\svc-relay" (NTLM) or "svc-relay@corp.example"
    password: str = field(repr=False)
    auth_type: AuthType = "NTLM"
    ca_bundle: str | None = None  # a PEM file; None: the system's trust store
    timeout: float = 30.0  # seconds for one HTTP request

    def __post_init__(self) -> None:
        parts = urlsplit(self.ews_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "The EWS URL must be an https:// address (e.g. https://mail.corp.example/EWS/Exchange.asmx)."
            )
        if self.auth_type not in _AUTH_TYPES:
            raise ValueError(f"The auth type must be NTLM or Basic, not {self.auth_type!r}.")
        if not self.username or not self.password:
            raise ValueError("The service account needs a user name and a password.")
        if self.timeout <= 0:
            raise ValueError("The timeout must be a positive number of seconds.")


class CaBundleAdapter(requests.adapters.HTTPAdapter):
    """Verifies each server against the CA bundle registered for its host:port."""

    _bundles: ClassVar[dict[str, str]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def register(cls, url: str, ca_bundle: str | None) -> None:
        key = _netloc(url)
        with cls._lock:
            if ca_bundle:
                cls._bundles[key] = ca_bundle
            else:
                cls._bundles.pop(key, None)

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        counter = _REQUESTS.get()
        if counter is not None:
            counter.append(1)
        response = super().send(request, *args, **kwargs)
        if not kwargs.get("stream", args[0] if args else False):
            # exchangelib parses every answer from `response.iter_content()`, whose default
            # chunk is one byte: a generator step per byte of XML (a third of an idle
            # Exchange session's CPU, issue 15). The body is already read in full here, so
            # it is handed over in one piece.
            setattr(response, "iter_content", _whole_by_default(response.iter_content))  # noqa: B010  (mypy: a method)
        return response

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        bundle = self._bundles.get(_netloc(url))
        super().cert_verify(conn, url, bundle if bundle and verify else verify, cert)


def _whole_by_default(iter_content: Any) -> Any:
    """`iter_content` with the whole body as the default chunk (an explicit size holds)."""

    def whole(chunk_size: int | None = None, decode_unicode: bool = False) -> Any:
        return iter_content(chunk_size, decode_unicode)

    return whole


# The HTTP requests made in the current context (see `counting`): exchangelib pools one
# session per server across accounts, so the count is taken where Relay makes the calls.
_REQUESTS: ContextVar[list[int] | None] = ContextVar("ews_requests", default=None)


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the HTTP requests exchangelib sends inside the block (len of the list)."""
    counter: list[int] = []
    token = _REQUESTS.set(counter)
    try:
        yield counter
    finally:
        _REQUESTS.reset(token)


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


_install_lock = threading.Lock()


def install_adapter() -> None:
    """Make exchangelib use `CaBundleAdapter` (idempotent; exchangelib reads the class when it
    opens a session, so this runs before the first connection)."""
    with _install_lock:
        if BaseProtocol.HTTP_ADAPTER_CLS is not CaBundleAdapter:
            BaseProtocol.HTTP_ADAPTER_CLS = CaBundleAdapter


def keep_session_pool(protocol: Any) -> None:
    """Make a refusal for concurrency (ErrorExceededConnectionCount) end the call at once.

    exchangelib answers it by shrinking the session pool (`decrease_poolsize`) and
    retrying immediately, and only raises once the pool is down to one session. That pool
    is the worker's, shared by every mailbox on the server, while EWSMaxConcurrency is
    charged per impersonated mailbox; and with Relay's concurrent writes it either retries
    without end (the pool grows back as threads ask for sessions) or hangs: exchangelib
    5.6's `decrease_poolsize` takes the pool's plain Lock and then `get_session`, which
    grows the pool under the same Lock when every session is in use — the thread waits on
    itself (seen with six CreateItem threads at a mailbox limit of two). Relay's own
    settings bound its concurrency; a refusal is "retry later", like ErrorServerBusy under
    FailFast. So the pool never shrinks: exchangelib raises the refusal, and the
    ErrorServerBusy path (which only tries to shrink) is unchanged."""
    protocol.decrease_poolsize = _pool_stays


def _pool_stays() -> None:
    raise ews_errors.SessionPoolMinSizeReached(
        "Relay keeps the session pool (see keep_session_pool)"
    )


def configuration(server: ExchangeServer) -> Configuration:
    install_adapter()
    CaBundleAdapter.register(server.ews_url, server.ca_bundle)
    return Configuration(
        service_endpoint=server.ews_url,
        credentials=Credentials(server.username, server.password),
        auth_type=_AUTH_TYPES[server.auth_type],
        # Fail fast: a busy server is retried by the next session, not by a sleeping worker.
        retry_policy=FailFast(),
        # The worker's threads share one session pool per server (config/settings/providers.py).
        max_connections=settings.EXCHANGE_MAX_CONNECTIONS,
    )


def open_mailbox(server: ExchangeServer, smtp_address: str, *, impersonate: bool = True) -> Account:
    """An exchangelib Account for a user's mailbox, opened through impersonation.

    Makes no call by itself; exchangelib talks to the server on first use."""
    config = configuration(server)
    account = Account(
        primary_smtp_address=smtp_address,
        config=config,
        autodiscover=False,
        access_type=IMPERSONATION if impersonate else DELEGATE,
    )
    account.protocol.TIMEOUT = server.timeout  # per protocol (exchangelib caches one per server)
    keep_session_pool(account.protocol)
    return account


def verify_mailbox(server: ExchangeServer, smtp_address: str) -> str:
    """Check logon, impersonation and that the address resolves (one GetFolder of the
    mailbox root once the server version is known). Returns the mailbox's address."""
    with translated():
        account = open_mailbox(server, smtp_address)
        _ = account.root  # GetFolder of the root, through impersonation
        return account.primary_smtp_address


def check_service_account(server: ExchangeServer) -> str:
    """The admin's "Test connection": reach the server over TLS and log on. Returns the
    server version it reports (exchangelib asks with one ConvertId call)."""
    with translated():
        config = configuration(server)
        protocol = Protocol(config=config)
        protocol.TIMEOUT = server.timeout
        keep_session_pool(protocol)
        return protocol.version.fullname


# -- error translation ------------------------------------------------------------------

_CERT_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "SSLError", "SSL:")


def translate(exc: BaseException) -> ProviderError:
    """The typed outcome of an exchangelib (or requests) failure, with a message for people."""
    if isinstance(exc, ProviderError):
        return exc
    text = str(exc)
    if isinstance(exc, ews_errors.ErrorServerBusy):
        back_off = float(exc.back_off) if exc.back_off else None
        return ExchangeServerBusy(
            "The Exchange server is busy and asked Relay to wait"
            + (f" {back_off:g} seconds" if back_off else "")
            + "; the sync will try again later.",
            retry_after=back_off,
        )
    if isinstance(exc, ews_errors.ErrorExceededConnectionCount):
        # EWSMaxConcurrency: too many requests in flight for this mailbox (others' count
        # too); raised at once (keep_session_pool), the next session retries.
        return ExchangeServerBusy(
            "The Exchange server refused more requests at once for this mailbox (its "
            "EWSMaxConcurrency throttling limit); the sync will try again later."
        )
    if isinstance(exc, ews_errors.UnauthorizedError):
        return ExchangeAuthFailed(
            "The Exchange server refused the service account's user name or password "
            "(or the chosen auth type). Check them in admin."
        )
    if isinstance(exc, ews_errors.ErrorImpersonateUserDenied):
        return ExchangeImpersonationDenied(
            "The service account may not open this mailbox: it needs the "
            "ApplicationImpersonation role on the Exchange server."
        )
    if isinstance(exc, ews_errors.ErrorNonExistentMailbox | ews_errors.ErrorMailRecipientNotFound):
        return ExchangeUnknownMailbox("The Exchange server has no mailbox with this email address.")
    if _is_certificate_error(exc):
        return ExchangeCertificateError(
            "Relay does not trust the Exchange server's TLS certificate. Add the CA bundle of "
            "your certificate authority in admin, or fix the server's certificate."
        )
    if isinstance(exc, ews_errors.ResponseMessageError):
        # An answer from the server (a TransportError subclass in exchangelib), not a
        # failure to reach it.
        return ProviderError(f"Exchange answered: {_short(text)}")
    if isinstance(
        exc,
        ews_errors.TransportError
        | ews_errors.ErrorTimeoutExpired
        | ews_errors.RateLimitError
        | requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | ConnectionError
        | TimeoutError,
    ):
        return ExchangeUnreachable(
            "Relay could not reach the Exchange server at the configured EWS URL "
            f"({_short(text)}). The sync will try again later."
        )
    return ProviderError(f"Exchange answered: {_short(text)}")


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, requests.exceptions.SSLError):
            return True
        if any(marker in str(seen) for marker in _CERT_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def translated() -> Iterator[None]:
    """Run exchangelib calls; re-raise their failures as Relay's typed provider errors."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:  # exchangelib raises many unrelated classes; all are mapped
        raise translate(exc) from exc
