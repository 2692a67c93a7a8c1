"""Error pages with a message a person can act on."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django refuses an oversized form post (DATA_UPLOAD_MAX_MEMORY_SIZE) with a bare 400;
    say what the limit is instead, as 413."""
    if isinstance(exception, RequestDataTooBig):
        limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return HttpResponse(
            f"What you sent is larger than Relay accepts ({limit_kb:,} KB at most per form)."
            " Nothing was saved. Please send less (a blocklist takes up to 2,000 entries).\n",
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    if isinstance(exception, TooManyFieldsSent):
        return HttpResponse(
            f"The form had more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields, more"
            " than any Relay form has. Nothing was saved.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return bad_request(request, exception or Exception())
