"""Flask extensions, created unbound and initialised in the app factory."""

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints make migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
csrf = CSRFProtect()
login_manager = LoginManager()
# Pages, CSS and scripts go out compressed (zstd, brotli or gzip, as the browser accepts): a phone on a
# slow network gets htmx's 53 KB as about 16 KB.
compress = Compress()
# Storage comes from RATELIMIT_STORAGE_URI: memory in development, Redis (REDIS_URL) in production.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
