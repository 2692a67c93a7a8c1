"""Local demo logins (never used by production code paths)."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from accounts.models import User
from syncsettings.models import SyncSettings


def ensure_login_user(email: str, password: str, username: str | None = None) -> tuple[User, bool]:
    """Create or reset a user who can sign in with this email and password."""
    user, created = User.objects.get_or_create(
        username=username or email, defaults={"email": email}
    )
    user.email = email
    user.set_password(password)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    SyncSettings.for_user(user)
    return user, created
