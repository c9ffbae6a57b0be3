"""Socket authentication: the REST API's JWT access tokens, found where a client can put them."""
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from homes.models import User
from homes.selectors import membership_in_home


# Browsers cannot set headers on a websocket, so the token may ride as a subprotocol
# "bearer.<jwt>" next to the protocol name the server answers with.
SUBPROTOCOL = "veahome.v1"
SUBPROTOCOL_TOKEN_PREFIX = "bearer."
TOKEN_IN_TEXT = re.compile(r"((?:token|access_token)=)[^&\s\"']+", re.IGNORECASE)


def header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def query(scope) -> dict[str, str]:
    raw = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {key: values[-1] for key, values in raw.items()}


def token_from_scope(scope) -> str | None:
    """The token from the Authorization header, a subprotocol, or (if enabled) `?token=`."""
    authorization = header(scope, b"authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(SUBPROTOCOL_TOKEN_PREFIX):
            return protocol[len(SUBPROTOCOL_TOKEN_PREFIX):]
    if settings.REALTIME_QUERY_TOKEN:
        return query(scope).get("token")
    return None


@dataclass
class Identity:
    user: User
    expires_at: datetime


def authenticate(raw_token: str) -> Identity | None:
    """A valid, unexpired access token of an active user, or None."""
    try:
        token = AccessToken(raw_token)
    except TokenError:
        return None
    user_id = token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return Identity(user=user, expires_at=datetime.fromtimestamp(token["exp"], tz=timezone.utc))


def parse_home_id(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def is_member(user: User, home_id: str) -> bool:
    """The same lookup that scopes every REST request under the home (homes.selectors)."""
    return membership_in_home(home_id, user.pk) is not None


def redact(text: str) -> str:
    return TOKEN_IN_TEXT.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Keeps `?token=` values out of server logs (the ASGI servers log request paths)."""

    def filter(self, record):
        if isinstance(record.msg, str) and "token" in record.msg.lower():
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


SERVER_LOGGERS = [
    "uvicorn", "uvicorn.error", "uvicorn.access", "daphne", "daphne.server",
    "daphne.http_protocol", "daphne.ws_protocol", "django.channels.server", "django.request",
]


def install_log_redaction() -> None:
    token_filter = RedactTokens()
    for name in SERVER_LOGGERS:
        logging.getLogger(name).addFilter(token_filter)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
