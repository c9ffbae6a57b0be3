"""Signed-in sessions: refresh-token families, rotation with reuse detection, revocation.

Every write to `RefreshSession` happens here. A login starts a family; each refresh
rotates it under a row lock, so of concurrent refreshes with one token exactly one wins.
A refresh token that is no longer its family's current one was rotated before: presenting
it again means someone else holds a copy, and the family is revoked (the rightful app and
the copier both have to log in again). Refresh tokens also carry a fingerprint of the
password hash: after a password change, from the app or the admin, none of them refreshes.
Access tokens are not revocable; they live `JWT_ACCESS_MINUTES` (15 by default).
"""
import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from veahome.error_codes import ApiError
from veahome.errors import ApplicationError

from .errors import AccountError
from .models import RefreshSession, User

logger = logging.getLogger(__name__)

FAMILY_CLAIM = "fam"
PASSWORD_CLAIM = "pwd"


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does; reveals nothing about it."""
    return salted_hmac("veahome.refresh-password", user.password, algorithm="sha256").hexdigest()[:16]


def _expiry(token: RefreshToken) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(token["exp"], tz=datetime.UTC)


def _token(user: User, session: RefreshSession) -> RefreshToken:
    token = RefreshToken.for_user(user)
    token[FAMILY_CLAIM] = str(session.pk)
    token[PASSWORD_CLAIM] = password_fingerprint(user)
    return token


def session_start(*, user: User) -> RefreshToken:
    """A new family for a login or registration; returns its first refresh token."""
    session = RefreshSession(user=user)
    token = _token(user, session)
    session.jti, session.expires_at = token["jti"], _expiry(token)
    session.save()
    return token


def _invalid() -> ApplicationError:
    return ApplicationError(AccountError.TOKEN_INVALID, "The refresh token is invalid or expired.")


def _decode(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError:
        raise _invalid() from None


def session_refresh(*, raw: str) -> tuple[User, RefreshToken]:
    """Rotate: the presented token is spent, its family's next one is returned."""
    token = _decode(raw)
    with transaction.atomic():
        session = (RefreshSession.objects.select_for_update().select_related("user")
                   .filter(pk=token.get(FAMILY_CLAIM), user_id=token.get("user_id")).first())
        if session is not None and session.revoked_at is None:
            if session.jti != token["jti"]:
                _revoke(RefreshSession.objects.filter(pk=session.pk), RefreshSession.Reason.REUSE)
                logger.warning("refresh token reuse: session %s of user %s revoked", session.pk, session.user_id)
            elif session.user.is_active and token.get(PASSWORD_CLAIM) == password_fingerprint(session.user):
                new = _token(session.user, session)
                RefreshSession.objects.filter(pk=session.pk).update(
                    jti=new["jti"], expires_at=_expiry(new), rotations=session.rotations + 1,
                    last_used_at=timezone.now(), updated_at=timezone.now())
                return session.user, new
    # The revocation above is committed before the caller learns the token was refused.
    raise _invalid()


def _revoke(sessions, reason: str) -> int:
    now = timezone.now()
    return sessions.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason, updated_at=now)


def session_end(*, user: User, raw: str) -> None:
    """Log out the app holding `raw` (one of the user's own, current or not)."""
    try:
        token = RefreshToken(raw)
    except TokenError:
        token = {}
    if str(token.get("user_id")) != str(user.pk) or not token.get(FAMILY_CLAIM):
        raise ApplicationError(ApiError.INVALID, "The refresh token is invalid.",
                               fields={"refreshToken": ["not a refresh token of this account"]})
    _revoke(RefreshSession.objects.filter(pk=token[FAMILY_CLAIM], user=user), RefreshSession.Reason.LOGOUT)


def sessions_end_all(*, user: User, reason: str = RefreshSession.Reason.LOGOUT_ALL) -> int:
    """Log the user out everywhere; returns how many sessions were open."""
    return _revoke(RefreshSession.objects.filter(user=user), reason)


def sessions_revoke(queryset, *, reason: str) -> int:
    """End the given sessions (support staff, from the admin)."""
    return _revoke(queryset, reason)
