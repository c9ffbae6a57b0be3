"""The feed's Origin check: exact origins, no wildcard from ALLOWED_HOSTS, native apps (no Origin) admitted."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from websockets.exceptions import InvalidStatus

from realtime.origin import OriginCheck, origin_allowed

pytestmark = pytest.mark.django_db(transaction=True)


def refused(feed, user, home_id, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as denied:
        feed(user, home_id, **kwargs)
    return denied.value.response.status_code


@pytest.mark.parametrize("origin,host,allowed,hosts,expected", [
    # Configured: exact scheme, host and port.
    ("https://app.example.com", "api.example.com", {"https://app.example.com"}, set(), True),
    ("https://APP.example.com:443", "api.example.com", {"https://app.example.com"}, set(), True),
    ("http://app.example.com", "api.example.com", {"https://app.example.com"}, set(), False),
    ("https://app.example.com:8443", "api.example.com", {"https://app.example.com"}, set(), False),
    ("https://evil.app.example.com", "api.example.com", {"https://app.example.com"}, set(), False),
    # Configured origins are the only ones: the same origin is not added.
    ("https://api.example.com", "api.example.com", {"https://app.example.com"}, set(), False),
    # Unconfigured: same origin, or a host named literally.
    ("https://api.example.com", "api.example.com", set(), set(), True),
    ("http://127.0.0.1:8000", "127.0.0.1:8000", set(), set(), True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", set(), set(), False),
    ("https://evil.example", "api.example.com", set(), set(), False),
    ("http://localhost:3000", "127.0.0.1:8000", set(), {"localhost"}, True),
    ("null", "api.example.com", set(), set(), False),
    ("https://api.example.com/path", "api.example.com", set(), set(), False),
])
def test_origin_rules(origin, host, allowed, hosts, expected):
    assert origin_allowed(origin, host, allowed=allowed, hosts=hosts) is expected


def test_a_wildcard_in_the_setting_is_a_configuration_error(settings):
    for pattern in ("*", "https://*.example.com", "example.com"):
        settings.REALTIME_ALLOWED_ORIGINS = [pattern]
        with pytest.raises(ImproperlyConfigured):
            OriginCheck(None)


def test_allowed_hosts_star_does_not_open_the_feed_to_every_page(feed, asgi_server_factory, home, owner):
    server = asgi_server_factory(ALLOWED_HOSTS="*")
    assert refused(feed, owner, home.pk, server=server, origin="https://evil.example") == 403
    same = feed(owner, home.pk, server=server, origin=f"http://127.0.0.1:{server.port}")
    assert same.ready["data"]["homeId"] == str(home.pk)
    assert feed(owner, home.pk, server=server, origin=None).ready["data"]["homeId"] == str(home.pk)


def test_a_domain_pattern_in_allowed_hosts_is_no_wildcard_either(feed, asgi_server_factory, home, owner):
    server = asgi_server_factory(ALLOWED_HOSTS=".example.com,127.0.0.1")
    assert refused(feed, owner, home.pk, server=server, origin="https://evil.example.com") == 403


def test_configured_origins_are_compared_exactly(feed, asgi_server_factory, home, owner):
    server = asgi_server_factory(REALTIME_ALLOWED_ORIGINS="https://app.example.com")
    assert feed(owner, home.pk, server=server, origin="https://app.example.com").ready
    assert refused(feed, owner, home.pk, server=server, origin="https://app.example.com:8443") == 403
    assert refused(feed, owner, home.pk, server=server, origin="http://localhost") == 403
    assert feed(owner, home.pk, server=server, origin=None).ready


def test_a_message_nested_too_deep_is_an_unknown_action_not_a_dead_socket(feed, home, owner):
    client = feed(owner, home.pk)
    client.ws.send('{"action": ' + "[" * 10_000 + "]" * 10_000 + "}")
    assert client.next_event("error")["data"]["code"] == "unknown_action"
    client.send(action="ping")
    assert client.next_event("pong")
