"""The manufacturing import: `manage.py import_hubs <csv>`."""
import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from hubs.models import Hub

SECRET_A = "factory-secret-aaaaaaaa"
SECRET_B = "factory-secret-bbbbbbbb"


def write_csv(tmp_path, text):
    path = tmp_path / "hubs.csv"
    path.write_text(text)
    return path


def run(path, capsys):
    call_command("import_hubs", str(path))
    return capsys.readouterr().out.strip()


def test_import_creates_hubs_with_hashed_secrets(db, tmp_path, capsys):
    path = write_csv(tmp_path, f"serial,factory_secret,firmware\nVH10000001,{SECRET_A},1.0.3\nVH10000002,{SECRET_B}\n")
    assert run(path, capsys) == "2 created, 0 updated, 0 unchanged"
    hub = Hub.objects.get(serial_number="VH10000001")
    assert hub.home_id is None and hub.status == "unpaired" and hub.firmware == "1.0.3"
    assert SECRET_A not in hub.factory_secret_hash
    assert check_password(SECRET_A, hub.factory_secret_hash)


def test_import_is_idempotent_and_updates_changed_secrets(db, tmp_path, capsys):
    path = write_csv(tmp_path, f"VH10000001,{SECRET_A}\nVH10000002,{SECRET_B}\n")
    run(path, capsys)
    before = Hub.objects.get(serial_number="VH10000001").factory_secret_hash
    assert run(path, capsys) == "0 created, 0 updated, 2 unchanged"
    assert Hub.objects.get(serial_number="VH10000001").factory_secret_hash == before

    path = write_csv(tmp_path, f"VH10000001,{SECRET_B}\nVH10000002,{SECRET_B}\n")
    assert run(path, capsys) == "0 created, 1 updated, 1 unchanged"
    assert check_password(SECRET_B, Hub.objects.get(serial_number="VH10000001").factory_secret_hash)
    assert Hub.objects.count() == 2


def test_a_bad_row_imports_nothing_and_names_the_rows(db, tmp_path):
    path = write_csv(tmp_path, f"VH10000001,{SECRET_A}\nbad serial!,{SECRET_B}\nVH10000003,tiny-secret\nVH10000001,{SECRET_B}\n")
    with pytest.raises(CommandError) as error:
        call_command("import_hubs", str(path))
    message = str(error.value)
    assert "row 2" in message and "row 3" in message and "row 4" in message
    assert SECRET_B not in message and "tiny-secret" not in message
    assert not Hub.objects.exists()


def test_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_hubs", str(tmp_path / "nope.csv"))
