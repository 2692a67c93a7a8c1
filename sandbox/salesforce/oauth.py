"""OAuth 2.0 web-server flow and the identity URL, as login.salesforce.com serves them.

The emulator is its own login host: `{base}/services/oauth2/authorize|token|revoke` and
`{base}/id/{orgId}/{userId}`. Tokens carry no `expires_in`; expiry is forced by tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    import json

    return Response(
        json.dumps({"error": error, "error_description": description}),
        status=status,
        content_type="application/json",
    )


class OAuthRoutes:
    """Mixin for SalesforceEmulator: the login endpoints (uncounted, as they are no API calls)."""

    clients: dict[str, str]  # client_id -> client_secret; empty: any client is accepted

    def register_client(self, client_id: str, client_secret: str) -> None:
        self.__dict__.setdefault("clients", {})[client_id] = client_secret

    def _client_ok(self, client_id: str | None, secret: str | None) -> bool:
        clients = self.__dict__.get("clients") or {}
        if not clients:
            return True
        return client_id in clients and (secret is None or clients[client_id] == secret)

    @route("/services/oauth2/authorize", methods=("GET",), auth=False, counted=False)
    def authorize_page(self, request: Request, principal: str | None) -> Any:
        args = request.args
        if args.get("response_type") != "code":
            return _oauth_error("unsupported_response_type", "response type not supported")
        if not args.get("client_id") or not self._client_ok(args.get("client_id"), None):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not args.get("redirect_uri"):
            return _oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration")
        hint = (args.get("login_hint") or "").lower()
        users = self.store.users()  # type: ignore[attr-defined]
        users.sort(key=lambda u: u["Username"].lower() != hint)  # the hinted user first
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(args.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "state", "scope")
        )
        rows = []
        for u in users:
            chosen = u["Username"].lower() == hint
            rows.append(
                f'<li{" class=selected" if chosen else ""}><form method="post">{hidden}'
                f'<input type="hidden" name="user_id" value="{u["Id"]}">'
                f"{html.escape(u['Name'])} &lt;{html.escape(u['Username'])}&gt; "
                f'<button type="submit" name="approve" value="1"{" autofocus" if chosen else ""}>'
                "Allow</button></form></li>"
            )
        page = (
            "<!doctype html><html><head><title>Allow Access? | Salesforce Sandbox</title></head>"
            f"<body><h1>Allow access to {html.escape(args['client_id'])}?</h1>"
            f"<p>Log in as:</p><ul>{''.join(rows)}</ul></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")

    @route("/services/oauth2/authorize", methods=("POST",), auth=False, counted=False)
    def authorize_approve(self, request: Request, principal: str | None) -> Any:
        form = request.form
        user_id = form.get("user_id", "")
        redirect_uri = form.get("redirect_uri", "")
        if not redirect_uri or self.store.find(user_id) is None:  # type: ignore[attr-defined]
            return _oauth_error("invalid_request", "unknown user or redirect_uri")
        code = self.tokens.issue_code(user_id, redirect_uri)  # type: ignore[attr-defined]
        params = {"code": code}
        if form.get("state"):
            params["state"] = form["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": f"{redirect_uri}{sep}{urlencode(params)}"})

    def _token_body(self, user_id: str, access: str, refresh: str | None, client_id: str) -> Any:
        base = self.base_url  # type: ignore[attr-defined]
        identity = f"{base}/id/{self.store.org_id}/{user_id}"  # type: ignore[attr-defined]
        issued_at = str(int(time.time() * 1000))
        secret = (self.__dict__.get("clients") or {}).get(client_id, "")
        signature = base64.b64encode(
            hmac.new(secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        body = {
            "access_token": access,
            "signature": signature,
            "scope": "api refresh_token",
            "instance_url": base,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
        if refresh:
            body["refresh_token"] = refresh
        return body

    @route("/services/oauth2/token", methods=("POST",), auth=False, counted=False)
    def token(self, request: Request, principal: str | None) -> Any:
        form = request.form
        grant = form.get("grant_type")
        client_id = form.get("client_id", "")
        if not self._client_ok(client_id, form.get("client_secret")):
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "authorization_code":
            user_id = self.tokens.redeem_code(form.get("code", ""), form.get("redirect_uri"))  # type: ignore[attr-defined]
            if user_id is None:
                return _oauth_error("invalid_grant", "expired access/refresh token")
            access, refresh = self.tokens.issue(user_id)  # type: ignore[attr-defined]
            return self._token_body(user_id, access, refresh, client_id)
        if grant == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            user_id = self.tokens._refresh.get(refresh_token)  # type: ignore[attr-defined]
            access = self.tokens.refresh(refresh_token)  # type: ignore[attr-defined]
            if access is None or user_id is None:
                return _oauth_error("invalid_grant", "expired access/refresh token")
            return self._token_body(user_id, access, None, client_id)
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    @route("/services/oauth2/revoke", methods=("POST", "GET"), auth=False, counted=False)
    def revoke(self, request: Request, principal: str | None) -> Any:
        token = request.values.get("token", "")
        if not token or not self.tokens.revoke(token):  # type: ignore[attr-defined]
            return _oauth_error("unsupported_token_type", "this token type is not supported")
        return Response(status=200)

    @route("/id/<org_id>/<user_id>", auth=True, counted=False)
    def identity(self, request: Request, principal: str | None, org_id: str, user_id: str) -> Any:
        store = self.store  # type: ignore[attr-defined]
        if org_id != store.org_id or user_id != principal:
            raise HttpError(403, "Bad_Id", "Bad_Id")
        u = store.records["User"][user_id]
        base = self.base_url  # type: ignore[attr-defined]
        data = f"{base}/services/data/v{{version}}"
        return {
            "id": f"{base}/id/{org_id}/{user_id}",
            "asserted_user": True,
            "user_id": user_id,
            "organization_id": org_id,
            "username": u["Username"],
            "nick_name": u["Alias"],
            "display_name": u["Name"],
            "email": u["Email"],
            "email_verified": True,
            "first_name": u["FirstName"],
            "last_name": u["LastName"],
            "timezone": u["TimeZoneSidKey"],
            "active": u["IsActive"],
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "urls": {
                "rest": f"{data}/",
                "sobjects": f"{data}/sobjects/",
                "query": f"{data}/query/",
                "profile": f"{base}/{user_id}",
            },
        }
