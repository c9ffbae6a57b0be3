"""The Celery application shared by the worker and beat processes."""
import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_init

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
