"""Refuse to run in production mode on a key anyone can read.

With DEBUG off, SECRET_KEY (and the JWT signing key when set apart) must be a real secret:
the built-in development key and the `.env.example` sample are public, and a JWT signed
with either would be accepted for any user id. Every long-running entry point calls
`refuse_insecure_settings()` before it serves: the web workers (veahome.asgi), Celery's
worker and beat, `mqtt_listen`; management commands get the same rule as a system check.
"""
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_KEY = "veahome-local-development-key-not-for-production-use"
MIN_KEY_LENGTH = 32


def _sample_values(name: str) -> set[str]:
    """The value `.env.example` shows for `name` (it is published with the code)."""
    example = Path(settings.BASE_DIR) / ".env.example"
    values = set()
    if example.exists():
        for line in example.read_text().splitlines():
            if line.startswith(f"{name}="):
                value = line.split("=", 1)[1].split("#", 1)[0].strip()
                if value:
                    values.add(value)
    return values


def insecure_settings() -> list[str]:
    """What makes these settings unfit to serve with DEBUG off (empty when they are fine)."""
    if settings.DEBUG:
        return []
    problems = []
    keys = {"SECRET_KEY": settings.SECRET_KEY}
    if settings.JWT_SIGNING_KEY_SET_APART:
        keys["JWT_SECRET"] = settings.SIMPLE_JWT["SIGNING_KEY"]
    for name, value in keys.items():
        public = {DEVELOPMENT_KEY} | _sample_values("SECRET_KEY") | _sample_values(name)
        if value in public:
            problems.append(f"{name} is a published sample value")
        elif len(value) < MIN_KEY_LENGTH:
            problems.append(f"{name} is shorter than {MIN_KEY_LENGTH} characters")
    return problems


def refuse_insecure_settings() -> None:
    problems = insecure_settings()
    if problems:
        raise ImproperlyConfigured(
            "refusing to start with DEBUG off: " + "; ".join(problems)
            + ". Set a random SECRET_KEY in the environment or .env (scripts/run writes one), "
            "or DEBUG=true on a development machine."
        )


@checks.register(checks.Tags.security)
def check_secret_keys(app_configs, **kwargs):
    return [checks.Error(problem, hint="Set a random key (scripts/run writes one into .env).", id="veahome.E001")
            for problem in insecure_settings()]
