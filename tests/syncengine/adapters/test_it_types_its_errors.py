"""Every adapter's failures are typed values: callers read side, status, retry_after and
permanent, never the message text (pure functions: no HTTP needed)."""

from __future__ import annotations

import pytest

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.mailboxes.gmail.client import GoogleFailure, provider_error
from syncengine.mailboxes.office365.http import GraphResponse
from syncengine.mailboxes.office365.http import error_for as graph_error
from syncengine.salesforce.types import error_for as salesforce_error


def graph(status, headers=None):
    body = {"error": {"code": "Whatever", "message": "said the server"}}
    return graph_error(GraphResponse(status, body, headers or {}))


@pytest.mark.parametrize(
    ("error", "cls", "side", "status", "retry_after", "permanent"),
    [
        (
            salesforce_error(401, [{"errorCode": "INVALID_SESSION_ID"}]),
            ReconnectRequired,
            "salesforce",
            401,
            None,
            True,
        ),
        (
            salesforce_error(403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
            TemporaryProviderError,
            "salesforce",
            403,
            3600.0,
            False,
        ),
        (
            salesforce_error(400, [{"errorCode": "MALFORMED_QUERY"}]),
            ProviderError,
            "salesforce",
            400,
            None,
            True,
        ),
        (graph(401), ReconnectRequired, "mailbox", 401, None, True),
        (graph(429, {"Retry-After": "7"}), TemporaryProviderError, "mailbox", 429, 7.0, False),
        (graph(400), ProviderError, "mailbox", 400, None, True),
        (provider_error(GoogleFailure(401, "no")), ReconnectRequired, "mailbox", 401, None, True),
        (
            provider_error(GoogleFailure(503, "later", retry_after=2.0)),
            TemporaryProviderError,
            "mailbox",
            503,
            2.0,
            False,
        ),
        (provider_error(GoogleFailure(409, "exists")), ProviderError, "mailbox", 409, None, True),
    ],
)
def test_it_says_who_failed_how_and_whether_to_retry(
    error, cls, side, status, retry_after, permanent
):
    assert type(error) is cls
    assert (error.side, error.status, error.retry_after, error.permanent) == (
        side,
        status,
        retry_after,
        permanent,
    )
