"""The request type of views behind `login_required`: its user is signed in."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import User


class SignedInRequest(HttpRequest):
    """An HttpRequest whose `user` is an `accounts.User`, never AnonymousUser.

    Only for annotating views that `login_required` (or the admin) guards; django-stubs
    types `request.user` as `User | AnonymousUser` otherwise."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user where a view or admin page already required a sign-in."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
