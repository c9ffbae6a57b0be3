"""Lists are paginated the same whether or not the count query is saved."""
import pytest

from tests import factories as f


@pytest.fixture
def room(home):
    return f.RoomFactory(home=home, name="Lab")


def test_first_page_not_full_counts_without_a_count_query(api, home, room, django_assert_num_queries):
    for n in range(3):
        f.DeviceFactory(room=room, name=f"D{n}")
    url = f"/api/homes/{home.pk}/devices"
    api.get(url)
    with django_assert_num_queries(2) as captured:  # user+membership+home, devices
        body = api.get(url).json()
    assert body["count"] == 3 and body["next"] is None and len(body["results"]) == 3
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


@pytest.mark.parametrize("total, page_size, page, expected", [
    (5, 5, 1, (5, 5, False)),   # a full first page: the count is asked for
    (7, 5, 1, (7, 5, True)),
    (7, 5, 2, (7, 2, False)),
    (0, 5, 1, (0, 0, False)),
])
def test_counts_and_links_are_right_at_page_edges(api, home, room, total, page_size, page, expected):
    for n in range(total):
        f.DeviceFactory(room=room, name=f"D{n}")
    body = api.get(f"/api/homes/{home.pk}/devices", {"pageSize": page_size, "page": page}).json()
    assert (body["count"], len(body["results"]), body["next"] is not None) == expected


def test_filters_still_apply_and_reject_bad_values(api, home, room):
    f.DeviceFactory(room=room, name="Lamp", type="light")
    f.DeviceFactory(room=room, name="TV", type="tv", category="IR")
    url = f"/api/homes/{home.pk}/devices"
    assert [d["name"] for d in api.get(url, {"type": "tv"}).json()["results"]] == ["TV"]
    bad = api.get(url, {"type": "toaster"})
    assert bad.status_code == 400 and "type" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("total", [0, 3, 51])
def test_the_prepared_first_page_equals_the_orms(api, home, room, total, django_assert_num_queries):
    """Without query parameters the list is read by a prepared statement (veahome/prepared.py);
    `?page=1` takes the ORM's path. Both must answer the same, count and links included."""
    f.DeviceFactory.create_batch(total, room=room, state={"snake_key": 1}, signal_mappings={"ON": "0x1"})
    f.DeviceFactory(room=f.RoomFactory(home=f.make_home(f.UserFactory())))  # another home's
    url = f"/api/homes/{home.pk}/devices"
    expected = api.get(url, {"page": 1}).json()
    with django_assert_num_queries(3 if total >= 50 else 2):  # the COUNT only for a full page
        prepared = api.get(url).json()
    assert prepared == expected
    assert prepared["count"] == total and len(prepared["results"]) == min(total, 50)
    assert (prepared["next"] is not None) == (total > 50)
