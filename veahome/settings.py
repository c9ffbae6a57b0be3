"""Settings, read from the environment with working local defaults (see .env.example)."""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default key only serves local development: with DEBUG off nothing starts on it
# (veahome/startup.py); scripts/run writes a random one into .env.
SECRET_KEY = env("SECRET_KEY", default="veahome-local-development-key-not-for-production-use")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "homes",
    "hubs",
    "devices",
    "automations",
    "energy",
    "alerts",
    "realtime",
]

# Run as a sync chain on the request's thread, under ASGI too (veahome/handlers.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "veahome.urls"
ASGI_APPLICATION = "veahome.asgi.application"
# Requests running Django's sync code at once in each web process (veahome/handlers.py);
# raise it when views wait on slow I/O rather than the CPU.
WEB_THREADS = env.int("WEB_THREADS", default=2)
WSGI_APPLICATION = "veahome.wsgi.application"
# Paths without a trailing slash are part of the app's contract; never redirect them.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/veahome")}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
if env.bool("DB_POOL", default=False):
    # psycopg's pool; Django refuses CONN_MAX_AGE together with it.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=2),
        "max_size": env.int("DB_POOL_MAX", default=10),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Celery worker processes keep their connection this long (veahome/celery.py); 0 = per task.
WORKER_DB_CONN_MAX_AGE = env.int("WORKER_DB_CONN_MAX_AGE", default=600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default="redis://127.0.0.1:6379/2"),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="veahome"),
    }
}

AUTH_USER_MODEL = "homes.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# The app's contract: at least 6 characters (the seed's own example uses "password123").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 6}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Bodies above this are refused with 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=1_048_576)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["homes.authentication.LazyUserJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["veahome.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "veahome.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "veahome.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"auth": env("AUTH_THROTTLE_RATE", default="30/min")},
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# JSON documents that belong to the client are stored and returned with their keys untouched.
JSON_CAMEL_CASE = {"JSON_UNDERSCOREIZE": {
    "no_underscore_before_number": True,
    "ignore_fields": (
        "layout",
        "signal_mappings",
        "device_states",
        "state",
        "desired_state",
        "reported_state",
        "trigger",
        "conditions",
        "actions",
        "location",
    ),
    "ignore_keys": None,
}}

# Access and refresh tokens are signed with JWT_SECRET when it is set, else with SECRET_KEY.
JWT_SIGNING_KEY_SET_APART = bool(env("JWT_SECRET", default=""))
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    # Rotation and revocation are homes.sessions' (refresh-token families in RefreshSession).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": False,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env("JWT_SECRET", default="") or SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "VeaHome cloud API",
    "DESCRIPTION": "The mobile app's REST contract. Errors share one shape: "
    '{"error": {"code", "message", "fields"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Swagger UI's scripts, styles and icon come from this project's static files
    # (drf-spectacular-sidecar), never from a CDN: /api/docs works without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/1")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="veahome")

MQTT_URL = env("MQTT_URL", default="mqtt://127.0.0.1:1883")
MQTT_TOPIC_PREFIX = env("MQTT_TOPIC_PREFIX", default="")
INFLUXDB_URL = env("INFLUXDB_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- History and energy (energy/) ---
# INFLUXDB_URL (above) switches the time-series store from PostgreSQL tables to InfluxDB.
INFLUXDB_DATABASE = env("INFLUXDB_DATABASE", default="veahome")
INFLUXDB_TOKEN = env("INFLUXDB_TOKEN", default="")
INFLUXDB_USERNAME = env("INFLUXDB_USERNAME", default="")
INFLUXDB_PASSWORD = env("INFLUXDB_PASSWORD", default="")
INFLUXDB_TIMEOUT = env.float("INFLUXDB_TIMEOUT", default=10.0)
ENERGY_RAW_RETENTION_DAYS = env.int("ENERGY_RAW_RETENTION_DAYS", default=400)
ENERGY_UPDATE_THROTTLE_SECONDS = env.float("ENERGY_UPDATE_THROTTLE_SECONDS", default=5.0)
ENERGY_LIVE_MAX_AGE_SECONDS = env.int("ENERGY_LIVE_MAX_AGE_SECONDS", default=900)
ENERGY_HISTORY_MAX_POINTS = env.int("ENERGY_HISTORY_MAX_POINTS", default=500)
ENERGY_ROLLUP_INTERVAL_SECONDS = env.int("ENERGY_ROLLUP_INTERVAL_SECONDS", default=60)
ENERGY_INGEST_THROTTLE_RATE = env("ENERGY_INGEST_THROTTLE_RATE", default="120/min")
# httpx logs every InfluxDB request at INFO.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}

# --- Hubs: broker administration, hub provisioning, pairing ---
# The broker's dynamic-security admin account (mqtt://user:password@host:port); empty
# disables per-hub credentials (provisioning answers 503).
MQTT_ADMIN_URL = env("MQTT_ADMIN_URL", default="")
# The broker address handed to hubs at provisioning, when it differs from MQTT_URL's.
MQTT_PUBLIC_URL = env("MQTT_PUBLIC_URL", default="")
MQTT_DYNSEC_PLUGIN = env("MQTT_DYNSEC_PLUGIN", default="")
MQTT_MAX_QUEUED_MESSAGES = env.int("MQTT_MAX_QUEUED_MESSAGES", default=100_000)
MQTT_MAX_INFLIGHT_MESSAGES = env.int("MQTT_MAX_INFLIGHT_MESSAGES", default=100)
MQTT_AUTOSAVE_CHANGES = env.int("MQTT_AUTOSAVE_CHANGES", default=1000)
HUB_PROVISION_THROTTLE_RATE = env("HUB_PROVISION_THROTTLE_RATE", default="10/min")

# --- REST contract: strict types, error paths, OpenAPI ------------------------------------
# The throttle reads this (homes.api.views.AuthThrottle), so the env var really applies.
AUTH_THROTTLE_RATE = env("AUTH_THROTTLE_RATE", default="30/min")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] = AUTH_THROTTLE_RATE
# Client addresses (throttles, login protection) are the TCP peer's, unless the peer is one of
# TRUSTED_PROXIES: then the web process takes the address from X-Forwarded-For (uvicorn's
# proxy headers, configured in veahome/serve.py), so DRF reads REMOTE_ADDR as it is.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
REST_FRAMEWORK["NUM_PROXIES"] = 0
# Invitations to a home (POST homes/{homeId}/members): how long one stays open, and how many
# an account may send (per user, DRF rate syntax; docs/api.md, Members).
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=14)
INVITE_THROTTLE_RATE = env("INVITE_THROTTLE_RATE", default="20/hour")
# Login protection (homes/login_protection.py; docs/operations.md): failures per account and
# client before that client is locked out of the account, failures per account (all clients)
# before every client not known to the account is, and how long a lock (and a failure) lasts.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
LOGIN_COOLOFF_SECONDS = env.int("LOGIN_COOLOFF_SECONDS", default=900)
# A client that logged in successfully stays known to the account this long (device cookie, address).
LOGIN_KNOWN_CLIENT_DAYS = env.int("LOGIN_KNOWN_CLIENT_DAYS", default=90)
# The app reads numbers as numbers: temperatures, coordinates and values are JSON numbers.
REST_FRAMEWORK["COERCE_DECIMAL_TO_STRING"] = False
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "veahome.openapi.AutoSchema"
# Error paths (veahome.errors) are camelCased there already; their tails are document keys.
JSON_CAMEL_CASE["JSON_UNDERSCOREIZE"]["ignore_fields"] += ("fields",)
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].append("veahome.openapi.camelize_path_ids")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "RoleEnum": "homes.scoping.Role",
    "AssignableRoleEnum": ["admin", "member", "guest"],
    # Two models have a `status`: the hub's keeps the name it had before invitations came.
    "StatusEnum": "hubs.models.Hub.Status",
    "InvitationStatusEnum": "homes.models.Invitation.Status",
    # A device's type, and the kind of a run's action.
    "TypeEnum": "devices.models.DeviceType",
    "ActionTypeEnum": ["device", "group", "scene"],
}

# --- Support admin, demo data and serving (static files, web server) -----------------------
# The web process serves the admin's and the API docs' static files itself (after collectstatic).
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "whitenoise.middleware.WhiteNoiseMiddleware")
# The API's hot paths (see bench/rest_devices.py): a memoised camelCase renderer and a filter
# backend that costs nothing on a request without query parameters.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["veahome.renderers.CamelCaseJSONRenderer"]
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = ["veahome.api.FilterBackend"]

# What one home may hold (a create beyond it is a 409 `home_limit`; docs/api.md).
HOME_MAX_DEVICES = env.int("HOME_MAX_DEVICES", default=500)
HOME_MAX_SCENES = env.int("HOME_MAX_SCENES", default=200)
HOME_MAX_SCHEDULES = env.int("HOME_MAX_SCHEDULES", default=200)
HOME_MAX_AUTOMATIONS = env.int("HOME_MAX_AUTOMATIONS", default=200)
HOME_MAX_DEVICE_GROUPS = env.int("HOME_MAX_DEVICE_GROUPS", default=100)
# Largest client JSON document (scene states, schedule and automation documents, layout,
# signal mappings), in bytes of compact UTF-8 JSON.
JSON_DOCUMENT_MAX_BYTES = env.int("JSON_DOCUMENT_MAX_BYTES", default=65_536)

# --- Live updates (realtime/) ---
# The pub/sub layer: a publish is one Redis PUBLISH per home, fanned out inside each web
# process, instead of one list push per socket (bench/realtime_fanout.py, docs/websocket.md).
# realtime/events.py writes its messages itself, so no encryption or prefix settings here.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="veahome")},
    }
}
# Events a socket may have queued before it counts as too slow and is closed (code 4429).
REALTIME_CLIENT_BUFFER = env.int("REALTIME_CLIENT_BUFFER", default=2000)
# Per-home history for resume: at most this many events, none older than this.
REALTIME_HISTORY_MAXLEN = env.int("REALTIME_HISTORY_MAXLEN", default=1000)
REALTIME_HISTORY_SECONDS = env.int("REALTIME_HISTORY_SECONDS", default=3600)
REALTIME_AUTH_TIMEOUT = env.float("REALTIME_AUTH_TIMEOUT", default=5.0)
REALTIME_HEARTBEAT_TIMEOUT = env.float("REALTIME_HEARTBEAT_TIMEOUT", default=60.0)
# Off by default: a token in a URL ends up in proxies' logs.
REALTIME_QUERY_TOKEN = env.bool("REALTIME_QUERY_TOKEN", default=False)
# Browser origins admitted on /ws, compared exactly (realtime/origin.py); empty: the server's
# own origin and hosts ALLOWED_HOSTS names literally (its `*` admits no one).
REALTIME_ALLOWED_ORIGINS = env.list("REALTIME_ALLOWED_ORIGINS", default=[])

# --- Device control, learning and the MQTT ingest listener ---
# A command no state report confirms within this many seconds is marked expired.
COMMAND_TIMEOUT_SECONDS = env.int("COMMAND_TIMEOUT_SECONDS", default=10)
# Pairing: how long a hub's pair button lets its bare serial claim it; app pairing attempts per user.
HUB_CLAIM_WINDOW_SECONDS = env.int("HUB_CLAIM_WINDOW_SECONDS", default=300)
HUB_PAIR_THROTTLE_RATE = env("HUB_PAIR_THROTTLE_RATE", default="20/hour")
LEARN_SESSION_TIMEOUT_SECONDS = env.int("LEARN_SESSION_TIMEOUT_SECONDS", default=60)
# A hub silent for this long is marked offline by the sweep (hubs heartbeat at a third of it).
HUB_HEARTBEAT_TIMEOUT_SECONDS = env.int("HUB_HEARTBEAT_TIMEOUT_SECONDS", default=180)
# The listener's MQTT client id: stable, so the broker keeps its session across restarts;
# every listener process needs its own.
MQTT_LISTENER_ID = env("MQTT_LISTENER_ID", default="")
# Shared-subscription group (`$share/<group>/...`); empty subscribes plainly (one listener).
MQTT_SHARED_GROUP = env("MQTT_SHARED_GROUP", default="veahome")
MQTT_SESSION_EXPIRY_SECONDS = env.int("MQTT_SESSION_EXPIRY_SECONDS", default=86_400)
MQTT_INGEST_BATCH_SIZE = env.int("MQTT_INGEST_BATCH_SIZE", default=500)
MQTT_INGEST_BATCH_MS = env.int("MQTT_INGEST_BATCH_MS", default=5)
# Alert notifications: mail through SMTP by default (EMAIL_URL-less: host and port), signed
# webhooks for push (alerts/notify.py).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="VeaHome alerts <alerts@veahome.local>")
NOTIFY_WEBHOOK_TIMEOUT = env.float("NOTIFY_WEBHOOK_TIMEOUT", default=5.0)
# QoS 1 messages the hub publisher keeps in flight before it waits for PUBACKs.
MQTT_PUBLISH_MAX_INFLIGHT = env.int("MQTT_PUBLISH_MAX_INFLIGHT", default=1000)
