"""The Microsoft identity platform v2 endpoints a web app uses: authorize and token.

`GET /{tenant}/oauth2/v2.0/authorize` shows the emulator's mailboxes, each with an "Accept"
button (a form POST) that redirects to `redirect_uri?code=…&state=…`. The token endpoint
redeems codes and refresh tokens. Refresh tokens rotate: every refresh answer carries a new
one. Like Microsoft's, the old one is not revoked by use (set `single_use_refresh_tokens`
to make the emulator stricter than Microsoft and catch clients that forget to store the new
one).
"""

from __future__ import annotations

import html
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .core import GraphCore

RESERVED = {"openid", "profile", "offline_access", "email"}


class OAuthMixin(GraphCore):
    single_use_refresh_tokens = False

    def authorize_url(self, tenant: str = "common") -> str:
        return f"{self.base_url}/{tenant}/oauth2/v2.0/authorize"

    def token_url(self, tenant: str = "common") -> str:
        return f"{self.base_url}/{tenant}/oauth2/v2.0/token"

    def _aad_error(self, status: int, error: str, code: int, message: str) -> Response:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        now = self.now().strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": error,
            "error_description": f"AADSTS{code}: {message} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {now}",
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        }
        return self.json_response(body, status)

    @route("/<tenant>/oauth2/v2.0/authorize", methods=("GET", "POST"), auth=False, counted=False)
    def http_authorize(self, request: Request, principal: None, tenant: str) -> Response:
        params = request.form if request.method == "POST" else request.args
        client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
        state = params.get("state")
        if not client_id or not redirect_uri:
            return Response(
                "<h1>Sign in</h1><p>AADSTS900144: The request body must contain the following "
                "parameters: 'client_id' and 'redirect_uri'.</p>",
                status=400,
                content_type="text/html",
            )
        if request.method == "POST":
            return self._consent(params, redirect_uri, state)
        if params.get("response_type") != "code":
            return self._back(
                redirect_uri,
                state,
                error="unsupported_response_type",
                error_description="AADSTS700054: response_type must be 'code'.",
            )
        hint = (params.get("login_hint") or "").lower()
        boxes = [b for b in self.mailboxes.values() if not hint or b.upn.lower() == hint]
        boxes = boxes or list(self.mailboxes.values())
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params.get(k) or "")}">'
            for k in ("client_id", "redirect_uri", "scope", "state")
        )
        rows = "".join(
            f'<li><form method="post">{hidden}'
            f'<input type="hidden" name="upn" value="{html.escape(b.upn)}">'
            f"<strong>{html.escape(b.display_name)}</strong> &lt;{html.escape(b.upn)}&gt; "
            f'<button type="submit" name="action" value="accept" id="accept-{html.escape(b.upn)}">'
            f"Accept</button></form></li>"
            for b in boxes
        )
        deny = (
            f'<form method="post">{hidden}<button name="action" value="deny">Cancel</button></form>'
        )
        page = (
            "<!doctype html><html><head><title>Sign in to your account (sandbox)</title></head>"
            f"<body><h1>Relay sandbox: Microsoft sign-in</h1>"
            f"<p>App <code>{html.escape(client_id)}</code> asks for: "
            f"<code>{html.escape(params.get('scope') or '')}</code></p>"
            f"<ul>{rows}</ul>{deny}</body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")

    def _consent(self, form: Any, redirect_uri: str, state: str | None) -> Response:
        upn = (form.get("upn") or "").lower()
        if form.get("action") == "deny" or upn not in self.mailboxes:
            return self._back(
                redirect_uri,
                state,
                error="access_denied",
                error_description="AADSTS65004: User declined to consent.",
            )
        code = self.tokens.issue_code(upn, redirect_uri)
        self._code_scopes[code] = form.get("scope") or ""
        return self._back(redirect_uri, state, code=code, session_state=str(uuid.uuid4()))

    @staticmethod
    def _back(redirect_uri: str, state: str | None, **params: str) -> Response:
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{sep}{urlencode(params)}", code=302)

    @property
    def _code_scopes(self) -> dict[str, str]:
        if not hasattr(self, "_scopes_by_code"):
            self._scopes_by_code: dict[str, str] = {}
        return self._scopes_by_code

    @route("/<tenant>/oauth2/v2.0/token", methods=("POST",), auth=False)
    def http_token(self, request: Request, principal: None, tenant: str) -> Response:
        form = request.form
        grant = form.get("grant_type")
        if not form.get("client_id"):
            return self._aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        scope = form.get("scope") or ""
        if grant == "authorization_code":
            code = form.get("code") or ""
            upn = self.tokens.redeem_code(code, form.get("redirect_uri"))
            if upn is None:
                return self._aad_error(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'code' parameter is not valid.",
                )
            scope = scope or self._code_scopes.pop(code, "")
            access, refresh = self.tokens.issue(upn)
        elif grant == "refresh_token":
            old = form.get("refresh_token") or ""
            access = self.tokens.refresh(old) if old else None
            if access is None:
                return self._aad_error(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, "
                    "a fresh auth token is needed.",
                )
            upn = self.tokens.principal_for(access) or ""
            if self.single_use_refresh_tokens:
                self.tokens.revoke(old)
            refresh = "rt-" + secrets.token_urlsafe(24)
            self.tokens.issue_static(upn, access, refresh)
        else:
            return self._aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        lifetime = int(self.tokens.access_lifetime or 3600)
        granted = " ".join(s for s in scope.split() if s.lower() not in RESERVED)
        body = {
            "token_type": "Bearer",
            "scope": granted or "https://graph.microsoft.com/.default",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
            "refresh_token": refresh,
        }
        return self.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
