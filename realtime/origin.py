"""The feed handshake's Origin check: exact origins, never wildcards (docs/websocket.md).

Browsers send an Origin header and cannot leave it out; native apps send none and are
admitted (the socket still needs a token, which a cross-site page does not have). A browser
origin is admitted when it is one of REALTIME_ALLOWED_ORIGINS, compared exactly; when that
setting is empty, when it is the server's own origin (the Host the browser connected to), one
of CORS_ALLOWED_ORIGINS (exactly), or its host is one ALLOWED_HOSTS names literally.
ALLOWED_HOSTS' `*` and `.example.com` patterns are host-header rules, not a list of trusted
pages: they admit nobody here.
"""
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _netloc(host: str, port: int | None, scheme: str) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def parse_origin(value: str) -> tuple[str, str, str] | None:
    """(scheme, host, netloc) of an origin "scheme://host[:port]", lower-cased, the scheme's
    default port left out; None for anything else ("null", a path, a wildcard)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not parts.scheme or not host or "*" in host or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    scheme = parts.scheme.lower()
    return scheme, host, _netloc(host, port, scheme)


def configured_origins() -> set[str]:
    """REALTIME_ALLOWED_ORIGINS as "scheme://netloc" strings; a pattern is a configuration error."""
    origins = set()
    for entry in settings.REALTIME_ALLOWED_ORIGINS:
        parsed = parse_origin(entry)
        if parsed is None:
            raise ImproperlyConfigured(
                f"REALTIME_ALLOWED_ORIGINS: {entry!r} is not an origin such as https://app.example.com "
                "(origins are compared exactly; there are no wildcards)"
            )
        origins.add(f"{parsed[0]}://{parsed[2]}")
    return origins


def cors_origins() -> set[str]:
    return {f"{p[0]}://{p[2]}" for p in map(parse_origin, settings.CORS_ALLOWED_ORIGINS) if p is not None}


def literal_allowed_hosts() -> set[str]:
    return {h.lower() for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")}


def origin_allowed(origin: str, host_header: str | None, *, allowed: set[str], also: set[str] = frozenset(),
                   hosts: set[str] = frozenset()) -> bool:
    """`allowed`: the configured origins (when any, the only ones); else `also` (origins) and
    `hosts` (host names, any port) besides the same origin."""
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    scheme, host, netloc = parsed
    if allowed:
        return f"{scheme}://{netloc}" in allowed
    if f"{scheme}://{netloc}" in also or host in hosts:
        return True
    if not host_header:
        return False
    # Same origin: the page was served from the host (and port) this socket connects to.
    served = urlsplit(f"//{host_header.strip().lower()}")
    try:
        served_port = served.port
    except ValueError:
        return False
    return served.hostname is not None and _netloc(served.hostname, served_port, scheme) == netloc


class OriginCheck:
    """ASGI middleware in front of the feed: a handshake from a refused origin gets HTTP 403."""

    def __init__(self, application):
        self.application = application
        self.allowed = configured_origins()
        self.also = cors_origins()
        self.hosts = literal_allowed_hosts()

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is not None:
            host = headers.get(b"host")
            if not origin_allowed(origin.decode("latin1"), host.decode("latin1") if host else None,
                                  allowed=self.allowed, also=self.also, hosts=self.hosts):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
