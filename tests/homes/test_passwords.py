"""Passwords are stored with argon2 (the suite swaps in a fast hasher elsewhere)."""
from homes.models import User


def test_register_stores_an_argon2_hash(anon, settings, db):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    body = {"name": "Ada", "email": "ada@example.com", "password": "password123"}
    assert anon.post("/api/auth/register", body, format="json").status_code == 201
    stored = User.objects.get(email="ada@example.com").password
    assert stored.startswith("argon2$")
    assert "password123" not in stored
    login = anon.post("/api/auth/login", {"email": "ada@example.com", "password": "password123"}, format="json")
    assert login.status_code == 200
