"""Login protection: failed logins lock an account out of a client for a cool-off, without
locking its owner out of the clients they already use (docs/operations.md, Login protection).

Counted in Redis per account (the email as typed, lower-cased, whether or not an account has
it: an unknown email is counted and locked exactly like a known one) and per client:

- a client is its device marker when it sends one issued for this account (a signed cookie set
  at every successful login), else its address, read as every throttle reads it (the TCP peer,
  or X-Forwarded-For when the peer is one of TRUSTED_PROXIES);
- LOGIN_FAILURE_LIMIT failures of the account from one client lock that client out of the
  account for LOGIN_COOLOFF_SECONDS;
- LOGIN_ACCOUNT_FAILURE_LIMIT failures of the account from all clients lock out, as long, every
  client the account does not know: one without its device marker, at an address it has not
  logged in from within LOGIN_KNOWN_CLIENT_DAYS. The owner's phone and browser keep working
  while someone elsewhere guesses; each of them still has its own LOGIN_FAILURE_LIMIT.

A failure is remembered for LOGIN_COOLOFF_SECONDS after the last one. A successful login clears
that client's failures, not the account's: an attack in progress stays slowed. A locked client
is refused before its password is checked, so a lock answers the same for any password.
"""
import dataclasses
import functools
import secrets
import time

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac
from rest_framework.throttling import BaseThrottle

from veahome import redis_store

DEVICE_COOKIE = "veahome_device"
_DEVICE_SALT = "veahome.login-device"
# One browser or phone may be known to a few accounts (a shared tablet); the newest are kept.
DEVICE_MAX_ACCOUNTS = 5
# Addresses remembered per account: enough for home, work and a phone's networks.
KNOWN_ADDRESSES_MAX = 20

# One round trip, atomic: count the failure for the client and for the account and set the
# locks whose limit it reaches (the counter starts again after a lock).
# KEYS: client failures, client lock, account failures, account lock.
# ARGV: client limit, account limit, cool-off seconds.
_FAILURE_SCRIPT = """
local client = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if client >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
end
local account = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
if account >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[3])
end
return {client, account}
"""


_redis = redis_store.cache


@functools.lru_cache(maxsize=4)
def _failure_script(url: str):
    """The script, registered once per cache URL (tests may point the cache elsewhere)."""
    return redis_store.cache().register_script(_FAILURE_SCRIPT)


def key_prefix() -> str:
    return redis_store.cache_key("login")


def account_key(email: str) -> str:
    """Names the account in Redis without writing its email there."""
    return salted_hmac("veahome.login-account", email.strip().lower(), algorithm="sha256").hexdigest()[:32]


def client_address(request) -> str:
    """The client's address exactly as the throttles read it (NUM_PROXIES=0: REMOTE_ADDR, which
    the web server sets from X-Forwarded-For only for TRUSTED_PROXIES; veahome/serve.py)."""
    return BaseThrottle().get_ident(request)


def _device_markers(request) -> dict[str, str]:
    """{account key: device id} from the request's device cookie; {} if absent, forged or stale."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        markers = signing.loads(raw, salt=_DEVICE_SALT, max_age=settings.LOGIN_KNOWN_CLIENT_DAYS * 86400)
    except signing.BadSignature:
        return {}
    if not isinstance(markers, dict):
        return {}
    return {k: v for k, v in markers.items() if isinstance(k, str) and isinstance(v, str)}


@dataclasses.dataclass
class LoginAttempt:
    """One login attempt: is the client locked out of the account, and what its outcome changes."""

    account: str
    address: str
    device: str | None
    markers: dict[str, str]
    secure: bool

    @classmethod
    def of(cls, request, email: str) -> "LoginAttempt":
        account = account_key(email)
        markers = _device_markers(request)
        return cls(account=account, address=client_address(request), device=markers.get(account),
                   markers=markers, secure=request.is_secure())

    @property
    def _client(self) -> str:
        return f"d:{self.device}" if self.device else f"a:{self.address}"

    def _keys(self) -> dict[str, str]:
        base = f"{key_prefix()}:{self.account}"
        return {
            "client_failures": f"{base}:fail:{self._client}",
            "client_lock": f"{base}:lock:{self._client}",
            "account_failures": f"{base}:fail",
            "account_lock": f"{base}:lock",
            "known_addresses": f"{base}:known",
        }

    def retry_after(self) -> int:
        """Seconds until this client may try this account again; 0: it may now."""
        keys = self._keys()
        pipe = _redis().pipeline(transaction=False)
        pipe.ttl(keys["client_lock"])
        pipe.ttl(keys["account_lock"])
        pipe.zscore(keys["known_addresses"], self.address)
        client_lock, account_lock, known_address = pipe.execute()
        waits = [client_lock]
        if self.device is None and known_address is None:
            waits.append(account_lock)
        return max(0, *waits)

    def failed(self) -> None:
        keys = self._keys()
        _failure_script(settings.CACHES["default"]["LOCATION"])(
            keys=[keys["client_failures"], keys["client_lock"], keys["account_failures"], keys["account_lock"]],
            args=[settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_ACCOUNT_FAILURE_LIMIT, settings.LOGIN_COOLOFF_SECONDS],
        )

    def succeeded(self) -> None:
        """Forget this client's failures and remember its address as one the account uses."""
        keys = self._keys()
        now = time.time()
        keep = settings.LOGIN_KNOWN_CLIENT_DAYS * 86400
        pipe = _redis().pipeline(transaction=False)
        pipe.delete(keys["client_failures"], keys["client_lock"])
        pipe.zadd(keys["known_addresses"], {self.address: now})
        pipe.zremrangebyscore(keys["known_addresses"], "-inf", now - keep)
        pipe.zremrangebyrank(keys["known_addresses"], 0, -KNOWN_ADDRESSES_MAX - 1)
        pipe.expire(keys["known_addresses"], keep)
        pipe.execute()
        if self.device is None:
            self.device = secrets.token_hex(8)

    def remember(self, response) -> None:
        """After `succeeded`: give the client its device marker for this account (a signed cookie)."""
        markers = {self.account: self.device}
        markers.update((k, v) for k, v in self.markers.items() if k != self.account)
        markers = dict(list(markers.items())[:DEVICE_MAX_ACCOUNTS])
        response.set_cookie(
            DEVICE_COOKIE, signing.dumps(markers, salt=_DEVICE_SALT, compress=True),
            max_age=settings.LOGIN_KNOWN_CLIENT_DAYS * 86400, httponly=True, secure=self.secure, samesite="Lax",
        )


def reset_all() -> int:
    """Forget every failure, lock and known client (tests; an operator after an incident)."""
    client = _redis()
    keys = list(client.scan_iter(match=f"{key_prefix()}:*", count=1000))
    return client.delete(*keys) if keys else 0
