"""Support admin for scenes, schedules and automations: readable at a glance, times in the home's zone."""
import pytest

from automations.models import Automation, Schedule
from tests.admin_support import change_form, seeded_agent
from tests.events import capture_events, capture_writes, columns_set

pytestmark = pytest.mark.django_db


def test_schedule_list_shows_next_run_in_the_homes_time():
    agent = seeded_agent()
    page = agent.get("/admin/automations/schedule/", {"q": "demo@veahome.local"}).content.decode()
    assert "Open the covers" in page and "07:30 Europe/Madrid" in page


def test_agent_disables_an_automation_but_cannot_edit_its_document():
    agent = seeded_agent()
    automation = Automation.objects.get(name="Welcome home")
    url = f"/admin/automations/automation/{automation.pk}/change/"
    page = agent.get(url).content.decode()
    assert 'name="trigger"' not in page and "time_window" in page
    form = change_form(agent, url)
    assert form.pop("enabled") == "on"
    assert agent.post(url, form).status_code == 302
    automation.refresh_from_db()
    assert automation.enabled is False


def test_disabling_a_schedule_clears_its_next_run():
    agent = seeded_agent()
    schedule = Schedule.objects.get(name="Good night")
    url = f"/admin/automations/schedule/{schedule.pk}/change/"
    form = change_form(agent, url)
    assert form.pop("enabled") == "on"
    response = agent.post(url, form)
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.enabled is False and schedule.next_run_at is None


def test_scene_list_counts_devices():
    agent = seeded_agent()
    page = agent.get("/admin/automations/scene/").content.decode()
    assert "Movie night" in page and "Good night" in page


def test_disabling_an_automation_in_admin_writes_that_alone_and_publishes_once():
    agent = seeded_agent()
    automation = Automation.objects.filter(enabled=True).first()
    url = f"/admin/automations/automation/{automation.pk}/change/"
    form = change_form(agent, url)
    form.pop("enabled")
    with capture_events(automation.home_id) as events, capture_writes() as writes:
        assert agent.post(url, form).status_code == 302
    assert [columns_set(w) for w in writes if w.startswith('UPDATE "automations_automation"')] == [
        {"enabled", "updated_at"}]
    assert events == [("automation:update", {"automationId": str(automation.pk), "name": automation.name})]


def test_the_homes_page_links_to_what_ran_and_runs_are_read_only():
    from automations.engine import runtime
    from automations.models import AutomationRun

    agent = seeded_agent()
    automation = Automation.objects.filter(enabled=True).first()
    run = runtime.run_now(automation=automation, skip_conditions=True)
    home_page = agent.get(f"/admin/homes/home/{automation.home_id}/change/").content.decode()
    assert f"/admin/automations/automationrun/?home__id__exact={automation.home_id}" in home_page
    assert "1 automation runs" in home_page
    listing = agent.get("/admin/automations/automationrun/", {"home__id__exact": str(automation.home_id)})
    assert listing.status_code == 200 and automation.name in listing.content.decode()
    detail = agent.get(f"/admin/automations/automationrun/{run.pk}/change/")
    assert detail.status_code == 200 and 'name="status"' not in detail.content.decode()
    assert agent.post(f"/admin/automations/automationrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AutomationRun.objects.filter(pk=run.pk).exists()
    for path in ("/admin/automations/scenerun/", "/admin/automations/schedulerun/"):
        assert agent.get(path).status_code == 200
