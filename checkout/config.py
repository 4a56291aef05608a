"""Configuration, read once from the environment (and `.env`) when the app is created.

Nothing else in the code base reads `os.environ`: it asks `current_app.config`.
"""

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY if set, else a key generated once and kept in instance/.

    Keeping it on disk means sessions (and the carts in them) survive a restart.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def database_url(raw: str | None, instance_path: Path) -> str:
    """Default to SQLite in instance/; make `postgresql://` URLs use psycopg 3."""
    if not raw:
        return f"sqlite:///{instance_path / 'chatout.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: Path) -> dict:
    load_dotenv()
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # a cart can sit in a tab for hours; the token is still tied to the session
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,  # product images and CSV imports
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
    }
