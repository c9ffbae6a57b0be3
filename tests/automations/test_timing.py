"""next_run_at: the next firing in the home's own time zone, across DST changes."""
import datetime
import zoneinfo

from automations.models import Schedule
from automations.timing import next_run_at

UTC = datetime.UTC


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def test_next_run_is_local_time_converted_to_utc():
    # Monday 2026-01-05 06:00 UTC is 07:00 in Madrid (CET, UTC+1): 07:30 local is 06:30 UTC.
    got = next_run_at(at=datetime.time(7, 30), days=["monday"], tz="Europe/Madrid", after=at(2026, 1, 5, 6, 0))
    assert got == at(2026, 1, 5, 6, 30)


def test_a_time_already_passed_today_moves_to_the_next_listed_day():
    got = next_run_at(at=datetime.time(7, 30), days=["monday", "wednesday"], tz="Europe/Madrid", after=at(2026, 1, 5, 7, 0))
    assert got == at(2026, 1, 7, 6, 30)


def test_the_local_day_not_the_utc_day_decides():
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo.
    got = next_run_at(at=datetime.time(9, 0), days=["monday"], tz="Asia/Tokyo", after=at(2026, 1, 4, 23, 30))
    assert got == at(2026, 1, 5, 0, 0)


def test_summer_time_shifts_the_utc_instant():
    # Madrid goes to CEST (UTC+2) on 2026-03-29: 07:30 local is 05:30 UTC from then on.
    before = next_run_at(at=datetime.time(7, 30), days=["saturday"], tz="Europe/Madrid", after=at(2026, 3, 27, 0, 0))
    after = next_run_at(at=datetime.time(7, 30), days=["sunday"], tz="Europe/Madrid", after=at(2026, 3, 28, 12, 0))
    assert before == at(2026, 3, 28, 6, 30)
    assert after == at(2026, 3, 29, 5, 30)


def test_a_time_skipped_by_the_spring_jump_fires_after_it():
    # 02:30 does not exist in Madrid on 2026-03-29 (02:00 -> 03:00); it fires at the first
    # instant after it, the jump itself: 03:00 CEST = 01:00 UTC.
    got = next_run_at(at=datetime.time(2, 30), days=["sunday"], tz="Europe/Madrid", after=at(2026, 3, 28, 12, 0))
    assert got == at(2026, 3, 29, 1, 0)


def test_a_repeated_autumn_time_fires_once_at_its_first_occurrence():
    # 02:30 happens twice in Madrid on 2026-10-25; the first is CEST (UTC+2) = 00:30 UTC.
    got = next_run_at(at=datetime.time(2, 30), days=["sunday"], tz="Europe/Madrid", after=at(2026, 10, 24, 12, 0))
    assert got == at(2026, 10, 25, 0, 30)


def test_no_days_means_never():
    assert next_run_at(at=datetime.time(7, 0), days=[], tz="UTC", after=at(2026, 1, 1)) is None


def test_api_computes_next_run_in_the_homes_zone(api, world):
    response = api.post(
        f"/api/homes/{world['home'].pk}/schedules",
        {"name": "Wake", "time": "07:30", "days": list(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")),
         "actions": [{"type": "scene", "sceneId": str(world["scene"].pk)}]},
        format="json",
    )
    assert response.status_code == 201
    run = datetime.datetime.fromisoformat(response.json()["nextRunAt"])
    local = run.astimezone(world["home"].tz)
    assert (local.hour, local.minute) == (7, 30)


def test_changing_the_homes_time_zone_reschedules_its_schedules(api, world):
    schedule = world["schedule"]
    api.patch(f"/api/homes/{world['home'].pk}/schedules/{schedule.pk}", {"time": "07:00"}, format="json")
    api.patch(f"/api/homes/{world['home'].pk}", {"timezone": "America/New_York"}, format="json")
    schedule = Schedule.objects.get(pk=schedule.pk)
    local = schedule.next_run_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (local.hour, local.minute, local.strftime("%A")) == (7, 0, "Monday")
