"""Google's JSON error shape and the handful of errors every Google API raises.

Google answers `{"error": {"code": 404, "message": …, "errors": [{"domain", "reason",
"message"}], "status": "NOT_FOUND"}}`; the newer APIs (People) add `details` with a
`google.rpc.ErrorInfo`. `HttpError.code` carries the *reason*; `grpc` (status), `domain` and
`error_info` ride in `HttpError.details`.
"""

from __future__ import annotations

from typing import Any

from sandbox.common import HttpError

# The canonical gRPC status Google pairs with each HTTP status.
CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    410: "GONE",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Reasons the shared base raises under its own names, mapped to Google's.
BASE_REASONS = {
    "TooManyRequests": "rateLimitExceeded",
    "ServiceUnavailable": "backendError",
    "NOT_FOUND": "notFound",
    "METHOD_NOT_ALLOWED": "methodNotAllowed",
}


def google_error_body(err: HttpError) -> dict[str, Any]:
    reason = BASE_REASONS.get(err.code, err.code)
    status = err.details.get("grpc") or CANONICAL.get(err.status, "UNKNOWN")
    body: dict[str, Any] = {
        "code": err.status,
        "message": err.message,
        "errors": [
            {
                "domain": err.details.get("domain", "global"),
                "reason": reason,
                "message": err.message,
            }
        ],
        "status": status,
    }
    info = err.details.get("error_info")
    if info:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": info,
                "domain": err.details.get("service", "googleapis.com"),
            }
        ]
    return {"error": body}


def bad_request(message: str, reason: str = "badRequest", **details: Any) -> HttpError:
    return HttpError(400, reason, message, **details)


def invalid(message: str) -> HttpError:
    return HttpError(400, "invalid", message)


def required(name: str) -> HttpError:
    return HttpError(400, "required", f"Required parameter: {name}")


def not_found(message: str = "Not Found") -> HttpError:
    return HttpError(404, "notFound", message)


def conflict(message: str, reason: str = "duplicate", **details: Any) -> HttpError:
    return HttpError(409, reason, message, **details)


def unauthenticated() -> HttpError:
    return HttpError(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        grpc="UNAUTHENTICATED",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def int_param(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"Invalid value for {name}: {value}") from None


def bool_param(value: str | None, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    return value.lower() == "true"
