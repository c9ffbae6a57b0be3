"""Every home-scoped endpoint: anon 401, outsider 404, enough role 2xx, one role short 403."""
import pytest

from .api_checks import ENDPOINTS, ROLES

ids = [e.name for e in ENDPOINTS]


@pytest.mark.parametrize("ep", ENDPOINTS, ids=ids)
def test_anonymous_is_401(ep, world, anon):
    response = ep.call(anon, world)
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("ep", ENDPOINTS, ids=ids)
def test_outsider_is_404_and_changes_nothing(ep, world, outsider, django_assert_max_num_queries):
    response = ep.call(outsider, world)
    assert response.status_code == 404, response.content
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    for name in ("home", "lamp", "scene", "schedule", "group", "automation", "living", "hub"):
        obj = world[name]
        fresh = type(obj).objects.get(pk=obj.pk)
        assert getattr(fresh, "name", None) == getattr(obj, "name", None)


@pytest.mark.parametrize("ep", ENDPOINTS, ids=ids)
def test_member_with_role_succeeds(ep, world, as_role):
    response = ep.call(as_role(ep.role), world)
    assert 200 <= response.status_code < 300, response.content


@pytest.mark.parametrize("ep", [e for e in ENDPOINTS if e.role != "guest"], ids=[e.name for e in ENDPOINTS if e.role != "guest"])
def test_member_one_role_short_is_403(ep, world, as_role):
    lower = ROLES[ROLES.index(ep.role) - 1]
    response = ep.call(as_role(lower), world)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == ep.short_code



@pytest.mark.parametrize("ep", ENDPOINTS, ids=ids)
def test_options_is_scoped_like_every_other_verb(ep, world, anon, outsider, as_role):
    url = ep.url(world)
    response = anon.options(url)
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "not_authenticated"
    response = outsider.options(url)
    assert response.status_code == 404, response.content
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    response = as_role(ep.read_role).options(url)
    assert response.status_code == 200, response.content
    if ep.read_role != "guest":
        assert as_role("guest").options(url).status_code == 403


def _routes():
    """(url name, verb) of every home- or hub-scoped route the URL resolver serves."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    found = set()
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/") or not any(f"{scope}/(?P<" in route for scope in ("homes", "hubs")):
            continue
        callback = pattern.callback
        if getattr(callback, "actions", None):
            verbs = set(callback.actions)
        else:
            view = callback.view_class
            verbs = {m for m in view.http_method_names if hasattr(view, m)}
        # HEAD follows GET; OPTIONS has its own test above.
        verbs -= {"options", "head"}
        found |= {(pattern.name, verb) for verb in verbs}
    return found


def test_every_home_scoped_route_and_verb_has_an_entry(world):
    from django.urls import resolve

    covered = {(resolve(ep.url(world)).url_name, ep.method) for ep in ENDPOINTS}
    missing = sorted(_routes() - covered)
    assert missing == [], f"home-scoped routes without an entry in tests/api_checks.py: {missing}"
