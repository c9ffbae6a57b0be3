"""Helpers for tests of the support admin: the seeded demo and a logged-in support agent."""
from html.parser import HTMLParser

from django.core.management import call_command
from django.test import Client

SUPPORT_EMAIL, SUPPORT_PASSWORD = "support@veahome.local", "veahome-support"


def seeded_agent() -> Client:
    """A browser session of the support agent, with the demo home in the database."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    client = Client()
    assert client.login(email=SUPPORT_EMAIL, password=SUPPORT_PASSWORD)
    return client


class _FormParser(HTMLParser):
    """Collects what a browser would submit from the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                self.data[self._textarea] = self.data[self._textarea].lstrip("\n")
            self._textarea = None


def change_form(client: Client, url: str) -> dict:
    """The fields of the change form at `url` as a browser would post them back unchanged."""
    parser = _FormParser()
    parser.feed(client.get(url).content.decode())
    parser.data.pop("q", None)
    return parser.data
