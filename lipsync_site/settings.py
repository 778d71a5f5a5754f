"""One settings module; every deploy knob comes from the environment.

Development defaults are safe and need nothing: SQLite, django-q2's ORM broker, local file
storage, the local draft engine and the provider simulators. Production (``DJANGO_ENV=
production``) refuses to start without a secret key and allowed hosts.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from lipsync_site.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIPSYNC_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_str("DJANGO_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {ENVIRONMENT!r}")

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if PRODUCTION:
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set to 50+ characters in production"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the site's hosts in production")
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")
else:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "health_check",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "lipsync_site.accounts",
    "lipsync_site.workspaces",
    "lipsync_site.media",
    "lipsync_site.credits",
    "lipsync_site.consent",
    "lipsync_site.providers",
    "lipsync_site.jobs",
    "lipsync_site.moderation",
    "lipsync_site.api",
    "lipsync_site.demo",
    "lipsync_site.monitoring",
    # django-ninja's interactive docs, served from our static files (no CDN).
    "ninja",
]

MIDDLEWARE = [
    # First: counts and times every request for /metrics.
    "lipsync_site.monitoring.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the cookie (the switch sets it), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's stored language wins over the cookie and the browser.
    "lipsync_site.accounts.middleware.UserLanguageMiddleware",
    # Before any middleware or view reads the body (CSRF reads the form).
    "lipsync_site.media.request_limits.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "lipsync_site.accounts.middleware.HtmxLoginRedirectMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lipsync_site.urls"
WSGI_APPLICATION = "lipsync_site.wsgi.application"
ASGI_APPLICATION = "lipsync_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lipsync_site.accounts.context_processors.account",
                "lipsync_site.workspaces.context_processors.workspace",
                "lipsync_site.credits.context_processors.balance",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy
            # timeout instead of failing with "database is locked" mid-transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "jobs:list"
LOGOUT_REDIRECT_URL = "account_login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Two languages (issue 15). English is the default and the language of the tests; a first
# visit follows the browser's Accept-Language, then the switch in the header decides (kept
# on the user and in the language cookie). Catalogs: locale/<lang>/LC_MESSAGES/django.po,
# compiled to the committed .mo by `manage.py compile_catalogs` (Babel, no GNU gettext).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["lipsync_site.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# MEDIA_URL is never served directly: every byte of user media goes through a signed link.
MEDIA_URL = "/never-served/"
# Media live on the local filesystem (MEDIA_ROOT) unless an S3-compatible bucket is named:
# then every machine reads and writes the same objects through django-storages, and nothing
# assumes the machine that received an upload is the one that renders it.
S3_BUCKET = env_str("S3_BUCKET")
S3_PRESIGNED_SECONDS = env_int("S3_PRESIGNED_SECONDS", 300)
MEDIA_STORAGE = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            # Objects are private; a download is a presigned URL valid this long.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": S3_PRESIGNED_SECONDS,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": env_str("S3_ADDRESSING_STYLE", "path"),
            # Reading an object spools it to a temporary file past this size, not to memory.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Development serves static files straight from the finders; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploads: anything past 2.5 MB goes to a temporary file, and the size cap is enforced
# while streaming (Django has none of its own).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_HANDLERS = [
    "lipsync_site.media.uploads.CappedTemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
MEDIA_UPLOAD_MAX_BYTES = env_int("MEDIA_UPLOAD_MAX_BYTES", 512 * 1024 * 1024)
# All the files of one request together (a video, a portrait, up to ten voices, evidence).
MEDIA_REQUEST_MAX_BYTES = env_int("MEDIA_REQUEST_MAX_BYTES", 1024 * 1024 * 1024)
# Where workers take local copies of stored media to probe, render or check (removed after).
# Empty: VAR_DIR/scratch. Each machine has its own; nothing in it outlives the task.
MEDIA_SCRATCH_DIR = env_str("MEDIA_SCRATCH_DIR")
# Filesystem storage behind nginx: downloads answer with X-Accel-Redirect to this internal
# location (deploy/nginx.conf) instead of streaming the bytes through a Python worker.
MEDIA_SERVED_BY_PROXY = env_bool("MEDIA_SERVED_BY_PROXY", False)
MEDIA_PROXY_LOCATION = env_str("MEDIA_PROXY_LOCATION", "/_protected_media/").rstrip("/") + "/"
MEDIA_PROBE_TIMEOUT_SECONDS = env_float("MEDIA_PROBE_TIMEOUT_SECONDS", 20.0)

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", PRODUCTION) else None
)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Background work (django-q2) --------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The site's name on the broker (its queues and stats); Q_CLUSTER_NAME, read by django-q2
# itself, picks which cluster a qcluster process runs (the main one or an ALT_CLUSTERS one).
Q_SITE_NAME = env_str("Q_SITE_NAME", "lipsync")
# Local renders have a cluster of their own (its own Procfile line), so a long render never
# holds a worker that a provider's submit, poll or collect needs.
Q_RENDER_CLUSTER = f"{Q_SITE_NAME}-renders"
Q_CLUSTER = {
    "name": Q_SITE_NAME,
    "workers": env_int("Q_WORKERS", 2),
    # timeout must stay below retry, or a long task is handed out again while it runs.
    "timeout": env_int("Q_TIMEOUT", 1800),
    "retry": env_int("Q_RETRY", 1860),
    # The defaults retry a failing task forever; every task here is idempotent and the
    # sweep picks up what the queue forgets, so one more attempt is plenty.
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 2),
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "label": "Background tasks",
    "sync": env_bool("Q_SYNC", False),
    "poll": 0.5,
}
Q_CLUSTER["ALT_CLUSTERS"] = {
    Q_RENDER_CLUSTER: {
        "workers": env_int("Q_RENDER_WORKERS", 1),
        "timeout": env_int("Q_RENDER_TIMEOUT", Q_CLUSTER["timeout"]),
        "retry": env_int("Q_RENDER_RETRY", Q_CLUSTER["retry"]),
    }
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_TIMEOUT must be below Q_RETRY")
if Q_CLUSTER["ALT_CLUSTERS"][Q_RENDER_CLUSTER]["timeout"] >= Q_CLUSTER["ALT_CLUSTERS"][Q_RENDER_CLUSTER]["retry"]:
    raise ImproperlyConfigured("Q_RENDER_TIMEOUT must be below Q_RENDER_RETRY")

# --- Shared cache (login throttling, allauth's rate limits) -----------------------------
# Every web process must see the same counters, so never a per-process cache: Redis when
# REDIS_URL is set, otherwise a table in the database (`manage.py createcachetable`, which
# `make run` and the release step run after migrating).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL", REDIS_URL),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}

# --- Health and metrics -----------------------------------------------------------------
# /health/ turns red when no tracker has ticked for this long.
TRACKER_STALE_SECONDS = env_float("TRACKER_STALE_SECONDS", 60.0)

# --- Accounts: django-allauth, two-factor, login throttling (issue 12) -------------------
# Every sign-in (the site's form and /admin/, which redirects to it) goes through
# django-axes (first backend) and allauth's rate limits, both counting in the shared cache.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "lipsync_site.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[lipsync] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_LOGOUT_REDIRECT_URL = LOGOUT_REDIRECT_URL
# Sign-up is by invitation; an open sign-up (anyone gets a personal workspace) is opt-in.
ACCOUNT_OPEN_SIGNUP = env_bool("ACCOUNT_OPEN_SIGNUP", False)
ACCOUNT_RATE_LIMITS = {
    "login": env_str("ACCOUNT_RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": env_str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "lipsync")
# Behind a proxy that sets X-Forwarded-For, the client is that many hops from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if SECURE_PROXY_SSL_HEADER else 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"
# A username from one address: a whole office behind one NAT is not locked out by one typist.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "lipsync_site.accounts.throttling.attempted_login"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# --- Workspaces (issue 12) -----------------------------------------------------------------
WORKSPACE_INVITATION_MAX_AGE_SECONDS = env_int("WORKSPACE_INVITATION_MAX_AGE_SECONDS", 7 * 24 * 3600)

# --- The token API and webhooks (issue 16) ------------------------------------------------
# Requests per token, counted in the shared cache ("120/min"; also /s, /h, /d).
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "120/min")
# How long a download link handed to an API client works.
API_LINK_MAX_AGE_SECONDS = env_int("API_LINK_MAX_AGE_SECONDS", 3600)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 5.0)
# Delays before each retry of a failed delivery: about a day in all, then we give up.
WEBHOOK_RETRY_DELAYS_SECONDS = [
    float(value)
    for value in env_list(
        "WEBHOOK_RETRY_DELAYS_SECONDS", ["30", "120", "600", "1800", "3600", "10800", "21600", "43200"]
    )
]
# Server-side request forgery guard: https only, and no private, loopback or link-local
# receiver, in production; development and tests send to loopback.
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", PRODUCTION)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)

# --- Product knobs ----------------------------------------------------------------------
SIGNUP_DEMO_CREDITS = env_int("SIGNUP_DEMO_CREDITS", 1000)
SIGNED_LINK_MAX_AGE_SECONDS = env_int("SIGNED_LINK_MAX_AGE_SECONDS", 6 * 3600)
PROVIDER_LINK_MAX_AGE_SECONDS = env_int("PROVIDER_LINK_MAX_AGE_SECONDS", 3600)
# Where providers fetch our media from: must be reachable from the provider's side.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CONSENT_REVIEW_POLICY = env_str("CONSENT_REVIEW_POLICY", "before")
if CONSENT_REVIEW_POLICY not in {"before", "after"}:
    raise ImproperlyConfigured("CONSENT_REVIEW_POLICY must be 'before' or 'after'")
JOBS_MAX_RUNNING_PER_USER = env_int("JOBS_MAX_RUNNING_PER_USER", 3)
# The job engine (jobs.tracker, jobs.sweep). Polls back off with a job's age from the
# minimum to the maximum interval; every provider account shares one call budget a minute.
JOBS_POLL_MIN_SECONDS = env_float("JOBS_POLL_MIN_SECONDS", 2.0)
JOBS_POLL_MAX_SECONDS = env_float("JOBS_POLL_MAX_SECONDS", 30.0)
PROVIDER_CALLS_PER_MINUTE = env_int("PROVIDER_CALLS_PER_MINUTE", 600)
# A submit or poll lease not renewed this long is taken over (its holder is presumed dead).
JOBS_LEASE_SECONDS = env_float("JOBS_LEASE_SECONDS", 120.0)
# A queued or collecting job whose task has not run this long is enqueued again.
JOBS_REQUEUE_AFTER_SECONDS = env_float("JOBS_REQUEUE_AFTER_SECONDS", 120.0)
# Time limit from submission: max(minimum, factor x the route's longest output).
JOBS_TIME_LIMIT_FACTOR = env_float("JOBS_TIME_LIMIT_FACTOR", 10.0)
JOBS_TIME_LIMIT_MIN_SECONDS = env_float("JOBS_TIME_LIMIT_MIN_SECONDS", 1800.0)
# A finished job's output is collected within this window: transient answers (429, 5xx,
# timeouts) are retried until it closes.
JOBS_COLLECT_DEADLINE_SECONDS = env_float("JOBS_COLLECT_DEADLINE_SECONDS", 1800.0)

# Providers. With no key, RunComfy routes run against the loopback simulator.
RUNCOMFY_API_KEY = env_str("RUNCOMFY_API_KEY")
RUNCOMFY_BASE_URL = env_str("RUNCOMFY_BASE_URL", "https://model-api.runcomfy.net").rstrip("/")
NEMO_TOKEN = env_str("NEMO_TOKEN")
NEMO_BASE_URL = env_str("NEMO_BASE_URL", "https://mega-api-prod.nemovideo.ai").rstrip("/")
NEMO_SKILL_SOURCE = env_str("NEMO_SKILL_SOURCE", "lip-sync-ai-video")
NEMO_SKILL_VERSION = env_str("NEMO_SKILL_VERSION", "1.0.0")
NEMO_SKILL_PLATFORM = env_str("NEMO_SKILL_PLATFORM", "lipsync_site")
PROVIDER_DOWNLOAD_MAX_BYTES = env_int("PROVIDER_DOWNLOAD_MAX_BYTES", 2 * 1024**3)
# Extra hosts outputs may be downloaded from (the simulators' loopback in development).
PROVIDER_EXTRA_DOWNLOAD_HOSTS = env_list(
    "PROVIDER_EXTRA_DOWNLOAD_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"]
)
# Every provider call has a per-operation timeout; downloads also a total deadline.
PROVIDER_HTTP_TIMEOUT_SECONDS = env_float("PROVIDER_HTTP_TIMEOUT_SECONDS", 30.0)
PROVIDER_DOWNLOAD_DEADLINE_SECONDS = env_float("PROVIDER_DOWNLOAD_DEADLINE_SECONDS", 1800.0)
RUNCOMFY_DOWNLOAD_HOSTS = env_list("RUNCOMFY_DOWNLOAD_HOSTS", [".runcomfy.net", ".runcomfy.com"])
NEMO_DOWNLOAD_HOSTS = env_list("NEMO_DOWNLOAD_HOSTS", [".nemovideo.ai", ".nemovideo.com"])
# Without a key the adapters talk to the loopback simulators (`manage.py run_simulators`).
RUNCOMFY_SIMULATOR_URL = env_str("RUNCOMFY_SIMULATOR_URL", "http://127.0.0.1:8765").rstrip("/")
NEMO_SIMULATOR_URL = env_str("NEMO_SIMULATOR_URL", "http://127.0.0.1:8766").rstrip("/")
# Off (the production default): a route whose provider has no key is not offered at all.
PROVIDER_SIMULATORS = env_bool("PROVIDER_SIMULATORS", not PRODUCTION)
# No NEMO_TOKEN but NEMO_ANONYMOUS on: the real service with a starter token (100 credits, 7 days).
NEMO_ANONYMOUS = env_bool("NEMO_ANONYMOUS", False)
NEMO_SSE_DEADLINE_SECONDS = env_float("NEMO_SSE_DEADLINE_SECONDS", 900.0)
NEMO_SSE_IDLE_SECONDS = env_float("NEMO_SSE_IDLE_SECONDS", 180.0)
NEMO_RATE_LIMIT_WAIT_SECONDS = env_float("NEMO_RATE_LIMIT_WAIT_SECONDS", 30.0)
# An edit that has not shown up in the session state this long after it was sent failed.
NEMO_EDIT_GRACE_SECONDS = env_float("NEMO_EDIT_GRACE_SECONDS", 1200.0)
# The X-Client-Id starter tokens are asked under (NemoVideo's skill: keep one per client).
# Empty: one is made once and kept in the database.
NEMO_CLIENT_ID = env_str("NEMO_CLIENT_ID")
# How long a token's answer to the export check (a free probe render) is trusted.
NEMO_EXPORT_CHECK_SECONDS = env_int("NEMO_EXPORT_CHECK_SECONDS", 6 * 3600)
# Sync Labs direct (https://api.sync.so/v2). With no key, its routes run against the simulator.
SYNC_API_KEY = env_str("SYNC_API_KEY")
SYNC_BASE_URL = env_str("SYNC_BASE_URL", "https://api.sync.so").rstrip("/")
SYNC_SIMULATOR_URL = env_str("SYNC_SIMULATOR_URL", "http://127.0.0.1:8767").rstrip("/")
# The signing secret of Sync's webhooks (sync.so/keys, "webhooks"). Without it no webhook
# URL is sent and jobs are settled by polling alone.
SYNC_WEBHOOK_SECRET = env_str("SYNC_WEBHOOK_SECRET")
# A signed webhook older (or newer) than this is refused as a replay.
SYNC_WEBHOOK_TOLERANCE_SECONDS = env_int("SYNC_WEBHOOK_TOLERANCE_SECONDS", 300)
# Sync's limit on POST /v2/generate, per account (its rate-limit page: 60 a minute).
SYNC_GENERATE_PER_MINUTE = env_int("SYNC_GENERATE_PER_MINUTE", 60)
SYNC_DOWNLOAD_HOSTS = env_list(
    "SYNC_DOWNLOAD_HOSTS",
    [".sync.so", ".synchlabs-public.s3.us-west-2.amazonaws.com", ".synchlabs-public.s3.amazonaws.com"],
)

# --- E-mail (job finished, failed or cancelled) ---------------------------------------
# Development prints mail to the console; production sends through SMTP, configured by the
# EMAIL_* knobs below (EMAIL_BACKEND picks any other backend).
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
_SMTP = EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 587),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
        }
        if _SMTP
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "lipsync <noreply@localhost>")

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "lipsync_site.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Their own records are filtered at the logger ("Not Found: /jobs/inputs/<token>/..."
        # and the development server's access lines): link tokens keep a prefix only.
        "django.request": {"filters": ["redact_secrets"]},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False, "filters": ["redact_secrets"]},
        # Lockouts are warnings; axes' start-up banner and per-attempt lines are not worth a line each.
        "axes": {"level": "WARNING"},
    },
}
