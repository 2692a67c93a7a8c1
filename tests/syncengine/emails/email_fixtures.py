"""Helpers for the email feed tests. The emulator fixtures are the adapter tests' own
(`tests/syncengine/adapters/conftest_office365.py`, `gmail_fixtures.py`), imported by each
test module; `sandbox_ca` is here because the adapters' conftest.py is not in scope."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from sandbox.common import SandboxCA

__all__ = ["PDF", "PNG", "b64", "mime_with_inline_image", "sandbox_ca"]

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="session")
def sandbox_ca(tmp_path_factory):
    """The CA the Google fixtures expect (the adapters' conftest.py is not in scope here)."""
    return SandboxCA(tmp_path_factory.mktemp("email-feed-ca"))


def mime_with_inline_image(sender: str, to: str, subject: str, when) -> bytes:
    """multipart/mixed: related(alternative(text, html with cid:logo), inline PNG) + a PDF."""
    mime = EmailMessage()
    mime["Message-ID"] = "<inline-and-pdf@example.org>"
    mime["Date"] = format_datetime(when)
    mime["From"] = sender
    mime["To"] = to
    mime["Subject"] = subject
    mime.set_content("See the logo and the offer.")
    mime.add_alternative('<p>See the logo <img src="cid:logo@example.org"></p>', subtype="html")
    html = mime.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo@example.org>")
    mime.add_attachment(PDF, maintype="application", subtype="pdf", filename="offer.pdf")
    return mime.as_bytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
