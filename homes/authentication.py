"""JWT authentication that loads the user only when more than its id is needed.

Most requests are under `homes/{homeId}/`, where the membership query already has to join
the user: HomeScopedMixin fetches user, membership and home in that one query (and a user who
has been deactivated gets no membership). Elsewhere the user is loaded on first use, with
simplejwt's checks.
"""
import threading
import time

from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from django.utils.functional import SimpleLazyObject
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings


class TokenUser(SimpleLazyObject):
    """The user a valid access token names: `pk`, `id` and `is_authenticated` without a query."""

    def __init__(self, user_id):
        def load():
            user = get_user_model().objects.filter(pk=user_id).first()
            if user is None:
                raise AuthenticationFailed("User not found", code="user_not_found")
            if not user.is_active:
                raise AuthenticationFailed("User is inactive", code="user_inactive")
            return user

        super().__init__(load)
        # Instance attributes are found before LazyObject's proxying __getattr__.
        self.__dict__.update(pk=user_id, id=user_id, is_authenticated=True, is_anonymous=False)

    def __bool__(self):
        return True

    def provide(self, user) -> None:
        """Hand over the user row another query already loaded (it must be this user, active)."""
        if user.pk != self.pk:
            raise ValueError("a different user")
        self._wrapped = user


class ValidatedTokens:
    """Access tokens this process has fully validated, kept until they expire.

    A signed access token cannot change and is never revoked before its `exp` (logout and
    rotation blacklist refresh tokens), so checking its signature and claims once is enough:
    a repeated request costs a dictionary lookup and a clock read instead of a JWT decode.
    Only tokens that passed simplejwt's validation get in; at most `size` are kept, oldest
    dropped first.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._tokens: dict[bytes, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, raw_token: bytes):
        entry = self._tokens.get(raw_token)
        if entry is None:
            return None
        expires, token = entry
        if time.time() >= expires:
            with self._lock:
                self._tokens.pop(raw_token, None)
            return None
        return token

    def add(self, raw_token: bytes, token) -> None:
        expires = token.payload.get("exp")
        if not isinstance(expires, (int, float)):
            return
        with self._lock:
            while len(self._tokens) >= self.size:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[raw_token] = (float(expires), token)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


validated_tokens = ValidatedTokens()


class LazyUserJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = validated_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            validated_tokens.add(raw_token, token)
        return token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken("Token contained no recognizable user identification") from e
        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except Exception as e:  # a signed token with a malformed id is still not a user
            raise InvalidToken("Token contained no recognizable user identification") from e
        return TokenUser(user_id)


class LazyUserJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's own class."""

    target_class = LazyUserJWTAuthentication
