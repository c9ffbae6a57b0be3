"""Swagger UI at /api/docs works on a machine without internet: every asset it needs is
served by the project (drf-spectacular-sidecar), checked in a real browser that can reach
nothing but this server."""
import re
import shutil

import pytest
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def offline_browser():
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), "scripts/test installs chromium (ensure_chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 # Any host but loopback fails to resolve: a CDN reference would break the page.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_the_docs_page_references_only_its_own_assets(client, db):
    call_command("collectstatic", "--noinput", verbosity=0)
    html = client.get("/api/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source


@pytest.mark.slow
def test_swagger_ui_renders_the_schema_offline(live_server, offline_browser):
    offline_browser.get(f"{live_server.url}/api/docs")
    title = WebDriverWait(offline_browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))[0]
    assert "VeaHome cloud API" in title.text
    operations = offline_browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    assert any("/api/homes/{homeId}/devices/{deviceId}/control" in op.text for op in operations)
    failed = [e["message"] for e in offline_browser.get_log("browser") if e["level"] == "SEVERE"]
    assert failed == []
