"""Every contract path answers with and without a trailing slash, never with a redirect."""
import pytest

from tests import factories as f
from tests.api_checks import ENDPOINTS


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_every_home_scoped_endpoint_takes_a_trailing_slash(ep, world, as_role):
    client = as_role(ep.role)
    body = ep.body(world) if ep.body else None
    response = getattr(client, ep.method)(ep.url(world) + "/", body, format="json")
    assert 200 <= response.status_code < 300, response.content


@pytest.mark.parametrize("slash", ["", "/"])
def test_auth_routes_take_both_spellings(anon, db, slash):
    body = {"name": "Ada", "email": f"ada{len(slash)}@example.com", "password": "password123"}
    registered = anon.post(f"/api/auth/register{slash}", body, format="json")
    assert registered.status_code == 201
    login = anon.post(f"/api/auth/login{slash}", {"email": body["email"], "password": body["password"]}, format="json")
    assert login.status_code == 200
    tokens = login.json()
    assert anon.post(f"/api/auth/refresh{slash}", {"refreshToken": tokens["refreshToken"]}, format="json").status_code == 200
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert anon.get(f"/api/auth/me{slash}").status_code == 200
    assert anon.get(f"/api/homes{slash}").status_code == 200


@pytest.mark.parametrize("slash", ["", "/"])
def test_hub_routes_take_both_spellings(api, world, slash):
    hub = world["hub"]
    assert api.get(f"/api/hubs/{hub.pk}/status{slash}").status_code == 200
    assert api.get(f"/api/hubs/{hub.pk}{slash}").status_code == 200
    other = f.RoomFactory(home=world["home"])
    assert api.post(f"/api/hubs/{hub.pk}/rooms{slash}", {"roomIds": [str(other.pk)]}, format="json").status_code == 200
