"""Configuration read from the environment.

Every setting an operator may change is an environment variable with the same name; the
defaults run the embedded SQLite + SpatiaLite database under ``instance/``.
"""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("FIRSTLINE_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes" mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret(name: str = "secret_key") -> str:
    """A random secret kept in the instance folder, made on first start.

    Sessions then survive restarts and nobody can forge them with a published default.
    Production sets SECRET_KEY (and AUDIT_KEY) in the environment instead.
    """
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    """Settings for a running Firstline instance."""

    # None means: use (and on first start make) instance/secret_key; see create_app.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'firstline.db'}"
    )
    # hide_parameters: a failed statement never puts a petitioner's name or phone into the logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    PHOTO_DIR = os.environ.get("PHOTO_DIR", str(INSTANCE_DIR / "photos"))
    TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
    SPATIALITE_LIBRARY_PATH = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # The cookie is sent only when the session changes. The session policy notes the last
    # request at most once a minute, which also slides the cookie's expiry. Re-sending it on
    # every answer let a request begun before signing in or out overwrite the newer cookie.
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    # CSRF: every state-changing request that rides on the session cookie must carry the
    # token, either as a form field or as the X-CSRFToken header. Tokens live as long as
    # the session, so an inspector's phone that stayed offline all day can still sync.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = _bool("SESSION_COOKIE_SECURE", False)

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    JSON_SORT_KEYS = False

    API_TITLE = "Firstline 第一线 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    DEMO_SEED_ON_FIRST_RUN = _bool("DEMO_SEED_ON_FIRST_RUN", True)
    PAGE_SIZE_MAX = 200

    # Accounts (docs/deploy.md, "Accounts and sessions"). Length over complexity: a long
    # phrase is easy to type on a phone and hard to guess; the commonest passwords are refused.
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    # Failed sign-ins are counted in the database (login_attempts), so every app process
    # sees the same count: per account, and per client address, within a sliding window.
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", 15))
    LOGIN_MAX_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
    LOGIN_ATTEMPT_RETENTION_DAYS = int(os.environ.get("LOGIN_ATTEMPT_RETENTION_DAYS", 90))
    # A desk session ends after this long without a request; an inspector's phone keeps its
    # session much longer, because it works offline for days and syncs when it can.
    DESK_IDLE_MINUTES = int(os.environ.get("DESK_IDLE_MINUTES", 30))
    INSPECTOR_IDLE_DAYS = int(os.environ.get("INSPECTOR_IDLE_DAYS", 7))
    # A general guard on the JSON API per client address (Flask-Limiter). memory:// counts
    # per process; several processes share a count only through e.g. redis://host:6379.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_APPLICATION = os.environ.get("RATELIMIT_API", "600 per minute")
    RATELIMIT_HEADERS_ENABLED = True

    # Behind nginx: how many proxies set X-Forwarded-For/-Proto (0 = the app is reached directly).
    # Needed for the client address (throttling) and for HTTPS detection (HSTS, Secure cookies).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", 31536000))
    # Extra image hosts allowed by the Content-Security-Policy, e.g. a base-map tile server.
    CSP_IMG_HOSTS = os.environ.get("CSP_IMG_HOSTS", "")
    # Map wall (/wall): an optional base-map tile URL template (none by default: the grid
    # polygons are the map), its coordinate system ("cgcs2000" for Tianditu, used as stored;
    # "gcj02" for Gaode-type tiles, points and polygons converted before drawing); add the
    # tile host to CSP_IMG_HOSTS. Kiosk mode shows each town for WALL_KIOSK_SECONDS.
    WALL_TILE_URL = os.environ.get("WALL_TILE_URL", "")
    WALL_TILE_SYSTEM = os.environ.get("WALL_TILE_SYSTEM", "cgcs2000")
    # What {s} in WALL_TILE_URL stands for, e.g. "01234567" for Tianditu's t0-t7 hosts.
    WALL_TILE_SUBDOMAINS = os.environ.get("WALL_TILE_SUBDOMAINS", "abc")
    WALL_KIOSK_SECONDS = int(os.environ.get("WALL_KIOSK_SECONDS", 20))
    # The live feed polls case_events this often and closes after WALL_SSE_MAX_SECONDS
    # (the browser reconnects by itself with Last-Event-ID).
    WALL_SSE_POLL_SECONDS = float(os.environ.get("WALL_SSE_POLL_SECONDS", 2))
    WALL_SSE_MAX_SECONDS = float(os.environ.get("WALL_SSE_MAX_SECONDS", 300))

    # Responses compressed on the way out (Flask-Compress: zstd, brotli or gzip, as the
    # browser accepts): pages, scripts, styles and JSON; photos and workbooks are compressed already.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                          "application/geo+json", "application/manifest+json", "image/svg+xml", "text/plain"]
    # Files are read whole before compression (app/web/assets.py); a streamed answer goes as it is.
    COMPRESS_STREAMS = False

    # The task queue (services/background.py): a SQLite file beside the database by default,
    # redis://host:6379/1 in production, "immediate" to run each task in-process after commit.
    TASK_QUEUE_URL = os.environ.get("TASK_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'tasks.db'}")

    # SMS for notifications (services/notify/channels.py): SMS_PROVIDER "aliyun" or "tencent"
    # (empty: no SMS), its access keys, the approved sign name and templates (the work template
    # takes the values kind and case; the digest template count and summary), Tencent's SDK
    # app id and region. SMS_ENDPOINT/SMS_PROTOCOL override the provider's own host, e.g. for
    # a gateway on a closed network. NOTIFY_TIMEOUT_S bounds every SMS and robot request.
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "")
    SMS_ACCESS_KEY_ID = os.environ.get("SMS_ACCESS_KEY_ID", "")
    SMS_ACCESS_KEY_SECRET = os.environ.get("SMS_ACCESS_KEY_SECRET", "")
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
    SMS_TEMPLATE_CODE = os.environ.get("SMS_TEMPLATE_CODE", "")
    SMS_DIGEST_TEMPLATE_CODE = os.environ.get("SMS_DIGEST_TEMPLATE_CODE", "")
    SMS_SDK_APP_ID = os.environ.get("SMS_SDK_APP_ID", "")
    SMS_REGION = os.environ.get("SMS_REGION", "ap-guangzhou")
    SMS_ENDPOINT = os.environ.get("SMS_ENDPOINT", "")
    SMS_PROTOCOL = os.environ.get("SMS_PROTOCOL", "https")
    NOTIFY_TIMEOUT_S = float(os.environ.get("NOTIFY_TIMEOUT_S", 10))

    # Petitioners' personal data on cases closed longer ago than this is anonymised by
    # ``flask privacy purge``. Keep it above the repeat-detection period (180 days).
    PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", 1095))
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    # Folder of pg_dump / pg_restore; empty means the newest /usr/lib/postgresql/*/bin, else PATH.
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "")

    # Tamper evidence (docs/deploy.md, "Audit trail"): the key that signs every chain head
    # and checkpoint. It must live where a database writer cannot read it: set it in the
    # environment. None means instance/audit_key, made on first start, which only guards
    # against someone who can write the database but not read the instance folder.
    AUDIT_KEY = os.environ.get("AUDIT_KEY")
    # Signed checkpoints of every chain head (flask audit checkpoint, and the task queue);
    # the newest AUDIT_CHECKPOINTS_KEPT files stay. Copy them off the machine like backups.
    AUDIT_CHECKPOINT_DIR = os.environ.get("AUDIT_CHECKPOINT_DIR", str(INSTANCE_DIR / "checkpoints"))
    AUDIT_CHECKPOINTS_KEPT = int(os.environ.get("AUDIT_CHECKPOINTS_KEPT", 48))


class TestConfig(Config):
    """Settings for the test suite: a database URL from the environment or a temp file."""

    TESTING = True
    SECRET_KEY = "test-secret"
    AUDIT_KEY = "test-audit-key"
    # The suite sends far more API requests a minute than any person; its own test turns it on.
    RATELIMIT_ENABLED = False
    # Deadline tests move the clock by days with people signed in; the idle time-out tests
    # (tests/test_accounts.py) set the production limits themselves.
    DESK_IDLE_MINUTES = 60 * 24 * 365
    INSPECTOR_IDLE_DAYS = 365
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    # No worker in the suite: tasks run right after the commit that asked for them; the
    # worker's own test starts a real one.
    TASK_QUEUE_URL = "immediate"
