"""`GET /healthz` for operators' probes: no login, checks PostgreSQL and Redis, counters only."""
import httpx
import pytest

from realtime.events import stats_key
from veahome import redis_store
from tests.server import free_port, web_server

pytestmark = pytest.mark.django_db


def test_healthy_stack_answers_200_with_its_checks_and_the_feeds_counters(anon):
    redis_store.feed().hincrby(stats_key(), "overflows", 0)  # the hash exists once anything was counted
    response = anon.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok", "redis": "ok"}
    assert isinstance(body["realtime"], dict) and isinstance(body["mqttListeners"], list)
    assert all(isinstance(v, int) for v in body["realtime"].values())


@pytest.mark.slow
def test_an_unreachable_database_is_a_503_that_names_it(transactional_db):
    # The real web process, pointed at a PostgreSQL port where nothing listens.
    with web_server(env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/veahome"}) as base:
        response = httpx.get(f"{base}/healthz", timeout=30)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unreachable", "redis": "ok"}


def test_only_get(anon):
    assert anon.post("/healthz").status_code == 405
