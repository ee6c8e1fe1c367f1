"""Project settings, read from the environment (django-environ); every value has a safe default."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Outside DEBUG a real secret is required; the fallback only ever serves a local first look.
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-only-key" if DEBUG else None)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local first look).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "gpbsite.apps.ControlTowerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_q",
    "courses",
    "sync",
    "sandbox",
    "api",
    "teachers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gpbsite.urls"
WSGI_APPLICATION = "gpbsite.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The importer writes from several threads: take the write lock at BEGIN (no upgrade
    # deadlocks), wait for it instead of failing, and let readers run beside a writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GPB control tower API",
    "DESCRIPTION": "Grade passback (Canvas to Infinite Campus) violations and compliance.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Runs and grade outcomes both have a "status": give each choice set its own name.
    "ENUM_NAME_OVERRIDES": {
        "SyncRunStatusEnum": "sync.models.SyncRun.Status",
        "GradeOutcomeStatusEnum": "sync.models.GradeOutcome.Status",
    },
}

# django-q2: the ORM broker by default (nothing else to run); Redis when REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "gpb",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=3600),
    # A task whose worker died (never acknowledged) is handed out again after this long.
    "retry": env.int("Q_RETRY", default=env.int("Q_TIMEOUT", default=3600) + 300),
    "max_attempts": 1,
    "catch_up": False,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# The same brokers with an interactive lane that workers take from first (sync/lanes.py).
Q_CLUSTER["broker_class"] = "sync.lanes.RedisLanes" if REDIS_URL else "sync.lanes.OrmLanes"

# Canvas (section 4 of ARCHITECTURE.md).
CANVAS_BASE_URL = env("CANVAS_BASE_URL", default="http://127.0.0.1:8765")
CANVAS_TOKEN = env("CANVAS_TOKEN", default="sandbox-token")
CANVAS_ACCOUNT_ID = env.int("CANVAS_ACCOUNT_ID", default=1)
CANVAS_TIMEOUT = env.float("CANVAS_TIMEOUT", default=60.0)
CANVAS_MAX_RETRIES = env.int("CANVAS_MAX_RETRIES", default=6)
IMPORT_CONCURRENCY = env.int("IMPORT_CONCURRENCY", default=4)
# Teacher sign-in with Canvas (OAuth2): the developer key; the defaults are the sandbox's.
CANVAS_OAUTH_CLIENT_ID = env("CANVAS_OAUTH_CLIENT_ID", default="10000000000001")
CANVAS_OAUTH_CLIENT_SECRET = env("CANVAS_OAUTH_CLIENT_SECRET", default="sandbox-developer-key")
# Fernet key(s) encrypting teachers' Canvas tokens at rest; empty: derived from SECRET_KEY.
TOKEN_ENCRYPTION_KEY = env("TOKEN_ENCRYPTION_KEY", default="")
LOGIN_URL = "teachers:login"

# Infinite Campus OneRoster gradebook (section 6).
SIS_BASE_URL = env("SIS_BASE_URL", default="")
SIS_TOKEN_URL = env("SIS_TOKEN_URL", default="")
SIS_CLIENT_ID = env("SIS_CLIENT_ID", default="")
SIS_CLIENT_SECRET = env("SIS_CLIENT_SECRET", default="")
SIS_VENDOR_KEY = env("SIS_VENDOR_KEY", default="")
SIS_VENDOR_SECRET = env("SIS_VENDOR_SECRET", default="")
SIS_ONEROSTER_VERSION = env("SIS_ONEROSTER_VERSION", default="1.2")
SIS_MAX_CONCURRENCY = env.int("SIS_MAX_CONCURRENCY", default=4)

# The GPB rule book defaults (DistrictPolicy starts from these).
GPB_NAME_MAX_LENGTH = env.int("GPB_NAME_MAX_LENGTH", default=30)
GPB_SYNC_WINDOW_DAYS = env.int("GPB_SYNC_WINDOW_DAYS", default=30)

# E-mail for compliance reports.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="gpb-dashboard@localhost")
REPORT_RECIPIENTS = env.list("REPORT_RECIPIENTS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
