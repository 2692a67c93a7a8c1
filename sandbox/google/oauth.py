"""Google OAuth 2.0 (web-server flow): consent page, token endpoint, revoke, userinfo."""

from __future__ import annotations

import base64
import html
import json
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.common import TokenStore, route

from .service import Service


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, content_type="application/json")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class OAuthApi(Service):
    tokens: TokenStore
    base_url: str
    scopes_by_code: dict[str, str]

    @route("/o/oauth2/v2/auth", auth=False, counted=False)
    @route("/o/oauth2/auth", auth=False, counted=False)
    def oauth_authorize(self, request: Request, principal: None) -> Response:
        args = request.args
        missing = [k for k in ("client_id", "redirect_uri", "response_type") if not args.get(k)]
        if missing or args.get("response_type") != "code":
            bad = ", ".join(missing) or "response_type"
            text = f"Error 400: invalid_request. Missing or bad: {bad}"
            return Response(text, status=400, content_type="text/plain")
        hint = (args.get("login_hint") or "").lower()
        emails = [a.email for a in self.accounts.values() if not hint or a.email == hint]
        emails = emails or [a.email for a in self.accounts.values()]
        keep = {k: args.get(k, "") for k in ("client_id", "redirect_uri", "scope", "state")}
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in keep.items()
        )
        rows = "".join(
            f'<li><form method="post" action="/o/oauth2/v2/approve">{hidden}'
            f'<input type="hidden" name="email" value="{html.escape(e)}">'
            f"<span>{html.escape(self.accounts[e].display_name)} &lt;{html.escape(e)}&gt;</span> "
            f'<button type="submit" name="decision" value="allow">Allow</button> '
            f'<button type="submit" name="decision" value="deny">Deny</button></form></li>'
            for e in emails
        )
        page = (
            "<!doctype html><html><head><title>Sign in - Google Accounts (sandbox)</title></head>"
            f"<body><h1>Choose an account</h1><p>to continue to {html.escape(keep['client_id'])}"
            f"</p><p>Scopes: {html.escape(keep['scope'])}</p><ul>{rows}</ul></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")

    @route("/o/oauth2/v2/approve", ("POST",), auth=False, counted=False)
    def oauth_approve(self, request: Request, principal: None) -> Response:
        form = request.form
        uri = form.get("redirect_uri", "")
        sep = "&" if "?" in uri else "?"
        if form.get("decision") != "allow" or form.get("email", "").lower() not in self.accounts:
            query = {"error": "access_denied", "state": form.get("state", "")}
            return redirect(uri + sep + urlencode(query), code=302)
        code = self.tokens.issue_code(form["email"].lower(), uri)
        self.scopes_by_code[code] = form.get("scope", "")
        query = {"code": code, "state": form.get("state", ""), "scope": form.get("scope", "")}
        return redirect(uri + sep + urlencode(query), code=302)

    @route("/token", ("POST",), auth=False)
    @route("/o/oauth2/token", ("POST",), auth=False)
    def oauth_token(self, request: Request, principal: None) -> Response:
        form = request.form
        if not form.get("client_id"):
            return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
        grant = form.get("grant_type")
        lifetime = int(self.tokens.access_lifetime or 3600)
        if grant == "authorization_code":
            code = form.get("code", "")
            scope = self.scopes_by_code.pop(code, "")
            email = self.tokens.redeem_code(code, form.get("redirect_uri"))
            if email is None:
                return _oauth_error("invalid_grant", "Malformed auth code.")
            access, refresh = self.tokens.issue(email)
            body = {
                "access_token": access,
                "expires_in": lifetime,
                "refresh_token": refresh,
                "scope": scope,
                "token_type": "Bearer",
            }
            if "openid" in scope.split() or "email" in scope.split():
                body["id_token"] = self._id_token(email, form["client_id"])
            return Response(json.dumps(body), content_type="application/json")
        if grant == "refresh_token":
            access = self.tokens.refresh(form.get("refresh_token", ""))
            if access is None:
                return _oauth_error("invalid_grant", "Token has been expired or revoked.")
            body = {
                "access_token": access,
                "expires_in": lifetime,
                "scope": "",
                "token_type": "Bearer",
            }
            return Response(json.dumps(body), content_type="application/json")
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _id_token(self, email: str, client_id: str) -> str:
        """An unsigned JWT-shaped id_token (alg "none"): carries the email, verifies nothing."""
        acct = self.accounts[email]
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": client_id,
            "sub": acct.numeric_id,
            "email": email,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    @route("/revoke", ("POST", "GET"), auth=False)
    @route("/o/oauth2/revoke", ("POST", "GET"), auth=False)
    def oauth_revoke(self, request: Request, principal: None) -> Response:
        token = request.values.get("token", "")
        if not token or not self.tokens.revoke(token):
            return _oauth_error("invalid_token", "Token expired or revoked")
        return Response("{}", content_type="application/json")

    @route("/oauth2/v2/userinfo")
    @route("/oauth2/v3/userinfo")
    @route("/v1/userinfo")
    def oauth_userinfo(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        return {
            "id": acct.numeric_id,
            "sub": acct.numeric_id,
            "email": acct.email,
            "verified_email": True,
            "email_verified": True,
            "name": acct.display_name,
        }
