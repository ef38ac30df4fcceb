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


def instance_secret() -> str:
    """A random secret kept in the instance folder, made on first start.

    Sessions then survive restarts and nobody can forge them with a published default.
    Production sets SECRET_KEY in the environment instead.
    """
    path = INSTANCE_DIR / "secret_key"
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
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    PHOTO_DIR = os.environ.get("PHOTO_DIR", str(INSTANCE_DIR / "photos"))
    TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
    SPATIALITE_LIBRARY_PATH = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
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


class TestConfig(Config):
    """Settings for the test suite: a database URL from the environment or a temp file."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
