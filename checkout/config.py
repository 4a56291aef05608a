"""Configuration, read once from the environment (and `.env`) when the app is created.

Nothing else in the code base reads `os.environ`: it asks `current_app.config`.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


def _secret_from(name: str, instance_path: Path) -> str:
    """Use the variable if set, else a random value generated once and kept in instance/.

    Keeping it on disk means sessions (and the carts in them) and sandbox webhook signatures
    survive a restart.
    """
    if os.environ.get(name):
        return os.environ[name]
    key_file = instance_path / name.lower()
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
    cookies_secure = _flag("SESSION_COOKIE_SECURE", False)
    return {
        "SECRET_KEY": _secret_from("SECRET_KEY", instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        "SESSION_COOKIE_SECURE": cookies_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Staff's "keep me signed in" cookie: the session cookie's flags, for REMEMBER_COOKIE_DAYS days.
        "REMEMBER_COOKIE_SECURE": cookies_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=float(os.environ.get("REMEMBER_COOKIE_DAYS", "30"))),
        # Staff passwords: PBKDF2-SHA256 at OWASP's 600,000 rounds (werkzeug's method string). The test
        # suite sets fewer rounds, as Django's test settings do; production has no reason to change it.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:600000",
        "WTF_CSRF_TIME_LIMIT": None,  # a cart can sit in a tab for hours; the token is still tied to the session
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,  # product images and CSV imports
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Always said explicitly: Flask-Limiter keeps the last app's choice on its shared object otherwise.
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_STRATEGY": "moving-window",  # no burst of twice the limit across a minute boundary
        # Redis down must not lock staff out: count in memory until it is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Placing orders (storefront and Store API): per client address and per customer phone (checkout/orders/limits.py).
        "ORDER_RATE_LIMIT_PER_ADDRESS": os.environ.get("ORDER_RATE_LIMIT_PER_ADDRESS", "10 per minute; 100 per hour"),
        "ORDER_RATE_LIMIT_PER_PHONE": os.environ.get("ORDER_RATE_LIMIT_PER_PHONE", "5 per 10 minutes; 20 per day"),
        # Behind nginx or a load balancer: how many proxies' X-Forwarded-* headers to trust (0: none).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # How stale the catalog page may be (seconds); this process's own edits show at once. 0: off.
        "STOREFRONT_CACHE_SECONDS": float(os.environ.get("STOREFRONT_CACHE_SECONDS", "5")),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
        # Pictures, documents and voice notes customers send on WhatsApp, downloaded (Meta's links expire).
        "MEDIA_FOLDER": os.environ.get("MEDIA_FOLDER") or str(instance_path / "media"),
        **whatsapp_config(instance_path),
        **queue_config(instance_path),
        **payments_config(),
    }


def payments_config() -> dict:
    """Payment providers: their secrets come from the environment only (empty: that provider is off)."""
    return {
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/"),
        "STRIPE_TIMEOUT": float(os.environ.get("STRIPE_TIMEOUT", "10")),
        # The SDK retries a failed request with the same idempotency key, so a retry never makes a second session.
        "STRIPE_MAX_NETWORK_RETRIES": int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2")),
        "RAZORPAY_KEY_ID": os.environ.get("RAZORPAY_KEY_ID", ""),
        "RAZORPAY_KEY_SECRET": os.environ.get("RAZORPAY_KEY_SECRET", ""),
        "RAZORPAY_WEBHOOK_SECRET": os.environ.get("RAZORPAY_WEBHOOK_SECRET", ""),
        "RAZORPAY_API_BASE": os.environ.get("RAZORPAY_API_BASE", "https://api.razorpay.com").rstrip("/"),
        "RAZORPAY_TIMEOUT": float(os.environ.get("RAZORPAY_TIMEOUT", "10")),
        # M-Pesa Express (STK Push) through Safaricom's Daraja: the app's keys, the paybill or till's shortcode and
        # its Lipa na M-Pesa passkey. The callback secret is the unguessable last part of the callback's path
        # (Safaricom signs nothing). Sandbox by default; https://api.safaricom.co.ke when the shop goes live.
        "MPESA_CONSUMER_KEY": os.environ.get("MPESA_CONSUMER_KEY", ""),
        "MPESA_CONSUMER_SECRET": os.environ.get("MPESA_CONSUMER_SECRET", ""),
        "MPESA_SHORTCODE": os.environ.get("MPESA_SHORTCODE", "").strip(),
        "MPESA_PASSKEY": os.environ.get("MPESA_PASSKEY", ""),
        "MPESA_CALLBACK_SECRET": os.environ.get("MPESA_CALLBACK_SECRET", "").strip(),
        "MPESA_API_BASE": os.environ.get("MPESA_API_BASE", "https://sandbox.safaricom.co.ke").rstrip("/"),
        "MPESA_TIMEOUT": float(os.environ.get("MPESA_TIMEOUT", "10")),
    }


def _language_codes(value: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in value.replace(";", ",").split(",") if code.strip())


def whatsapp_config(instance_path: Path) -> dict:
    """WhatsApp: the built-in sandbox by default (no Meta account needed), or Meta's Cloud API."""
    return {
        "WHATSAPP_PROVIDER": os.environ.get("WHATSAPP_PROVIDER", "sandbox").strip().lower(),
        "WHATSAPP_APP_SECRET": _secret_from("WHATSAPP_APP_SECRET", instance_path),
        "WHATSAPP_VERIFY_TOKEN": _secret_from("WHATSAPP_VERIFY_TOKEN", instance_path),
        "WHATSAPP_ACCESS_TOKEN": os.environ.get("WHATSAPP_ACCESS_TOKEN", ""),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
        "WHATSAPP_API_VERSION": os.environ.get("WHATSAPP_API_VERSION", "v26.0"),
        "WHATSAPP_GRAPH_URL": os.environ.get("WHATSAPP_GRAPH_URL", "https://graph.facebook.com").rstrip("/"),
        "WHATSAPP_TEMPLATE_LANGUAGE": os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE", "en"),
        # Further languages the same templates were approved in ("hi,sw,pt_BR"): a customer whose language is
        # known gets them in theirs; everyone else in WHATSAPP_TEMPLATE_LANGUAGE.
        "WHATSAPP_TEMPLATE_LANGUAGES": _language_codes(os.environ.get("WHATSAPP_TEMPLATE_LANGUAGES", "")),
        "WHATSAPP_SEND_TIMEOUT": float(os.environ.get("WHATSAPP_SEND_TIMEOUT", "10")),
        # The Cloud API has no idempotency key: a send that may have gone out (timed out, or its worker died)
        # waits this long for Meta's status webhook before it is sent again.
        "WHATSAPP_IN_DOUBT_WAIT_SECONDS": float(os.environ.get("WHATSAPP_IN_DOUBT_WAIT_SECONDS", "600")),
        # Meta's pair rate limit is about one message per 6 s to the same customer (131056 beyond it).
        "WHATSAPP_PACING_SECONDS": float(os.environ.get("WHATSAPP_PACING_SECONDS", "6")),
        # While Meta refuses the whole account (expired token…), sending pauses; one waiting message is tried
        # after this many seconds, then twice as long after each refusal, up to the maximum.
        "WHATSAPP_PAUSE_PROBE_SECONDS": float(os.environ.get("WHATSAPP_PAUSE_PROBE_SECONDS", "60")),
        "WHATSAPP_PAUSE_PROBE_MAX_SECONDS": float(os.environ.get("WHATSAPP_PAUSE_PROBE_MAX_SECONDS", "900")),
    }


def queue_config(instance_path: Path) -> dict:
    """Where the job queue keeps its work: Redis when REDIS_URL is set, else SQLite in instance/.

    CHATOUT_QUEUE=memory keeps jobs in process memory (the test suite uses it). The queue takes these
    settings when an app is made (checkout/jobs.py, `init_app`).
    """
    return {
        "CHATOUT_QUEUE": os.environ.get("CHATOUT_QUEUE") or ("redis" if os.environ.get("REDIS_URL") else "sqlite"),
        "QUEUE_SQLITE_PATH": os.environ.get("QUEUE_SQLITE_PATH") or str(instance_path / "queue.sqlite3"),
    }
