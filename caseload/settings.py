"""Caseload settings: one module, configured by environment variables.

The embedded default (no variables set) is a SQLite file under var/, the database task
backend, local file storage and email to the console. Production sets DEBUG=false and at
least SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CASELOAD_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    """A string from the environment, or from the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    if key := env("SECRET_KEY"):
        return key
    if not DEBUG and env("DATABASE_URL"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off outside the embedded default")
    # The embedded default generates one key, once, and keeps it under var/.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "rules.apps.AutodiscoverRulesConfig",
    "caseload.tenancy",
    "caseload.accounts",
    "caseload.audit",
    "caseload.messaging",
    "caseload.scheduling",
    "caseload.clients",
    "caseload.casework",
    "caseload.formbuilder",
    "caseload.delivery",
    "caseload.documents",
    "caseload.outcomes",
    "caseload.portal",
    "caseload.web",
    "caseload.api",
    "caseload.bench",  # manage.py bench and bench_growth (no models, URLs or middleware)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "caseload.web.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "caseload.accounts.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "caseload.audit.context.AuditContextMiddleware",
    "caseload.tenancy.middleware.CurrentAgencyMiddleware",
    "caseload.accounts.middleware.TwoFactorRequiredMiddleware",
    "caseload.api.middleware.IdempotencyKeyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "caseload.urls"
WSGI_APPLICATION = "caseload.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "caseload.tenancy.context_processors.agency",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

# Django's form renderer, with select boxes written in Python (the same HTML; caseload.web.renderer).
FORM_RENDERER = "caseload.web.renderer.FormRenderer"

# --- Database ------------------------------------------------------------------------------

DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'caseload.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web process and the task worker share the file: WAL, immediate transactions and a
    # busy timeout keep them from tripping over each other ("database is locked").
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No parallel workers for a page's query by default: starting one costs milliseconds (9 ms measured
    # on the dashboard's task list, a 1 ms query), and on a modest server the cores serve other requests.
    # DB_PARALLEL_WORKERS=2 gives reports on a larger server PostgreSQL's own parallel plans back.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c max_parallel_workers_per_gather={env_int('DB_PARALLEL_WORKERS', 0)}"
    )
    # Each connection keeps the plans of the statements it runs most (a statement run five times is prepared;
    # psycopg keeps the last hundred): planning was most of a page's database time (the history feed's thirteen
    # joined reads plan in 15 ms and run in 4). Server-side binding sends parameters apart from the SQL, which
    # preparing needs. DB_PREPARED_STATEMENTS=false behind a pooler that cannot keep them (PgBouncer's
    # transaction mode before 1.21).
    if env_bool("DB_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and log-in -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Sessions expire after this many seconds without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
# Activity pushes the expiry ahead, written at most once per SESSION_REFRESH_SECONDS
# (caseload.accounts.middleware.SessionRefreshMiddleware), not on every request.
SESSION_ENGINE = "caseload.accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 6)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "caseload.accounts.views.locked_out"
AXES_VERBOSE = False
# Axes stores the form fields of a failed attempt; a two-factor code is masked like the password.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_code"]
# axes.W006 asks to lock by IP address too: deliberately not. The staff of an office share one
# public IP, so one person's typos (or an attacker) would lock out the whole office; the lock is
# per account, and django-otp throttles wrong two-factor codes per device.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = "Caseload"

# --- API -----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "caseload.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["caseload.api.permissions.IsAgencyMember"],
    "DEFAULT_PAGINATION_CLASS": "caseload.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "caseload.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "20/minute"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 30)),
    "AUTO_REFRESH": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Caseload API",
    "DESCRIPTION": "Case management for human-services agencies.\n\n"
    "**Log in**: `POST /api/v1/auth/token/` with your email, password and (when two-factor is on) "
    "`otp_code`, then send `Authorization: Token <token>`; in the browser, your session works too.\n\n"
    "**Agency**: every endpoint acts in one of your agencies (header `X-Agency`: its id or short name; "
    "default your first). Another agency's objects answer 404.\n\n"
    "**Retries**: send `Idempotency-Key` on a write; the same key within 24 hours replays the first "
    "answer instead of writing twice.\n\n"
    '**Errors** are JSON: `{"type": ..., "errors": [{"code", "detail", "attr"}]}`, '
    "where `attr` names the field, query parameter or header at fault.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The schema and the docs are public (an open-source API; no agency data in them).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI served from the app (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # 150 operations: render each tag's operations when it is opened, not all at once.
    "SWAGGER_UI_SETTINGS": {"docExpansion": "none", "filter": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SettlementPlanStatusEnum": "caseload.delivery.models.SettlementPlan.Status",
        "PlanGoalStatusEnum": "caseload.delivery.models.PlanGoal.Status",
        "PlanGoalAreaEnum": "caseload.delivery.models.PlanGoal.Area",
        "PlanClosingStatusEnum": "caseload.delivery.api_plans.CLOSING_CHOICES",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "ClientStatusEnum": "caseload.clients.models.Client.Status",
        "PhoneKindEnum": "caseload.clients.models.ClientPhone.Kind",
        "ReferralKindEnum": "caseload.clients.models.Referral.Kind",
        "ReferralStatusEnum": "caseload.clients.models.ReferralStatus",
        "ClientImportStatusEnum": "caseload.clients.models.ClientImport.Status",
        "BatchKindEnum": "caseload.casework.models.BatchAction.Kind",
        "NoteTypeEnum": "caseload.casework.models.CaseNote.Type",
        "NoteStatusEnum": "caseload.casework.models.CaseNote.Status",
        "CommunicationKindEnum": "caseload.casework.models.Communication.Kind",
        "CommunicationDirectionEnum": "caseload.casework.models.Communication.Direction",
        "CommunicationStatusEnum": "caseload.casework.models.Communication.Status",
        "TaskStatusEnum": "caseload.casework.models.Task.Status",
        "ServiceReferralKindEnum": "caseload.casework.models.ServiceReferral.Kind",
        "ServiceReferralStatusEnum": "caseload.casework.models.ServiceReferral.Status",
        "MessageStatusEnum": "caseload.messaging.models.OutboundMessage.Status",
        "MessageChannelEnum": "caseload.messaging.models.OutboundMessage.Channel",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "caseload.api.schema.list_error_attrs_as_patterns",
    ],
}
# 409 (delete of an object in use) and 422 (Idempotency-Key reused) are documented per operation
# by caseload.api.schema.AutoSchema.
DRF_STANDARDIZED_ERRORS = {
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "415", "429"],
    # Adds 503 + Retry-After when the database is unavailable.
    "EXCEPTION_HANDLER_CLASS": "caseload.api.errors.ExceptionHandler",
}

# --- Cache (log-in and API throttles) -----------------------------------------------------

CACHE_URL = env("CACHE_URL")  # e.g. redis://127.0.0.1:6379/1 when there is more than one web process
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Background work -----------------------------------------------------------------------

TASK_BACKEND = env("TASK_BACKEND", "database")  # database | rq | immediate
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
_task_backends = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
TASKS = {"default": _task_backends[TASK_BACKEND]}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
# `manage.py rqworker` must run jobs through django-tasks-rq's Job class.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
TASK_RESULTS_KEEP_DAYS = env_int("TASK_RESULTS_KEEP_DAYS", 7)
if TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")

# --- Email, SMS and the outbox ------------------------------------------------------------

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A send must finish well inside OUTBOX_SEND_LEASE_SECONDS, or it is marked uncertain.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Caseload <no-reply@caseload.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {key[len("ANYMAIL_") :]: value for key, value in os.environ.items() if key.startswith("ANYMAIL_")}

SMS_BACKEND = env("SMS_BACKEND", "caseload.messaging.sms.OutboxOnlyBackend")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_SEND_LEASE_SECONDS = env_int("OUTBOX_SEND_LEASE_SECONDS", 300)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 60 * 60)
OUTBOX_REDISPATCH_SECONDS = env_int("OUTBOX_REDISPATCH_SECONDS", 300)
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", "CA")
# A background check or import of clients that has shown no sign of life for this long lost its
# worker: clients.recover_stalled_imports (every 5 minutes) marks it failed so it can be run again.
# Keep it well above the longest step without progress (the final write of a 20,000-row import).
CLIENT_IMPORT_STALL_SECONDS = env_int("CLIENT_IMPORT_STALL_SECONDS", 600)
# The most clients one batch action (the same note, communication, task or supportive service for
# each) or one saved client list may hold: one transaction must stay short enough not to hold up others.
CASEWORK_BATCH_MAX_CLIENTS = env_int("CASEWORK_BATCH_MAX_CLIENTS", 2000)

# --- Files ---------------------------------------------------------------------------------

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "files")))
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": env("FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest file a case note may carry (checked by casework.notes.check_upload).
CASEWORK_ATTACHMENT_MAX_BYTES = env_int("CASEWORK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# The largest file a client's document archive takes (checked by documents.actions.upload_document).
DOCUMENTS_MAX_BYTES = env_int("DOCUMENTS_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Languages and time ---------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "caseload" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security ------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG and env_bool("HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
