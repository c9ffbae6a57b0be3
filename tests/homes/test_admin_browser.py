"""The support admin in a real browser (Debian's chromium): from a customer's email to their home in two clicks."""
import shutil

import pytest
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), "scripts/test installs chromium (ensure_chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager never goes looking for (or downloading) one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def section_text(driver, inline_prefix: str) -> str:
    return driver.find_element(By.ID, f"{inline_prefix}-group").text


@pytest.mark.slow
def test_support_agent_goes_from_a_customers_email_to_their_home(live_server, browser, tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("support@veahome.local")
    browser.find_element(By.NAME, "password").send_keys("veahome-support", Keys.ENTER)
    assert "Customers, homes and devices" in browser.find_element(By.TAG_NAME, "body").text

    # Click one: the homes list, searched by what the customer said on the phone.
    browser.get(f"{live_server.url}/admin/homes/home/")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("alex@veahome.local", Keys.ENTER)
    results = browser.find_element(By.ID, "result_list").text
    assert "Demo Home" in results and "Europe/Madrid" in results

    # Click two: the home itself.
    browser.find_element(By.LINK_TEXT, "Demo Home").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Change home"
    members = section_text(browser, "memberships")
    assert "demo@veahome.local" in members and "alex@veahome.local" in members
    rooms = section_text(browser, "rooms")
    assert all(name in rooms for name in ("Living room", "Bedroom", "Kitchen", "Hallway"))
    assert "VH-DEMO-0001" in section_text(browser, "hubs")
    devices = section_text(browser, "devices")
    assert all(name in devices for name in ("TV", "Air conditioner", "Front door lock", "Entrance camera"))

    # The admin's stylesheet loaded: the header bar is styled, not a bare page.
    header = browser.find_element(By.ID, "header")
    assert header.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")

    shot = tmp_path / "support-admin-home.png"
    browser.set_window_size(1400, browser.execute_script("return document.body.scrollHeight") + 200)
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
