"""The Celery application shared by the worker and beat processes."""
import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

app = Celery("veahome")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_insecure_settings(**kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from veahome.startup import refuse_insecure_settings

    try:
        refuse_insecure_settings()
    except ImproperlyConfigured as error:
        # Celery logs an exception raised by a signal handler and starts anyway: stop here.
        logging.getLogger(__name__).critical("%s", error)
        logging.shutdown()
        os._exit(2)


@worker_init.connect
def _keep_database_connections(**kwargs):
    """A worker's processes keep their database connection from task to task.

    Celery closes a task's connections when it ends if they are older than CONN_MAX_AGE, and
    the web's default of 0 would open a new PostgreSQL connection for every task: milliseconds
    added to every automation run and tick. Workers keep theirs for WORKER_DB_CONN_MAX_AGE
    seconds, checked before each task reuses it (a database restart costs one failed check,
    not a failed task). Runs in the main process before the pool forks, so every child has it.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "pool" not in database.get("OPTIONS", {}) and settings.WORKER_DB_CONN_MAX_AGE:
        database["CONN_MAX_AGE"] = settings.WORKER_DB_CONN_MAX_AGE
        database["CONN_HEALTH_CHECKS"] = True


@worker_process_init.connect
def _get_ready(**kwargs):
    """A pool process readies what its tasks need before it takes the first one: the modules a
    run imports on its way, its database connection, the hub publisher's broker connection.
    Otherwise the first automation runs after a start pay for all of it (a few hundred ms),
    and the hub gets those commands late. A broker that is down now is connected later, on
    the first publish, as without this."""
    import importlib

    from django.db import connection

    for module in ("automations.engine.runtime", "automations.actions", "automations.scheduler",
                   "devices.services", "devices.fanout"):
        importlib.import_module(module)
    connection.ensure_connection()
    from hubs.mqtt import publisher

    try:
        publisher.client()
    except Exception as error:
        logging.getLogger(__name__).warning("hub publisher not connected yet: %s", error)
