"""Write the project's Mosquitto configuration and/or converge the backend's broker account."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hubs import broker, broker_config
from hubs.mqtt.publisher import broker_params


def _account(url: str, name: str) -> broker_config.Account:
    params = broker_params(url) if url else {}
    if not params.get("username") or not params.get("password"):
        raise CommandError(f"{name} must carry a username and password (mqtt://user:password@host:port)")
    return broker_config.Account(params["username"], params["password"])


class Command(BaseCommand):
    help = (
        "--config-dir DIR: write DIR/mosquitto.conf and, if missing, the dynamic-security file "
        "with the admin (MQTT_ADMIN_URL) and backend (MQTT_URL) accounts. "
        "--accounts: on a running broker, create or update the backend's account and role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--config-dir", type=Path, help="where the broker's config and data live")
        parser.add_argument("--bind", default="127.0.0.1", help="listener address (default 127.0.0.1)")
        parser.add_argument("--run-as", help="the user the broker runs as (default: whoever runs this command)")
        parser.add_argument("--accounts", action="store_true", help="converge accounts on the running broker")

    def handle(self, *args, config_dir=None, bind="127.0.0.1", accounts=False, run_as=None, **options):
        if config_dir is None and not accounts:
            raise CommandError("give --config-dir DIR, --accounts, or both")
        admin = _account(settings.MQTT_ADMIN_URL, "MQTT_ADMIN_URL")
        backend = _account(settings.MQTT_URL, "MQTT_URL")
        if config_dir is not None:
            port = broker_params(settings.MQTT_URL)["port"]
            path = broker_config.write(data_dir=config_dir, host=bind, port=port, admin=admin, backend=backend, run_as=run_as)
            self.stdout.write(f"wrote {path}")
        if accounts:
            try:
                broker.backend_account_set(username=backend.username, password=backend.password)
            except broker.BrokerError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                broker.reset()
            self.stdout.write(f"broker account {backend.username} ready")
