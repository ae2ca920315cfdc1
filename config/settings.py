"""Settings for every environment, read from the process environment (django-environ).

`DJANGO_ENV` is `development` (default), `test` or `production`. Outside production anything
missing falls back to the embedded default (core/embedded.py); production refuses to start
unless every secret comes from the environment.
"""

import ipaddress
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import environ
from django.core.exceptions import ImproperlyConfigured

from core.embedded import embedded_database_settings, load_or_create_dev_secrets

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"
DATA_DIR = Path(env.str("HUB_DATA_DIR", default=str(BASE_DIR / ".data")))

DEBUG = env.bool("DEBUG", default=False)


def _secret(name: str, *, json_value: bool = False):
    """A secret from the environment; outside production, the generated development one."""
    raw = env.str(name, default="")
    if raw:
        return json.loads(raw) if json_value else raw
    if IS_PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return load_or_create_dev_secrets(DATA_DIR)[name]


SECRET_KEY = _secret("SECRET_KEY")
# Versioned secrets: {"<version>": "<secret>"}; the highest version signs or encrypts new data,
# every listed version still verifies or decrypts old data.
API_KEY_PEPPERS = _secret("API_KEY_PEPPERS", json_value=True)
CREDENTIAL_KEYS = _secret("CREDENTIAL_KEYS", json_value=True)
# {"<kid>": "<PEM private key>"}: the last one signs new tokens, all are published in the JWKS.
JWT_PRIVATE_KEYS = _secret("JWT_PRIVATE_KEYS", json_value=True)

if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")
    if SECRET_KEY.startswith("dev-") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY is a development or too-short key")
    if not env.str("DATABASE_URL", default=""):
        raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production")
    if any(kid.startswith("dev-") for kid in JWT_PRIVATE_KEYS):
        raise ImproperlyConfigured("JWT_PRIVATE_KEYS holds a development key")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so that its commands (createsuperuser) take the place of Django's own.
    "operations.apps.OperationsConfig",
    "operations.apps.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "core.apps.CoreConfig",
    "catalog",
    "tenancy",
    "identity",
    "audit",
    "outbox",
    "branding",
    "usage",
    "integrations",
    "exports",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApiExceptionMiddleware",
    "core.middleware.QueryParametersMiddleware",
    "usage.middleware.UsageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------------------------
# Our backend wraps django-prometheus' (query metrics) and names constraints fk_/idx_/uq_.
DATABASE_ENGINE = "core.db.backend"


def _database_from_url(variable: str) -> dict:
    database = env.db_url(variable)
    if not database.get("HOST") and "host" in database.get("OPTIONS", {}):
        # postgres://user@/name?host=/socket/dir is how libpq spells a Unix socket.
        database["HOST"] = database["OPTIONS"].pop("host")
    return database


# Behind a transaction-mode pooler (PgBouncer, docs/scaling.md): no session state survives a transaction.
DATABASE_POOLED = env.bool("DATABASE_POOLED", default=False)


def _connection_settings(database: dict) -> dict:
    # Transaction-mode poolers (PgBouncer) keep no session state between transactions: no
    # server-side cursors; psycopg's prepared statements are already off (Django's default).
    return {
        **database,
        "ENGINE": DATABASE_ENGINE,
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "DISABLE_SERVER_SIDE_CURSORS": DATABASE_POOLED,
        "OPTIONS": {"connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5), **database.get("OPTIONS", {})},
    }


if env.str("DATABASE_URL", default=""):
    _database = _database_from_url("DATABASE_URL")
    EMBEDDED_DATABASE = False
else:
    _database = embedded_database_settings(DATA_DIR)
    EMBEDDED_DATABASE = True
DATABASES = {"default": _connection_settings(_database)}
# A streaming replica for the heavy reads (core/db/routers.py); tests point it at the test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**_connection_settings(_database_from_url("DATABASE_REPLICA_URL")),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["core.db.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, token blacklist, permission cache): shared by every process ------------
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        CACHES["default"]["BACKEND"] = "core.cache.redis.HubRedisCache"  # core/cache/redis.py: why
        # What a Redis that stops answering costs, once per CACHE_RETRY_SECONDS (core/cache/faults.py).
        CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT_SECONDS", default=0.25),
                                        "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=0.5)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "hub_cache"}}
# After a call finds Redis out of reach, each process serves the cache as empty this long before trying again.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=1.0)

# --- Identity -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["identity.backends.PlatformStaffBackend"]
PASSWORD_HASHERS = ["identity.hashers.HubArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PLATFORM_TENANT_SLUG = "aza8"
PLATFORM_ADMIN_GROUP = "PLATFORM_ADMIN"
JWT_ISSUER = env.str("JWT_ISSUER", default="aza8-hub")
# `aud`: the hub and the tenant's entitled tools; the hub accepts it, a product its tool (docs/authentication.md).
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="aza8-hub")
ACCESS_TOKEN_LIFETIME = timedelta(minutes=env.int("ACCESS_TOKEN_LIFETIME_MINUTES", default=15))
REFRESH_TOKEN_LIFETIME = timedelta(days=env.int("REFRESH_TOKEN_LIFETIME_DAYS", default=14))
if not timedelta(days=7) <= REFRESH_TOKEN_LIFETIME <= timedelta(days=30):
    raise ImproperlyConfigured("REFRESH_TOKEN_LIFETIME_DAYS must be between 7 and 30")
# A rotated refresh token presented again this soon, while its successor is unused, gets that same
# successor pair back (a client's retry) instead of revoking its family (identity/sessions.py).
REFRESH_REUSE_GRACE_SECONDS = env.int("REFRESH_REUSE_GRACE_SECONDS", default=10)
SERVICE_TOKEN_LIFETIME = timedelta(minutes=env.int("SERVICE_TOKEN_LIFETIME_MINUTES", default=10))
# Spec §6: 5 login attempts per 15 minutes per IP + tenant + email; failures only, a success clears them (issue 26).
LOGIN_ATTEMPTS_LIMIT = env.int("LOGIN_ATTEMPTS_LIMIT", default=5)
LOGIN_ATTEMPTS_WINDOW_SECONDS = env.int("LOGIN_ATTEMPTS_WINDOW_SECONDS", default=15 * 60)
# An API key's last_used_at is written at most this often (not on every request).
API_KEY_LAST_USED_RESOLUTION = timedelta(seconds=60)
PERMISSION_CACHE_SECONDS = env.int("PERMISSION_CACHE_SECONDS", default=60)
# How long a principal's row may stay cached (identity/principal_rows.py); every write to it is seen
# at once regardless. 0 reads it from the database on every request.
PRINCIPAL_CACHE_SECONDS = env.int("PRINCIPAL_CACHE_SECONDS", default=60)
PRODUCT_DECISION_MAX_AGE_SECONDS = min(env.int("PRODUCT_DECISION_MAX_AGE_SECONDS", default=60), 60)  # docs/rbac.md
INVITATION_LIFETIME = timedelta(days=env.int("INVITATION_LIFETIME_DAYS", default=7))

# --- Operating profile --------------------------------------------------------------------------
OPS_PROFILE = env.str("OPS_PROFILE", default="mvp")
if OPS_PROFILE not in {"mvp", "standard", "enterprise"}:
    raise ImproperlyConfigured("OPS_PROFILE must be mvp, standard or enterprise")

# Days each kind of row is kept, by operating profile (the working notes' "perfis operacionais").
# There is no archive tier yet, so the profiles that archive (standard: 12 months, enterprise: at
# least 2 years) keep that whole period in the database rather than lose it.
RETENTION_DAYS = {
    "mvp": {"audit_log": 90, "usage_metric": 365, "webhook_delivery": 30},
    "standard": {"audit_log": 365, "usage_metric": 396, "webhook_delivery": 90},
    "enterprise": {"audit_log": 730, "usage_metric": 1096, "webhook_delivery": 180},
}

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # JSON is the only format: `?format=` is no parameter of any operation (and so a 400).
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.HubJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["identity.authentication.HubAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["identity.permissions.ToolActionPermission"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.HubAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.ratelimit.TenantRateThrottle"],
    "UNAUTHENTICATED_USER": None,
}
# Where Idempotency-Key records are kept (core/api/idempotency.py): the tenant's rows, in the audit app.
IDEMPOTENCY_STORE = "audit.idempotency.DatabaseIdempotencyStore"
# How long a running request holds its key: after a crash or a lost connection, a retry takes the
# key over once this ends (409 IDEMPOTENCY_IN_PROGRESS with Retry-After until then).
IDEMPOTENCY_LEASE = timedelta(seconds=env.int("IDEMPOTENCY_LEASE_SECONDS", default=30))
# Values under these keys are the tenant's own data (flag names, audit metadata): never renamed.
JSON_CAMEL_CASE = {
    "JSON_UNDERSCOREIZE": {"no_underscore_before_number": False, "ignore_fields": ("flags", "metadata"), "ignore_keys": None},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aza8 Hub API",
    "DESCRIPTION": "Control plane for Aza8 products: catalog, tenants, identity, authorization.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The contract is public: products generate clients from it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "CAMELIZE_NAMES": True,
    # Request bodies get their own components: closed (core/api/schema.py) and with their strings
    # non-blank where the hub refuses blanks.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "core.db.models.Status",
        "ApiKeyStatusEnum": "identity.models.ApiKeyStatus", "ApiKeyProfileEnum": "identity.models.ApiKeyProfile",
        "ProductCredentialStatusEnum": "identity.models.ProductCredentialStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
    ],
}
# Requests per minute per tenant (auth: per client address), overridable per tenant in
# tenant_config.limits.rateLimits.
# /health trusts a successful broker check this long (core/observability/health.py).
HEALTH_BROKER_CHECK_SECONDS = env.float("HEALTH_BROKER_CHECK_SECONDS", default=10.0)

RATE_LIMITS = {
    "auth": env.int("RATE_LIMIT_AUTH_PER_MINUTE", default=60),
    "read": env.int("RATE_LIMIT_READ_PER_MINUTE", default=1200),
    "write": env.int("RATE_LIMIT_WRITE_PER_MINUTE", default=300),
    "product": env.int("RATE_LIMIT_PRODUCT_PER_MINUTE", default=6000),  # per product credential, any tenant
}
# Hub routes' usage counts wait in each process this long before one upsert writes them
# (0: no background flusher; counts are written by explicit flushes only, as in the tests).
USAGE_FLUSH_SECONDS = env.float("USAGE_FLUSH_SECONDS", default=5.0)
# Webhook URLs on private or loopback networks (and plain http) are refused unless this is set:
# development and tests deliver to receivers on this machine.
# How long a finished tenant export can be downloaded before it is deleted.
EXPORT_LIFETIME = timedelta(hours=env.int("EXPORT_LIFETIME_HOURS", default=72))
# A running export whose worker died is taken over by the sweep after this long.
EXPORT_STALE_AFTER = timedelta(minutes=env.int("EXPORT_STALE_AFTER_MINUTES", default=30))
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# How long a claimed delivery stays reserved for the worker that claimed it (it retries elsewhere
# after this if that worker died mid-request).
WEBHOOK_LEASE_SECONDS = env.float("WEBHOOK_LEASE_SECONDS", default=WEBHOOK_TIMEOUT_SECONDS + 30)
# How many webhooks one worker process has in flight (threads: the requests wait on the network).
WEBHOOK_DELIVERY_CONCURRENCY = env.int("WEBHOOK_DELIVERY_CONCURRENCY", default=32)
WEBHOOK_SECRET_GRACE = timedelta(hours=env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24))
# How many days a subscription may fail every attempt before it is disabled.
WEBHOOK_DISABLE_AFTER = timedelta(days=env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5))
# How many reverse proxies in front of the hub append to X-Forwarded-For (0: trust none).
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)

# --- Celery ---------------------------------------------------------------------------------------
def _sqlalchemy_broker_url(database: dict) -> str:
    """kombu's SQLAlchemy transport on the hub's own database: the no-extra-server broker."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = database.get("HOST") or ""
    name = database["NAME"]
    if host.startswith("/"):
        return f"sqla+postgresql+psycopg://{credentials}/{name}?host={quote(host, safe='/')}"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"sqla+postgresql+psycopg://{credentials}{host}{port}/{name}"


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or _sqlalchemy_broker_url(DATABASES["default"])
CELERY_BROKER_POLLING_INTERVAL = env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.2)
# A publish to a broker out of reach gives up after about one of these (kombu's default waits forever
# on a silent Redis); the event waits in the outbox for the sweep (outbox/services.py trigger_drain).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT_SECONDS", default=1.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # the SQLAlchemy transport's go to create_engine()
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
                                       "socket_timeout": CELERY_BROKER_CONNECTION_TIMEOUT}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Keep our JSON logging in workers instead of Celery's plain-text handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks that `manage.py seed` writes into django-celery-beat (crontab fields, UTC).
HUB_PERIODIC_TASKS = {
    "drain-outbox": {"task": "outbox.tasks.drain_outbox", "crontab": {"minute": "*"}},
    "retention": {"task": "operations.tasks.run_retention", "crontab": {"minute": "17"}},
    "sweep-exports": {"task": "exports.tasks.sweep_exports", "crontab": {"minute": "*/5"}},
    "reencrypt-credentials": {"task": "operations.tasks.reencrypt_credentials", "crontab": {"minute": "41", "hour": "3"}},
    "announce-expired-packages": {"task": "operations.tasks.announce_expired_packages", "crontab": {"minute": "*"}},
}

# --- Observability (docs/observability.md) -----------------------------------------------------
# /metrics answers a bearer METRICS_TOKEN or callers inside these networks (none by default, not
# even loopback: a proxy on the same host would otherwise expose it to everyone).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network, strict=False) for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="") or None
# OpenTelemetry is switched on by its standard variable; the exporter reads the OTEL_* variables itself.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="aza8-hub")

# --- Internationalisation, static files -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = USE_TZ = True
FORMAT_MODULE_PATH = ["operations.formats"]  # times shown to staff name their zone (operations/formats/en)
STATIC_URL = "static/"
# collectstatic target for production images; elsewhere whitenoise serves from the apps directly.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or (str(BASE_DIR / "staticfiles") if IS_PRODUCTION else None)
# Outside production whitenoise serves straight from the apps, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security headers -----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging: one JSON line per event, secrets scrubbed (core/observability/logging.py) -----------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING_CONFIG = None
from core.observability.logging import configure_logging  # noqa: E402  (needs LOG_LEVEL above)

configure_logging(LOG_LEVEL)

SILENCED_SYSTEM_CHECKS = [
    # Emails are unique per tenant, not globally; PlatformStaffBackend looks staff up in the
    # platform tenant only, which is what makes the USERNAME_FIELD unambiguous.
    "auth.W004",
    # PostgreSQL allows 63-character identifiers; Django's 30-character index-name check is for
    # Oracle, and our names follow idx_<table>_<columns>.
    "models.E034",
]
